"""Where the time goes across many traces: a critical-path profile per endpoint (as CRISP does).

For each trace, every critical-path section (``spanscope.analysis.critical_path``) is charged to
the call-path stack of its span: the ``service:operation`` frames from the root down to that
span. Summed per *endpoint* (the root span's service and operation), this says which service and
operation the requests of that endpoint waited for, and in which calling context. It is done for
all traces and, separately, for the slowest ones (``slow_fraction``, 5% by default: the
ceil(5% x n) longest traces of the endpoint), because the tail is often slow for other reasons
than the median.

``fix_first(profile)`` ranks ``(endpoint, service, operation)`` by the critical-path time they
hold in the slow traces, then in all traces: speeding up the top entry shortens the slowest
requests the most.

Contract: ``build_profile(traces)`` -> ``Profile``; ``folded_stacks(profile, ...)`` ->
``[(stack, ns)]`` with frames joined by ``;`` (flamegraph.pl / speedscope "folded" input; ``;``
and line breaks inside names are replaced so a frame is always one frame). Times in ns. Pure.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import msgspec

from spanscope.analysis.critical_path import CriticalSection, critical_path
from spanscope.model import Span, Trace

SLOW_FRACTION = 0.05


def frame_name(span: Span) -> str:
    """``service:operation`` with the characters folded stacks cannot hold replaced."""
    text = f"{span.service_name or '?'}:{span.name}"
    if ";" in text or "\n" in text or "\r" in text:
        text = text.replace(";", ",").replace("\n", " ").replace("\r", " ")
    return text


class TraceProfile(msgspec.Struct):
    """One trace's critical-path time per frame and per stack."""

    trace_id: str
    service: str
    operation: str
    duration_ns: int
    frames: dict[tuple[str, str], int]
    stacks: dict[str, int]


def profile_trace(trace: Trace, sections: list[CriticalSection] | None = None) -> TraceProfile:
    """Charge ``trace``'s critical path to frames and stacks."""
    if sections is None:
        sections = critical_path(trace)
    root = trace.root
    by_id = trace.by_id
    stack_of: dict[str, str] = {}
    frames: dict[tuple[str, str], int] = {}
    stacks: dict[str, int] = {}
    for section in sections:
        span = by_id[section.span_id]
        length = section.end_ns - section.start_ns
        key = (span.service_name, span.name)
        frames[key] = frames.get(key, 0) + length
        stack = stack_of.get(span.span_id)
        if stack is None:
            stack = _stack(span, by_id, stack_of)
        stacks[stack] = stacks.get(stack, 0) + length
    return TraceProfile(
        trace.trace_id, root.service_name, root.name, root.duration_ns, frames, stacks
    )


def _stack(span: Span, by_id: dict[str, Span], memo: dict[str, str]) -> str:
    chain = []
    current: Span | None = span
    while current is not None and current.span_id not in memo:
        chain.append(current)
        parent_id = current.parent_span_id
        current = by_id.get(parent_id) if parent_id else None
    prefix = memo[current.span_id] if current is not None else ""
    for item in reversed(chain):
        prefix = f"{prefix};{frame_name(item)}" if prefix else frame_name(item)
        memo[item.span_id] = prefix
    return prefix


class FrameShare(msgspec.Struct):
    """Critical-path time of one service:operation within an endpoint."""

    service: str
    operation: str
    critical_ns: int
    share: float  # of the endpoint's critical-path time, 0..1
    slow_critical_ns: int
    slow_share: float  # the same within the slowest traces


class EndpointProfile(msgspec.Struct):
    """Critical-path profile of one endpoint (root service + root operation)."""

    service: str
    operation: str
    traces: int
    slow_traces: int
    slow_min_duration_ns: int  # the shortest of the traces counted as slow
    critical_ns: int
    slow_critical_ns: int
    frames: list[FrameShare]  # ranked by slow_critical_ns, then critical_ns
    stacks: dict[str, int]
    slow_stacks: dict[str, int]


