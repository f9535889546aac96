"""Analysis: pure functions over assembled traces. Nothing here prints or reads files.

Contract: every function takes ``spanscope.model.Trace`` objects (as ``spanscope.assembly``
builds them) and returns plain data (msgspec structs, dicts, lists); traces are never modified.
Times are integer nanoseconds. Modules, one concept each:

- ``critical_path``: the path a request waited on (Jaeger UI semantics);
- ``self_time``: exclusive time per span and per service/operation (Jaeger's statistics);
- ``errors``: which spans failed, the originating error of a trace, message templates;
- ``percentiles``: exact percentiles up to a size, a DDSketch beyond;
- ``dependencies``: service -> service call edges;
- ``profile``: critical-path time per endpoint and call stack, all vs slowest (CRISP);
- ``filters``: which traces to analyse; ``conditions``: ``--fail-if`` expressions;
- ``analyze`` / ``results``: everything above in one pass, as one ``AnalysisReport``.
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
