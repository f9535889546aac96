"""Building one trace's parent/child tree and reporting what is wrong with it.

``build_trace`` runs these steps in order (each documented where it is done):

1. make span ids unique (``spanscope.assembly.dedupe``: Zipkin shared client/server spans,
   repeated exports, clashes);
2. link children to parents; spans without a parent are true roots, spans whose parent is not in
   the trace are orphans; flag spans that end before they start or never end;
3. break parent cycles (hostile or corrupt input): the earliest span of each loop loses its
   parent and joins the orphans, so every span hangs under exactly one root;
4. sort spans, children and both groups of roots by ``(start_ns, span_id)``: from here on the
   trace meets the ``Trace`` contract (``self_check`` holds);
5. adjust clock skew (``spanscope.assembly.skew``) unless disabled; it keeps the contract.

Each problem goes to ``trace.problems`` and, where it concerns one span, to its ``warnings``.
No step recurses, so chains of any depth are fine; every step is linear in the number of spans
apart from the sorts.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from spanscope.assembly.dedupe import dedupe_span_ids
from spanscope.assembly.order import start_key
from spanscope.assembly.skew import adjust_clock_skew
from spanscope.model import Problem, ProblemKind, Span, SpanKind, Trace

_CONSUMER, _PRODUCER = SpanKind.CONSUMER, SpanKind.PRODUCER  # enum lookups are slow in loops


def group_by_trace(spans: Iterable[Span]) -> dict[str, list[Span]]:
    """Spans by trace id, traces in first-seen order, spans in input order."""
    groups: defaultdict[str, list[Span]] = defaultdict(list)
    for span in spans:
        groups[span.trace_id].append(span)  # defaultdict: the append is the whole loop body
    return dict(groups)


def build_trace(trace_id: str, spans: list[Span], *, adjust_skew: bool = True) -> Trace:
    """Assemble the spans of one trace; takes ownership of ``spans`` and may change them."""
    problems: list[Problem] = []
    spans, by_id = dedupe_span_ids(trace_id, spans, problems)

    linked: defaultdict[str, list[Span]] = defaultdict(list)
    true_roots: list[Span] = []
    orphans: list[Span] = []
    # Two rare cases are noticed on the way, so the common case skips their costly steps:
    # - a loop of parent links needs a child that does not come strictly after its parent in
    #   (start, id) order;
    # - clock skew can only need adjusting where a child starts before or ends after its parent.
    maybe_loops = False
    out_of_bounds: list[Span] = []
    for span in spans:
        parent_id = span.parent_span_id
        if not parent_id:
            true_roots.append(span)
        elif (parent := by_id.get(parent_id)) is not None:
            linked[parent_id].append(span)
            start = span.start_ns
            if start < parent.start_ns:
                maybe_loops = True
                out_of_bounds.append(span)
            else:
                if start == parent.start_ns and span.span_id <= parent_id:
                    maybe_loops = True
                # Ending after the parent moves nothing when the parent does not wait for the
                # span (skew's async rule only keeps a span from starting before its parent).
                if span.end_ns > parent.end_ns and not (
                    span.follows_from or span.kind == _CONSUMER or parent.kind == _PRODUCER
                ):
                    out_of_bounds.append(span)
        else:
            orphans.append(span)
            _report(problems, ProblemKind.ORPHAN, span, f"parent {parent_id} is not in the trace")
        if span.end_ns <= span.start_ns:  # rare: one comparison keeps the common case cheap
            if span.end_ns == 0:
                _report(problems, ProblemKind.UNCLOSED, span, "span never ended")
            elif span.end_ns < span.start_ns:
                _report(
                    problems,
                    ProblemKind.NEGATIVE_DURATION,
                    span,
                    f"ends {span.start_ns - span.end_ns} ns before it starts",
                )

    children = dict(linked)  # a plain dict: a lookup must never add an entry
    if maybe_loops and _count_reachable([*true_roots, *orphans], children) < len(spans):
        orphans.extend(_break_cycles(spans, by_id, children, true_roots, orphans, problems))

    if len(true_roots) > 1:
        true_roots.sort(key=start_key)
        problems.append(
            Problem(
                ProblemKind.MULTIPLE_ROOTS,
                trace_id,
                true_roots[0].span_id,
                f"{len(true_roots)} spans have no parent",
            )
        )

    spans.sort(key=start_key)
    for siblings in children.values():
        if len(siblings) > 1:
            siblings.sort(key=start_key)
    true_roots.sort(key=start_key)
    orphans.sort(key=start_key)
    trace = Trace(
        trace_id=trace_id,
        spans=spans,
        by_id=by_id,
        children=children,
        roots=[*true_roots, *orphans],
        problems=problems,
    )
    if adjust_skew and out_of_bounds:
        adjust_clock_skew(trace, out_of_bounds)
    return trace


def _report(problems: list[Problem], kind: ProblemKind, span: Span, message: str) -> None:
    problems.append(Problem(kind, span.trace_id, span.span_id, message))
    span.warnings.append(message)


def _count_reachable(roots: list[Span], children: dict[str, list[Span]]) -> int:
    count = 0
    stack = list(roots)
    while stack:
        span = stack.pop()
        count += 1
        below = children.get(span.span_id)
        if below:
            stack.extend(below)
    return count


def _reachable_ids(roots: list[Span], children: dict[str, list[Span]]) -> set[str]:
    seen: set[str] = set()
    stack = list(roots)
    while stack:
        span = stack.pop()
        seen.add(span.span_id)
        stack.extend(children.get(span.span_id, ()))
    return seen


def _break_cycles(
    spans: list[Span],
    by_id: dict[str, Span],
    children: dict[str, list[Span]],
    true_roots: list[Span],
    orphans: list[Span],
    problems: list[Problem],
) -> list[Span]:
    """Spans no root reaches hang off a parent loop (each span has one parent, so every such
    component holds exactly one loop). The loop's earliest span is the likeliest real caller: it
    loses its parent link and becomes a root. Returns those new roots."""
    done = _reachable_ids([*true_roots, *orphans], children)
    new_roots: list[Span] = []
    for start in spans:
        if start.span_id in done:
            continue
        position: dict[str, int] = {}
        path: list[Span] = []
        span = start
        while span.span_id not in position:
            position[span.span_id] = len(path)
            path.append(span)
            span = by_id[span.parent_span_id]  # an unreached span always has its parent here
        loop = path[position[span.span_id] :]
        head = min(loop, key=start_key)
        old_parent = head.parent_span_id
        siblings = children[old_parent]
        for index, sibling in enumerate(siblings):
            if sibling is head:
                del siblings[index]
                break
        if not siblings:
            del children[old_parent]
        head.parent_span_id = ""
        if len(loop) == 1:
            message = "span names itself as its parent; the parent link is ignored"
        else:
            message = (
                f"parent links loop through {len(loop)} spans; this span, the earliest of them, "
                f"loses its parent {old_parent} and becomes a root"
            )
        _report(problems, ProblemKind.CYCLE, head, message)
        new_roots.append(head)
        done |= _reachable_ids([head], children)
    return new_roots
