"""What ``spanscope diff`` reports (``spanscope.compare.compare`` computes it): the structs of
its JSON output, one per kind of change, all under ``ReportDiff``.

Times are integer or mean nanoseconds (``_ns``), rates and shares fractions of 1 (0.02 = 2%);
``_before`` and ``_after`` name the two sides.
"""

from __future__ import annotations

import msgspec

from spanscope.analysis.percentiles import LatencyStats


class Side(msgspec.Struct):
    traces: int
    spans: int
    start_ns: int
    end_ns: int
    sources: list[str]
    # Read from a store (``diff --db``, ``/api/v1/diff``): how many of the traces its search
    # matched were read: all, or a sample spread over the window (by trace id) when more matched
    # than the limit. None for files and saved reports; ``matched`` None beside a number
    # read: the most recent traces were read, by a server too old to sample, and more matched.
    read: int | None = None
    matched: int | None = None


class FrameDiff(msgspec.Struct):
    """One (service, operation) on an endpoint's critical path: its time per request."""

    service: str
    operation: str
    before_ns: float  # mean critical-path time per request, before
    after_ns: float
    delta_ns: float
    slow_before_ns: float  # the same over the slowest requests of each side
    slow_after_ns: float
    slow_delta_ns: float


class EndpointDiff(msgspec.Struct):
    service: str
    operation: str
    requests_before: int
    requests_after: int
    latency_before: LatencyStats
    latency_after: LatencyStats
    mean_before_ns: float
    mean_after_ns: float
    error_rate_before: float
    error_rate_after: float
    few_requests: bool
    contributors: list[FrameDiff]  # largest |delta| first, at most ``top``

    def percentile(self, name: str) -> tuple[int, int]:
        key = f"{name}_ns"
        return getattr(self.latency_before, key), getattr(self.latency_after, key)

    def change(self, name: str) -> float | None:
        """Relative change of a percentile (0.2 = 20% slower); None without a base."""
        before, after = self.percentile(name)
        return (after - before) / before if before else None


class OperationDiff(msgspec.Struct):
    service: str
    operation: str
    calls_per_request_before: float
    calls_per_request_after: float
    p95_before_ns: int
    p95_after_ns: int
    error_rate_before: float
    error_rate_after: float
    reasons: list[str]  # "calls per request", "p95", "error rate", "new", "gone"
    # Calls in each request that makes this call at all (None: a side from a report saved
    # before version 5, which did not keep the counts). A loop shows here however the mix of
    # endpoints moved, which calls per request follows too.
    calls_where_made_before: float | None = None
    calls_where_made_after: float | None = None


class ErrorOriginDiff(msgspec.Struct):
    service: str
    operation: str
    exception_type: str
    message_template: str
    traces_before: int
    traces_after: int
    share_before: float  # of all traces of that side
    share_after: float
    new: bool
    example_trace_id: str  # from the after side when it has one
    example_message: str


class EdgeDiff(msgspec.Struct):
    parent: str
    child: str
    calls_per_request_before: float
    calls_per_request_after: float
    error_rate_before: float
    error_rate_after: float
    reasons: list[str]


class ReportDiff(msgspec.Struct):
    before: Side
    after: Side
    headline: list[str]  # the few sentences a person reads first
    # on both sides: those the headline names first, in its order, then biggest mean change first
    endpoints: list[EndpointDiff]
    new_endpoints: list[str]  # "service: operation"
    gone_endpoints: list[str]
    operations: list[OperationDiff]
    errors: list[ErrorOriginDiff]
    dependencies: list[EdgeDiff]
