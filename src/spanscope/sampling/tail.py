"""Tail sampling on the way in: hold each trace's spans until it is likely complete, then keep
or drop the whole trace by policy.

``TailSampler`` sits between the receivers and the store (the write pipeline calls it from its
batching thread). Contract:
- ``offer(spans, now_ns)`` takes ownership of ``spans`` and returns the spans to write *now*:
  late spans of traces already kept, plus every trace whose decision is due;
- a trace's decision is due ``decision_wait_ns`` after its first span arrived (the Collector's
  ``decision_wait``; default 10 s);
- at most ``max_pending_traces`` traces wait; past that the oldest is decided early (counted in
  ``decided_early``) rather than dropped unseen, so memory stays bounded under a flood;
- a decided trace's verdict is remembered (the last ``remembered_traces`` of them) so spans that
  arrive after it follow the same verdict: a kept trace stays whole, a dropped one stays out;
- ``due(now_ns)`` returns the traces due by ``now_ns`` (the pipeline ticks it when idle) and
  ``flush()`` decides everything still waiting (at shutdown).

Spans waiting for a decision live only in memory: a crash loses them. With tail sampling on, a
span's success answer means it reached the sampler, not the store. Not thread-safe: one caller.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

from spanscope.model import Span
from spanscope.sampling.spelling import PolicySet


@dataclass
class SamplerStats:
    traces_kept: int = 0
    traces_dropped: int = 0
    spans_kept: int = 0
    spans_dropped: int = 0
    decided_early: int = 0
    kept_by_policy: dict[str, int] = field(default_factory=dict)


@dataclass
class _Waiting:
    first_seen_ns: int
    spans: list[Span]


class TailSampler:
    def __init__(
        self,
        policies: PolicySet,
        *,
        decision_wait_ns: int = 10_000_000_000,
        max_pending_traces: int = 50_000,
        remembered_traces: int = 200_000,
        clock: Callable[[], int] = time.monotonic_ns,
    ) -> None:
        if decision_wait_ns < 0 or max_pending_traces <= 0 or remembered_traces <= 0:
            raise ValueError("decision wait must be >= 0 and the trace limits positive")
        self.policies = policies
        self.decision_wait_ns = decision_wait_ns
        self.max_pending_traces = max_pending_traces
        self.remembered_traces = remembered_traces
        self.clock = clock
        self.stats = SamplerStats()
        # Insertion order is first-seen order, so the traces due first are at the front.
        self._waiting: OrderedDict[str, _Waiting] = OrderedDict()
        self._verdicts: OrderedDict[str, bool] = OrderedDict()

    @property
    def pending_traces(self) -> int:
        return len(self._waiting)

    def __call__(self, spans: list[Span]) -> list[Span]:
        """The pipeline's sampler hook: ``offer`` at the clock's time."""
        return self.offer(spans)

    def offer(self, spans: list[Span], now_ns: int | None = None) -> list[Span]:
        now = self.clock() if now_ns is None else now_ns
        out: list[Span] = []
        waiting, verdicts, stats = self._waiting, self._verdicts, self.stats
        for span in spans:
            trace_id = span.trace_id
            entry = waiting.get(trace_id)
            if entry is not None:
                entry.spans.append(span)
                continue
            verdict = verdicts.get(trace_id)
            if verdict is True:
                out.append(span)
                stats.spans_kept += 1
            elif verdict is False:
                stats.spans_dropped += 1
            else:
                waiting[trace_id] = _Waiting(now, [span])
        while len(waiting) > self.max_pending_traces:
            trace_id, entry = waiting.popitem(last=False)
            self.stats.decided_early += 1
            self._decide(trace_id, entry.spans, now, out)
        out.extend(self.due(now))
        return out

    def due(self, now_ns: int | None = None) -> list[Span]:
        now = self.clock() if now_ns is None else now_ns
        out: list[Span] = []
        waiting = self._waiting
        deadline = now - self.decision_wait_ns
        while waiting:
            trace_id, entry = next(iter(waiting.items()))
            if entry.first_seen_ns > deadline:
                break
            del waiting[trace_id]
            self._decide(trace_id, entry.spans, now, out)
        return out

    def flush(self) -> list[Span]:
        now = self.clock()
        out: list[Span] = []
        while self._waiting:
            trace_id, entry = self._waiting.popitem(last=False)
            self._decide(trace_id, entry.spans, now, out)
        return out

    def _decide(self, trace_id: str, spans: list[Span], now: int, out: list[Span]) -> None:
        kept_by = self.policies.decide(spans, now)
        stats = self.stats
        if kept_by is not None:
            out.extend(spans)
            stats.traces_kept += 1
            stats.spans_kept += len(spans)
            stats.kept_by_policy[kept_by] = stats.kept_by_policy.get(kept_by, 0) + 1
        else:
            stats.traces_dropped += 1
            stats.spans_dropped += len(spans)
        verdicts = self._verdicts
        verdicts[trace_id] = kept_by is not None
        if len(verdicts) > self.remembered_traces:
            verdicts.popitem(last=False)
