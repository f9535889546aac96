"""Running every analysis over a data set in one pass per trace.

``analyze(traces, options)`` -> ``AnalysisReport`` (``spanscope.analysis.results``). Each trace
is visited once: its error spans, self times and critical path are computed once and shared by
the latency, profile, slow-span, error, dependency and anti-pattern collectors, so the cost per
span is a few dict operations. Traces may be a generator; only per-group aggregates, the ``top``
slowest traces and spans, and one small profile per trace are kept. Endpoints and error
origins are keyed by a root or origin name's template once that folds (the profile's
``NameTemplates``); operations keep a row per name, which the high-cardinality detector needs.
The per-key tallies and how merged analyzers add them up are in ``spanscope.analysis.tallies``.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable

from spanscope.analysis.critical_path import critical_path
from spanscope.analysis.dependencies import DependencyCollector
from spanscope.analysis.detectors import AntiPatternCollector, NameStats
from spanscope.analysis.errors import error_detail, error_ids, message_template, originating_error
from spanscope.analysis.headline import headline
from spanscope.analysis.name_folding import NameFolding, fold_table
from spanscope.analysis.percentiles import LatencyDigest
from spanscope.analysis.profile import Profile, ProfileCollector, fix_first
from spanscope.analysis.results import (
    REPORT_VERSION,
    AnalysisOptions,
    AnalysisReport,
    DataSummary,
    EndpointProfileSummary,
    EndpointStats,
    ErrorGroup,
    ErrorReport,
    OperationErrors,
    OperationStats,
    ProblemCount,
    SlowSpan,
    SlowSpans,
)
from spanscope.analysis.self_time import span_self_time
from spanscope.analysis.tallies import (
    ErrorGroupTally,
    OperationTally,
    ProblemTally,
    add_endpoint,
    add_group,
    add_operation,
    copy_endpoint,
    copy_group,
    copy_operation,
    merge_table,
    message_key,
)
from spanscope.analysis.trace_detail import trace_detail
from spanscope.analysis.traits import TraitCollector
from spanscope.model import Trace


def _rate(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


class Analyzer:
    """Collects one trace at a time (``add``); ``report()`` builds the ``AnalysisReport``."""

    def __init__(self, options: AnalysisOptions | None = None) -> None:
        self.options = options or AnalysisOptions()
        self.traces = 0
        self.spans = 0
        self.services: set[str] = set()
        self.start_ns = 0
        self.end_ns = 0
        self.failed = 0
        self.with_errors = 0
        self.error_spans = 0
        self.latency = LatencyDigest()
        self.endpoints: dict[tuple[str, str], list] = {}  # key -> [digest, failed]
        self.operations: dict[tuple[str, str], OperationTally] = {}
        # (service, template) -> [last trace, traces]: each trace counted once however many
        # names of the template it holds (``OperationTally.group``, ``operation_traces``)
        self._template_traces: dict[tuple[str, str], list[int]] = {}
        self.slow_count = 0
        self._slow: list[tuple[tuple[int, int], int, SlowSpan]] = []  # min-heap, by self time
        # min-heap of the longest traces; their critical paths and details are worked out once,
        # at the end
        self._slowest: list[tuple[int, int, Trace, bool]] = []
        self._groups: dict[tuple[str, str, str, str], ErrorGroupTally] = {}
        self._problems: dict[str, ProblemTally] = {}
        self.dependencies = DependencyCollector()
        self.profiles = ProfileCollector(
            self.options.slow_fraction, self.options.high_cardinality_min_names
        )
        self.anti_patterns = AntiPatternCollector(self.options)
        self.traits = TraitCollector()
        self._seq = 0  # heap tie-breaker
        self._compact_at = 1024  # traces

    def add(self, trace: Trace) -> None:
        if not trace.spans or not trace.roots:
            return
        options = self.options
        top = options.top
        self.traces += 1
        # Marks the operations met in this trace (each counts the traces that hold it): this
        # trace's number, unlike its id, is one no other added or merged trace had.
        ordinal = self.traces
        spans = trace.spans
        self.spans += len(spans)
        root = trace.roots[0]  # trace.root, without the property call
        root_end, root_start = root.end_ns, root.start_ns
        root_duration = root_end - root_start if root_end > root_start else 0
        start = spans[0].start_ns  # spans are sorted by start
        if self.traces == 1 or start < self.start_ns:
            self.start_ns = start

        errors = error_ids(trace)
        root_failed = root.span_id in errors
        # One walk: the profile's stacks, and each span's critical time for the loop below.
        on_path: dict[str, int] = {}
        # The endpoint as the profile counts it: a root name with an id in it is counted under
        # its template once that folds, so the table needs no row per id (name_folding).
        endpoint_key = self.profiles.add(trace, options.jaeger_strict, on_path)
        assert endpoint_key is not None  # None only for a trace without roots: returned above
        endpoint = self.endpoints.get(endpoint_key)
        if endpoint is None:
            endpoint = self.endpoints[endpoint_key] = [LatencyDigest(), 0]
        endpoint[0].values.append(root_duration)
        self.latency.values.append(root_duration)
        if root_failed:
            endpoint[1] += 1
            self.failed += 1
        self.traits.add(endpoint_key, trace, root_duration, root_failed)

        # The one per-span loop: latency, self time, critical time and errors per operation,
        # and slow spans.
        children = trace.children
        operations = self.operations
        services = self.services
        threshold = options.slow_threshold_ns
        slow = self._slow
        end = self.end_ns
        trace_id = trace.trace_id
        slow_count = self.slow_count
        for span in spans:
            # Locals, not repeated attribute reads: this loop runs once per span of the data.
            span_id = span.span_id
            span_start = span.start_ns
            span_end = span.end_ns
            if span_end > end:
                end = span_end
            key = (span.service_name, span.name)
            stats = operations.get(key)
            if stats is None:
                stats = operations[key] = self._tally(key, (trace_id, span_id))
                services.add(span.service_name)
            if stats.last_trace != ordinal:
                stats.last_trace = ordinal
                stats.traces += 1
                names = stats.group
                if names is not None and names[0] != ordinal:
                    names[0] = ordinal
                    names[1] += 1
            duration = span_end - span_start
            if duration < 0:
                duration = 0
            stats.digest.values.append(duration)
            stats.duration += duration
            below = children.get(span_id)
            # Most spans are leaves, whose self time is their duration: no call for them.
            own = span_self_time(span, below) if below else duration
            stats.self_ns += own
            critical = on_path.get(span_id, 0)
            stats.critical += critical
            if errors and span_id in errors:
                stats.errors += 1
            if duration >= threshold:
                slow_count += 1
                # Ranked by self time: the spans that are slow themselves, not their callers.
                if len(slow) < top or (own, duration) > slow[0][0]:
                    self._seq += 1
                    item = SlowSpan(
                        trace_id,
                        span_id,
                        span.service_name,
                        span.name,
                        span_start,
                        duration,
                        own,
                        critical,
                    )
                    if len(slow) < top:
                        heapq.heappush(slow, ((own, duration), -self._seq, item))
                    else:
                        heapq.heapreplace(slow, ((own, duration), -self._seq, item))
        self.slow_count = slow_count

        self.end_ns = end
        if self.traces >= self._compact_at:
            self._compact()

        if len(self._slowest) < top or root_duration > self._slowest[0][0]:
            self._seq += 1
            entry = (root_duration, -self._seq, trace, root_failed)
            if len(self._slowest) < top:
                heapq.heappush(self._slowest, entry)
            else:
                heapq.heapreplace(self._slowest, entry)

        if errors:
            self.with_errors += 1
            self.error_spans += len(errors)
            origin = originating_error(trace, errors)
            if origin is not None:
                detail = error_detail(origin)
                template = message_template(detail.message)
                group_key = (
                    origin.service_name,
                    self.profiles.names.fold(origin.service_name, origin.name),
                    detail.exception_type,
                    message_key(template),
                )
                group = self._groups.get(group_key)
                if group is None:
                    group = self._groups[group_key] = ErrorGroupTally(
                        (trace.trace_id, origin.span_id, detail.message)
                    )
                group.traces += 1
                group.templates[template] = group.templates.get(template, 0) + 1
                if root_failed:
                    if not group.failed:  # the example is a failed request where there is one
                        group.example = (trace.trace_id, origin.span_id, detail.message)
                    group.failed += 1

        self.dependencies.add(trace, errors)
        self.anti_patterns.add(trace, on_path)

        for problem in trace.problems:
            tally = self._problems.get(problem.kind.value)
            if tally is None:
                tally = self._problems[problem.kind.value] = ProblemTally(problem.message)
            tally.count += 1
            tally.trace_ids.add(problem.trace_id)

    def _tally(self, key: tuple[str, str], example: tuple[str, str]) -> OperationTally:
        """A new name's tally, in its template's group if the name has one."""
        tally = OperationTally(example)
        template = self.profiles.names.template(key[1])
        if template is not None:
            group = self._template_traces.get((key[0], template))
            if group is None:
                group = self._template_traces[key[0], template] = [0, 0]
            tally.group = group
        return tally

    def operation_traces(self, folding: NameFolding) -> dict[tuple[str, str], int]:
        """How many traces hold each operation, under the names ``folding`` gives them (as
        ``report()``): a template that folds counts each trace holding any of its names once
        (a span named as the template itself, ``GET /users/<num>``, is counted apart)."""
        found: dict[tuple[str, str], int] = {}
        for (service, name), tally in self.operations.items():
            if folding.fold(service, name) == name:
                found[service, name] = found.get((service, name), 0) + tally.traces
        for key in folding.templates:
            group = self._template_traces.get(key)
            if group is not None:
                found[key] = found.get(key, 0) + group[1]
        return found

    def merge(self, other: Analyzer) -> None:
        """Add what ``other`` (same options) collected from traces that came *after* the ones
        added here, so that ``report()`` is what one analyzer given all the traces in that
        order would report: first-seen examples, ties and rankings included. (Exactly so up
        to ``detectors.tally.MAX_KEYS`` finding keys per detector, past which both drop keys.)
        Lets parts of a data set be analysed in other processes; ``other`` is used up."""
        if not other.traces:
            return
        if not self.traces or other.start_ns < self.start_ns:
            self.start_ns = other.start_ns
        self.end_ns = max(self.end_ns, other.end_ns)
        self.traces += other.traces
        self.spans += other.spans
        self.services |= other.services
        self.failed += other.failed
        self.with_errors += other.with_errors
        self.error_spans += other.error_spans
        self.latency.merge(other.latency)
        merge_table(self.endpoints, other.endpoints, add_endpoint)
        # Trace counts add up exactly here: the two sides share no trace.
        merge_table(self.operations, other.operations, add_operation)
        groups = self._template_traces
        for key, group in other._template_traces.items():
            mine = groups.get(key)
            if mine is None:
                groups[key] = group
            else:
                mine[1] += group[1]
        # other's tallies taken over count on in this analyzer's groups
        for (service, name), theirs in other.operations.items():
            if theirs.group is not None and self.operations[service, name] is theirs:
                template = other.profiles.names.template(name)
                assert template is not None  # it has a group
                theirs.group = groups[service, template]
        self.slow_count += other.slow_count
        # Heap entries rank ties by arrival (-seq): other's come after all of ours.
        shift = self._seq
        top = self.options.top
        slow = self._slow + [(key, seq - shift, item) for key, seq, item in other._slow]
        self._slow = heapq.nlargest(top, slow)
        heapq.heapify(self._slow)
        slowest = self._slowest + [
            (duration, seq - shift, trace, failed)
            for duration, seq, trace, failed in other._slowest
        ]
        self._slowest = heapq.nlargest(top, slowest, key=lambda entry: entry[:2])
        heapq.heapify(self._slowest)
        self._seq += other._seq
        merge_table(self._groups, other._groups, add_group)
        for kind, tally in other._problems.items():
            mine_tally = self._problems.get(kind)
            if mine_tally is None:
                self._problems[kind] = tally
            else:
                mine_tally.count += tally.count
                mine_tally.trace_ids |= tally.trace_ids
        self.dependencies.merge(other.dependencies)
        self.profiles.merge(other.profiles)
        self.anti_patterns.merge(other.anti_patterns)
        self.traits.merge(other.traits)

    def _compact(self) -> None:
        # Keeps memory bounded: groups past the exact limit move into their sketch. Every 1,024
        # traces, or less often with many groups (a name per request: 100,000 rows), so that
        # this look at every group costs a few steps per trace, not one per group and trace.
        # When it runs changes no figure: a digest is sketched iff its count passes the limit.
        self._compact_at = self.traces + max(
            1024, (len(self.operations) + len(self.endpoints)) // 8
        )
        limit = self.latency.exact_limit
        for stats in self.operations.values():
            if len(stats.digest.values) > limit:
                stats.digest.compact()
        for digest, _ in self.endpoints.values():
            if len(digest.values) > limit:
                digest.compact()
        if len(self.latency.values) > limit:
            self.latency.compact()
        self.dependencies.compact()

    def report(self) -> AnalysisReport:
        options = self.options
        top = options.top
        # Span names with ids in them count as one endpoint or operation (name_folding).
        folding = self.profiles.folding()
        by_endpoint = fold_table(self.endpoints, folding, copy_endpoint, add_endpoint)
        by_operation = fold_table(self.operations, folding, copy_operation, add_operation)
        operation_traces = self.operation_traces(folding)
        error_groups = fold_table(self._groups, folding, copy_group, add_group)
        endpoints = [
            EndpointStats(
                service,
                operation,
                digest.stats(),
                failed,
                _rate(failed, digest.count),
                digest.distribution(),
            )
            for (service, operation), (digest, failed) in by_endpoint.items()
        ]
        endpoints.sort(key=lambda e: (-e.latency.count, e.service, e.operation))
        operations = [
            OperationStats(
                service,
                operation,
                stats.digest.stats(),
                stats.self_ns,
                stats.critical,
                stats.errors,
                _rate(stats.errors, stats.digest.count),
                stats.digest.distribution(),
                operation_traces[service, operation],
            )
            for (service, operation), stats in by_operation.items()
        ]
        operations.sort(key=lambda o: (-o.critical_ns, -o.self_ns, o.service, o.operation))
        profile = self.profiles.profile(folding)
        profiles = [
            EndpointProfileSummary(
                item.service,
                item.operation,
                item.traces,
                item.slow_traces,
                item.slow_min_duration_ns,
                item.critical_ns,
                item.slow_critical_ns,
                item.frames[:top],
                sorted(item.stacks.items(), key=lambda kv: (-kv[1], kv[0]))[:top],
            )
            for item in profile.endpoints
        ]
        errors_by_operation = [
            OperationErrors(o.service, o.operation, o.latency.count, o.errors, o.error_rate)
            for o in operations
            if o.errors
        ]
        errors_by_operation.sort(key=lambda o: (-o.errors, -o.error_rate, o.service, o.operation))
        origins = [
            ErrorGroup(
                key[0],
                key[1],
                key[2],
                g.template(),
                g.traces,
                g.failed,
                g.example[0],
                g.example[1],
                g.example[2],
            )
            for key, g in error_groups.items()
        ]
        origins.sort(key=lambda g: (-g.traces, g.service, g.operation, g.message_template))
        problems = [
            ProblemCount(kind, tally.count, len(tally.trace_ids), tally.example)
            for kind, tally in self._problems.items()
        ]
        problems.sort(key=lambda p: (-p.count, p.kind))
        report = AnalysisReport(
            version=REPORT_VERSION,
            options=options,
            filters={},
            inputs=[],
            summary=DataSummary(
                self.traces,
                self.spans,
                sorted(self.services),
                self.start_ns,
                self.end_ns,
                self.failed,
                self.with_errors,
                self.error_spans,
                self.latency.stats(),
            ),
            endpoints=endpoints,
            operations=operations,
            fix_first=fix_first(profile, top),
            profiles=profiles,
            slow_spans=SlowSpans(
                options.slow_threshold_ns,
                self.slow_count,
                [item for _, _, item in sorted(self._slow, reverse=True)],
            ),
            slowest_traces=[
                trace_detail(trace, critical_path(trace, strict=options.jaeger_strict), failed, top)
                for _, _, trace, failed in sorted(
                    self._slowest, key=lambda item: item[:2], reverse=True
                )
            ],
            errors=ErrorReport(
                self.error_spans, self.with_errors, self.failed, errors_by_operation, origins
            ),
            dependencies=self.dependencies.edges(),
            problems=problems,
            anti_patterns=self.anti_patterns.findings(
                self.services,
                (
                    NameStats(service, name, o.critical, o.duration, *o.example)
                    for (service, name), o in self.operations.items()
                ),
                {key: group[1] for key, group in self._template_traces.items()},
                self.profiles.names.template,
            ),
            traits=self.traits.findings(
                folding,
                {(e.service, e.operation): e.slow_min_duration_ns for e in profile.endpoints},
                top,
            ),
        )
        report.headline = headline(report)
        return report

    def profile(self) -> Profile:
        """The full critical-path profile (all stacks), for folded-stack output."""
        return self.profiles.profile()


def analyze(traces: Iterable[Trace], options: AnalysisOptions | None = None) -> AnalysisReport:
    """Analyse ``traces`` (see ``spanscope.analysis.results`` for what comes back)."""
    analyzer = Analyzer(options)
    for trace in traces:
        analyzer.add(trace)
    return analyzer.report()
