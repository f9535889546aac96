"""Self time (exclusive time): the part of a span's duration not covered by any of its children.

Semantics are Jaeger UI's trace statistics (``compute-span-self-time``): children are clipped to
the parent's window and overlapping children count once, so parallel calls are not subtracted
twice; every child counts, FOLLOWS_FROM ones included (the parent's own thread may still be
busy, but we cannot tell, and matching Jaeger's numbers matters more). Self time is never
negative. A span that never ended lasts zero time.

Contract: ``self_times(trace)`` maps every span id of the trace to its self time in ns, and
``self_time_by_operation(traces)`` sums them per ``(service, operation)``. Pure functions; the
trace is not modified. Summed over a trace, self times equal the integral over time of the number
of spans that are running and not covered by one of their own children ("busy time").
"""

from __future__ import annotations

from collections.abc import Iterable

from spanscope.model import Span, Trace


def span_self_time(span: Span, children: list[Span]) -> int:
    """Self time of ``span`` given its children sorted by start."""
    start = span.start_ns
    end = span.end_ns if span.end_ns > start else start
    total = end - start
    if not children:
        return total
    cursor = start  # end of the children's coverage so far
    for child in children:
        c_start = child.start_ns
        c_end = child.end_ns if child.end_ns > c_start else c_start
        if c_start > end or c_end < cursor:
            continue
        lower = cursor if cursor > c_start else c_start
        upper = end if end < c_end else c_end
        total -= upper - lower
        if upper == end:
            break  # covered up to the parent's end: later children add nothing
        cursor = c_end
    return total if total > 0 else 0


def self_times(trace: Trace) -> dict[str, int]:
    """Span id -> exclusive time in ns, for every span of ``trace``."""
    children = trace.children
    empty: list[Span] = []
    return {
        span.span_id: span_self_time(span, children.get(span.span_id, empty))
        for span in trace.spans
    }


def self_time_by_operation(traces: Iterable[Trace]) -> dict[tuple[str, str], int]:
    """(service, operation) -> summed self time in ns over all spans of ``traces``."""
    totals: dict[tuple[str, str], int] = {}
    for trace in traces:
        times = self_times(trace)
        for span in trace.spans:
            key = (span.service_name, span.name)
            totals[key] = totals.get(key, 0) + times[span.span_id]
    return totals
