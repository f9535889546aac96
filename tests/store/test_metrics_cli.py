"""``spanscope query --metrics`` on a real DuckDB store file: the per-service and the
per-operation table, as text and as JSON."""

from __future__ import annotations

import json
import time

from click.testing import CliRunner

from spanscope.cli import main
from spanscope.model import SpanKind
from spanscope.store import open_store

from .test_metrics import MS, S, _span


def _store(path) -> None:
    now = time.time_ns()
    spans = [
        *(_span(i, now - 600 * S + i * S, (i + 1) * MS, error=i == 0) for i in range(4)),
        _span(4, now - 300 * S, 50 * MS, name="POST /pay"),
        _span(5, now - 300 * S, 2 * MS, service="db"),
        _span(6, now - 300 * S, 9 * MS, service="db", kind=SpanKind.CLIENT),
        _span(7, now - 7200 * S, 9 * MS, service="old"),  # outside the default hour
    ]
    with open_store(path) as store:
        store.write(spans)


def test_per_service_json(tmp_path):
    db = tmp_path / "m.duckdb"
    _store(db)
    result = CliRunner().invoke(main, ["query", "--db", str(db), "--metrics", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert [(row["service"], row["calls"], row["errors"]) for row in rows] == [
        ("api", 5, 1),
        ("db", 1, 0),
    ]
    assert rows[0]["error_rate"] == 0.2 and rows[0]["p50_ns"] == 3 * MS
    assert rows[0]["impact"] == 60 / 62


def test_per_operation_table_and_kind(tmp_path):
    db = tmp_path / "m.duckdb"
    _store(db)
    runner = CliRunner()
    text = runner.invoke(main, ["query", "--db", str(db), "--metrics", "--service", "api"])
    assert text.exit_code == 0, text.output
    assert "operations of api" in text.output
    assert "GET /" in text.output and "POST /pay" in text.output and "25.0%" in text.output
    client = runner.invoke(
        main, ["query", "--db", str(db), "--metrics", "--kind", "client", "--json"]
    )
    assert [(row["service"], row["calls"]) for row in json.loads(client.output)] == [("db", 1)]
    longer = runner.invoke(main, ["query", "--db", str(db), "--metrics", "--since", "3h"])
    assert "old" in longer.output
    empty = runner.invoke(main, ["query", "--db", str(db), "--metrics", "--kind", "producer"])
    assert empty.exit_code == 0 and "no producer spans in the window" in empty.output
