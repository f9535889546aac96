"""Property tests: random forests of spans with random duplicate ids, missing parents, loops,
bad times and skewed hosts. Whatever comes in, assembly keeps every span (bar reported exact
copies), records every change, and hands out traces that pass ``self_check``."""

from __future__ import annotations

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from spanscope.assembly import adjust_clock_skew, assemble, build_trace, self_check
from spanscope.assembly.hosts import compare, host_of
from spanscope.assembly.skew import _is_async
from spanscope.model import Event, Span, SpanKind

TRACE_IDS = ["1" * 32, "2" * 32, "3" * 32]
POOL = 24  # span ids come from a small pool, so duplicates are common


@st.composite
def spans(draw: st.DrawFn, max_size: int = 40) -> list[Span]:
    count = draw(st.integers(0, max_size))
    result = []
    for _ in range(count):
        number = draw(st.integers(1, POOL))
        parent = draw(
            st.one_of(
                st.just(""),
                st.integers(1, POOL + 6).map(lambda n: f"{n:016x}"),  # > POOL: missing parent
            )
        )
        start = draw(st.integers(0, 10_000))
        end = draw(
            st.one_of(
                st.integers(0, 5_000).map(lambda d, s=start: s + d),
                st.just(0),  # never ended
                st.integers(1, 500).map(lambda d, s=start: max(s - d, 1)),  # ends early
            )
        )
        service = draw(st.sampled_from(["a", "b", "c", ""]))
        resource: dict = {"service.name": service} if service else {}
        host = draw(st.sampled_from([None, "h1", "h2", "h3"]))
        if host:
            resource["host.name"] = host
        attributes: dict = {}
        if draw(st.booleans()):
            attributes["network.local.address"] = draw(st.sampled_from(["10.0.0.1", "10.0.0.2"]))
        result.append(
            Span(
                trace_id=draw(st.sampled_from(TRACE_IDS)),
                span_id=f"{number:016x}",
                name=draw(st.sampled_from(["get", "post", "query"])),
                start_ns=start,
                end_ns=end,
                parent_span_id=parent,
                kind=draw(st.sampled_from(list(SpanKind))),
                service_name=service,
                attributes=attributes,
                resource_attributes=resource,
                events=[Event(time_ns=start + 1, name="e")] if draw(st.booleans()) else [],
                follows_from=draw(st.booleans()),
                shared=draw(st.booleans()),
            )
        )
    return result


def _snapshot(span: Span) -> tuple:
    return (
        span.span_id,
        span.parent_span_id,
        span.start_ns,
        span.end_ns,
        [event.time_ns for event in span.events],
    )


def _copy_signature(snapshot: tuple, span: Span) -> tuple:
    span_id, parent, start, end, _ = snapshot
    return (span_id, parent, start, end, span.name, span.kind, span.service_name)


RELAXED = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@RELAXED
@given(spans(), st.booleans())
def test_assembly_keeps_every_span_and_every_trace_passes_self_check(
    given_spans: list[Span], adjust_skew: bool
) -> None:
    before = {id(span): _snapshot(span) for span in given_spans}
    traces = assemble(given_spans, adjust_skew=adjust_skew)
    out: dict[int, Span] = {}
    for trace in traces:
        self_check(trace)
        for span in trace.spans:
            assert span.trace_id == trace.trace_id
            assert id(span) not in out  # in one trace, once
            out[id(span)] = span
    assert [t.trace_id for t in traces] == list(dict.fromkeys(s.trace_id for s in given_spans))

    # Nothing new, nothing lost: a span left out is an exact copy of one that was kept.
    assert set(out) <= set(before)
    kept_signatures = {_copy_signature(before[key], span) for key, span in out.items()}
    for span in given_spans:
        if id(span) not in out:
            assert _copy_signature(before[id(span)], span) in kept_signatures
    if len({(s.trace_id, s.span_id) for s in given_spans}) == len(given_spans):
        assert len(out) == len(given_spans)

    for key, span in out.items():
        span_id, parent, start, end, event_times = before[key]
        warnings = " | ".join(span.warnings)
        if span.span_id != span_id:
            assert f"given id {span.span_id}" in warnings
        if span.parent_span_id != parent:
            assert parent in warnings or "parent" in warnings
        shift = span.start_ns - start
        if shift:
            assert adjust_skew and "clock skew adjusted by" in warnings
        # A clock offset moves both ends and every event alike; an unclosed end stays 0.
        assert span.end_ns == (0 if end == 0 else end + shift)
        assert [e.time_ns for e in span.events] == [t + shift for t in event_times]


@RELAXED
@given(spans(max_size=30))
def test_children_on_other_hosts_end_up_inside_their_parents(given_spans: list[Span]) -> None:
    for trace in assemble(given_spans):
        for span in trace.spans:
            parent = trace.parent_of(span)
            if parent is None or compare(host_of(span), host_of(parent))[0]:
                continue
            assert span.start_ns >= parent.start_ns
            closed = 0 < span.start_ns <= span.end_ns and parent.start_ns <= parent.end_ns != 0
            if (
                closed
                and span.end_ns - span.start_ns <= parent.end_ns - parent.start_ns
                and not _is_async(span, parent)
            ):
                assert span.end_ns <= parent.end_ns


@RELAXED
@given(spans(max_size=30))
def test_building_one_trace_twice_changes_nothing_more(given_spans: list[Span]) -> None:
    # Assembly output is already consistent: assembling it again moves no span and adds no
    # parent link, id or loop change (skew may still report hops it cannot fix, e.g. a longer
    # child that started inside the parent keeps ending after it).
    for trace in assemble(given_spans):
        times = [(s.span_id, s.parent_span_id, s.start_ns, s.end_ns) for s in trace.spans]
        again = build_trace(trace.trace_id, list(trace.spans))
        self_check(again)
        assert [(s.span_id, s.parent_span_id, s.start_ns, s.end_ns) for s in again.spans] == times


def _two_shared_ids_skewed() -> list[Span]:
    """Found by the test below: two server spans of service b that share their client's id
    (renamed 5 and 6) and both shift; the walk met them in another order in each path."""
    trace_id, one = "1" * 32, "0000000000000001"

    def span(span_id: str, start: int, parent: str = "", kind: int = 0, service: str = "a"):
        return Span(
            trace_id=trace_id,
            span_id=span_id,
            name="get",
            start_ns=start,
            end_ns=start,
            parent_span_id=parent,
            kind=SpanKind(kind),
            service_name=service,
            resource_attributes={"service.name": service},
            shared=service == "b",
        )

    return [
        span("0000000000000004", 0, kind=4),
        span("0000000000000003", 1, parent="0000000000000004"),
        span(one, 0),
        span("0000000000000002", 1),
        span("0000000000000003", 0, service="b"),
        span("0000000000000002", 0, service="b"),
    ]


@RELAXED
@example(_two_shared_ids_skewed())
@given(spans(max_size=30))
def test_skew_as_a_separate_step_gives_the_same_trace(given_spans: list[Span]) -> None:
    copies = [span.__copy__() for span in given_spans]
    for span, copy in zip(given_spans, copies, strict=True):
        copy.warnings = list(span.warnings)
        copy.events = [event.__copy__() for event in span.events]
    in_one = assemble(given_spans)
    in_steps = assemble(copies, adjust_skew=False)
    for trace in in_steps:
        self_check(trace)
        adjust_clock_skew(trace)
        self_check(trace)
    assert in_one == in_steps
