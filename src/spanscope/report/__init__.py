"""Report: rendering an ``AnalysisReport`` for people (rich text) and programs (JSON).

Contract: functions here take the ``spanscope.analysis.results.AnalysisReport`` (or profile)
that analysis produced and only lay it out; they compute nothing new beyond unit conversion,
percentages of numbers already in the report, and truncation for display.

- ``json``: ``encode_report`` (bytes), ``report_schema`` (JSON Schema, draft 2020-12, the one
  checked in as ``schemas/analysis-report.schema.json``);
- ``text``: ``render_report`` to a rich ``Console`` (the headline, the data and its problems);
  its other sections in ``findings`` (what to fix first, traits, anti-patterns),
  ``critical_path`` (profiles, slowest traces, critical paths, slow spans) and ``breakdowns``
  (latency, errors, operations, dependencies), on the shared table style of ``tables``;
- ``folded``: folded stacks lines for flamegraph.pl / speedscope.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from spanscope.report.folded import write_folded

if TYPE_CHECKING:
    from spanscope.report.json import encode_report, report_schema
    from spanscope.report.text import render_report

__all__ = ["encode_report", "render_report", "report_schema", "write_folded"]


def __getattr__(name: str) -> Any:
    # ``text`` imports rich (~30 ms): only the human report needs it, not --json. ``json``
    # imports the report's structs (``spanscope.analysis.results``), which ``analyze --folded
    # -`` never makes: it imports this package for ``folded`` alone.
    if name == "render_report":
        from spanscope.report.text import render_report

        return render_report
    if name in ("encode_report", "report_schema"):
        from spanscope.report import json

        return getattr(json, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
