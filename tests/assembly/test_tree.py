"""Building the tree: roots, orphans, several roots, bad times, parent loops, hostile sizes."""

from __future__ import annotations

from spanscope.assembly import assemble, build_trace, group_by_trace, self_check
from spanscope.model import ProblemKind, Span, Trace
from tests.assembly.builders import MS, TRACE_ID, make_span, sid


def build(spans: list[Span], adjust_skew: bool = True) -> Trace:
    trace = build_trace(TRACE_ID, spans, adjust_skew=adjust_skew)
    self_check(trace)
    return trace


def ids(spans: list[Span]) -> list[str]:
    return [span.span_id for span in spans]


def kinds(trace: Trace) -> list[ProblemKind]:
    return [problem.kind for problem in trace.problems]


def test_group_by_trace_keeps_first_seen_order() -> None:
    spans = [
        make_span(1, trace_id="b" * 32),
        make_span(2, trace_id="a" * 32),
        make_span(3, trace_id="b" * 32),
    ]
    groups = group_by_trace(spans)
    assert list(groups) == ["b" * 32, "a" * 32]
    assert ids(groups["b" * 32]) == [sid(1), sid(3)]
    traces = assemble(spans)
    assert [t.trace_id for t in traces] == ["b" * 32, "a" * 32]
    for trace in traces:
        self_check(trace)


def test_clean_trace_is_sorted_and_has_no_problems() -> None:
    # Input in a scrambled order; children are listed by start, ties broken by id.
    trace = build(
        [
            make_span(4, 1, 30, 40),
            make_span(3, 1, 10, 20),
            make_span(1, "", 0, 100),
            make_span(2, 1, 10, 20),
            make_span(5, 4, 31, 32),
        ]
    )
    assert trace.problems == []
    assert ids(trace.roots) == [sid(1)]
    assert trace.root.span_id == sid(1)
    assert ids(trace.children[sid(1)]) == [sid(2), sid(3), sid(4)]
    assert ids(trace.spans) == [sid(1), sid(2), sid(3), sid(4), sid(5)]
    assert [(s.span_id, d) for s, d in trace.walk()] == [
        (sid(1), 0),
        (sid(2), 1),
        (sid(3), 1),
        (sid(4), 1),
        (sid(5), 2),
    ]
    assert all(span.warnings == [] for span in trace.spans)


def test_orphan_is_reported_and_listed_after_true_roots() -> None:
    trace = build([make_span(2, 99, 0, 10), make_span(1, "", 5, 50), make_span(3, 2, 1, 2)])
    assert ids(trace.roots) == [sid(1), sid(2)]  # the true root first though it starts later
    assert trace.root.span_id == sid(1)
    [problem] = trace.problems
    assert problem.kind == ProblemKind.ORPHAN
    assert problem.span_id == sid(2)
    assert sid(99) in problem.message
    assert trace.by_id[sid(2)].warnings == [problem.message]
    assert trace.by_id[sid(2)].parent_span_id == sid(99)  # kept as recorded


def test_only_orphans_the_earliest_stands_for_the_trace() -> None:
    trace = build([make_span(2, 98, 20, 30), make_span(1, 99, 10, 15)])
    assert ids(trace.roots) == [sid(1), sid(2)]
    assert kinds(trace) == [ProblemKind.ORPHAN, ProblemKind.ORPHAN]


def test_several_roots_are_reported_once() -> None:
    trace = build([make_span(3, "", 30, 40), make_span(1, "", 10, 20), make_span(2, "", 20, 30)])
    assert ids(trace.roots) == [sid(1), sid(2), sid(3)]
    [problem] = trace.problems
    assert problem.kind == ProblemKind.MULTIPLE_ROOTS
    assert problem.span_id == sid(1)
    assert problem.message == "3 spans have no parent"


def test_span_that_never_ends_and_span_that_ends_before_it_starts() -> None:
    trace = build([make_span(1, "", 0, 100), make_span(2, 1, 10, 0), make_span(3, 1, 50, 40)])
    assert kinds(trace) == [ProblemKind.UNCLOSED, ProblemKind.NEGATIVE_DURATION]
    assert trace.problems[0].span_id == sid(2)
    assert trace.problems[1].span_id == sid(3)
    assert trace.problems[1].message == f"ends {10 * MS} ns before it starts"
    # reported, not fixed
    assert trace.by_id[sid(2)].end_ns == 0
    assert trace.by_id[sid(3)].end_ns == 40 * MS
    assert trace.by_id[sid(2)].warnings == ["span never ended"]


