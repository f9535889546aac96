"""Analysis: pure functions over assembled traces. Nothing here prints or reads files.

Contract: every function takes ``spanscope.model.Trace`` objects (as ``spanscope.assembly``
builds them) and returns plain data (msgspec structs, dicts, lists); traces are never modified.
Times are integer nanoseconds. Modules, one concept each, with their entry points:

- ``critical_path``: ``critical_path(trace, strict=)`` -> ``CriticalSection``s, the path a
  request waited on (Jaeger UI semantics); ``critical_time_by_span`` sums it per span, and
  ``critical_time(trace)`` gives those sums without the sections, from the one walk
  (``charge_critical_time``) that also charges call-path stacks for the profile;
- ``stacks``: ``CallStacks``, call-path stacks of ``service:operation`` frames as numbers;
- ``name_folding``: ``NameFolding``, span names with ids in them (``GET /users/12345``) counted
  as one endpoint or operation named by their template, once enough of them share it;
- ``self_time``: ``self_times(trace)``, ``self_time_by_operation(traces)``, exclusive time per
  span and per service/operation (Jaeger's statistics);
- ``errors``: ``is_error_span``, ``originating_error(trace)`` (where a trace's failure started),
  ``error_detail``, ``message_template``;
- ``percentiles``: ``LatencyDigest`` (exact percentiles up to a size, a DDSketch beyond) giving
  ``LatencyStats``;
- ``dependencies``: ``dependencies(traces)`` / ``DependencyCollector`` -> ``DependencyEdge``s,
  service -> service call edges;
- ``profile``: ``build_profile(traces)`` / ``ProfileCollector`` -> ``Profile``, critical-path time
  per endpoint and call stack, all vs slowest (CRISP); ``fix_first``, ``folded_stacks``;
- ``detectors``: anti-patterns (N+1, sequential calls, broken propagation, unclosed spans,
  high-cardinality names), one module each; ``AntiPatternCollector`` / ``detect_anti_patterns``
  -> ``AntiPattern``s;
- ``traits``: ``TraitCollector`` -> ``TraitFinding``s, what the slowest and the failed requests
  of an endpoint have in common (hosts, versions, regions, root-span attributes);
- ``filters``: ``TraceFilter`` and ``filter_traces``, which traces to analyse;
- ``conditions``: ``parse_condition`` and ``evaluate``, the ``--fail-if`` expressions;
- ``trace_detail``: ``trace_detail(trace, sections, ...)``, what the report says of one slow
  trace;
- ``typical``: ``TypicalRequests(traces)``, each endpoint's request of median duration, and
  ``compare_operations``, where a request's critical path differs from it;
- ``headline``: ``headline(report)`` -> ``HeadlineItem``s, the few sentences to read first
  (where the slowest requests waited, what failed first, what they share, the worst
  anti-pattern, data too incomplete to trust), restated from a finished report;
- ``analyze`` / ``results``: ``Analyzer`` (``add(trace)`` one at a time, then ``report()``) or
  ``analyze(traces, options)`` run everything above in one pass and give one
  ``AnalysisReport``; ``AnalysisOptions`` holds the thresholds. ``Analyzer.merge`` adds another
  analyzer's traces (parts of a data set analysed in other processes) with the same result as
  one analyzer given them all; every collector has a ``merge`` for it (the analyzer's own
  per-name tallies: ``tallies``).
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from spanscope.analysis.analyze import Analyzer, analyze
    from spanscope.analysis.critical_path import CriticalSection, critical_path
    from spanscope.analysis.dependencies import DependencyEdge, dependencies
    from spanscope.analysis.errors import is_error_span, originating_error
    from spanscope.analysis.profile import build_profile, fix_first, folded_stacks
    from spanscope.analysis.results import AnalysisOptions, AnalysisReport
    from spanscope.analysis.self_time import self_times

# The names above, each from its module, imported on first use: a command that needs one
# module (``analyze --folded -`` needs the critical path and the profile) does not pay for
# all of them (the analyzer and its detectors are a third of the command's start-up).
_EXPORTS = {
    "Analyzer": "analyze",
    "analyze": "analyze",
    "CriticalSection": "critical_path",
    "critical_path": "critical_path",
    "DependencyEdge": "dependencies",
    "dependencies": "dependencies",
    "is_error_span": "errors",
    "originating_error": "errors",
    "build_profile": "profile",
    "fix_first": "profile",
    "folded_stacks": "profile",
    "AnalysisOptions": "results",
    "AnalysisReport": "results",
    "self_times": "self_time",
}

__all__ = [
    "AnalysisOptions",
    "AnalysisReport",
    "Analyzer",
    "CriticalSection",
    "DependencyEdge",
    "analyze",
    "build_profile",
    "critical_path",
    "dependencies",
    "fix_first",
    "folded_stacks",
    "is_error_span",
    "originating_error",
    "self_times",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


class _Package(types.ModuleType):
    """Keeps ``spanscope.analysis.analyze`` (``critical_path``, ``dependencies``) the function,
    as it was when this package imported everything at once: importing the submodule of that
    name would otherwise make the package's attribute the module (and ``from spanscope.analysis
    import analyze`` with it)."""

    def __setattr__(self, name: str, value: Any) -> None:
        if _EXPORTS.get(name) == name and isinstance(value, types.ModuleType):
            value = getattr(value, name)
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
