"""``self_check`` catches each broken rule of the ``Trace`` contract (so that a passing check in
the other tests means something)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from spanscope.assembly import build_trace, self_check
from spanscope.model import Problem, ProblemKind, Trace
from tests.assembly.builders import TRACE_ID, make_span, sid


def good_trace() -> Trace:
    trace = build_trace(
        TRACE_ID,
        [
            make_span(1, "", 0, 100),
            make_span(2, 1, 10, 20),
            make_span(3, 1, 30, 40),
            make_span(4, 2, 11, 12),
            make_span(5, 99, 50, 60),
            make_span(6, "", 70, 80),
        ],
    )
    self_check(trace)
    return trace


def _swap_spans(trace: Trace) -> None:
    trace.spans[0], trace.spans[1] = trace.spans[1], trace.spans[0]


def _drop_from_by_id(trace: Trace) -> None:
    del trace.by_id[sid(4)]


def _duplicate_span(trace: Trace) -> None:
    trace.spans.append(trace.spans[-1])


def _foreign_span(trace: Trace) -> None:
    trace.by_id[sid(4)].trace_id = "f" * 32


def _unsorted_children(trace: Trace) -> None:
    trace.children[sid(1)].reverse()


def _child_under_wrong_parent(trace: Trace) -> None:
    trace.children[sid(3)] = trace.children.pop(sid(2))


def _lost_child(trace: Trace) -> None:
    del trace.children[sid(2)]


def _empty_children(trace: Trace) -> None:
    trace.children[sid(4)] = []


def _missing_root(trace: Trace) -> None:
    trace.roots.pop()


def _orphan_before_true_root(trace: Trace) -> None:
    trace.roots.reverse()  # orphan 5 (50 ms), root 6 (70 ms), root 1 (0 ms)


def _scrambled_roots(trace: Trace) -> None:
    by_id = trace.by_id
    trace.roots = [by_id[sid(6)], by_id[sid(5)], by_id[sid(1)]]


def _cycle(trace: Trace) -> None:
    # 1 becomes a child of 4, its own grandchild: nothing reaches the loop any more.
    span = trace.by_id[sid(1)]
    span.parent_span_id = sid(4)
    trace.children[sid(4)] = [span]
    trace.roots.remove(span)


def _foreign_problem(trace: Trace) -> None:
    trace.problems.append(Problem(ProblemKind.INVALID, "f" * 32, sid(1), "elsewhere"))


@pytest.mark.parametrize(
    ("breakage", "message"),
    [
        (_swap_spans, "spans are not sorted"),
        (_drop_from_by_id, "spans but 5 ids"),
        (_duplicate_span, "7 spans but 6 ids"),
        (_foreign_span, "belongs to trace"),
        (_unsorted_children, "children of 0000000000000001 are not sorted"),
        (_child_under_wrong_parent, "listed under 0000000000000003"),
        (_lost_child, "have a parent but"),
        (_empty_children, "empty children list"),
        (_missing_root, "roots are not exactly"),
        (_orphan_before_true_root, "an orphan is sorted among the true roots"),
        (_scrambled_roots, "roots are not two sorted runs"),
        (_cycle, "cannot be reached from a root"),
        (_foreign_problem, "problem of another trace"),
    ],
)
def test_self_check_catches(breakage: Callable[[Trace], None], message: str) -> None:
    trace = good_trace()
    breakage(trace)
    with pytest.raises(AssertionError, match=message):
        self_check(trace)