def test_parent_loop_is_cut_at_its_earliest_span() -> None:
    # 2 -> 3 -> 4 -> 2 loop (each names the next as parent), 5 hangs off the loop; 1 is a real
    # root. Span 3 starts first, so it loses its parent and heads the loop's spans.
    trace = build(
        [
            make_span(1, "", 0, 10),
            make_span(2, 3, 30, 31),
            make_span(3, 4, 20, 21),
            make_span(4, 2, 40, 41),
            make_span(5, 4, 50, 51),
        ]
    )
    [problem] = trace.problems
    assert problem.kind == ProblemKind.CYCLE
    assert problem.span_id == sid(3)
    assert "loop through 3 spans" in problem.message and sid(4) in problem.message
    assert trace.by_id[sid(3)].parent_span_id == ""
    assert trace.by_id[sid(3)].warnings == [problem.message]
    assert ids(trace.roots) == [sid(1), sid(3)]  # the cut loop goes after the true roots
    assert [(s.span_id, d) for s, d in trace.walk()] == [
        (sid(1), 0),
        (sid(3), 0),
        (sid(2), 1),
        (sid(4), 2),
        (sid(5), 3),
    ]


def test_self_parenting_span() -> None:
    trace = build([make_span(1, 1, 0, 10), make_span(2, 1, 1, 2)])
    [problem] = trace.problems
    assert problem.kind == ProblemKind.CYCLE
    assert problem.message == "span names itself as its parent; the parent link is ignored"
    assert ids(trace.roots) == [sid(1)]
    assert ids(trace.children[sid(1)]) == [sid(2)]


def test_loop_with_equal_start_times_is_still_found() -> None:
    # Loops are searched for only when some child does not come after its parent in (start, id)
    # order; equal starts must count as "not after".
    trace = build([make_span(2, 1, 5, 6), make_span(1, 2, 5, 6)])
    assert kinds(trace) == [ProblemKind.CYCLE]
    assert ids(trace.roots) == [sid(1)]


def test_long_chain_has_no_recursion_limit() -> None:
    # 200k spans, each the parent of the next and nested in it, given leaf first.
    count = 200_000
    spans = [
        Span(
            TRACE_ID, sid(i), "op", i, 2 * count - i + 2, parent_span_id=sid(i - 1) if i > 1 else ""
        )
        for i in range(count, 0, -1)
    ]
    trace = build(spans)
    assert trace.problems == []
    assert ids(trace.roots) == [sid(1)]
    assert max(depth for _, depth in trace.walk()) == count - 1


def test_long_chain_with_skew_on_every_hop() -> None:
    # Every span on its own host and each one starting before its parent: 20k shifts, no
    # recursion, and each child ends up centred in its (shifted) parent.
    count = 20_000
    spans = [
        Span(
            TRACE_ID,
            sid(i),
            "op",
            -i * 10 + 10**9,
            -i * 10 + 10**9 + 2 * (count - i) + 1,
            parent_span_id=sid(i - 1) if i > 1 else "",
            resource_attributes={"host.name": f"h{i}"},
        )
        for i in range(1, count + 1)
    ]
    trace = build(spans)
    assert kinds(trace).count(ProblemKind.CLOCK_SKEW) == count - 1
    for span in trace.spans:
        parent = trace.parent_of(span)
        if parent is not None:
            assert parent.start_ns <= span.start_ns and span.end_ns <= parent.end_ns


def test_hundred_thousand_roots() -> None:
    spans = [make_span(i, "", i, i + 1) for i in range(1, 100_001)]
    trace = build(spans)
    assert len(trace.roots) == 100_000
    assert kinds(trace) == [ProblemKind.MULTIPLE_ROOTS]


def test_one_big_loop_and_many_self_parents() -> None:
    # Skew is off here: after the cut each span of the loop starts before its parent, and the
    # 100k shifts that would follow are covered by the chain test above.
    count = 100_000
    loop = [
        Span(TRACE_ID, sid(i), "op", i, i + 1, parent_span_id=sid(i % count + 1))
        for i in range(1, count + 1)
    ]
    selfish = [
        Span(TRACE_ID, sid(i), "op", i, i + 1, parent_span_id=sid(i))
        for i in range(count + 1, 2 * count + 1)
    ]
    trace = build(loop + selfish, adjust_skew=False)
    assert kinds(trace) == [ProblemKind.CYCLE] * (count + 1)
    assert len(trace.roots) == count + 1
    assert trace.roots[0].span_id == sid(1)  # the loop is cut at its earliest span
    assert len(trace.spans) == 2 * count


def test_a_span_with_an_empty_id_does_not_adopt_the_roots() -> None:
    odd = make_span(1, "", 5, 6)
    odd.span_id = ""
    trace = build([make_span(2, "", 0, 10), odd, make_span(3, 2, 1, 2)])
    assert len(trace.roots) == 2
    assert [p.kind for p in trace.problems] == [ProblemKind.MULTIPLE_ROOTS]
