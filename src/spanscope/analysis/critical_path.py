"""The critical path of a trace: the chain of work the request actually waited for.

Semantics are Jaeger UI's (``TracePage/CriticalPath``), so a user sees the same path here as in
Jaeger:

1. Only *blocking* children count: a child whose parent relation is FOLLOWS_FROM
   (``span.follows_from``) or a CONSUMER under a PRODUCER is dropped with its whole subtree,
   because the parent never waits for it.
2. Children are clamped to their parent's (already clamped) window; a child wholly outside its
   parent is dropped with its subtree. This keeps clock skew and fire-and-forget work from
   stretching the path beyond the request.
3. From the root's end, take the last-finishing child (LFC); the parent is on the path from the
   LFC's end to the current end. Descend into the LFC. When a span has no (further) child that
   ends before the point we came back to, it is on the path down to its own start and we return
   to its parent at that start, picking the child that ended last *before* it.

One deliberate difference, on by default: Jaeger requires the earlier child to end *strictly*
before the later one starts, so when calls run back to back (the next starting the very
nanosecond the previous ended, as sequential calls and N+1 queries often do at microsecond
resolution) Jaeger skips every other call and charges its time to the parent. We count a child
that ends exactly when the next starts (``strict=False``); ``strict=True`` gives Jaeger's
sections exactly. The two agree whenever no such tie occurs (all nine Jaeger UI test cases).

Contract: ``critical_path(trace)`` returns sections of the trace's main root (``trace.root``),
in ascending time order, contiguous, never overlapping, exactly tiling
``[root.start_ns, root.end_ns]`` (so they sum to the root's duration); empty sections are
omitted. A span that never ended is treated as lasting zero time. Spans not under the main root
(orphans, other roots) are not part of the path. The trace is not modified.
``critical_time(trace)`` gives the per-span totals of those sections directly, and
``charge_critical_time`` the same walk charging call-path stacks too (the profile's need).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence

import msgspec

from spanscope.analysis.stacks import CallStacks
from spanscope.model import Span, SpanKind, Trace


class CriticalSection(msgspec.Struct, frozen=True):
    """``span_id`` was on the critical path from ``start_ns`` to ``end_ns``."""

    span_id: str
    start_ns: int
    end_ns: int


# Enum members as module constants: ``SpanKind.X`` is a slow attribute lookup in hot loops.
_PRODUCER, _CONSUMER = SpanKind.PRODUCER, SpanKind.CONSUMER


def _end(span: Span) -> int:
    end = span.end_ns
    return end if end > span.start_ns else span.start_ns


def _clamp_children(
    trace: Trace, span: Span, start: int, end: int, windows: dict[str, tuple[int, int, str]]
) -> tuple[Sequence[int], Sequence[str]]:
    """Clamp ``span``'s blocking children to its window ``[start, end]`` (Jaeger's sanitising
    step), record their windows, and return their (ends, ids) sorted by (end, -order): the last
    entry is the last-finishing child (ties go to the earlier child, as in Jaeger), and bisect
    finds "the last to end before t". A dropped child's subtree is never looked at, which is
    Jaeger's "dropped with its subtree"."""
    keyed: list[tuple[int, int, str]] = []
    parent_id = span.span_id
    producer = span.kind == _PRODUCER
    for index, child in enumerate(trace.children.get(parent_id, ())):
        if child.follows_from or (producer and child.kind == _CONSUMER):
            continue  # not blocking: the parent does not wait for it (rule 1)
        c_start = child.start_ns
        c_end = child.end_ns
        if c_end < c_start:
            c_end = c_start
        if c_start >= start:
            if c_start >= end:
                continue  # starts after the parent ended
            if c_end > end:
                c_end = end
        else:
            if c_end <= start:
                continue  # ended before the parent started
            c_start = start
            if c_end > end:
                c_end = end
        windows[child.span_id] = (c_start, c_end, parent_id)
        keyed.append((c_end, -index, child.span_id))
    if len(keyed) < 2:  # one child or none (common): nothing to sort
        return ([keyed[0][0]], [keyed[0][2]]) if keyed else ([], [])
    keyed.sort()
    # One C-level transpose instead of two comprehensions; bisect and indexing take tuples.
    ends, _, ids = zip(*keyed, strict=True)
    return ends, ids


def critical_path(trace: Trace, *, strict: bool = False) -> list[CriticalSection]:
    """Critical-path sections of ``trace``'s main root, in ascending time order.

    ``strict`` follows Jaeger UI to the letter on back-to-back children (module docstring)."""
    sections: list[CriticalSection] = []
    _walk(trace, strict, sections, None)
    sections.reverse()
    return sections


def critical_time(trace: Trace, *, strict: bool = False) -> dict[str, int]:
    """Span id -> ns it spent on the critical path: ``critical_time_by_span(critical_path(
    trace))`` without building the sections (the analyzer's per-trace need). Entries come in
    no particular order; spans with no time on the path have none."""
    totals: dict[str, int] = {}
    charge_critical_time(trace, strict, totals)
    return totals


