"""The result of ``spanscope.analysis.analyze``: one ``AnalysisReport`` the report package renders.

Every struct here is plain data (msgspec), encodable to JSON as it is; the checked-in JSON
Schema ``schemas/analysis-report.schema.json`` is generated from these definitions and a test
keeps the two equal. Units: every ``*_ns`` field is an integer number of nanoseconds (times are
since the Unix epoch); ``*_rate`` and ``*share`` fields are fractions in 0..1. Lists are ranked
as documented on each field; list lengths are bounded by ``AnalysisOptions.top`` where noted.
``AnalysisOptions`` (the report's ``options``) is defined in ``spanscope.analysis.options`` and
named here too.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from spanscope.analysis.dependencies import DependencyEdge
from spanscope.analysis.options import AnalysisOptions
from spanscope.analysis.percentiles import Distribution, LatencyStats
from spanscope.analysis.profile import FixCandidate, FrameShare

# 2: anti_patterns; 3: traits, headline; 4: each endpoint's and operation's distribution;
# 5: how many traces hold each operation. Each added optional fields only: a report of an
# earlier version decodes as one of this version without them (their defaults, None).
REPORT_VERSION = 5


class InputSummary(msgspec.Struct):
    """One input file as it was read."""

    source: str
    format: str
    spans: int
    error: str | None = None


class DataSummary(msgspec.Struct):
    """The data set after filters."""

    traces: int
    spans: int
    services: list[str]
    start_ns: int
    end_ns: int
    failed_traces: int  # root span is an error span
    traces_with_errors: int  # any span is an error span
    error_spans: int
    latency: LatencyStats  # of every trace's root span duration


class EndpointStats(msgspec.Struct):
    """Requests of one endpoint: traces whose root span has this service and operation."""

    service: str
    operation: str
    latency: LatencyStats  # of the root spans' durations
    failed: int
    error_rate: float  # failed / latency.count
    # The same durations in logarithmic bins, for ``spanscope diff`` against a saved report
    # (its moves judged against chance); None in reports before version 4.
    distribution: Distribution | None = None


class OperationStats(msgspec.Struct):
    """All spans of one service and operation, wherever they occur."""

    service: str
    operation: str
    latency: LatencyStats
    self_ns: int  # summed self time
    critical_ns: int  # summed time on traces' critical paths
    errors: int
    error_rate: float
    distribution: Distribution | None = None  # as EndpointStats's
    # How many traces hold a span of it (of any of its names, for a name with ids folded), for
    # ``spanscope diff`` against a saved report (its calls in each request that makes it);
    # None in reports before version 5.
    traces: Annotated[int, msgspec.Meta(ge=1)] | None = None

    def __post_init__(self) -> None:
        # Run as a saved report is decoded (msgspec names the place): each trace counted holds
        # a span of it, so an edited count above the spans' would make calls per request up.
        if self.traces is not None and self.traces > self.latency.count:
            raise ValueError(
                f"traces: {self.traces} traces hold the operation, more than its "
                f"{self.latency.count} spans"
            )


class PathStep(msgspec.Struct):
    """A critical-path section with the span's names."""

    span_id: str
    service: str
    operation: str
    start_ns: int
    end_ns: int


class Contributor(msgspec.Struct):
    """Critical-path time of one service:operation within one trace."""

    service: str
    operation: str
    critical_ns: int
    share: float


class SpanTime(msgspec.Struct):
    """One span of a trace: how long it ran, how much of that was its own work (self time), and
    how much the request waited on it (critical-path time)."""

    span_id: str
    service: str
    operation: str
    duration_ns: int
    self_ns: int
    critical_ns: int


class TraceDetail(msgspec.Struct):
    """One trace with its critical path."""

    trace_id: str
    service: str  # root span's service
    operation: str  # root span's operation
    start_ns: int
    duration_ns: int  # root span's duration
    spans: int
    failed: bool
    contributors: list[Contributor]  # ranked by critical_ns, at most `top`
    critical_path: list[PathStep]  # ascending time; at most 200 steps (see truncated)
    truncated: bool = False
    top_self_time: list[SpanTime] = []  # the spans with the most self time, at most `top`


class SlowSpan(msgspec.Struct):
    trace_id: str
    span_id: str
    service: str
    operation: str
    start_ns: int
    duration_ns: int
    self_ns: int
    on_critical_path_ns: int


class SlowSpans(msgspec.Struct):
    """Spans at least ``threshold_ns`` long: how many, and the ``top`` of them with the most
    self time (the spans that are slow themselves rather than waiting on a slow child)."""

    threshold_ns: int
    count: int
    spans: list[SlowSpan]


class EndpointProfileSummary(msgspec.Struct):
    """Where an endpoint's critical-path time goes, all traces vs the slowest ones."""

    service: str
    operation: str
    traces: int
    slow_traces: int
    slow_min_duration_ns: int
    critical_ns: int
    slow_critical_ns: int
    frames: list[FrameShare]  # ranked by slow_critical_ns then critical_ns; at most `top`
    top_stacks: list[tuple[str, int]]  # heaviest folded stacks (all traces); at most `top`


class OperationErrors(msgspec.Struct):
    service: str
    operation: str
    spans: int
    errors: int
    error_rate: float


