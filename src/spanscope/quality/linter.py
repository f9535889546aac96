"""The linter: runs every check over a stream of traces and keeps a bounded summary.

Contract: ``Linter(rules=None, skip=(), examples=3)`` takes traces one at a time with
``add(trace)``; ``report()`` returns a ``LintReport``: per rule, how many spans, traces and
services it concerns, its most frequent details and a few example spans; per service, its spans
and a score, the share of its spans with no error or warning. Memory grows with the number of
distinct services, (service, span name) pairs and details, not with spans or traces; the detail
table of a rule is capped (``MAX_DETAILS``), the rest counted as "other".

Two rules are decided at the end, over the whole data set: ``high-cardinality-name`` (names
grouped by template, as the analyzer's detector does) and ``resource-incomplete`` (per service,
only when its resource carries anything besides service.name: a format without resources, such
as Zipkin's, is not blamed for what it cannot carry).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

import msgspec

from spanscope.analysis.detectors.cardinality import NameStats, high_cardinality_names
from spanscope.analysis.errors import message_template
from spanscope.analysis.name_folding import MIN_NAMES, name_template
from spanscope.model import Span, Trace
from spanscope.quality.checks import span_findings, trace_findings
from spanscope.quality.rules import RULES, Severity

MAX_DETAILS = 1000
_VERSION_KEYS = ("service.version",)
_ENVIRONMENT_KEYS = ("deployment.environment.name", "deployment.environment")


class Example(msgspec.Struct, frozen=True):
    trace_id: str
    span_id: str
    service: str
    name: str
    detail: str


class RuleResult(msgspec.Struct):
    id: str
    severity: str
    title: str
    why: str
    fix: str
    spans: int
    traces: int
    services: dict[str, int]
    details: dict[str, int]
    examples: list[Example]


class ServiceResult(msgspec.Struct):
    service: str
    spans: int
    spans_with_errors: int
    spans_with_warnings: int
    score: float  # share of spans with no error or warning finding, 0..1
    rules: list[str]  # rule ids that concern this service, most severe first


class LintReport(msgspec.Struct):
    traces: int
    spans: int
    score: float
    counts: dict[str, int]  # severity label -> rules with findings of that severity
    rules: list[RuleResult]
    services: list[ServiceResult]

    def worst(self) -> Severity | None:
        severities = [Severity[rule.severity.upper()] for rule in self.rules]
        return max(severities, default=None)


class _Tally:
    """One rule's findings. ``spans``/``services`` count each span once however many details
    it has (a span with three deprecated keys is one span); ``details`` counts each finding."""

    __slots__ = ("details", "examples", "last_span", "last_trace", "services", "spans", "traces")

    def __init__(self) -> None:
        self.spans = 0
        self.traces = 0
        self.last_trace = ""
        self.last_span: Span | None = None
        self.services: Counter[str] = Counter()
        self.details: Counter[str] = Counter()
        self.examples: list[Example] = []

    def add(self, trace_id: str, span: Span | None, detail: str, max_examples: int) -> None:
        if span is None or span is not self.last_span:  # a span's findings come together
            self.last_span = span
            self.spans += 1
            self.services[span.service_name if span is not None else ""] += 1
        if trace_id != self.last_trace:
            self.traces += 1
            self.last_trace = trace_id
        service = span.service_name if span is not None else ""
        if detail in self.details or len(self.details) < MAX_DETAILS:
            self.details[detail] += 1
        else:
            self.details["other"] += 1
        if len(self.examples) < max_examples and all(
            example.detail != detail and (span is None or example.span_id != span.span_id)
            for example in self.examples
        ):
            self.examples.append(
                Example(
                    trace_id,
                    span.span_id if span is not None else "",
                    service,
                    span.name if span is not None else "",
                    detail,
                )
            )


class _Service:
    __slots__ = ("errors", "resource_keys", "spans", "warnings")

    def __init__(self) -> None:
        self.spans = 0
        self.errors = 0
        self.warnings = 0
        self.resource_keys: set[str] = set()


class _Name:
    __slots__ = ("duration", "example", "spans", "template")

    def __init__(self, trace_id: str, span_id: str, template: list | None) -> None:
        self.spans = 0
        self.duration = 0
        self.example = (trace_id, span_id)
        self.template = template  # [traces, last trace id] of its (service, name template)


class Linter:
    """Checks traces added one at a time; see the module docstring."""

    def __init__(
        self, rules: Iterable[str] | None = None, skip: Iterable[str] = (), examples: int = 3
    ) -> None:
        chosen = set(RULES) if rules is None else set(rules)
        unknown = (chosen | set(skip)) - set(RULES)
        if unknown:
            raise ValueError(f"unknown rule(s): {', '.join(sorted(unknown))}")
        self._enabled = chosen - set(skip)
        self._max_examples = examples
        self._tallies: dict[str, _Tally] = {}
        self._services: dict[str, _Service] = {}
        self._names: dict[tuple[str, str], _Name] = {}
        self._templates: dict[tuple[str, str], list] = {}  # -> [traces, last trace id]
        self._traces = 0
        self._spans = 0

    def add(self, trace: Trace) -> None:
        self._traces += 1
        trace_id = trace.trace_id
        enabled = self._enabled
        flagged: dict[int, Severity] = {}  # id(span) -> worst severity found
        for span in trace.spans:
            self._count_span(trace_id, span)
            for rule, detail in span_findings(span):
                if rule in enabled:
                    self._record(trace_id, span, rule, detail, flagged)
        for found_in, rule, detail in trace_findings(trace):
            if rule in enabled:
                self._record(trace_id, found_in, rule, detail, flagged)
        for span in trace.spans:
            severity = flagged.get(id(span))
            if severity is None:
                continue
            service = self._services[span.service_name]
            if severity == Severity.ERROR:
                service.errors += 1
            else:
                service.warnings += 1

    def _count_span(self, trace_id: str, span: Span) -> None:
        self._spans += 1
        name = span.service_name
        service = self._services.get(name)
        if service is None:
            service = self._services[name] = _Service()
        service.spans += 1
        if span.resource_attributes:
            service.resource_keys.update(span.resource_attributes)
        key = (name, span.name)
        entry = self._names.get(key)
        if entry is None:
            template = name_template(span.name)
            counted = None
            if template is not None:
                counted = self._templates.setdefault((name, template), [0, ""])
            entry = self._names[key] = _Name(trace_id, span.span_id, counted)
        entry.spans += 1
        entry.duration += span.duration_ns
        counted = entry.template
        if counted is not None and counted[1] != trace_id:  # spans come trace by trace
            counted[0] += 1
            counted[1] = trace_id

    def _record(
        self, trace_id: str, span: Span | None, rule: str, detail: str, flagged: dict
    ) -> None:
        tally = self._tallies.get(rule)
        if tally is None:
            tally = self._tallies[rule] = _Tally()
        tally.add(trace_id, span, detail, self._max_examples)
        severity = RULES[rule].severity
        if span is not None and severity >= Severity.WARNING:
            key = id(span)
            if severity > flagged.get(key, Severity.INFO):
                flagged[key] = severity

    def _finish_data_set_rules(self) -> None:
        enabled = self._enabled
        if "high-cardinality-name" in enabled:
            self._high_cardinality()
        if "resource-incomplete" in enabled:
            for name, service in self._services.items():
                if not (service.resource_keys - {"service.name"}):
                    continue
                missing = []
                if service.resource_keys.isdisjoint(_VERSION_KEYS):
                    missing.append("no service.version")
                if service.resource_keys.isdisjoint(_ENVIRONMENT_KEYS):
                    missing.append("no deployment.environment.name")
                if missing:
                    tally = self._tallies.setdefault("resource-incomplete", _Tally())
                    detail = ", ".join(missing)
                    tally.spans += service.spans
                    tally.services[name] += service.spans
                    tally.details[detail] += service.spans
                    if len(tally.examples) < self._max_examples:
                        tally.examples.append(Example("", "", name, "", detail))

    def _high_cardinality(self) -> None:
        stats = [
            NameStats(service, name, 0, entry.duration, *entry.example)
            for (service, name), entry in self._names.items()
        ]
        traces = {key: counted[0] for key, counted in self._templates.items()}
        findings = high_cardinality_names(stats, traces, MIN_NAMES, limit=MAX_DETAILS)
        if not findings:
            return
        tally = self._tallies.setdefault("high-cardinality-name", _Tally())
        templates = {(finding.service, finding.operation): finding for finding in findings}
        tally.traces += sum(finding.traces for finding in findings)  # each once per template
        for (service, name), entry in self._names.items():
            finding = templates.get((service, message_template(name)))
            if finding is None:
                continue
            tally.spans += entry.spans
            tally.services[service] += entry.spans
            tally.details[f"{finding.operation} ({finding.occurrences:,} names)"] += entry.spans
        for finding in findings[: self._max_examples]:
            span_id = finding.example_span_ids[0] if finding.example_span_ids else ""
            tally.examples.append(
                Example(
                    finding.example_trace_id,
                    span_id,
                    finding.service,
                    finding.operation,
                    finding.detail,
                )
            )

    def report(self) -> LintReport:
        self._finish_data_set_rules()
        results = []
        for rule_id, tally in self._tallies.items():
            rule = RULES[rule_id]
            results.append(
                RuleResult(
                    id=rule_id,
                    severity=rule.severity.label,
                    title=rule.title,
                    why=rule.why,
                    fix=rule.fix,
                    spans=tally.spans,
                    traces=tally.traces,
                    services=dict(tally.services.most_common()),
                    details=dict(tally.details.most_common(20)),
                    examples=tally.examples,
                )
            )
        results.sort(key=lambda result: (-RULES[result.id].severity, -result.spans, result.id))
        services = []
        for name, service in self._services.items():
            concerning = [result.id for result in results if name in result.services]
            healthy = service.spans - service.errors - service.warnings
            services.append(
                ServiceResult(
                    service=name,
                    spans=service.spans,
                    spans_with_errors=service.errors,
                    spans_with_warnings=service.warnings,
                    score=healthy / service.spans if service.spans else 1.0,
                    rules=concerning,
                )
            )
        # Worst first: lowest score, then the larger share of errors, then by name.
        services.sort(
            key=lambda service: (
                service.score,
                -service.spans_with_errors / max(service.spans, 1),
                service.service,
            )
        )
        flagged = sum(
            service.spans_with_errors + service.spans_with_warnings for service in services
        )
        counts = Counter(result.severity for result in results)
        return LintReport(
            traces=self._traces,
            spans=self._spans,
            score=(self._spans - flagged) / self._spans if self._spans else 1.0,
            counts={severity.label: counts.get(severity.label, 0) for severity in Severity},
            rules=results,
            services=services,
        )


def lint(traces: Iterable[Trace], **options) -> LintReport:
    """Check every trace of ``traces`` (see ``Linter``)."""
    linter = Linter(**options)
    for trace in traces:
        linter.add(trace)
    return linter.report()
