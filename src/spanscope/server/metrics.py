"""Self-metrics of the server, exposed as Prometheus text on ``/metrics``.

Counters are plain integers updated from the event loop and the writer thread; a torn read of a
counter by a scrape is harmless, so there is no lock.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

# Upper bounds (seconds) of the write-latency histogram buckets.
_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


@dataclass
class Metrics:
    spans_received: Counter[str] = field(default_factory=Counter)  # by receiver
    spans_accepted: int = 0
    spans_refused: int = 0
    bad_requests: Counter[str] = field(default_factory=Counter)  # by receiver
    queue_spans: int = 0
    writes: int = 0
    write_failures: int = 0
    write_seconds_sum: float = 0.0
    write_buckets: list[int] = field(default_factory=lambda: [0] * len(_BUCKETS))
    tail_sampler: Any = None  # a spanscope.sampling.TailSampler when the server tail-samples

    def observe_write(self, spans: int, seconds: float, *, failed: bool) -> None:
        self.writes += 1
        self.write_seconds_sum += seconds
        for index, bound in enumerate(_BUCKETS):
            if seconds <= bound:
                self.write_buckets[index] += 1
        if failed:
            self.write_failures += 1
        else:
            self.spans_accepted += spans

    def render(self) -> str:
        lines = [
            "# HELP spanscope_spans_received_total Spans received, by receiver.",
            "# TYPE spanscope_spans_received_total counter",
        ]
        for receiver, count in sorted(self.spans_received.items()):
            lines.append(f'spanscope_spans_received_total{{receiver="{receiver}"}} {count}')
        lines += [
            "# HELP spanscope_spans_accepted_total Spans accepted: written to the store, or with "
            "tail sampling handed to the sampler (spanscope_tail_sampler_spans_total says how "
            "many it kept).",
            "# TYPE spanscope_spans_accepted_total counter",
            f"spanscope_spans_accepted_total {self.spans_accepted}",
            "# HELP spanscope_spans_refused_total Spans refused because the queue was full.",
            "# TYPE spanscope_spans_refused_total counter",
            f"spanscope_spans_refused_total {self.spans_refused}",
            "# HELP spanscope_bad_requests_total Requests rejected as malformed, by receiver.",
            "# TYPE spanscope_bad_requests_total counter",
        ]
        for receiver, count in sorted(self.bad_requests.items()):
            lines.append(f'spanscope_bad_requests_total{{receiver="{receiver}"}} {count}')
        lines += [
            "# HELP spanscope_queue_spans Spans waiting for the writer.",
            "# TYPE spanscope_queue_spans gauge",
            f"spanscope_queue_spans {self.queue_spans}",
            "# HELP spanscope_write_failures_total Store writes that failed.",
            "# TYPE spanscope_write_failures_total counter",
            f"spanscope_write_failures_total {self.write_failures}",
            "# HELP spanscope_write_seconds Time of one store write.",
            "# TYPE spanscope_write_seconds histogram",
        ]
        for bound, count in zip(_BUCKETS, self.write_buckets, strict=True):
            lines.append(f'spanscope_write_seconds_bucket{{le="{bound}"}} {count}')
        lines += [
            f'spanscope_write_seconds_bucket{{le="+Inf"}} {self.writes}',
            f"spanscope_write_seconds_sum {self.write_seconds_sum:.6f}",
            f"spanscope_write_seconds_count {self.writes}",
        ]
        if self.tail_sampler is not None:
            lines += self._sampler_lines(self.tail_sampler)
        return "\n".join(lines) + "\n"

    @staticmethod
    def _sampler_lines(sampler: Any) -> list[str]:
        stats = sampler.stats
        lines = [
            "# HELP spanscope_tail_sampler_traces_total Traces decided by the tail sampler.",
            "# TYPE spanscope_tail_sampler_traces_total counter",
            f'spanscope_tail_sampler_traces_total{{decision="kept"}} {stats.traces_kept}',
            f'spanscope_tail_sampler_traces_total{{decision="dropped"}} {stats.traces_dropped}',
            "# HELP spanscope_tail_sampler_spans_total Spans kept or dropped by the tail sampler.",
            "# TYPE spanscope_tail_sampler_spans_total counter",
            f'spanscope_tail_sampler_spans_total{{decision="kept"}} {stats.spans_kept}',
            f'spanscope_tail_sampler_spans_total{{decision="dropped"}} {stats.spans_dropped}',
            "# HELP spanscope_tail_sampler_decided_early_total Traces decided before their wait "
            "ended, to bound memory.",
            "# TYPE spanscope_tail_sampler_decided_early_total counter",
            f"spanscope_tail_sampler_decided_early_total {stats.decided_early}",
            "# HELP spanscope_tail_sampler_pending_traces Traces waiting for their decision.",
            "# TYPE spanscope_tail_sampler_pending_traces gauge",
            f"spanscope_tail_sampler_pending_traces {sampler.pending_traces}",
            "# HELP spanscope_tail_sampler_kept_by_policy_total Kept traces, by the first policy "
            "that kept them.",
            "# TYPE spanscope_tail_sampler_kept_by_policy_total counter",
        ]
        for policy, count in sorted(dict(stats.kept_by_policy).items()):
            name = policy.replace("\\", "\\\\").replace('"', '\\"')
            lines.append(f'spanscope_tail_sampler_kept_by_policy_total{{policy="{name}"}} {count}')
        return lines
