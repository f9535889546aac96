"""The JSON form of an ``AnalysisReport`` and its JSON Schema.

``encode_report(report)`` gives UTF-8 JSON (indented), exactly the msgspec encoding of the
report structs, so the field documentation in ``spanscope.analysis.results`` applies.
``report_schema()`` derives the JSON Schema (draft 2020-12) from the same structs, closed
(``additionalProperties: false``) so a renamed field cannot slip through; the checked-in copy
``schemas/analysis-report.schema.json`` must equal it (a test checks). A new version of the
report (``REPORT_VERSION``) adds optional fields only, so the schema still validates, and
``spanscope diff`` still reads, the reports of earlier versions.
"""

from __future__ import annotations

from typing import Any

import msgspec

from spanscope.analysis.results import REPORT_VERSION, AnalysisReport

SCHEMA_ID = "https://spanscope.dev/schemas/analysis-report.schema.json"


def encode_report(report: AnalysisReport, *, indent: int = 2) -> bytes:
    """``report`` as JSON bytes, ending with a newline."""
    raw = msgspec.json.encode(report)
    if indent:
        raw = msgspec.json.format(raw, indent=indent)
    return raw + b"\n"


def _close(node: Any) -> None:
    if isinstance(node, dict):
        if node.get("type") == "object" and "properties" in node:
            node.setdefault("additionalProperties", False)
        for value in node.values():
            _close(value)
    elif isinstance(node, list):
        for value in node:
            _close(value)


def report_schema() -> dict[str, Any]:
    """JSON Schema (draft 2020-12) of ``encode_report``'s output."""
    generated = msgspec.json.schema(AnalysisReport)
    _close(generated)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "spanscope analysis report",
        "description": (
            f"Output of `spanscope analyze --json` (report version {REPORT_VERSION}). "
            "Every *_ns field is an integer number of nanoseconds (times since the Unix "
            "epoch); *_rate and *share fields are fractions between 0 and 1. Versions only "
            "add optional fields, so reports of earlier versions validate too."
        ),
        **generated,
    }
