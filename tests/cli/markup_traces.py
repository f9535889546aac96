"""OTLP JSON documents written in a few lines, and names that rich would take for markup.

``span_json`` and ``otlp_document`` build a document of one service's spans; ``MARKUP_SERVICE``
and ``MARKUP_NAME`` hold ``[/red]`` and ``[dbo]``, which rich read as markup (a ``MarkupError``
traceback, or text that vanished) wherever the commands printed names through it.
``write_markup_store`` writes the store the ``markup_store`` fixture (``tests/cli/conftest.py``)
holds: two traces of that service, ``EARLY`` (a root named ``MARKUP_NAME`` with one child, its
last span the latest of all) and ``LATE`` (one short span, starting 100 ms after ``EARLY``).
"""

from __future__ import annotations

import json
from pathlib import Path

from spanscope.formats import read_spans
from spanscope.store import open_store

START = 1_795_779_600_000_000_000  # 2026-11-27T11:40:00Z
MS = 1_000_000
MARKUP_SERVICE = "db[/red]svc"
MARKUP_NAME = "SELECT [dbo].[stock] [/red]"
EARLY = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1"  # starts first, its last span latest
LATE = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb2"  # starts 100 ms later, one short span


def span_json(trace: str, span: str, parent: str, name: str, start: int, end: int) -> dict:
    """One OTLP JSON span (a server span) with these ids, name and times (ns)."""
    return {
        "traceId": trace,
        "spanId": span,
        "parentSpanId": parent,
        "name": name,
        "kind": 2,
        "startTimeUnixNano": str(start),
        "endTimeUnixNano": str(end),
    }


def otlp_document(service: str, spans: list[dict]) -> dict:
    """An OTLP JSON document of ``spans`` (``span_json``), all of ``service``."""
    resource = {"attributes": [{"key": "service.name", "value": {"stringValue": service}}]}
    return {"resourceSpans": [{"resource": resource, "scopeSpans": [{"spans": spans}]}]}


def write_markup_store(folder: Path) -> Path:
    """The two traces of ``MARKUP_SERVICE`` in a new store in ``folder``, read from the
    OTLP JSON file ``traces.json`` beside it, as a user would load them."""
    trace_file = folder / "traces.json"
    spans = [
        span_json(EARLY, "00000000000000e1", "", MARKUP_NAME, START, START + 1000 * MS),
        span_json(EARLY, "00000000000000e2", "00000000000000e1", "child", START + 500 * MS,
                  START + 600 * MS),
        span_json(LATE, "00000000000000f1", "", "GET /late", START + 100 * MS, START + 110 * MS),
    ]  # fmt: skip
    trace_file.write_text(json.dumps(otlp_document(MARKUP_SERVICE, spans)))
    path = folder / "traces.duckdb"
    with open_store(path) as store:
        store.write(list(read_spans(trace_file)))
    return path
