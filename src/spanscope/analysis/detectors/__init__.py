"""Anti-patterns: what in the way services call each other makes requests slow or traces useless.

One module per detector, each stating its rule:

- ``n_plus_one``: many sequential calls to the same target (or the same statement with other
  parameters) under one parent;
- ``sequential``: calls to different targets made one after another that could overlap;
- ``propagation``: traces that fell apart (orphans, extra roots, SERVER spans without a calling
  CLIENT, calls into traced services that did not continue the trace);
- ``unclosed``: spans that never ended;
- ``cardinality``: span names with ids in them.

Contract: ``AntiPatternCollector(options)`` takes one trace at a time with
``add(trace, on_path)`` (``on_path``: span id -> critical-path ns, as
``critical_time`` gives; the analyzer has it already) and ``findings(services, names)``
returns ``AntiPattern``s (``spanscope.analysis.results``), most time at stake first, at most
``options.top`` per kind. ``detect_anti_patterns(traces, options)`` does it all for a list of
traces. The per-trace work is a walk over parents with several children, the trace's problems
and one kind check per span. Pure: traces are never modified.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from spanscope.analysis.critical_path import critical_time
from spanscope.analysis.detectors.cardinality import NameStats, high_cardinality_names
from spanscope.analysis.detectors.n_plus_one import NPlusOneDetector, statement_template
from spanscope.analysis.detectors.propagation import PropagationDetector
from spanscope.analysis.detectors.sequential import SequentialCallsDetector
from spanscope.analysis.detectors.tally import CriticalView
from spanscope.analysis.detectors.unclosed import UnclosedSpansDetector
from spanscope.analysis.name_folding import name_template
from spanscope.analysis.results import AnalysisOptions, AntiPattern
from spanscope.model import Trace

__all__ = [
    "AntiPatternCollector",
    "NameStats",
    "detect_anti_patterns",
    "statement_template",
]


class AntiPatternCollector:
    """Runs every detector over traces one at a time (see the module docstring)."""

    def __init__(self, options: AnalysisOptions | None = None) -> None:
        self.options = options or AnalysisOptions()
        self.n_plus_one = NPlusOneDetector(self.options.n_plus_one_min_calls)
        self.sequential = SequentialCallsDetector(self.options.sequential_min_calls)
        self.propagation = PropagationDetector()
        self.unclosed = UnclosedSpansDetector()

    def add(self, trace: Trace, on_path: dict[str, int]) -> None:
        path = CriticalView(trace, on_path)
        self.n_plus_one.add(trace, path)
        self.sequential.add(trace, path)
        self.propagation.add(trace, path)
        if trace.problems:
            self.unclosed.add(trace)

    def merge(self, other: AntiPatternCollector) -> None:
        """Add what ``other`` collected from traces that came after this collector's, as if
        this one had seen them all (exactly, below ``tally.MAX_KEYS`` keys per detector)."""
        self.n_plus_one.merge(other.n_plus_one)
        self.sequential.merge(other.sequential)
        self.propagation.merge(other.propagation)
        self.unclosed.merge(other.unclosed)

    def findings(
        self,
        services: set[str],
        names: Iterable[NameStats],
        template_traces: Mapping[tuple[str, str], int],
        template_of: Callable[[str], str | None] = name_template,
    ) -> list[AntiPattern]:
        """Every finding, most critical-path time at stake first. ``services``: every service
        in the data; ``names``: statistics per (service, span name); ``template_traces``:
        traces per (service, name template), each once; ``template_of``: ``name_template`` or
        a cache of it."""
        limit = self.options.top
        found = [
            *self.n_plus_one.findings(limit),
            *self.sequential.findings(limit),
            *self.propagation.findings(services, limit),
            *self.unclosed.findings(limit),
            *high_cardinality_names(
                names,
                template_traces,
                self.options.high_cardinality_min_names,
                limit,
                template_of,
            ),
        ]
        found.sort(
            key=lambda f: (
                -f.critical_ns,
                -f.duration_ns,
                -f.traces,
                f.kind,
                f.service,
                f.operation,
            )
        )
        return found


def detect_anti_patterns(
    traces: Iterable[Trace], options: AnalysisOptions | None = None
) -> list[AntiPattern]:
    """Every anti-pattern in ``traces`` (critical paths are worked out here)."""
    collector = AntiPatternCollector(options)
    strict = collector.options.jaeger_strict
    services: set[str] = set()
    names: dict[tuple[str, str], list] = {}  # -> [critical, duration, trace id, span id]
    template_traces: dict[tuple[str, str], int] = {}
    for trace in traces:
        if not trace.spans or not trace.roots:
            continue
        on_path = critical_time(trace, strict=strict)
        collector.add(trace, on_path)
        seen: set[tuple[str, str]] = set()  # the templates of this trace's names
        for span in trace.spans:
            key = (span.service_name, span.name)
            services.add(span.service_name)
            entry = names.get(key)
            if entry is None:
                entry = names[key] = [0, 0, trace.trace_id, span.span_id]
            entry[0] += on_path.get(span.span_id, 0)
            entry[1] += span.duration_ns
            template = name_template(span.name)
            if template is not None and (span.service_name, template) not in seen:
                seen.add((span.service_name, template))
                template_traces[span.service_name, template] = (
                    template_traces.get((span.service_name, template), 0) + 1
                )
    return collector.findings(
        services,
        (NameStats(s, n, *entry) for (s, n), entry in names.items()),
        template_traces,
    )
