"""Clock-skew adjustment: each rule with times worked out by hand, and the real Zipkin case."""

from __future__ import annotations

import ipaddress

import pytest

from spanscope.assembly import adjust_clock_skew, assemble, build_trace, self_check
from spanscope.assembly.hosts import Host, compare, host_of
from spanscope.assembly.skew import format_delta
from spanscope.model import ProblemKind, Span, SpanKind, Trace
from tests.assembly.builders import MS, TRACE_ID, make_span, sid


def build(spans: list[Span], adjust_skew: bool = True) -> Trace:
    """Build without skew, check, then run the skew step and check again (pyinstrument-style:
    the invariants hold after every step)."""
    trace = build_trace(TRACE_ID, spans, adjust_skew=False)
    self_check(trace)
    if adjust_skew:
        assert adjust_clock_skew(trace) is trace
        self_check(trace)
    return trace


def times_ms(trace: Trace, number: int) -> tuple[float, float]:
    span = trace.by_id[sid(number)]
    return span.start_ns / MS, span.end_ns / MS


def skew_problems(trace: Trace) -> list:
    return [p for p in trace.problems if p.kind == ProblemKind.CLOCK_SKEW]


def test_child_starting_before_its_parent_is_centred() -> None:
    # Parent 100..200 ms on host a; the child on host b lasted 40 ms but its clock reads 50..90.
    # Centred: it starts (100 - 40) / 2 = 30 ms after the parent, at 130, so the shift is +80 ms.
    trace = build(
        [
            make_span(1, "", 100, 200, host="a", kind=SpanKind.CLIENT),
            make_span(2, 1, 50, 90, host="b", kind=SpanKind.SERVER),
        ]
    )
    assert times_ms(trace, 1) == (100, 200)
    assert times_ms(trace, 2) == (130, 170)
    child = trace.by_id[sid(2)]
    assert child.warnings == ["clock skew adjusted by +80ms (host b vs parent's host a)"]
    [problem] = skew_problems(trace)
    assert problem.span_id == sid(2)
    assert "+80ms" in problem.message
    # Sorting happens after the shift: the child now comes after its parent.
    assert [s.span_id for s in trace.spans] == [sid(1), sid(2)]


def test_child_ending_after_its_parent_is_centred() -> None:
    # Parent 100..200; child 180..240 (60 ms) on host b ends after the parent: centred at
    # 100 + (100 - 60) / 2 = 120, a shift of -60 ms.
    trace = build([make_span(1, "", 100, 200, host="a"), make_span(2, 1, 180, 240, host="b")])
    assert times_ms(trace, 2) == (120, 180)
    assert trace.by_id[sid(2)].warnings == [
        "clock skew adjusted by -60ms (host b vs parent's host a)"
    ]


def test_child_longer_than_its_parent_is_only_aligned_to_the_parent_start() -> None:
    # 220 ms child of a 100 ms parent cannot be centred: it is moved from 40 to the parent's
    # start, 100 (+60 ms), and keeps its duration.
    trace = build([make_span(1, "", 100, 200, host="a"), make_span(2, 1, 40, 260, host="b")])
    assert times_ms(trace, 2) == (100, 320)
    assert len(skew_problems(trace)) == 1


def test_longer_child_that_starts_inside_the_parent_is_left_alone() -> None:
    trace = build([make_span(1, "", 100, 200, host="a"), make_span(2, 1, 150, 400, host="b")])
    assert times_ms(trace, 2) == (150, 400)
    assert skew_problems(trace) == []
    assert trace.by_id[sid(2)].warnings == []


def test_child_inside_its_parent_is_left_alone() -> None:
    trace = build([make_span(1, "", 100, 200, host="a"), make_span(2, 1, 120, 180, host="b")])
    assert times_ms(trace, 2) == (120, 180)
    assert skew_problems(trace) == []


def test_same_host_means_same_clock_so_no_adjustment() -> None:
    # Out of bounds on one host is real (e.g. a span closed late), not skew.
    trace = build([make_span(1, "", 100, 200, host="a"), make_span(2, 1, 50, 90, host="a")])
    assert times_ms(trace, 2) == (50, 90)
    assert skew_problems(trace) == []
    assert trace.by_id[sid(2)].warnings == []


