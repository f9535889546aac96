"""``spanscope query`` against a real store file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from spanscope.cli import main
from spanscope.formats import read_spans
from spanscope.store import open_store

from .markup_traces import EARLY, LATE, MARKUP_NAME, MARKUP_SERVICE

JAEGER = Path(__file__).parent.parent / "fixtures" / "jaeger"
PREFIX = "internal__storage__integration__fixtures__traces__"


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("query") / "traces.duckdb"
    with open_store(path) as store:
        for name in ("multiple1_trace", "multiple2_trace", "multiple3_trace", "opname_dur_trace"):
            store.write(list(read_spans(JAEGER / f"{PREFIX}{name}.json")))
    return str(path)


def run(*args: str):
    return CliRunner().invoke(
        main, ["query", *args], catch_exceptions=False, env={"COLUMNS": "160"}
    )


def test_table_lists_matching_traces(db):
    result = run("--db", db, "--service", "query22-service")
    assert result.exit_code == 0, result.output
    assert "3 traces, most recent first" in result.output
    assert "query22-service" in result.output


def test_json_search_with_conditions(db):
    result = run(
        "--db",
        db,
        "--service",
        "query08-service",
        "--operation",
        "query08-operation",
        "--min-duration",
        "4500ns",
        "--max-duration",
        "5.5us",
        "--json",
    )
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert len(rows) == 1 and rows[0]["root_service"] == "query08-service"
    assert rows[0]["spans"] >= 1 and rows[0]["duration_ns"] > 0
    none = json.loads(
        run("--db", db, "--service", "query08-service", "--max-duration", "1ns", "--json").stdout
    )  # (stderr says why nothing matched)
    assert none == []


def test_one_trace_by_id(db):
    rows = json.loads(
        run("--db", db, "--service", "query22-service", "--limit", "1", "--json").output
    )
    result = run("--db", db, "--trace-id", rows[0]["trace_id"], "--json")
    spans = json.loads(result.output)
    assert {span["trace_id"] for span in spans} == {rows[0]["trace_id"]}
    assert len(spans) == rows[0]["spans"]


def test_bad_input_gets_clear_messages(db, tmp_path):
    result = CliRunner().invoke(main, ["query", "--db", db, "--tag", "novalue"])
    assert result.exit_code == 2 and "expected KEY=VALUE" in result.output
    result = CliRunner().invoke(main, ["query", "--db", db, "--trace-id", "xyz"])
    assert result.exit_code == 2 and "invalid trace id" in result.output
    result = CliRunner().invoke(main, ["query", "--db", str(tmp_path / "none.duckdb")])
    assert result.exit_code == 2 and "no such store" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["query", "--since", "soon"], "Invalid value for '--since': 'soon' is not a time"),
        (["serve", "--retention", "7"], "Invalid value for '--retention': invalid duration '7'"),
        (["serve", "--max-body", "huge"], "Invalid value for '--max-body': invalid size 'huge'"),
        # Past 64 bits: these were overflow tracebacks deep in a query.
        (
            ["query", "--min-duration", "999999999999d"],
            "Invalid value for '--min-duration': '999999999999d' is more than 292 years",
        ),
        (
            ["serve", "--max-db-size", "99999999TB"],
            "Invalid value for '--max-db-size': '99999999TB' is more than 8 EiB",
        ),
    ],
)
def test_durations_and_sizes_are_checked_before_anything_runs(tmp_path, args, message):
    # The store's path does not exist: a bad option is reported before any store is opened.
    result = CliRunner().invoke(main, [*args, "--db", str(tmp_path / "none.duckdb")])
    assert result.exit_code == 2 and message in result.output
    assert not (tmp_path / "none.duckdb").exists()


def test_store_held_by_a_writer_says_what_to_do(tmp_path):
    path = tmp_path / "busy.duckdb"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent("""
            import sys
            from spanscope.store import open_store
            store = open_store(sys.argv[1])
            print("open", flush=True)
            sys.stdin.read()
        """),
            str(path),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    try:
        assert holder.stdout.readline().strip() == "open"
        result = CliRunner().invoke(main, ["query", "--db", str(path)])
        assert result.exit_code == 2  # a store that cannot be read, as a file
        assert "open for writing in another process" in result.output
        assert "spanscope serve" in result.output
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)


def test_a_directory_is_not_a_store(tmp_path):
    result = CliRunner().invoke(main, ["query", "--db", str(tmp_path)])
    assert result.exit_code == 2
    assert f"{tmp_path}: a directory, not a store" in result.output
    assert f"chdb:{tmp_path}" in result.output and "IO Error" not in result.output


# -- found by trying every example of the README and of --help, each fixed and held here --


def test_query_prints_names_with_markup_as_they_are(markup_store: str) -> None:
    # Each of these raised rich's MarkupError (a traceback) on "[/red]" in a name.
    table = run("--db", markup_store)
    assert table.exit_code == 0, table.output
    assert f"{MARKUP_SERVICE}: {MARKUP_NAME}" in table.output
    spans = run("--db", markup_store, "--trace-id", EARLY)
    assert spans.exit_code == 0, spans.output
    assert f"{MARKUP_SERVICE}: {MARKUP_NAME}" in spans.output
    services = run("--db", markup_store, "--metrics", "--since", "2026-11-27T11:00")
    assert services.exit_code == 0, services.output
    assert MARKUP_SERVICE in services.output
    operations = run(
        "--db", markup_store, "--metrics", "--since", "2026-11-27T11:00", "--service",
        MARKUP_SERVICE,
    )  # fmt: skip
    assert operations.exit_code == 0, operations.output
    assert f"of {MARKUP_SERVICE}" in operations.output and MARKUP_NAME in operations.output


def test_query_lists_the_most_recent_first_by_their_start(markup_store: str) -> None:
    """The store picks traces by their last matching span (EARLY's child is the latest span);
    the list says "most recent first" beside each trace's start, so it is in start order."""
    rows = json.loads(run("--db", markup_store, "--json").output)
    assert [row["trace_id"] for row in rows] == [LATE, EARLY]
    table = run("--db", markup_store).output
    assert "2 traces, most recent first" in table
    assert table.index(LATE) < table.index(EARLY)


def test_query_with_min_duration_above_max_duration_is_a_usage_error(tmp_path: Path) -> None:
    """It searched the store and said each condition matched some traces, none all of them."""
    absent = tmp_path / "none.duckdb"
    result = CliRunner().invoke(
        main, ["query", "--db", str(absent), "--min-duration", "2s", "--max-duration", "1s"]
    )
    assert result.exit_code == 2
    assert "--min-duration 2s is longer than --max-duration 1s: no trace can match" in (
        result.output
    )
    assert not absent.exists()


def test_query_metrics_reads_requests_a_second_without_exponents(markup_store: str) -> None:
    """A quiet service over hours read "3e-05" requests a second."""

    def rate(since: str, until: str) -> str:
        result = run("--db", markup_store, "--metrics", "--since", since, "--until", until)
        assert result.exit_code == 0, result.output
        row = next(line for line in result.output.splitlines() if MARKUP_SERVICE in line)
        return row.split("│")[3].strip()

    assert rate("2026-11-27T06:00", "2026-11-27T12:00") == "<0.01"
    assert rate("2026-11-27T11:40", "2026-11-27T11:40:01") == "3.00"


def test_a_json_lines_file_given_as_a_store_is_named_json_lines(small_shop: str) -> None:
    """The shop's lines are ~300 KB (one request of many spans each): from 4 KB of the first,
    'query --db shop.jsonl' called it "a trace file (otlp-json)"."""
    result = CliRunner().invoke(main, ["query", "--db", small_shop])
    assert result.exit_code == 2
    assert f"{small_shop}: a trace file (otlp-jsonl), not a store" in result.output


def test_the_trace_list_counts_errors_as_analyze_does(tmp_path: Path) -> None:
    """A Zipkin span with no status but HTTP status 500 failed (``is_error_span``): the list
    counted only status ERROR and said 0 where ``--tag error=true`` finds the trace."""
    path = tmp_path / "zipkin.duckdb"
    fixture = (
        Path(__file__).parent.parent
        / "fixtures"
        / "opentelemetry-collector"
        / "translator__trace__zipkinv2__testdata__zipkin_v2_single.json"
    )
    with open_store(path) as store:
        store.write(list(read_spans(fixture)))
    for args in ((), ("--tag", "error=true")):
        result = run("--db", str(path), *args, "--json")
        assert result.exit_code == 0, result.output
        rows = json.loads(result.stdout)
        assert [(row["root_service"], row["errors"]) for row in rows] == [("frontend", 1)]
    table = run("--db", str(path)).stdout
    assert "1 trace" in table, table
