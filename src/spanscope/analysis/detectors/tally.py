"""Summing one anti-pattern finding over many traces, and what the detectors share.

A detector looks at one trace at a time and records each occurrence in a ``TraceShare`` under
a key of its own (e.g. caller + repeated call); when the trace is done, ``flush`` merges the
trace's share into the data set's ``Tally`` for that key, so "traces" counts each trace once
and the per-trace size (calls, spans) is the sum over the trace's occurrences. Each tally keeps
the occurrence with the most at stake as its example. At most ``MAX_KEYS`` keys are tracked per
detector, so memory stays bounded whatever the names. Pure bookkeeping, no I/O.
"""

from __future__ import annotations

from spanscope.analysis.results import AntiPattern
from spanscope.model import Span, Trace

MAX_EXAMPLE_SPANS = 10
# Findings are keyed by names; data with an id in every name would make a key per request.
# Past this many keys per detector new keys are not tracked (the names detector reports why).
MAX_KEYS = 20_000


def span_end(span: Span) -> int:
    """End time, or the start for a span that never ended (or ends before it starts)."""
    end = span.end_ns
    return end if end > span.start_ns else span.start_ns


def sequential_runs(spans: list[Span]) -> list[list[Span]]:
    """Split ``spans`` (sorted by start) into maximal runs in which each span starts at or after
    the previous one ended: calls made one after another. Overlapping spans break a run."""
    runs: list[list[Span]] = []
    run: list[Span] = []
    previous_end = 0
    for span in spans:
        if run and span.start_ns < previous_end:
            runs.append(run)
            run = []
        run.append(span)
        previous_end = span_end(span)
    if run:
        runs.append(run)
    return runs


class CriticalView:
    """How long the critical path ran inside a span's subtree, for the spans of one trace.

    The critical-path walk covers the whole (clamped) window of every span it descends into, so
    a span's subtree holds its window's length of critical path if the walk visited it (it or a
    descendant owns a section), else nothing. The visited set (every section owner and its
    ancestors) is worked out on first use: most traces never ask."""

    __slots__ = ("_trace", "_visited", "on_path")

    def __init__(self, trace: Trace, on_path: dict[str, int]) -> None:
        self._trace = trace
        self.on_path = on_path  # a leaf's critical time is its own entry
        self._visited: set[str] | None = None

    def time(self, span: Span) -> int:
        """Critical-path ns spent in ``span``'s subtree."""
        if span.span_id not in self._trace.children:
            return self.on_path.get(span.span_id, 0)  # a leaf: its own sections are all of it
        visited = self._visited
        if visited is None:
            visited = self._visited = set()
            by_id = self._trace.by_id
            for span_id in self.on_path:
                while span_id and span_id not in visited:
                    visited.add(span_id)
                    above = by_id.get(span_id)
                    span_id = above.parent_span_id if above is not None else ""
        if span.span_id not in visited:
            return 0
        # span_end and max/min written out: this runs for every call the detectors look at.
        start, end = span.start_ns, span.end_ns
        if end < start:
            end = start
        parent_id = span.parent_span_id
        parent = self._trace.by_id.get(parent_id) if parent_id else None
        if parent is not None:  # children are clamped to their parent's window
            parent_start, parent_end = parent.start_ns, parent.end_ns
            if parent_end < parent_start:
                parent_end = parent_start
            if parent_start > start:
                start = parent_start
            if parent_end < end:
                end = parent_end
        return end - start if end > start else 0