def test_adjust_skew_false_changes_nothing() -> None:
    spans = [make_span(1, "", 100, 200, host="a"), make_span(2, 1, 50, 90, host="b")]
    trace = build(spans, adjust_skew=False)
    assert times_ms(trace, 2) == (50, 90)
    assert skew_problems(trace) == []
    assert all(span.warnings == [] for span in trace.spans)
    # and it is on by default in assemble()
    again = assemble([make_span(1, "", 100, 200, host="a"), make_span(2, 1, 50, 90, host="b")])
    assert again[0].by_id[sid(2)].start_ns == 130 * MS


def test_shift_carries_to_the_subtree_on_the_same_host_and_is_recomputed_per_host() -> None:
    # a: 1 [100, 200]
    # b: 2 [50, 90] -> +80 -> [130, 170]
    # b: 3 [60, 70], inside 2 already; same host as 2 so it gets +80 too -> [140, 150]
    # c: 4 [141, 149], measured against 3 after its shift: it fits, stays.
    # c: 5 [0, 2], against 2 (shifted to 130..170): centred at 130 + (40 - 2) / 2 = 149 -> +149
    trace = build(
        [
            make_span(1, "", 100, 200, host="a"),
            make_span(2, 1, 50, 90, host="b"),
            make_span(3, 2, 60, 70, host="b", events_ms=(65,)),
            make_span(4, 3, 141, 149, host="c"),
            make_span(5, 2, 0, 2, host="c"),
        ]
    )
    assert times_ms(trace, 3) == (140, 150)
    assert trace.by_id[sid(3)].events[0].time_ns == 145 * MS
    assert trace.by_id[sid(3)].warnings == [
        f"clock skew adjusted by +80ms (host b, shifted with span {sid(2)} on the same host)"
    ]
    assert times_ms(trace, 4) == (141, 149)
    assert times_ms(trace, 5) == (149, 151)
    problems = {p.span_id: p.message for p in skew_problems(trace)}
    assert set(problems) == {sid(2), sid(5)}
    assert "it and 1 span below it shifted by +80ms" in problems[sid(2)]


def test_latency_split_rounds_down_like_jaeger() -> None:
    # parent 0..1_000_001 ns, child 3 ns long: latency (1_000_001 - 3) // 2 = 499_999 ns.
    parent = make_span(1, "", 0, 0, host="a")
    parent.end_ns = 1_000_001
    child = make_span(2, 1, 0, 0, host="b")
    child.start_ns, child.end_ns = 2_000_000, 2_000_003
    trace = build([parent, child])
    assert trace.by_id[sid(2)].start_ns == 499_999
    assert trace.by_id[sid(2)].end_ns == 500_002


def test_roots_and_orphans_are_never_shifted() -> None:
    trace = build([make_span(1, "", 100, 200, host="a"), make_span(2, 99, 0, 50, host="b")])
    assert times_ms(trace, 1) == (100, 200)
    assert times_ms(trace, 2) == (0, 50)


def test_async_child_may_run_after_its_parent_but_not_before_it() -> None:
    trace = build(
        [
            make_span(1, "", 100, 200, host="a", kind=SpanKind.PRODUCER),
            make_span(2, 1, 300, 310, host="b", kind=SpanKind.CONSUMER),
            make_span(3, 1, 90, 95, host="c", follows_from=True),
        ]
    )
    assert times_ms(trace, 2) == (300, 310)  # after the parent ended: fine for messaging
    assert times_ms(trace, 3) == (100, 105)  # before the parent started: moved to its start


def test_unclosed_child_keeps_its_end_and_is_only_aligned() -> None:
    trace = build([make_span(1, "", 100, 200, host="a"), make_span(2, 1, 40, 0, host="b")])
    span = trace.by_id[sid(2)]
    assert (span.start_ns, span.end_ns) == (100 * MS, 0)
    kinds = [p.kind for p in trace.problems]
    assert ProblemKind.UNCLOSED in kinds and ProblemKind.CLOCK_SKEW in kinds


def test_unknown_host_is_always_compared_with_its_parent() -> None:
    # No host and no service: Jaeger's empty host key, which never matches, not even itself.
    parent = make_span(1, "", 100, 200, service="")
    child = make_span(2, 1, 50, 90, service="")
    parent.resource_attributes = {}
    child.resource_attributes = {}
    trace = build([parent, child])
    assert times_ms(trace, 2) == (130, 170)
    assert trace.by_id[sid(2)].warnings == [
        "clock skew adjusted by +80ms (unknown host vs parent's unknown host)"
    ]


