"""Unclosed spans: spans that were started and never ended.

Rule: every span assembly reported as ``unclosed`` (``end_ns == 0``), grouped by its
service:operation. Such a span usually means a code path that returns or raises before
``end()``; most backends drop it or show it with no duration, so the time it stood for is
invisible. ``critical_ns`` and ``duration_ns`` are 0 (an unclosed span lasts no time in the
model), so these findings rank by how many traces they hit, after everything with time at stake.
"""

from __future__ import annotations

from spanscope.analysis.detectors.tally import Tally, TraceShare, merge_tallies, rank
from spanscope.analysis.results import AntiPattern
from spanscope.model import ProblemKind, Trace


class UnclosedSpansDetector:
    """Collects unclosed spans trace by trace, from the trace's assembly problems."""

    def __init__(self) -> None:
        self._tallies: dict[tuple, Tally] = {}
        self._share = TraceShare()

    def add(self, trace: Trace) -> None:
        share = self._share
        for problem in trace.problems:
            if problem.kind != ProblemKind.UNCLOSED:
                continue
            span = trace.by_id.get(problem.span_id)
            if span is not None:
                share.add((span.service_name, span.name), 1, 0, 0, [span.span_id])
        if share.items:
            share.flush(self._tallies, trace.trace_id)

    def merge(self, other: UnclosedSpansDetector) -> None:
        merge_tallies(self._tallies, other._tallies)

    def findings(self, limit: int) -> list[AntiPattern]:
        result = [
            tally.finding(
                "unclosed_spans",
                service,
                operation,
                "never ended",
                f"{service or '?'}:{operation} was started but never ended: end it on every "
                "path (finally block or context manager), or the time it covers is lost",
            )
            for (service, operation), tally in self._tallies.items()
        ]
        return rank(result, limit)  # all at 0 ns: the most traces first