def charge_critical_time(
    trace: Trace,
    strict: bool,
    by_span: dict[str, int] | None = None,
    stacks: CallStacks | None = None,
    by_stack: dict[int, int] | None = None,
) -> None:
    """Each span's time on the critical path, set in ``by_span`` (span id -> ns) and, with
    ``stacks``, added to ``by_stack`` (the number ``stacks`` gives the span's call-path stack
    -> ns). The one walk behind ``critical_time`` and the profile (``ProfileCollector``): its
    hot loop, written once.

    The walk of rule 3 descends into a child with the child's clamped window and comes back at
    that window's start, so what happens inside a child depends on its window alone. Each span
    is therefore handled once, from a work list: its children chosen right to left as the walk
    would choose them, its own time its window minus theirs (they never overlap). A child's
    stack is known from its parent's as the walk goes down, so no span is looked up again."""
    if not trace.roots:
        return
    root = trace.root
    children_of = trace.children
    numbers = stacks.numbers if stacks is not None else {}
    stack = -1  # without ``stacks``: every span's, unused
    work = [(root, root.start_ns, _end(root), stack)]
    while work:
        span, start, end, above = work.pop()
        own = end - start
        if not own:
            continue  # a zero window: everything under it is clamped to nothing
        if stacks is not None:
            found = numbers.get((above, span.service_name, span.name))
            stack = stacks.number(above, span.service_name, span.name) if found is None else found
        below = children_of.get(span.span_id)
        if below and len(below) == 1:  # the usual call: the steps below for one child, inline
            child = below[0]
            if not (child.follows_from or (child.kind == _CONSUMER and span.kind == _PRODUCER)):
                c_start = child.start_ns
                c_end = child.end_ns
                if c_end < c_start:
                    c_end = c_start
                if c_start < start:
                    c_start = start
                if c_end > end:
                    c_end = end
                if c_start < end and c_end > start:  # some of it inside the window
                    own -= c_end - c_start
                    work.append((child, c_start, c_end, stack))
        elif below:
            producer = span.kind == _PRODUCER
            keyed: list[tuple[int, int, int, Span]] = []
            for index, child in enumerate(below):
                if child.follows_from or (producer and child.kind == _CONSUMER):
                    continue  # not blocking (rule 1)
                c_start = child.start_ns
                c_end = child.end_ns
                if c_end < c_start:
                    c_end = c_start
                if c_start >= start:
                    if c_start >= end:
                        continue
                    if c_end > end:
                        c_end = end
                else:
                    if c_end <= start:
                        continue
                    c_start = start
                    if c_end > end:
                        c_end = end
                keyed.append((c_end, -index, c_start, child))
            if len(keyed) == 1:  # the common case: the only child is on the path
                c_end, _, c_start, child = keyed[0]
                own -= c_end - c_start
                work.append((child, c_start, c_end, stack))
            elif keyed:
                keyed.sort()  # -index is unique: the spans themselves are never compared
                ends = [item[0] for item in keyed]
                position = len(keyed)
                while True:
                    c_end, _, c_start, child = keyed[position - 1]
                    own -= c_end - c_start
                    work.append((child, c_start, c_end, stack))
                    if strict:
                        position = bisect_left(ends, c_start, 0, position - 1)
                    else:
                        position = bisect_right(ends, c_start, 0, position - 1)
                        # A zero-length child at that very instant would be picked forever.
                        while position and keyed[position - 1][2] >= c_start:
                            position -= 1
                    if not position:
                        break
        if own:
            if by_span is not None:
                by_span[span.span_id] = own
            if by_stack is not None:
                by_stack[stack] = by_stack.get(stack, 0) + own


def _walk(
    trace: Trace,
    strict: bool,
    sections: list[CriticalSection] | None,
    totals: dict[str, int] | None,
) -> None:
    """The walk of rule 3, from the root's end back to its start: appends each section to
    ``sections`` (latest first) or adds its length to its span's entry in ``totals``."""
    if not trace.roots:
        return
    root = trace.root
    # Windows and children are worked out lazily, for the spans the walk reaches: a big trace's
    # path usually touches a small part of it.
    windows: dict[str, tuple[int, int, str]] = {root.span_id: (root.start_ns, _end(root), "")}
    ordered: dict[str, tuple[Sequence[int], Sequence[str]]] = {}
    by_id = trace.by_id
    has_children = trace.children

    span_id = root.span_id
    returning: int | None = None
    while True:
        start, end, parent_id = windows[span_id]
        section_end = end if returning is None else returning
        lfc: str | None = None
        if span_id in has_children:
            entry = ordered.get(span_id)
            if entry is None:
                entry = ordered[span_id] = _clamp_children(
                    trace, by_id[span_id], start, end, windows
                )
            ends, ids = entry
            # Before returning to a span we pick among all children; afterwards only among
            # those that ended before the child we came back from started.
            if returning is None:
                position = len(ends)
            elif strict:
                position = bisect_left(ends, returning)
            else:
                position = bisect_right(ends, returning)
                # A zero-length child at that very instant would be picked forever.
                while position and windows[ids[position - 1]][0] >= returning:
                    position -= 1
            if position:
                lfc = ids[position - 1]
        if lfc is not None:
            section_start = windows[lfc][1]
            span_id_next, returning_next = lfc, None
        else:
            section_start = start
            span_id_next, returning_next = parent_id, start
        if section_start != section_end:
            if totals is None:
                sections.append(CriticalSection(span_id, section_start, section_end))  # type: ignore[union-attr]
            else:
                totals[span_id] = totals.get(span_id, 0) + section_end - section_start
        if lfc is None and not parent_id:
            break
        span_id, returning = span_id_next, returning_next


def critical_time_by_span(sections: list[CriticalSection]) -> dict[str, int]:
    """Span id -> ns it spent on the critical path (a span can own several sections)."""
    totals: dict[str, int] = {}
    for section in sections:
        totals[section.span_id] = totals.get(section.span_id, 0) + section.end_ns - section.start_ns
    return totals
