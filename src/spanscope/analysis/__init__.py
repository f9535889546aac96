"""Analysis: pure functions over assembled traces. Nothing here prints or reads files.

Contract: every function takes ``spanscope.model.Trace`` objects (as ``spanscope.assembly``
builds them) and returns plain data (msgspec structs, dicts, lists); traces are never modified.
Times are integer nanoseconds. Modules, one concept each, with their entry points:

- ``critical_path``: ``critical_path(trace, strict=)`` -> ``CriticalSection``s, the path a
  request waited on (Jaeger UI semantics); ``critical_time_by_span`` sums it per span, and
  ``critical_time(trace)`` gives those sums without the sections;
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
- ``filters``: ``TraceFilter`` and ``filter_traces``, which traces to analyse;
- ``conditions``: ``parse_condition`` and ``evaluate``, the ``--fail-if`` expressions;
- ``analyze`` / ``results``: ``Analyzer`` (``add(trace)`` one at a time, then ``report()``) or
  ``analyze(traces, options)`` run everything above in one pass and give one
  ``AnalysisReport``; ``AnalysisOptions`` holds the thresholds. ``Analyzer.merge`` adds another
  analyzer's traces (parts of a data set analysed in other processes) with the same result as
  one analyzer given them all; every collector has a ``merge`` for it.
"""

from __future__ import annotations

from spanscope.analysis.analyze import Analyzer, analyze
from spanscope.analysis.critical_path import CriticalSection, critical_path
from spanscope.analysis.dependencies import DependencyEdge, dependencies
from spanscope.analysis.errors import is_error_span, originating_error
from spanscope.analysis.profile import build_profile, fix_first, folded_stacks
from spanscope.analysis.results import AnalysisOptions, AnalysisReport
from spanscope.analysis.self_time import self_times

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
