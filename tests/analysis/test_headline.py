"""The report's headline: hand-built requests with a known answer for every kind of sentence,
the order and the cap, and the same headline from merged halves as from one analyzer."""

from __future__ import annotations

import pickle

from spanscope.analysis import AnalysisOptions, analyze
from spanscope.analysis.analyze import Analyzer
from spanscope.analysis.headline import MAX_ITEMS, headline
from spanscope.analysis.results import HeadlineItem
from spanscope.model import Event, StatusCode
from tests.analysis.builders import T0, build, build_all, span
from tests.analysis.test_detectors import loop


def _request(
    number: int,
    db_ms: float,
    db_host: str = "db-1",
    failed: bool = False,
    db_error: bool = False,
    orphan: bool = False,
):
    """web GET /users/{id} (db_ms + 2 ms) -> inventory SELECT (db_ms, from 1 ms in). A failed
    request fails at the SELECT with an exception; ``db_error`` alone: the SELECT fails but the
    request does not. An orphan has a third span whose parent never arrived."""
    trace = f"{number + 1:x}"
    exception = Event(
        T0,
        "exception",
        {
            "exception.type": "TimeoutError",
            "exception.message": f"query {number} timed out after {db_ms:.0f} ms",
        },
    )
    root_error = {"status_code": StatusCode.ERROR} if failed else {}
    db_failure = (
        {"status_code": StatusCode.ERROR, "events": [exception]} if failed or db_error else {}
    )
    spans = [
        span(f"r{trace}", None, 0, db_ms + 2, service="web", operation="GET /users/{id}",
             trace=trace, **root_error),
        span(f"q{trace}", f"r{trace}", 1, db_ms + 1, service="inventory", operation="SELECT",
             trace=trace, resource_attributes={"service.name": "inventory", "host.name": db_host},
             **db_failure),
    ]  # fmt: skip
    if orphan:
        spans.append(span(f"o{trace}", f"lost{trace}", 1, 2, service="cache", trace=trace))
    return build(*spans)


def _slow_tail(**slow):
    """57 requests of 10 ms (8 of them in the database), 3 of 500 ms (498) on db-3."""
    fast = [_request(n, 8) for n in range(57)]
    return fast + [_request(57 + n, 498, db_host="db-3", **slow) for n in range(3)]


def _kinds(items: list[HeadlineItem]) -> list[str]:
    return [item.kind for item in items]


def test_the_slow_tail_is_named_with_its_share_there_and_across_all_requests():
    traces = _slow_tail()
    report = analyze(traces)
    slow, trait = report.headline
    # Slowest 5% = the 3 requests of 500 ms: 3 x 498 of their 3 x 500 ms in the database.
    # All 60: (57 x 8 + 3 x 498) of (57 x 10 + 3 x 500) ms = 1950 / 2070.
    assert (slow.kind, slow.text) == (
        "slow",
        "web:GET /users/{id} (60 requests, p50 10ms, p99 500ms): the slowest 5% (500ms and "
        "more) spent 99.6% of their critical path in inventory:SELECT (94.2% across all "
        "requests)",
    )
    # Its example is one of the slowest requests, the report's first slowest trace.
    assert slow.example_trace_id in {t.trace_id for t in traces[-3:]}
    assert slow.example_trace_id == report.slowest_traces[0].trace_id
    assert trait == HeadlineItem(
        "trait",
        "The slowest 5% of web:GET /users/{id} have host.name=db-3 on inventory in common: "
        "100.0% of them, 0.0% of the rest",
    )


