"""The whole report on a hand-built data set with known answers for every section."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spanscope.analysis import AnalysisOptions, analyze, self_times
from spanscope.model import Event, Span, SpanKind, StatusCode
from tests.analysis.builders import MS, T0, build_all, sid, span

CLIENT, SERVER = SpanKind.CLIENT, SpanKind.SERVER


def _timeout(order: int, ms: int) -> Event:
    return Event(
        T0,
        "exception",
        {
            "exception.type": "ProviderTimeout",
            "exception.message": f"charge for order {order} timed out after {ms} ms",
        },
    )


def _checkout(trace: str, pay_ms: int, failed: bool = False):
    """web POST /checkout -> api charge (client/server) -> provider call; 1 ms of own work."""
    error = {"status_code": StatusCode.ERROR} if failed else {}
    events = [_timeout(int(trace, 16), pay_ms)] if failed else []
    return [
        span(f"r{trace}", None, 0, pay_ms + 4, service="web", operation="POST /checkout",
             kind=SERVER, trace=trace, **error),
        span(f"c{trace}", f"r{trace}", 1, pay_ms + 3, service="web", operation="charge",
             kind=CLIENT, trace=trace, **error),
        span(f"s{trace}", f"c{trace}", 1, pay_ms + 3, service="api", operation="charge",
             kind=SERVER, trace=trace, **error),
        span(f"p{trace}", f"s{trace}", 2, pay_ms + 2, service="api", operation="POST provider",
             kind=CLIENT, trace=trace, attributes={"peer.service": "provider"},
             events=events, **error),
    ]  # fmt: skip


@pytest.fixture(scope="module")
def report():
    spans = []
    for index in range(1, 9):
        spans += _checkout(f"{index:x}", pay_ms=10 * index)
    spans += _checkout("a1", pay_ms=900, failed=True)
    spans += _checkout("a2", pay_ms=700, failed=True)
    # A health check with a span whose parent never arrived and one that never ended.
    spans += [
        span("h", None, 0, 2, service="web", operation="GET /health", trace="b1"),
        span("lost", "gone", 0, 1, service="web", operation="GET /health", trace="b1"),
        span("open", "h", 1, None, service="web", operation="ping", trace="b1"),
    ]
    return analyze(build_all(*spans), AnalysisOptions(slow_threshold_ns=500 * MS, top=3))


def test_summary(report):
    s = report.summary
    assert (s.traces, s.spans, s.services) == (11, 43, ["api", "web"])
    assert (s.failed_traces, s.traces_with_errors, s.error_spans) == (2, 2, 8)
    assert s.start_ns == T0 and s.end_ns == T0 + 904 * MS
    assert s.latency.count == 11 and s.latency.max_ns == 904 * MS


def test_endpoints(report):
    checkout, health = report.endpoints
    assert (checkout.service, checkout.operation, checkout.latency.count) == (
        "web", "POST /checkout", 10
    )  # fmt: skip
    assert checkout.latency.p50_ns == 54 * MS  # durations 14..84, 704, 904: 5th of 10
    assert checkout.latency.p90_ns == 704 * MS and checkout.latency.max_ns == 904 * MS
    assert checkout.failed == 2 and checkout.error_rate == pytest.approx(0.2)
    assert (health.operation, health.latency.count, health.failed) == ("GET /health", 1, 0)


def test_operations_self_and_critical_time(report):
    ops = {(o.service, o.operation): o for o in report.operations}
    provider = ops[("api", "POST provider")]
    pay_total = sum(10 * i for i in range(1, 9)) + 900 + 700
    assert provider.self_ns == pay_total * MS
    assert provider.critical_ns == pay_total * MS
    assert provider.errors == 2 and provider.error_rate == pytest.approx(0.2)
    root = ops[("web", "POST /checkout")]
    assert root.self_ns == root.critical_ns == 10 * 2 * MS  # 1 ms before and after the call
    assert report.operations[0].operation == "POST provider"  # most critical time first


def test_fix_first_and_profiles(report):
    top = report.fix_first[0]
    assert (top.service, top.operation, top.endpoint_operation) == (
        "api", "POST provider", "POST /checkout"
    )  # fmt: skip
    assert top.slow_critical_ns == 900 * MS
    profile = report.profiles[0]
    assert (profile.operation, profile.traces, profile.slow_traces) == ("POST /checkout", 10, 1)
    assert profile.top_stacks[0] == (
        "web:POST /checkout;web:charge;api:charge;api:POST provider",
        (sum(10 * i for i in range(1, 9)) + 1600) * MS,
    )


def test_slow_spans_and_slowest_traces(report):
    slow = report.slow_spans
    assert slow.threshold_ns == 500 * MS
    assert slow.count == 8  # four spans of each of the two slow traces
    assert [s.span_id for s in slow.spans] == [sid("pa1"), sid("pa2"), sid("ra1")]
    first = report.slowest_traces[0]
    assert first.trace_id == f"{0xA1:032x}" and first.failed
    assert first.duration_ns == 904 * MS and len(report.slowest_traces) == 3
    assert first.contributors[0].operation == "POST provider"
    assert first.contributors[0].share == pytest.approx(900 / 904)
    # The client and server spans share their windows, so the client never owns a section.
    assert [(step.span_id, (step.start_ns - T0) // MS) for step in first.critical_path] == [
        (sid("ra1"), 0), (sid("sa1"), 1), (sid("pa1"), 2), (sid("sa1"), 902), (sid("ra1"), 903)
    ]  # fmt: skip
    assert sum(s.end_ns - s.start_ns for s in first.critical_path) == 904 * MS
    busiest = first.top_self_time[0]
    assert (busiest.span_id, busiest.self_ns, busiest.critical_ns) == (
        sid("pa1"), 900 * MS, 900 * MS
    )  # fmt: skip
    assert busiest.duration_ns == 900 * MS and len(first.top_self_time) == 3


def test_errors_grouped_by_origin(report):
    errors = report.errors
    assert (errors.error_spans, errors.traces_with_errors, errors.failed_traces) == (8, 2, 2)
    (group,) = errors.origins
    assert (group.service, group.operation, group.exception_type) == (
        "api", "POST provider", "ProviderTimeout"
    )  # fmt: skip
    assert group.message_template == "charge for order <num> timed out after <num> ms"
    assert group.traces == 2 and group.failed_traces == 2
    assert {(o.service, o.operation) for o in errors.by_operation} == {
        ("web", "POST /checkout"), ("web", "charge"), ("api", "charge"), ("api", "POST provider")
    }  # fmt: skip


def test_dependencies(report):
    edges = {(d.parent, d.child): d for d in report.dependencies}
    assert set(edges) == {("web", "api"), ("api", "provider")}
    assert edges[("web", "api")].call_count == 10 and edges[("web", "api")].error_count == 2
    assert edges[("api", "provider")].p99_ns == 900 * MS


def test_problems(report):
    counts = {p.kind: (p.count, p.traces) for p in report.problems}
    assert counts == {"orphan": (1, 1), "unclosed": (1, 1)}


@st.composite
def data_sets(draw):
    spans = []
    for trace in range(1, draw(st.integers(1, 6)) + 1):
        for index in range(draw(st.integers(1, 12))):
            start = draw(st.integers(0, 50))
            parent = draw(st.integers(-1, index - 1)) if index else None
            spans.append(
                Span(
                    trace_id=f"{trace:032x}",
                    span_id=f"{trace:08x}{index + 1:08x}",
                    parent_span_id=""
                    if parent is None
                    else (f"{trace:08x}{parent + 1:08x}" if parent >= 0 else "00000000deadbeef"),
                    name=draw(st.sampled_from(["GET /a", "SELECT", "call"])),
                    service_name=draw(st.sampled_from(["web", "db", ""])),
                    start_ns=start * MS,
                    end_ns=draw(st.sampled_from([0, (start + draw(st.integers(0, 40))) * MS])),
                    kind=draw(st.sampled_from(list(SpanKind))),
                    status_code=draw(st.sampled_from(list(StatusCode))),
                    attributes=draw(
                        st.sampled_from(
                            [{}, {"http.response.status_code": 503}, {"peer.service": "x"}]
                        )
                    ),
                )
            )
    return build_all(*spans)


@settings(max_examples=100, deadline=None)
@given(data_sets())
def test_report_totals_agree_on_any_data(traces):
    report = analyze(traces)
    roots = sum(t.root.duration_ns for t in traces)
    assert sum(o.critical_ns for o in report.operations) == roots
    assert sum(p.critical_ns for p in report.profiles) == roots
    assert sum(o.self_ns for o in report.operations) == sum(
        sum(self_times(t).values()) for t in traces
    )
    assert sum(e.latency.count for e in report.endpoints) == report.summary.traces == len(traces)
    assert sum(o.latency.count for o in report.operations) == report.summary.spans
    assert sum(g.traces for g in report.errors.origins) == report.errors.traces_with_errors
