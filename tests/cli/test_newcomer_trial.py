"""What a newcomer trying every README and ``--help`` command ran into, each fixed and held here:
names with rich markup in ``query``'s tables, its "most recent first" list in start order,
``generate`` without ``-o`` on a terminal, a ``--fail-if`` about a misspelt endpoint, and
``info``'s counts. Real files, real DuckDB stores, the real command (click's runner or a
subprocess on a pseudo-terminal)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from spanscope.cli import main
from spanscope.formats import read_spans
from spanscope.store import open_store

START = 1_795_779_600_000_000_000  # 2026-11-27T11:40:00Z
MS = 1_000_000
MARKUP_SERVICE = "db[/red]svc"
MARKUP_NAME = "SELECT [dbo].[stock] [/red]"


def _span(trace: str, span: str, parent: str, name: str, start: int, end: int) -> dict:
    return {
        "traceId": trace,
        "spanId": span,
        "parentSpanId": parent,
        "name": name,
        "kind": 2,
        "startTimeUnixNano": str(start),
        "endTimeUnixNano": str(end),
    }


def _otlp(service: str, spans: list[dict]) -> dict:
    resource = {"attributes": [{"key": "service.name", "value": {"stringValue": service}}]}
    return {"resourceSpans": [{"resource": resource, "scopeSpans": [{"spans": spans}]}]}


EARLY = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1"  # starts first, its last span latest
LATE = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb2"  # starts 100 ms later, one short span


@pytest.fixture(scope="module")
def store_path(tmp_path_factory) -> str:
    folder = tmp_path_factory.mktemp("newcomer")
    trace_file = folder / "traces.json"
    spans = [
        _span(EARLY, "00000000000000e1", "", MARKUP_NAME, START, START + 1000 * MS),
        _span(EARLY, "00000000000000e2", "00000000000000e1", "child", START + 500 * MS,
              START + 600 * MS),
        _span(LATE, "00000000000000f1", "", "GET /late", START + 100 * MS, START + 110 * MS),
    ]  # fmt: skip
    trace_file.write_text(json.dumps(_otlp(MARKUP_SERVICE, spans)))
    path = folder / "traces.duckdb"
    with open_store(path) as store:
        store.write(list(read_spans(trace_file)))
    return str(path)


def _query(*args: str):
    return CliRunner().invoke(
        main, ["query", *args], catch_exceptions=False, env={"COLUMNS": "200"}
    )


def test_query_prints_names_with_markup_as_they_are(store_path: str) -> None:
    # Each of these raised rich's MarkupError (a traceback) on "[/red]" in a name.
    table = _query("--db", store_path)
    assert table.exit_code == 0, table.output
    assert f"{MARKUP_SERVICE}: {MARKUP_NAME}" in table.output
    spans = _query("--db", store_path, "--trace-id", EARLY)
    assert spans.exit_code == 0, spans.output
    assert f"{MARKUP_SERVICE}: {MARKUP_NAME}" in spans.output
    services = _query("--db", store_path, "--metrics", "--since", "2026-11-27T11:00")
    assert services.exit_code == 0, services.output
    assert MARKUP_SERVICE in services.output
    operations = _query(
        "--db", store_path, "--metrics", "--since", "2026-11-27T11:00", "--service",
        MARKUP_SERVICE,
    )  # fmt: skip
    assert operations.exit_code == 0, operations.output
    assert f"of {MARKUP_SERVICE}" in operations.output and MARKUP_NAME in operations.output


def test_query_lists_the_most_recent_first_by_their_start(store_path: str) -> None:
    """The store picks traces by their last matching span (EARLY's child is the latest span);
    the list says "most recent first" beside each trace's start, so it is in start order."""
    rows = json.loads(_query("--db", store_path, "--json").output)
    assert [row["trace_id"] for row in rows] == [LATE, EARLY]
    table = _query("--db", store_path).output
    assert "2 traces, most recent first" in table
    assert table.index(LATE) < table.index(EARLY)