def test_contributors_are_named_until_they_make_half_of_the_time():
    # 30 requests of 10 ms: 4 in the database, 3.5 in the cache, 2.5 the handler's own.
    traces = [
        build(
            span(f"r{n}", None, 0, 10, service="web", operation="GET /cart", trace=f"{n + 1:x}"),
            span(f"d{n}", f"r{n}", 1, 5, service="db", operation="SELECT", trace=f"{n + 1:x}"),
            span(f"c{n}", f"r{n}", 5, 8.5, service="cache", operation="GET", trace=f"{n + 1:x}"),
        )
        for n in range(30)
    ]
    slow, sequential = analyze(traces).headline  # the two calls could run side by side
    assert sequential.kind == "anti_pattern"
    assert slow.text.endswith(
        "spent 40.0% of their critical path in db:SELECT (40.0% across all requests), "
        "35.0% in cache:GET (35.0% across all requests)"
    )


def test_few_requests_are_described_all_together():
    report = analyze([_request(0, 8), _request(1, 18)])
    (slow,) = report.headline
    # (8 + 18) of (10 + 20) ms in the database.
    assert slow.text == (
        "web:GET /users/{id} (2 requests, p50 10ms, p99 20ms): its requests spent 86.7% of "
        "their critical path in inventory:SELECT"
    )


def test_failed_requests_name_the_error_they_started_with():
    report = analyze(_slow_tail(failed=True))
    assert _kinds(report.headline)[:2] == ["slow", "failed"]
    assert report.headline[1].text == (
        "3 of 60 requests failed (5.0%); all of them started with an error in inventory:SELECT "
        "(TimeoutError: 'query <num> timed out after <num> ms')"
    )
    assert report.headline[1].example_trace_id == report.errors.origins[0].example_trace_id
    one = analyze([_request(0, 8, failed=True), _request(1, 8)])
    assert one.headline[1].text == (
        "1 of 2 requests failed (50.0%); it started with an error in inventory:SELECT "
        "(TimeoutError: 'query <num> timed out after <num> ms')"
    )


def test_errors_that_did_not_fail_the_request_are_said_as_such():
    report = analyze([_request(0, 8, db_error=True), *[_request(n, 8) for n in range(1, 4)]])
    (errors,) = [item for item in report.headline if item.kind == "errors"]
    assert "failed" not in _kinds(report.headline)
    assert errors.text == (
        "No request failed, but 1 (25.0%) met an error on the way; most often first in "
        "inventory:SELECT (TimeoutError: 'query <num> timed out after <num> ms') (1)"
    )


def test_no_errors_no_error_sentence():
    kinds = _kinds(analyze(_slow_tail()).headline)
    assert "failed" not in kinds and "errors" not in kinds


def test_one_failed_request_of_one():
    report = analyze([_request(0, 8, failed=True)])
    assert report.headline[1].text.startswith("The one request failed; it started with an error")


def test_a_failure_s_example_is_a_request_that_failed():
    # The first two meet the database error but do not fail; the third fails with it.
    traces = [_request(0, 8, db_error=True), _request(1, 8, db_error=True)]
    traces += [_request(2, 8, failed=True), _request(3, 8)]
    report = analyze(traces)
    (failed,) = [item for item in report.headline if item.kind == "failed"]
    assert failed.example_trace_id == traces[2].trace_id
    assert report.errors.origins[0].example_trace_id == traces[2].trace_id
    # Merged halves pick the same example: the first failed request met.
    first, second = Analyzer(), Analyzer()
    for trace in traces[:1]:
        first.add(trace)
    for trace in traces[1:]:
        second.add(trace)
    first.merge(pickle.loads(pickle.dumps(second)))
    assert first.report().errors.origins[0].example_trace_id == traces[2].trace_id


def test_the_slowest_example_is_found_under_a_folded_endpoint():
    traces = [
        build(
            span(
                f"r{n}",
                None,
                0,
                10 + n,
                service="web",
                operation=f"GET /users/{1000 + n}",
                trace=f"{n + 1:x}",
            ),
        )
        for n in range(30)
    ]
    report = analyze(traces)
    slow, high_cardinality = report.headline
    assert high_cardinality.kind == "anti_pattern"
    assert slow.text.startswith("web:GET /users/<num> (30 requests")
    assert slow.example_trace_id == traces[-1].trace_id  # the longest


