"""What a tail-sampling policy would keep, tried on recorded traces before turning it on.

``simulate(spans, policies)`` groups spans by trace, runs ``PolicySet.decide`` on each whole
trace in order of its first span's start (that start is the clock the stateful ``rate`` policy
sees, as if the traces arrived live) and reports what was kept: overall, per policy, and how well
the traces a latency investigation needs survive — every error trace and every slow trace (at or
above the 99th percentile of trace duration). ``kept_spans`` in the result are the spans of the
kept traces, trace by trace in first-seen order, for writing out.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import msgspec

from spanscope.analysis.errors import is_error_span
from spanscope.model import Span
from spanscope.sampling.spelling import PolicySet

SLOW_PERCENTILE = 99  # traces at or above this percentile of duration are "slow"


class Coverage(msgspec.Struct):
    """Of the traces of one kind in the input, how many the policy keeps."""

    total: int
    kept: int

    @property
    def share(self) -> float:
        return self.kept / self.total if self.total else 1.0


class SimulationReport(msgspec.Struct):
    policies: list[str]
    traces: int
    spans: int
    traces_kept: int
    spans_kept: int
    kept_by_policy: dict[str, int]  # the first keep policy that matched each kept trace
    error_traces: Coverage
    slow_traces: Coverage
    slow_threshold_ns: int
    kept_spans: list[Span] = []


def _slow_threshold(durations: Sequence[int]) -> int:
    if not durations:
        return 0
    ordered = sorted(durations)
    # Nearest rank: the smallest duration with at least SLOW_PERCENTILE% of traces at or below
    # it (integer arithmetic: exact for any count).
    rank = max(0, -(-len(ordered) * SLOW_PERCENTILE // 100) - 1)
    return ordered[rank]


def simulate(spans: Iterable[Span], policies: PolicySet) -> SimulationReport:
    by_trace: dict[str, list[Span]] = {}
    count = 0
    for span in spans:
        count += 1
        group = by_trace.get(span.trace_id)
        if group is None:
            by_trace[span.trace_id] = [span]
        else:
            group.append(span)

    durations: dict[str, int] = {}
    starts: dict[str, int] = {}
    for trace_id, group in by_trace.items():
        start = min(span.start_ns for span in group)
        end = max(max(span.end_ns, span.start_ns) for span in group)
        starts[trace_id] = start
        durations[trace_id] = end - start
    threshold = _slow_threshold(list(durations.values()))

    kept: set[str] = set()
    kept_by: dict[str, int] = {}
    errors_total = errors_kept = slow_total = slow_kept = 0
    for trace_id in sorted(by_trace, key=lambda t: (starts[t], t)):
        group = by_trace[trace_id]
        verdict = policies.decide(group, starts[trace_id])
        failed = any(is_error_span(span) for span in group)
        slow = durations[trace_id] >= threshold
        errors_total += failed
        slow_total += slow
        if verdict is not None:
            kept.add(trace_id)
            kept_by[verdict] = kept_by.get(verdict, 0) + 1
            errors_kept += failed
            slow_kept += slow

    kept_spans = [span for group in by_trace.values() for span in group if span.trace_id in kept]
    return SimulationReport(
        policies=policies.names,
        traces=len(by_trace),
        spans=count,
        traces_kept=len(kept),
        spans_kept=len(kept_spans),
        kept_by_policy=kept_by,
        error_traces=Coverage(errors_total, errors_kept),
        slow_traces=Coverage(slow_total, slow_kept),
        slow_threshold_ns=threshold,
        kept_spans=kept_spans,
    )
