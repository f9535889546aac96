"""Duplicate span ids: exact copies, Zipkin shared client/server spans, plain clashes."""

from __future__ import annotations

from spanscope.assembly import build_trace, self_check
from spanscope.model import ProblemKind, Span, SpanKind, Trace
from tests.assembly.builders import TRACE_ID, make_span, sid


def build(spans: list[Span], adjust_skew: bool = True) -> Trace:
    trace = build_trace(TRACE_ID, spans, adjust_skew=adjust_skew)
    self_check(trace)
    return trace


def duplicates(trace: Trace) -> list:
    return [p for p in trace.problems if p.kind == ProblemKind.DUPLICATE_SPAN_ID]


def test_exact_copy_is_dropped_and_reported() -> None:
    trace = build(
        [
            make_span(1, "", 0, 10),
            make_span(2, 1, 1, 2),
            make_span(2, 1, 1, 2),
            make_span(2, 1, 1, 2),
        ]
    )
    assert len(trace.spans) == 2
    [problem] = duplicates(trace)
    assert problem.span_id == sid(2)
    assert "appears 3 times; 2 exact copies dropped" in problem.message
    assert trace.by_id[sid(2)].warnings == [problem.message]


def test_the_same_object_given_twice_is_one_span() -> None:
    root = make_span(1, "", 0, 10)
    child = make_span(2, 1, 1, 2)
    trace = build([root, child, child])
    assert [s.span_id for s in trace.spans] == [sid(1), sid(2)]
    assert len(duplicates(trace)) == 1


def _shared_rpc(server_first: bool = False) -> list[Span]:
    """frontend: root 1 -> client 5 -(shared id 5)-> backend: server 5 -> db 7, cache 8;
    the client also has a child of its own on the frontend (9, e.g. a retry timer)."""
    client = make_span(
        5, 1, 10, 90, kind=SpanKind.CLIENT, service="frontend", host="fe", name="call"
    )
    server = make_span(
        5, 1, 20, 80, kind=SpanKind.SERVER, service="backend", host="be", name="handle", shared=True
    )
    rpc = [server, client] if server_first else [client, server]
    return [
        make_span(1, "", 0, 100, kind=SpanKind.SERVER, service="frontend", host="fe", name="root"),
        *rpc,
        make_span(7, 5, 30, 40, service="backend", host="be", name="db"),
        make_span(8, 5, 50, 60, service="backend", host="be", name="cache"),
        make_span(9, 5, 85, 88, service="frontend", host="fe", name="timer"),
    ]


def test_shared_server_span_gets_a_new_id_and_takes_its_children() -> None:
    for server_first in (False, True):
        trace = build(_shared_rpc(server_first))
        server = next(s for s in trace.spans if s.name == "handle")
        assert server.span_id == sid(6)  # the next free id after the shared one
        assert server.parent_span_id == sid(5)
        assert trace.by_id[sid(5)].name == "call"
        tree = [(s.name, d) for s, d in trace.walk()]
        assert tree == [
            ("root", 0),
            ("call", 1),
            ("handle", 2),
            ("db", 3),
            ("cache", 3),
            ("timer", 2),  # the client's own child stays with the client
        ]
        shared, moved = duplicates(trace)
        assert shared.span_id == sid(6)
        assert "shared by client span 'call' (frontend) and server span 'handle'" in shared.message
        assert moved.message.startswith("2 spans of 'backend' with parent 0000000000000005")
        assert trace.by_id[sid(7)].warnings == [
            f"parent {sid(5)} is an id shared by a client and a server span; this span belongs "
            f"to the server side and is moved under server span {sid(6)}"
        ]
        assert trace.by_id[sid(9)].warnings == []


def test_server_without_the_shared_flag_but_of_kind_server_is_handled_like_jaeger() -> None:
    client = make_span(5, "", 0, 10, kind=SpanKind.CLIENT, service="a")
    server = make_span(5, "", 2, 8, kind=SpanKind.SERVER, service="b")
    trace = build([server, client])
    assert trace.by_id[sid(5)].kind == SpanKind.CLIENT
    assert trace.by_id[sid(6)].parent_span_id == sid(5)
    assert [p.kind for p in trace.problems] == [ProblemKind.DUPLICATE_SPAN_ID]


def test_shared_flag_with_a_client_of_unknown_kind() -> None:
    # Zipkin v1 data often has no kind on the client side; the shared flag still says it all.
    client = make_span(5, "", 0, 10, kind=SpanKind.UNSPECIFIED, service="a")
    server = make_span(5, "", 2, 8, kind=SpanKind.SERVER, service="b", shared=True)
    trace = build([client, server])
    assert trace.by_id[sid(6)].parent_span_id == sid(5)


def test_one_client_shared_by_several_servers_children_go_to_the_one_they_ran_in() -> None:
    client = make_span(5, "", 0, 100, kind=SpanKind.CLIENT, service="a", host="h1")
    first = make_span(5, "", 10, 40, kind=SpanKind.SERVER, service="b", host="h2", shared=True)
    second = make_span(5, "", 50, 90, kind=SpanKind.SERVER, service="b", host="h2", shared=True)
    early = make_span(7, 5, 20, 30, service="b", host="h2")
    late = make_span(8, 5, 60, 70, service="b", host="h2")
    build([client, first, second, early, late])
    assert first.span_id == sid(6) and second.span_id == sid(9)  # 7 and 8 are taken
    assert early.parent_span_id == first.span_id
    assert late.parent_span_id == second.span_id


def test_clash_of_unrelated_spans_keeps_the_first_id_and_parent() -> None:
    trace = build(
        [
            make_span(1, "", 0, 100),
            make_span(2, 1, 10, 20, name="first"),
            make_span(2, 1, 30, 40, name="second"),
            make_span(4, 2, 11, 12, name="grandchild"),
        ]
    )
    assert trace.by_id[sid(2)].name == "first"
    second = next(s for s in trace.spans if s.name == "second")
    assert second.span_id == sid(3)
    assert second.parent_span_id == sid(1)
    assert trace.by_id[sid(4)].parent_span_id == sid(2)  # ambiguous: stays with the first
    [problem] = trace.problems
    assert problem.kind == ProblemKind.DUPLICATE_SPAN_ID
    assert "used by both 'first' and 'second'" in problem.message
    assert second.warnings == [problem.message]


def test_new_ids_never_take_an_id_a_missing_parent_is_known_by() -> None:
    # Span 9 is an orphan whose parent would be 3; the new id must skip 3 or 9 would be adopted.
    trace = build(
        [
            make_span(1, "", 0, 100),
            make_span(2, 1, 10, 20, name="first"),
            make_span(2, 1, 30, 40, name="second"),
            make_span(9, 3, 50, 60),
        ]
    )
    second = next(s for s in trace.spans if s.name == "second")
    assert second.span_id == sid(4)
    assert trace.by_id[sid(9)] in trace.roots


def test_many_spans_with_one_id() -> None:
    # New ids continue from the last one given, so this stays linear.
    count = 20_000
    spans = [make_span(1, "", 0, 1000)] + [make_span(2, 1, i / 1000, 999) for i in range(count)]
    trace = build(spans, adjust_skew=False)
    assert len(trace.spans) == count + 1
    assert len(trace.by_id) == count + 1
    assert len(trace.children[sid(1)]) == count