class Tally:
    """One finding summed over the data set."""

    __slots__ = (
        "critical_ns",
        "duration_ns",
        "example_ids",
        "example_trace",
        "example_weight",
        "occurrences",
        "sizes",
        "traces",
    )

    def __init__(self) -> None:
        self.traces = 0
        self.occurrences = 0
        self.sizes: dict[int, int] = {}  # size per trace -> how many traces
        self.critical_ns = 0
        self.duration_ns = 0
        self.example_trace = ""
        self.example_ids: list[str] = []
        self.example_weight: tuple[int, int] = (-1, -1)

    def record(
        self,
        trace_id: str,
        occurrences: int,
        size: int,
        critical_ns: int,
        duration_ns: int,
        example_ids: list[str],
        weight: tuple[int, int],
    ) -> None:
        """Add one trace's share."""
        self.traces += 1
        self.occurrences += occurrences
        self.sizes[size] = self.sizes.get(size, 0) + 1
        self.critical_ns += critical_ns
        self.duration_ns += duration_ns
        if weight > self.example_weight:  # ties keep the first seen: stable examples
            self.example_weight = weight
            self.example_trace = trace_id
            self.example_ids = example_ids[:MAX_EXAMPLE_SPANS]

    def merge(self, other: Tally) -> None:
        """Add ``other``, the same finding over traces that came after this one's."""
        self.traces += other.traces
        self.occurrences += other.occurrences
        for size, count in other.sizes.items():
            self.sizes[size] = self.sizes.get(size, 0) + count
        self.critical_ns += other.critical_ns
        self.duration_ns += other.duration_ns
        if other.example_weight > self.example_weight:
            self.example_weight = other.example_weight
            self.example_trace = other.example_trace
            self.example_ids = other.example_ids

    def size_p50(self) -> int:
        """Nearest-rank median of the per-trace sizes."""
        rank = (self.traces + 1) // 2
        seen = 0
        for size in sorted(self.sizes):
            seen += self.sizes[size]
            if seen >= rank:
                return size
        return 0

    def size_max(self) -> int:
        return max(self.sizes, default=0)

    def finding(
        self,
        kind: str,
        service: str,
        operation: str,
        detail: str,
        explanation: str,
        parent: tuple[str, str] = ("", ""),
    ) -> AntiPattern:
        return AntiPattern(
            kind=kind,
            service=service,
            operation=operation,
            parent_service=parent[0],
            parent_operation=parent[1],
            traces=self.traces,
            occurrences=self.occurrences,
            per_trace_p50=self.size_p50(),
            per_trace_max=self.size_max(),
            critical_ns=self.critical_ns,
            duration_ns=self.duration_ns,
            example_trace_id=self.example_trace,
            example_span_ids=list(self.example_ids),
            detail=detail,
            explanation=explanation,
        )


class TraceShare:
    """The occurrences one trace holds, by finding key, until ``flush``."""

    __slots__ = ("items",)

    def __init__(self) -> None:
        self.items: dict[tuple, list] = {}

    def add(
        self, key: tuple, size: int, critical_ns: int, duration_ns: int, span_ids: list[str]
    ) -> None:
        weight = (critical_ns, duration_ns)
        item = self.items.get(key)
        if item is None:
            self.items[key] = [1, size, critical_ns, duration_ns, span_ids, weight]
            return
        item[0] += 1
        item[1] += size
        item[2] += critical_ns
        item[3] += duration_ns
        if weight > item[5]:
            item[4] = span_ids
            item[5] = weight

    def flush(self, tallies: dict[tuple, Tally], trace_id: str) -> None:
        for key, (count, size, critical, duration, ids, weight) in self.items.items():
            tally = tallies.get(key)
            if tally is None:
                if len(tallies) >= MAX_KEYS:
                    continue
                tally = tallies[key] = Tally()
            tally.record(trace_id, count, size, critical, duration, ids, weight)
        self.items.clear()


def merge_tallies(into: dict[tuple, Tally], other: dict[tuple, Tally]) -> None:
    """Add the tallies of later traces (``other``) to ``into``, keys first seen there last,
    at most ``MAX_KEYS`` keys, as if one detector had seen all the traces."""
    for key, tally in other.items():
        mine = into.get(key)
        if mine is not None:
            mine.merge(tally)
        elif len(into) < MAX_KEYS:
            into[key] = tally


def merge_capped(into: dict[str, list], other: dict[str, list], limit: int) -> None:
    """Append ``other``'s lists to ``into``'s, key by key, each kept to ``limit`` entries."""
    for key, items in other.items():
        mine = into.get(key)
        if mine is None:
            mine = into[key] = []
        mine.extend(items[: max(0, limit - len(mine))])


def rank(findings: list[AntiPattern], limit: int) -> list[AntiPattern]:
    """Most time at stake first; at most ``limit`` findings."""
    findings.sort(
        key=lambda f: (-f.critical_ns, -f.duration_ns, -f.traces, f.service, f.operation, f.detail)
    )
    return findings[:limit]