def test_service_name_stands_in_for_a_missing_host() -> None:
    parent = make_span(1, "", 100, 200, service="front")
    child = make_span(2, 1, 50, 90, service="back")
    same = make_span(3, 1, 50, 90, service="front")
    trace = build([parent, child, same])
    assert times_ms(trace, 2) == (130, 170)
    assert times_ms(trace, 3) == (50, 90)
    assert trace.by_id[sid(2)].warnings == [
        "clock skew adjusted by +80ms (service back vs parent's service front)"
    ]


@pytest.mark.parametrize(
    ("resource", "expected"),
    [
        ({"host.id": "i-0abc", "host.name": "web-1"}, "host i-0abc"),
        ({"host.name": "web-1", "service.name": "x"}, "host web-1"),
        ({"host.ip": ["10.0.0.7", "fe80::1"]}, "host 10.0.0.7"),
        ({"hostname": "jaeger-host"}, "host jaeger-host"),
        ({"ip": "10.1.2.3"}, "host 10.1.2.3"),
        ({"ip": int(ipaddress.IPv4Address("10.1.2.3"))}, "host 10.1.2.3"),
        ({"ip": ipaddress.IPv4Address("10.1.2.3").packed}, "host 10.1.2.3"),
        ({"ip": ipaddress.IPv6Address("::ffff:10.1.2.3").packed}, "host 10.1.2.3"),
        ({"host.name": "", "service.name": "x"}, "service svc"),
        ({"ip": True}, "service svc"),
    ],
)
def test_host_sources(resource: dict, expected: str) -> None:
    span = make_span(1)
    span.resource_attributes = resource
    assert host_of(span).label() == expected


def test_hosts_are_compared_at_the_first_level_both_spans_know() -> None:
    # A server span with a local address and its in-process child without one: same service,
    # so the same clock, not two hosts.
    assert compare(Host("", "10.0.0.5", "cart"), Host("", "", "cart")) == (
        True,
        "service cart",
        "service cart",
    )
    # Zipkin endpoints on two machines, same service name: the addresses decide.
    assert compare(Host("", "10.0.0.5", "cart"), Host("", "10.0.0.6", "cart"))[0] is False
    # Two services on one machine share its clock.
    assert compare(Host("node-1", "", "cart"), Host("node-1", "", "checkout"))[0] is True
    assert compare(Host("", "", ""), Host("", "", "")) == (False, "unknown host", "unknown host")


def test_in_process_child_outliving_a_server_span_with_an_address_is_not_shifted() -> None:
    server = make_span(1, "", 100, 200, service="cart", kind=SpanKind.SERVER)
    server.attributes = {"network.local.address": "10.0.0.5"}
    worker = make_span(2, 1, 150, 400, service="cart")
    early = make_span(3, 1, 90, 95, service="cart")
    trace = build([server, worker, early])
    assert times_ms(trace, 2) == (150, 400)
    assert times_ms(trace, 3) == (90, 95)
    assert skew_problems(trace) == []


@pytest.mark.parametrize(
    ("delta", "text"),
    [(12_300_000, "+12.3ms"), (-481_000, "-481µs"), (2_500_000_000, "+2.5s"), (-7, "-7ns")],
)
def test_format_delta(delta: int, text: str) -> None:
    assert format_delta(delta) == text


def test_a_candidate_that_became_a_root_does_not_hide_the_ones_below_it() -> None:
    # Found by hypothesis: a Zipkin-style shared id makes a parent loop; the loop is cut at a
    # span that was itself out of bounds while linking. It is a root now and cannot move, so
    # the server span below it must still be centred in it, in the first build already.
    def span(number: int, parent: int | None, start: int, end: int, service: str, **extra):
        return Span(
            TRACE_ID,
            sid(number),
            "get",
            start,
            end,
            sid(parent) if parent else "",
            service_name=service,
            **extra,
        )

    spans = [
        span(3, 2, 0, 0, "a"),
        span(1, None, 0, 0, "a"),
        span(2, None, 2, 2, "a", shared=True),
        span(2, 3, 0, 1, "b"),
    ]
    trace = build_trace(TRACE_ID, spans)
    self_check(trace)
    assert [p.kind for p in trace.problems].count(ProblemKind.CLOCK_SKEW) == 1
    times = [(s.span_id, s.parent_span_id, s.start_ns, s.end_ns) for s in trace.spans]
    again = build_trace(TRACE_ID, list(trace.spans))
    assert [(s.span_id, s.parent_span_id, s.start_ns, s.end_ns) for s in again.spans] == times
