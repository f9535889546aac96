"""Building one trace's parent/child tree and reporting what is wrong with it.

Order of steps (each documented where it is done):
1. de-duplicate span ids (Zipkin shared client/server spans, repeated exports);
2. index spans, find roots and orphans, break parent cycles;
3. flag spans that end before they start or never end;
4. adjust clock skew (``spanscope.assembly.skew``) unless disabled;
5. sort spans and children by start.
"""

from __future__ import annotations

from collections.abc import Iterable

from spanscope.assembly.dedupe import dedupe_span_ids
from spanscope.model import Problem, ProblemKind, Span, Trace


def group_by_trace(spans: Iterable[Span]) -> dict[str, list[Span]]:
    groups: dict[str, list[Span]] = {}
    for span in spans:
        group = groups.get(span.trace_id)
        if group is None:
            groups[span.trace_id] = [span]
        else:
            group.append(span)
    return groups


def _start_key(span: Span) -> tuple[int, str]:
    return (span.start_ns, span.span_id)


def build_trace(trace_id: str, spans: list[Span], *, adjust_skew: bool = True) -> Trace:
    problems: list[Problem] = []
    spans = dedupe_span_ids(trace_id, spans, problems)
    by_id = {span.span_id: span for span in spans}

    _break_cycles(trace_id, spans, by_id, problems)

    children: dict[str, list[Span]] = {}
    true_roots: list[Span] = []
    orphans: list[Span] = []
    for span in spans:
        parent_id = span.parent_span_id
        if not parent_id:
            true_roots.append(span)
        elif parent_id in by_id:
            children.setdefault(parent_id, []).append(span)
        else:
            orphans.append(span)
            problems.append(
                Problem(
                    ProblemKind.ORPHAN,
                    trace_id,
                    span.span_id,
                    f"parent {parent_id} is not in the trace",
                )
            )
        if span.end_ns == 0:
            problems.append(
                Problem(ProblemKind.UNCLOSED, trace_id, span.span_id, "span never ended")
            )
        elif span.end_ns < span.start_ns:
            problems.append(
                Problem(
                    ProblemKind.NEGATIVE_DURATION,
                    trace_id,
                    span.span_id,
                    f"ends {span.start_ns - span.end_ns} ns before it starts",
                )
            )

    if len(true_roots) > 1:
        problems.append(
            Problem(
                ProblemKind.MULTIPLE_ROOTS,
                trace_id,
                true_roots[0].span_id,
                f"{len(true_roots)} spans have no parent",
            )
        )

    trace = Trace(
        trace_id=trace_id,
        spans=spans,
        by_id=by_id,
        children=children,
        roots=[],
        problems=problems,
    )
    if adjust_skew:
        from spanscope.assembly.skew import adjust_clock_skew

        adjust_clock_skew(trace, [*true_roots, *orphans])

    spans.sort(key=_start_key)
    for siblings in children.values():
        siblings.sort(key=_start_key)
    true_roots.sort(key=_start_key)
    orphans.sort(key=_start_key)
    trace.roots = [*true_roots, *orphans]
    return trace


def _break_cycles(
    trace_id: str, spans: list[Span], by_id: dict[str, Span], problems: list[Problem]
) -> None:
    """A parent chain that loops (hostile or corrupt input) would make every walk endless: the
    span that closes the loop loses its parent and is reported."""
    state: dict[str, int] = {}  # 1 = on the current chain, 2 = known to reach a root
    for start in spans:
        chain: list[Span] = []
        span: Span | None = start
        while span is not None and state.get(span.span_id) is None:
            state[span.span_id] = 1
            chain.append(span)
            parent_id = span.parent_span_id
            span = by_id.get(parent_id) if parent_id else None
        if span is not None and state.get(span.span_id) == 1:
            problems.append(
                Problem(
                    ProblemKind.CYCLE,
                    trace_id,
                    span.span_id,
                    f"parent links loop back to {span.span_id}; its parent "
                    f"{span.parent_span_id} is ignored",
                )
            )
            span.warnings.append(f"parent {span.parent_span_id} ignored: parent links loop")
            span.parent_span_id = ""
        for visited in chain:
            state[visited.span_id] = 2