def test_repeated_span_ids_that_assembly_resolved_are_no_warning():
    # A Zipkin-style client and server span sharing one id, in every trace.
    from spanscope.model import SpanKind

    traces = []
    for n in range(10):
        t = f"{n + 1:x}"
        traces.append(
            build(
                span(f"r{t}", None, 0, 10, service="web", operation="GET /", trace=t),
                span(
                    f"c{t}",
                    f"r{t}",
                    1,
                    9,
                    service="web",
                    operation="call",
                    trace=t,
                    kind=SpanKind.CLIENT,
                ),
                span(
                    f"c{t}",
                    f"r{t}",
                    2,
                    8,
                    service="api",
                    operation="call",
                    trace=t,
                    kind=SpanKind.SERVER,
                ),
            )
        )
    report = analyze(traces)
    assert any(p.kind == "duplicate_span_id" for p in report.problems)
    assert "data" not in _kinds(report.headline)


def test_the_anti_pattern_with_most_at_stake_is_said_in_its_own_words():
    report = analyze(build_all(*loop("1", 6), *loop("2", 9), *loop("3", 7)))
    assert _kinds(report.headline) == ["slow", "anti_pattern"]
    (found,) = report.anti_patterns
    assert found.kind == "n_plus_one"
    assert report.headline[1].text == found.explanation
    assert report.headline[1].example_trace_id == found.example_trace_id
    assert "7 times per request" in report.headline[1].text


def test_problems_in_many_traces_are_a_warning_and_in_few_they_are_not():
    many = [_request(n, 8, orphan=n < 2) for n in range(20)]  # 2 of 20: 10%
    (data,) = [item for item in analyze(many).headline if item.kind == "data"]
    assert data.text.startswith(
        "Mind the data: of the traces, 10.0% have spans whose parent never arrived; "
    )
    assert "spanscope lint" in data.text
    few = [_request(n, 8, orphan=n < 1) for n in range(40)]  # 1 of 40: 2.5%
    report = analyze(few)
    assert report.problems and report.problems[0].kind == "orphan"
    assert "data" not in _kinds(report.headline)


def test_order_and_cap():
    # Every kind at once: three endpoints, failures, a trait, an N+1, orphans.
    traces = _slow_tail(failed=True)
    traces += [_request(100 + n, 8, orphan=True) for n in range(10)]
    traces += build_all(*loop("a1", 6), *loop("a2", 9))
    report = analyze(traces, AnalysisOptions())
    kinds = _kinds(report.headline)
    assert kinds == ["slow", "slow", "failed", "trait", "anti_pattern", "data"][:MAX_ITEMS]
    assert len(report.headline) == MAX_ITEMS


def test_an_empty_report_has_no_headline():
    assert analyze([]).headline == []


def test_merged_halves_give_the_headline_of_one_analyzer():
    traces = _slow_tail(failed=True) + [_request(100 + n, 8, orphan=True) for n in range(8)]
    whole = Analyzer()
    for trace in traces:
        whole.add(trace)
    first, second = Analyzer(), Analyzer()
    for trace in traces[:40]:
        first.add(trace)
    for trace in traces[40:]:
        second.add(trace)
    first.merge(pickle.loads(pickle.dumps(second)))
    assert first.report().headline == whole.report().headline
    assert headline(whole.report()) == whole.report().headline


def test_a_huge_name_stays_a_sentence():
    name = "GET /" + "x" * 1_000_000
    report = analyze([build(span("r", None, 0, 10, service="web", operation=name))])
    (slow,) = report.headline
    assert len(slow.text) < 600 and "xxx…" in slow.text


def test_one_request_is_said_in_the_singular():
    (slow,) = analyze([_request(0, 8)]).headline
    assert slow.text == (
        "web:GET /users/{id} (1 request, p50 10ms, p99 10ms): it spent 80.0% of its critical "
        "path in inventory:SELECT"
    )
