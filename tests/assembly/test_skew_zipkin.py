"""The real Zipkin clock-skew case (zipkin-lens testdata/skew.json): a shared SERVER span that
starts before its CLIENT parent, with an async child on the server's host.

The file, in microseconds (Zipkin's unit):

    get    SERVER servicea 127.0.0.0  id bf39..  start 1470150004071068  duration 99411
    post   CLIENT servicea 127.0.0.0  id 7428..  start 1470150004074202  duration 94539  parent bf39..
    post   SERVER serviceb 192.0.0.0  id 7428..  start 1470150004008761  duration 93577  shared
    async         serviceb 192.0.0.0  id 4321..  start 1470150004008762  duration 65000  parent 7428..

Worked out by hand:

1. The SERVER ``post`` shares its id with the CLIENT ``post``: it gets the next free id,
   ``74280ae0c10d8063``, and the client as parent. ``async`` names the shared id as parent but
   runs on the server's service and host, so it moves under the server span.
2. The client fits inside ``get`` on the same host: unchanged.
3. The server (host 192.0.0.0) starts 65.441 ms before its client (host 127.0.0.0) and is shorter
   (93577 < 94539 us), so it is centred: latency = (94539 - 93577) / 2 = 481 us, new start =
   1470150004074202 + 481 = 1470150004074683 us, a shift of +65922 us (+65.922ms); new end =
   1470150004074683 + 93577 = 1470150004168260 us, inside the client's end 1470150004168741.
4. ``async`` is on the server's host, so it shares the server's clock and shift: 1470150004008762
   + 65922 = 1470150004074684 us, ending 65000 us later at 1470150004139684.
"""

from __future__ import annotations

from pathlib import Path

from spanscope.assembly import assemble, self_check
from spanscope.formats import read_spans
from spanscope.model import ProblemKind, Span, SpanKind, Trace

US = 1_000
TRACE_ID = "00000000000000001e223ff1f80f1c69"
SERVER_ID = "74280ae0c10d8063"
EXPECTED_US = {  # span name, service -> (start, end) in microseconds after adjustment
    ("get", "servicea"): (1470150004071068, 1470150004071068 + 99411),
    ("post", "servicea"): (1470150004074202, 1470150004074202 + 94539),
    ("post", "serviceb"): (1470150004074683, 1470150004168260),
    ("async", "serviceb"): (1470150004074684, 1470150004139684),
}


def _zipkin_span(
    span_id: str,
    parent: str,
    name: str,
    kind: SpanKind,
    start_us: int,
    duration_us: int,
    service: str,
    ipv4: str,
    shared: bool = False,
) -> Span:
    return Span(
        trace_id=TRACE_ID,
        span_id=span_id,
        parent_span_id=parent,
        name=name,
        kind=kind,
        start_ns=start_us * US,
        end_ns=(start_us + duration_us) * US,
        service_name=service,
        attributes={"network.local.address": ipv4},
        resource_attributes={"service.name": service},
        shared=shared,
    )


def _by_hand() -> list[Span]:
    """The fixture's spans as the Zipkin v2 reader yields them, in file order (the endpoint's
    ipv4 becomes the span attribute ``network.local.address``, as in the OTel Collector)."""
    return [
        _zipkin_span(
            "43210ae0c10d1234",
            "74280ae0c10d8062",
            "async",
            SpanKind.UNSPECIFIED,
            1470150004008762,
            65000,
            "serviceb",
            "192.0.0.0",
        ),
        _zipkin_span(
            "74280ae0c10d8062",
            "bf396325699c84bf",
            "post",
            SpanKind.SERVER,
            1470150004008761,
            93577,
            "serviceb",
            "192.0.0.0",
            shared=True,
        ),
        _zipkin_span(
            "bf396325699c84bf",
            "",
            "get",
            SpanKind.SERVER,
            1470150004071068,
            99411,
            "servicea",
            "127.0.0.0",
        ),
        _zipkin_span(
            "74280ae0c10d8062",
            "bf396325699c84bf",
            "post",
            SpanKind.CLIENT,
            1470150004074202,
            94539,
            "servicea",
            "127.0.0.0",
        ),
    ]


def _check_adjusted(trace: Trace) -> None:
    self_check(trace)
    got = {(s.name, s.service_name): (s.start_ns // US, s.end_ns // US) for s in trace.spans}
    assert got == EXPECTED_US
    tree = [(span.name, span.service_name, depth) for span, depth in trace.walk()]
    assert tree == [
        ("get", "servicea", 0),
        ("post", "servicea", 1),
        ("post", "serviceb", 2),
        ("async", "serviceb", 3),
    ]
    server = trace.by_id[SERVER_ID]
    assert server.parent_span_id == "74280ae0c10d8062"
    assert server.warnings[-1] == (
        "clock skew adjusted by +65.922ms (host 192.0.0.0 vs parent's host 127.0.0.0)"
    )
    assert trace.by_id["43210ae0c10d1234"].parent_span_id == SERVER_ID
    kinds = [p.kind for p in trace.problems]
    assert kinds.count(ProblemKind.CLOCK_SKEW) == 1
    assert kinds.count(ProblemKind.DUPLICATE_SPAN_ID) == 2  # the shared id, the moved child
    [skew] = [p for p in trace.problems if p.kind == ProblemKind.CLOCK_SKEW]
    assert skew.span_id == SERVER_ID
    assert "it and 1 span below it shifted by +65.922ms" in skew.message


def test_zipkin_skew_case_built_by_hand() -> None:
    [trace] = assemble(_by_hand())
    _check_adjusted(trace)


def test_zipkin_skew_case_without_adjustment_keeps_recorded_times() -> None:
    [trace] = assemble(_by_hand(), adjust_skew=False)
    self_check(trace)
    server = trace.by_id[SERVER_ID]
    assert server.start_ns == 1470150004008761 * US
    assert not any(p.kind == ProblemKind.CLOCK_SKEW for p in trace.problems)


def test_zipkin_skew_fixture_file(fixtures_dir: Path) -> None:
    """The real file through the real Zipkin v2 reader comes out as worked out above."""
    path = fixtures_dir / "zipkin" / "zipkin-lens__testdata__skew.json"
    [trace] = assemble(read_spans(path))
    _check_adjusted(trace)
