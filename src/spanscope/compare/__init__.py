"""What changed between two sets of traces: which endpoints got slower or fail more, and where on
the critical path the extra time went (``spanscope diff``).

Contract: ``compare(before, after, top=10, durations=None)`` takes two ``AnalysisReport``s (as
``spanscope analyze`` computes them; pass reports made with a large ``top`` so that no
endpoint's profile frames were cut, and, for reports of two sets of traces, made after
``compare.sides.share_name_folding``) and returns a ``ReportDiff`` (``spanscope.compare.results``);
pure, no I/O. With each side's ``durations`` (``spanscope.compare.noise``: its traces' sorted
durations, or a saved report's bins), percentile moves are judged against chance; its
``headline`` is ``spanscope.compare.headline``'s.

The attribution is exact arithmetic, not a guess: the critical path of a request covers its
whole duration, so an endpoint's mean latency is the sum over (service, operation) of the
critical-path time each contributes per request. The change in mean latency therefore splits
exactly into per-operation changes (``FrameDiff.delta_ns``), and the largest positive ones are
where the extra time went. The same is done for the slowest requests of each side (the
profile's slow fraction, 5% by default), which is where a tail regression shows.

Besides the endpoints: operations whose calls per request changed (a new N+1 loop shows as
SELECTs per request going from 3 to 30), whose p95 or error rate moved; error origins that
appeared or grew; service-to-service edges whose calls per request or error rate changed.
Endpoints with fewer than ``min_requests`` requests on either side are marked ``few_requests``:
their percentiles are shown but not trusted for gates or headlines.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Iterator
from typing import TypeVar

import msgspec

from spanscope.analysis.profile import FrameShare
from spanscope.analysis.results import (
    AnalysisReport,
    EndpointProfileSummary,
    ErrorGroup,
    OperationStats,
)
from spanscope.compare.headline import headline_of, ranked_moves
from spanscope.compare.noise import Durations, Sides, judge, rate_moved
from spanscope.compare.results import (
    EdgeDiff,
    EndpointDiff,
    ErrorOriginDiff,
    FrameDiff,
    OperationDiff,
    ReportDiff,
    Side,
)

__all__ = [
    "Durations",
    "EdgeDiff",
    "EndpointDiff",
    "ErrorOriginDiff",
    "FrameDiff",
    "OperationDiff",
    "ReportDiff",
    "Side",
    "compare",
]

# The ``top`` of the analyses to compare: every operation of any real endpoint is kept, so the
# per-operation changes add up to the change in mean latency.
PROFILE_DEPTH = 1000
MIN_REQUESTS = 20
# Operation and edge changes smaller than these are noise for a report (both must be exceeded).
_MIN_CALLS_RATIO = 1.25
_MIN_CALLS_DELTA = 0.5
_MIN_P95_RATIO = 1.2
_MIN_P95_DELTA_NS = 1_000_000


def _side(report: AnalysisReport) -> Side:
    summary = report.summary
    return Side(
        summary.traces,
        summary.spans,
        summary.start_ns,
        summary.end_ns,
        [item.source for item in report.inputs],
    )


_Item = TypeVar("_Item")
_Key = TypeVar("_Key", bound=Hashable)


def _pairs(
    before: Iterable[_Item], after: Iterable[_Item], key: Callable[[_Item], _Key]
) -> Iterator[tuple[_Key, _Item | None, _Item | None]]:
    """Each key found on either side, with its item before and after (None: not on that side).
    The items of a side have distinct keys."""
    old = {key(item): item for item in before}
    new = {key(item): item for item in after}
    for found in old.keys() | new.keys():
        yield found, old.get(found), new.get(found)


def _operation(item: FrameShare | OperationStats) -> tuple[str, str]:
    return item.service, item.operation


def _per_request(value: int, requests: int) -> float:
    return value / requests if requests else 0.0


def profile_cut(profile: EndpointProfileSummary, top: int) -> bool:
    """Whether a profile of a report made with ``top`` may have left operations out: it holds
    ``top`` of them, fewer than the comparison keeps (a report saved with ``--top 10``)."""
    return top < PROFILE_DEPTH and len(profile.frames) >= top


def _frames(
    before: EndpointProfileSummary, after: EndpointProfileSummary, top: int, tops: tuple[int, int]
) -> list[FrameDiff]:
    """How each operation's critical-path time per request moved. ``tops`` are the two
    reports' ``top``: an operation missing from a profile that may have left some out
    (``profile_cut``) is unknown there, not 0, and is left out rather than shown as new."""
    cut_before, cut_after = profile_cut(before, tops[0]), profile_cut(after, tops[1])
    result = []
    for key, a, b in _pairs(before.frames, after.frames, _operation):
        if (a is None and cut_before) or (b is None and cut_after):
            continue
        before_ns = _per_request(a.critical_ns, before.traces) if a else 0.0
        after_ns = _per_request(b.critical_ns, after.traces) if b else 0.0
        slow_before = _per_request(a.slow_critical_ns, before.slow_traces) if a else 0.0
        slow_after = _per_request(b.slow_critical_ns, after.slow_traces) if b else 0.0
        result.append(
            FrameDiff(
                key[0],
                key[1],
                before_ns,
                after_ns,
                after_ns - before_ns,
                slow_before,
                slow_after,
                slow_after - slow_before,
            )
        )
    result.sort(key=lambda f: (-abs(f.delta_ns), f.service, f.operation))
    return result[:top]


def _endpoints(
    before: AnalysisReport, after: AnalysisReport, top: int, min_requests: int
) -> tuple[list[EndpointDiff], list[str], list[str]]:
    old_stats = {(e.service, e.operation): e for e in before.endpoints}
    new_stats = {(e.service, e.operation): e for e in after.endpoints}
    old_profiles = {(p.service, p.operation): p for p in before.profiles}
    new_profiles = {(p.service, p.operation): p for p in after.profiles}
    both = old_stats.keys() & new_stats.keys()
    tops = (before.options.top, after.options.top)
    result = []
    for key in both:
        a, b = old_stats[key], new_stats[key]
        pa, pb = old_profiles.get(key), new_profiles.get(key)
        frames = _frames(pa, pb, top, tops) if pa and pb else []
        result.append(
            EndpointDiff(
                service=key[0],
                operation=key[1],
                requests_before=a.latency.count,
                requests_after=b.latency.count,
                latency_before=a.latency,
                latency_after=b.latency,
                mean_before_ns=_per_request(pa.critical_ns, pa.traces) if pa else 0.0,
                mean_after_ns=_per_request(pb.critical_ns, pb.traces) if pb else 0.0,
                error_rate_before=a.error_rate,
                error_rate_after=b.error_rate,
                few_requests=min(a.latency.count, b.latency.count) < min_requests,
                contributors=frames,
            )
        )
    result.sort(key=lambda e: (e.few_requests, -abs(e.mean_after_ns - e.mean_before_ns), e.service))
    name = "{0[0]}: {0[1]}".format
    new = sorted(map(name, new_stats.keys() - old_stats.keys()))
    gone = sorted(map(name, old_stats.keys() - new_stats.keys()))
    return result, new, gone


def _operations(
    before: AnalysisReport, after: AnalysisReport, durations: Sides
) -> list[OperationDiff]:
    traces_before, traces_after = before.summary.traces, after.summary.traces
    # Calls per request of a few requests are noise too (12 requests: 1.2 or 2.0 a request).
    many = min(traces_before, traces_after) >= MIN_REQUESTS
    result = []
    for key, a, b in _pairs(before.operations, after.operations, _operation):
        calls_before = _per_request(a.latency.count, traces_before) if a else 0.0
        calls_after = _per_request(b.latency.count, traces_after) if b else 0.0
        p95_before = a.latency.p95_ns if a else 0
        p95_after = b.latency.p95_ns if b else 0
        rate_before = a.error_rate if a else 0.0
        rate_after = b.error_rate if b else 0.0
        # Percentiles and rates of a handful of calls are noise: judged only with enough.
        enough = (
            a is not None
            and b is not None
            and min(a.latency.count, b.latency.count) >= MIN_REQUESTS
        )
        reasons = _reasons(
            a is not None,
            b is not None,
            (calls_before, calls_after) if many else None,
            (a.errors, a.latency.count, b.errors, b.latency.count) if a and b and enough else None,
            (p95_before, p95_after)
            if enough and judge(durations, "operations", key, 95, (p95_before, p95_after))
            else None,
        )
        if reasons:
            result.append(
                OperationDiff(
                    key[0],
                    key[1],
                    calls_before,
                    calls_after,
                    p95_before,
                    p95_after,
                    rate_before,
                    rate_after,
                    reasons,
                    _calls_where_made(durations, 0, key, a),
                    _calls_where_made(durations, 1, key, b),
                )
            )
    result.sort(
        key=lambda o: (
            -abs(
                o.calls_per_request_after * o.p95_after_ns
                - o.calls_per_request_before * o.p95_before_ns
            ),
            o.service,
            o.operation,
        )
    )
    return result


def _calls_where_made(
    durations: Sides, side: int, key: tuple[str, str], stats: OperationStats | None
) -> float | None:
    """Calls of an operation in each request that makes it, when that side's durations say
    how many requests do."""
    if stats is None:
        return 0.0
    found = durations[side] if durations is not None else None
    holding = found.operation_traces.get(key) if found is not None else None
    return stats.latency.count / holding if holding else None


def _moved(before: float, after: float, ratio: float, delta: float) -> bool:
    """Changed by more than ``ratio`` either way and by more than ``delta``."""
    low, high = sorted((before, after))
    return high - low > delta and (low == 0 or high / low > ratio)


def _reasons(
    in_before: bool,
    in_after: bool,
    calls: tuple[float, float] | None,
    errors: tuple[int, int, int, int] | None,
    p95: tuple[int, int] | None = None,
) -> list[str]:
    """Why an operation or a service call is listed (empty: it is not)."""
    if not in_before:
        return ["new"]
    if not in_after:
        return ["gone"]
    reasons = []
    if calls is not None and _moved(*calls, _MIN_CALLS_RATIO, _MIN_CALLS_DELTA):
        reasons.append("calls per request")
    if p95 is not None and _moved(*p95, _MIN_P95_RATIO, _MIN_P95_DELTA_NS):
        reasons.append("p95")
    if errors is not None and rate_moved(*errors):
        reasons.append("error rate")
    return reasons


def _errors(before: AnalysisReport, after: AnalysisReport) -> list[ErrorOriginDiff]:
    def key(group: ErrorGroup) -> tuple[str, str, str, str]:
        # An exception type is what a person tracks; its message templates can still differ
        # (an id that happened to be all digits), so they are one origin here.
        template = "" if group.exception_type else group.message_template
        return (group.service, group.operation, group.exception_type, template)

    def merged(groups: list[ErrorGroup]) -> list[ErrorGroup]:
        result: dict[tuple[str, str, str, str], ErrorGroup] = {}
        for group in groups:
            known = result.get(key(group))
            if known is None:
                result[key(group)] = msgspec.structs.replace(group)
            else:
                known.traces += group.traces
                known.failed_traces += group.failed_traces
        return list(result.values())

    traces_before, traces_after = max(before.summary.traces, 1), max(after.summary.traces, 1)
    result = []
    origins = _pairs(merged(before.errors.origins), merged(after.errors.origins), key)
    for group_key, a, b in origins:
        share_before = (a.traces if a else 0) / traces_before
        share_after = (b.traces if b else 0) / traces_after
        if (
            a is not None
            and b is not None
            and (
                share_after <= share_before * 1.25
                or not rate_moved(a.traces, traces_before, b.traces, traces_after, 0.0)
            )
        ):
            continue  # about as common as before, or grown no more than chance grows it
        example = b if b is not None else a
        assert example is not None  # the key came from one side or the other
        result.append(
            ErrorOriginDiff(
                group_key[0],
                group_key[1],
                group_key[2],
                example.message_template,
                traces_before=a.traces if a else 0,
                traces_after=b.traces if b else 0,
                share_before=share_before,
                share_after=share_after,
                new=a is None,
                example_trace_id=example.example_trace_id,
                example_message=example.example_message,
            )
        )
    result.sort(key=lambda e: (-(e.share_after - e.share_before), e.service, e.operation))
    return result


def _dependencies(before: AnalysisReport, after: AnalysisReport) -> list[EdgeDiff]:
    traces_before, traces_after = before.summary.traces, after.summary.traces
    many = min(traces_before, traces_after) >= MIN_REQUESTS
    result = []
    edges = _pairs(before.dependencies, after.dependencies, lambda d: (d.parent, d.child))
    for key, a, b in edges:
        calls_before = _per_request(a.call_count, traces_before) if a else 0.0
        calls_after = _per_request(b.call_count, traces_after) if b else 0.0
        rate_before = _per_request(a.error_count, a.call_count) if a else 0.0
        rate_after = _per_request(b.error_count, b.call_count) if b else 0.0
        reasons = _reasons(
            a is not None,
            b is not None,
            (calls_before, calls_after) if many else None,
            (a.error_count, a.call_count, b.error_count, b.call_count) if a and b else None,
        )
        if reasons:
            result.append(
                EdgeDiff(
                    key[0], key[1], calls_before, calls_after, rate_before, rate_after, reasons
                )
            )
    result.sort(
        key=lambda d: (-abs(d.calls_per_request_after - d.calls_per_request_before), d.parent)
    )
    return result


def compare(
    before: AnalysisReport,
    after: AnalysisReport,
    *,
    top: int = 10,
    min_requests: int = MIN_REQUESTS,
    durations: Sides = None,
) -> ReportDiff:
    """The differences from ``before`` to ``after`` (see the module docstring); with each
    side's ``durations`` (``spanscope.compare.noise``), percentiles that moved no more than
    chance moves them make no headline and no "p95" reason."""
    endpoints, new_endpoints, gone_endpoints = _endpoints(before, after, top, min_requests)
    errors = _errors(before, after)
    operations = _operations(before, after, durations)
    empty = [
        name for name, side in (("before", before), ("after", after)) if not side.summary.traces
    ]
    if empty:
        # Everything would be "new" or "gone": say what is wrong instead.
        headline = [f"no traces {' or '.join(empty)}: nothing to compare"]
    else:
        traces = (before.summary.traces, after.summary.traces)
        requests = {
            f"{e.service}: {e.operation}": e.latency.count
            for report in (before, after)
            for e in report.endpoints
        }
        one_sided = [("new", name, requests[name]) for name in new_endpoints] + [
            ("gone", name, requests[name]) for name in gone_endpoints
        ]
        one_sided.sort(key=lambda item: -item[2])
        headline = headline_of(
            endpoints, errors, operations, durations, traces, one_sided, min_requests
        )
        # The tables follow the headline: endpoints it names first, in its order.
        first = {
            id(endpoint): n for n, (endpoint, _) in enumerate(ranked_moves(endpoints, durations))
        }
        endpoints.sort(key=lambda e: first.get(id(e), len(first)))
    return ReportDiff(
        before=_side(before),
        after=_side(after),
        headline=headline,
        endpoints=endpoints,
        new_endpoints=new_endpoints,
        gone_endpoints=gone_endpoints,
        operations=operations,
        errors=errors,
        dependencies=_dependencies(before, after),
    )
