"""De-duplicating span ids within a trace.

Two cases, handled the way Jaeger's ``SpanIDDeduper`` does and reported either way:
- Zipkin shared spans: a SERVER span reuses its CLIENT's id. The server span gets a new id and
  the client becomes its parent, so the tree shows the hop.
- The exact same span exported twice (same id, name, start and end): the copy is dropped.
Any other clash keeps the first span's id; the later one gets a new id with the same parent.
"""

from __future__ import annotations

from spanscope.model import Problem, ProblemKind, Span, SpanKind


def _new_span_id(taken: set[str], seed: str) -> str:
    value = int(seed, 16)
    while True:
        value = (value + 1) % (1 << 64) or 1
        candidate = f"{value:016x}"
        if candidate not in taken:
            taken.add(candidate)
            return candidate


def dedupe_span_ids(trace_id: str, spans: list[Span], problems: list[Problem]) -> list[Span]:
    first: dict[str, Span] = {}
    clashes: list[Span] = []
    for span in spans:
        seen = first.get(span.span_id)
        if seen is None:
            first[span.span_id] = span
        else:
            clashes.append(span)
    if not clashes:
        return spans

    taken = set(first)
    kept = list(first.values())
    for span in clashes:
        original = first[span.span_id]
        if (
            span.name == original.name
            and span.start_ns == original.start_ns
            and span.end_ns == original.end_ns
            and span.parent_span_id == original.parent_span_id
            and span.service_name == original.service_name
        ):
            problems.append(
                Problem(
                    ProblemKind.DUPLICATE_SPAN_ID,
                    trace_id,
                    span.span_id,
                    "the same span appears twice; the copy is dropped",
                )
            )
            continue
        # Make the server side the child, whichever of the two came first.
        if original.kind == SpanKind.SERVER and span.kind != SpanKind.SERVER:
            first[span.span_id] = span
            kept[kept.index(original)] = span
            original, span = span, original
        old_id = span.span_id
        span.span_id = _new_span_id(taken, old_id)
        if span.kind == SpanKind.SERVER or span.shared:
            span.parent_span_id = old_id
            how = f"shares its id with {original.kind.name.lower()} span {original.name!r}"
        else:
            how = f"clashes with span {original.name!r}"
        span.warnings.append(f"span id {old_id} {how}; given id {span.span_id}")
        problems.append(
            Problem(
                ProblemKind.DUPLICATE_SPAN_ID,
                trace_id,
                span.span_id,
                f"span id {old_id} {how}; given id {span.span_id}",
            )
        )
        kept.append(span)
    return kept