class ErrorGroup(msgspec.Struct):
    """Traces whose failure started with the same kind of error."""

    service: str
    operation: str
    exception_type: str
    # Ids and numbers replaced; messages differing only in hex id against number are one group,
    # shown with the template most of its traces had.
    message_template: str
    traces: int
    failed_traces: int  # of those, how many failed as a whole (root span failed)
    example_trace_id: str  # a trace that failed as a whole where there is one
    example_span_id: str
    example_message: str


class ErrorReport(msgspec.Struct):
    error_spans: int
    traces_with_errors: int
    failed_traces: int
    by_operation: list[OperationErrors]  # operations with errors, most errors first
    origins: list[ErrorGroup]  # originating errors grouped, most traces first


class ProblemCount(msgspec.Struct):
    """Something wrong in the data that assembly found (orphans, skew, unclosed spans...)."""

    kind: str
    count: int
    traces: int
    example: str


class AntiPattern(msgspec.Struct):
    """One anti-pattern found by ``spanscope.analysis.detectors``, summed over every occurrence.

    ``kind`` is one of ``n_plus_one``, ``sequential_calls``, ``broken_propagation``,
    ``unclosed_spans``, ``high_cardinality_name``. ``service``/``operation`` name where the fix
    goes (the repeated call, the span making calls one after another, the span whose trace link
    is broken, the span left open, the name template); ``parent_service``/``parent_operation``
    the span it happens under, when that matters (N+1: the caller), else empty.
    ``occurrences`` counts instances (groups of calls, spans, distinct names); ``per_trace_p50``
    and ``per_trace_max`` the size per affected trace (calls, spans or names).
    ``critical_ns`` is the time at stake on the critical path, summed over occurrences: N+1:
    the critical-path time inside the repeated calls (subtrees included); sequential calls:
    what running them concurrently could save (sum minus max of the critical-path time inside
    each call); broken propagation: the critical-path time inside the involved spans; unclosed
    spans: 0; names: their spans' own critical-path time. ``duration_ns`` sums the involved
    spans' durations (sequential calls: sum minus max of the calls' durations). ``detail``
    says more (the normalised statement, the chain of calls, the broken link, example names).
    ``per_trace_*`` are 0 where a size per trace does not apply (names)."""

    kind: str
    service: str
    operation: str
    parent_service: str
    parent_operation: str
    traces: int
    occurrences: int
    per_trace_p50: int
    per_trace_max: int
    critical_ns: int
    duration_ns: int
    example_trace_id: str
    example_span_ids: list[str]  # at most 10
    detail: str
    explanation: str  # what it is and how to fix it, one line


class ConditionResult(msgspec.Struct):
    """A ``--fail-if`` condition and whether it held."""

    expression: str
    holds: bool
    value: float | None  # measured: durations in the condition's unit, error_rate a fraction
    message: str


class TraitFinding(msgspec.Struct):
    """A trait that the slowest (or the failed) requests of an endpoint carry much more often
    than its other requests (``spanscope.analysis.traits``)."""

    endpoint_service: str
    endpoint_operation: str
    cohort: str  # "slowest" (the profile's slowest 5%) or "failed"
    service: str  # where the trait was seen: a service's resource, or "" for the root span
    key: str
    value: str  # ids replaced by <num>, <hex>, <uuid> in the root span's strings
    cohort_traces: int
    cohort_with: int  # of the cohort, requests with the trait
    cohort_share: float
    rest_traces: int
    rest_with: int
    rest_share: float
    # 1: every request compared; 8: past 2,048 requests, 1 in 8 (by trace id), and for
    # "failed" every failed request against 1 in 8 of the others; counts are of those compared.
    cohort_one_in: int = 1
    rest_one_in: int = 1


class HeadlineItem(msgspec.Struct, frozen=True):
    """One sentence of the report's headline (``spanscope.analysis.headline``)."""

    kind: Literal["slow", "failed", "errors", "trait", "anti_pattern", "data"]
    text: str
    example_trace_id: str = ""  # a request the sentence is about, where there is one


class AnalysisReport(msgspec.Struct):
    """Everything ``spanscope analyze`` found."""

    version: int
    options: AnalysisOptions
    filters: dict[str, str]
    inputs: list[InputSummary]
    summary: DataSummary
    endpoints: list[EndpointStats]  # most requests first
    operations: list[OperationStats]  # most critical-path time first
    fix_first: list[FixCandidate]  # what to speed up first; at most `top`
    profiles: list[EndpointProfileSummary]  # busiest endpoint first
    slow_spans: SlowSpans
    slowest_traces: list[TraceDetail]  # longest first; at most `top`
    errors: ErrorReport
    dependencies: list[DependencyEdge]
    problems: list[ProblemCount]  # most frequent first
    warnings: int = 0  # input warnings (see the messages on stderr)
    conditions: list[ConditionResult] = []
    anti_patterns: list[AntiPattern] = []  # most time at stake (critical_ns) first
    # What the slowest and the failed requests of each endpoint have in common: busiest
    # endpoint first, then the largest gap in share first.
    traits: list[TraitFinding] = []
    # The few sentences to read first, restating the above (``analysis.headline``).
    headline: list[HeadlineItem] = []

    def __post_init__(self) -> None:
        # Run as a saved report is decoded: an operation held by more traces than the report
        # has was edited (``OperationStats`` checks the count against its own spans).
        for index, operation in enumerate(self.operations):
            if operation.traces is not None and operation.traces > self.summary.traces:
                raise ValueError(
                    f"operations[{index}].traces: {operation.traces} traces hold "
                    f"{operation.service}:{operation.operation}, more than the report's "
                    f"{self.summary.traces}"
                )
