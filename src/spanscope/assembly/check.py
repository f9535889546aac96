"""Invariants of an assembled ``Trace``, checked the way pyinstrument's ``self_check`` does.

``self_check(trace)`` raises ``AssertionError`` naming the first broken rule, else returns None.
Tests call it after every assembly step; it is also cheap enough (linear, plus a sortedness scan)
to run on real files while debugging. The rules are the ``Trace`` contract in
``spanscope.model.trace``:

- span ids are unique; ``by_id`` maps exactly the ids of ``spans`` to those very objects; every
  span and problem carries the trace's id;
- ``spans``, every ``children`` list and both groups of ``roots`` are sorted by
  ``(start_ns, span_id)``;
- ``children`` has an entry only for spans that have children, and lists exactly the spans whose
  ``parent_span_id`` names that span;
- ``roots`` holds exactly the spans whose parent is not in the trace: first those with no parent
  at all, then orphans (and spans whose looping parent link was cut, which have no parent left);
- walking down from the roots reaches every span exactly once: no cycles, nothing unreachable.
"""

from __future__ import annotations

from itertools import pairwise

from spanscope.model import Span, Trace


def _fail(trace: Trace, message: str) -> None:
    raise AssertionError(f"trace {trace.trace_id}: {message}")


def _is_sorted(spans: list[Span]) -> bool:
    return all(
        a.start_ns < b.start_ns or (a.start_ns == b.start_ns and a.span_id <= b.span_id)
        for a, b in pairwise(spans)
    )


def self_check(trace: Trace) -> None:
    """Raise AssertionError if ``trace`` breaks the ``Trace`` contract."""
    spans = trace.spans
    by_id = trace.by_id
    trace_id = trace.trace_id
    # Messages are built only on failure: this runs on every span of every test trace.
    if len(by_id) != len(spans):
        _fail(trace, f"{len(spans)} spans but {len(by_id)} ids")
    for span in spans:
        if by_id.get(span.span_id) is not span:
            _fail(trace, f"by_id misses span {span.span_id} or holds another span under its id")
        if span.trace_id != trace_id:
            _fail(trace, f"span {span.span_id} belongs to trace {span.trace_id}")
    for problem in trace.problems:
        if problem.trace_id != trace_id:
            _fail(trace, f"problem of another trace: {problem}")
    if not _is_sorted(spans):
        _fail(trace, "spans are not sorted by (start_ns, span_id)")

    listed = 0
    for parent_id, children in trace.children.items():
        if parent_id not in by_id:
            _fail(trace, f"children listed under unknown span {parent_id}")
        if not children:
            _fail(trace, f"empty children list for {parent_id}")
        if not _is_sorted(children):
            _fail(trace, f"children of {parent_id} are not sorted")
        for child in children:
            if child.parent_span_id != parent_id:
                _fail(
                    trace,
                    f"span {child.span_id} listed under {parent_id} but its parent is "
                    f"{child.parent_span_id!r}",
                )
            if by_id.get(child.span_id) is not child:
                _fail(trace, f"child {child.span_id} is not in by_id")
        listed += len(children)
    # An empty parent id means no parent even if some hostile span has the empty id.
    linked = sum(1 for span in spans if span.parent_span_id and span.parent_span_id in by_id)
    if listed != linked:
        _fail(trace, f"{linked} spans have a parent but {listed} are listed as children")

    roots = trace.roots
    parentless = {
        id(span) for span in spans if not span.parent_span_id or span.parent_span_id not in by_id
    }
    if len(roots) != len(parentless) or {id(root) for root in roots} != parentless:
        _fail(trace, "roots are not exactly the spans without a parent in the trace")
    # Roots come as two sorted runs: spans with no parent id, then the rest (orphans, and cut
    # loops, which have no parent id left). So at most one place may go down in start order, and
    # no root before it may have a parent id.
    drops = [i + 1 for i, (a, b) in enumerate(pairwise(roots)) if not _is_sorted([a, b])]
    if len(drops) > 1:
        _fail(trace, "roots are not two sorted runs")
    first_orphan = next((i for i, root in enumerate(roots) if root.parent_span_id), len(roots))
    if drops and drops[0] > first_orphan:
        _fail(trace, "an orphan is sorted among the true roots")

    seen: set[str] = set()
    stack = list(roots)
    while stack:
        span = stack.pop()
        if span.span_id in seen:
            _fail(trace, f"span {span.span_id} reached twice")
        seen.add(span.span_id)
        stack.extend(trace.children.get(span.span_id, ()))
    if len(seen) != len(spans):
        _fail(trace, f"{len(spans) - len(seen)} spans cannot be reached from a root")
