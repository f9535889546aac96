"""The detail of one trace in the report: where its critical path went, step by step.

``trace_detail(trace, sections, failed, top)`` -> ``TraceDetail`` (``spanscope.analysis.results``)
for the slowest traces of a data set, which ``Analyzer.report`` keeps until the end. Pure.
"""

from __future__ import annotations

from spanscope.analysis.critical_path import CriticalSection, critical_time_by_span
from spanscope.analysis.results import Contributor, PathStep, SpanTime, TraceDetail
from spanscope.analysis.self_time import self_times
from spanscope.model import Trace

# Steps of a path listed at most; a report says when a path had more.
MAX_PATH_STEPS = 200


def trace_detail(
    trace: Trace, sections: list[CriticalSection], failed: bool, top: int
) -> TraceDetail:
    """What the report says of one slow trace, from its critical-path ``sections``: the
    ``top`` service:operations its path spent most time in, the path's first
    ``MAX_PATH_STEPS`` steps, and its ``top`` spans by self time."""
    root = trace.root
    by_id = trace.by_id
    per_frame: dict[tuple[str, str], int] = {}
    for section in sections:
        span = by_id[section.span_id]
        key = (span.service_name, span.name)
        per_frame[key] = per_frame.get(key, 0) + section.end_ns - section.start_ns
    duration = root.duration_ns
    contributors = [
        Contributor(service, operation, ns, ns / duration if duration else 0.0)
        for (service, operation), ns in sorted(per_frame.items(), key=lambda kv: -kv[1])[:top]
    ]
    steps = [
        PathStep(
            s.span_id, by_id[s.span_id].service_name, by_id[s.span_id].name, s.start_ns, s.end_ns
        )
        for s in sections[:MAX_PATH_STEPS]
    ]
    own = self_times(trace)
    critical = critical_time_by_span(sections)
    busiest = sorted(trace.spans, key=lambda s: (-own[s.span_id], s.start_ns))[:top]
    top_self = [
        SpanTime(
            s.span_id,
            s.service_name,
            s.name,
            s.duration_ns,
            own[s.span_id],
            critical.get(s.span_id, 0),
        )
        for s in busiest
    ]
    return TraceDetail(
        trace.trace_id,
        root.service_name,
        root.name,
        root.start_ns,
        duration,
        len(trace.spans),
        failed,
        contributors,
        steps,
        len(sections) > MAX_PATH_STEPS,
        top_self,
    )