class Profile(msgspec.Struct):
    slow_fraction: float
    endpoints: list[EndpointProfile]  # busiest first (critical-path time)


class FixCandidate(msgspec.Struct):
    """A service:operation worth speeding up, with the endpoint it slows down."""

    endpoint_service: str
    endpoint_operation: str
    service: str
    operation: str
    critical_ns: int
    share: float
    slow_critical_ns: int
    slow_share: float


def _add(into: dict, items: dict) -> None:
    for key, value in items.items():
        into[key] = into.get(key, 0) + value


def _ratio(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def merge_profiles(
    trace_profiles: Iterable[TraceProfile], slow_fraction: float = SLOW_FRACTION
) -> Profile:
    by_endpoint: dict[tuple[str, str], list[TraceProfile]] = {}
    for item in trace_profiles:
        by_endpoint.setdefault((item.service, item.operation), []).append(item)
    endpoints = []
    for (service, operation), items in by_endpoint.items():
        items.sort(key=lambda p: (-p.duration_ns, p.trace_id))
        slow_count = max(1, math.ceil(slow_fraction * len(items)))
        frames: dict[tuple[str, str], int] = {}
        stacks: dict[str, int] = {}
        slow_frames: dict[tuple[str, str], int] = {}
        slow_stacks: dict[str, int] = {}
        for index, item in enumerate(items):
            _add(frames, item.frames)
            _add(stacks, item.stacks)
            if index < slow_count:
                _add(slow_frames, item.frames)
                _add(slow_stacks, item.stacks)
        total = sum(frames.values())
        slow_total = sum(slow_frames.values())
        shares = [
            FrameShare(
                key[0],
                key[1],
                value,
                _ratio(value, total),
                slow_frames.get(key, 0),
                _ratio(slow_frames.get(key, 0), slow_total),
            )
            for key, value in frames.items()
        ]
        shares.sort(key=lambda f: (-f.slow_critical_ns, -f.critical_ns, f.service, f.operation))
        endpoints.append(
            EndpointProfile(
                service,
                operation,
                len(items),
                slow_count,
                items[slow_count - 1].duration_ns,
                total,
                slow_total,
                shares,
                stacks,
                slow_stacks,
            )
        )
    endpoints.sort(key=lambda e: (-e.critical_ns, e.service, e.operation))
    return Profile(slow_fraction, endpoints)


def build_profile(traces: Iterable[Trace], slow_fraction: float = SLOW_FRACTION) -> Profile:
    """Critical-path profile of every endpoint in ``traces``."""
    return merge_profiles((profile_trace(t) for t in traces if t.roots), slow_fraction)


def folded_stacks(
    profile: Profile, *, slow: bool = False, endpoint: tuple[str, str] | None = None
) -> list[tuple[str, int]]:
    """Folded stacks (``"svc:op;svc:op"``, ns), heaviest first, of all endpoints or of one
    ``(service, operation)``; ``slow`` takes the slowest traces only."""
    totals: dict[str, int] = {}
    for item in profile.endpoints:
        if endpoint is not None and (item.service, item.operation) != endpoint:
            continue
        _add(totals, item.slow_stacks if slow else item.stacks)
    return sorted(((k, v) for k, v in totals.items() if v > 0), key=lambda kv: (-kv[1], kv[0]))


def fix_first(profile: Profile, limit: int | None = None) -> list[FixCandidate]:
    """What to speed up first: frames ranked by critical-path time in the slow traces, then in
    all traces, across endpoints."""
    candidates = [
        FixCandidate(
            item.service,
            item.operation,
            frame.service,
            frame.operation,
            frame.critical_ns,
            frame.share,
            frame.slow_critical_ns,
            frame.slow_share,
        )
        for item in profile.endpoints
        for frame in item.frames
    ]
    candidates.sort(
        key=lambda c: (-c.slow_critical_ns, -c.critical_ns, c.endpoint_service, c.service)
    )
    return candidates[:limit] if limit is not None else candidates
