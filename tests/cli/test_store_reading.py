"""``--db`` while ``spanscope serve`` holds the store, and ``analyze --db``.

Real ``spanscope serve`` child processes over real DuckDB files, fed through their OTLP/HTTP
receiver; real CLI runs (subprocess where a second process is the point, CliRunner otherwise).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spanscope.analysis.filters import TraceFilter, filter_traces
from spanscope.assembly import build_trace, group_by_trace
from spanscope.cli import main
from spanscope.cli.store_reading import store_search
from spanscope.formats import encode_spans
from spanscope.store import open_store
from spanscope.store.server_store import SERVING_SUFFIX, serving_url
from spanscope.synthetic import generate_spans
from tests.cli.run import spanscope
from tests.server.conftest import serve_process

T0 = 1_764_150_000_000_000_000
TRACES = 200


def _report(output: str) -> dict:
    report = json.loads(output)
    report.pop("inputs")  # names the file or the store; the rest must be the same
    return report


@pytest.fixture(scope="module")
def spans_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("spans") / "shop.pb"
    path.write_bytes(encode_spans(generate_spans(TRACES, seed=5, start_ns=T0), "otlp-proto"))
    return path


@pytest.fixture
def served_store(tmp_path: Path, spans_file: Path) -> Iterator[tuple[Path, int, subprocess.Popen]]:
    db = tmp_path / "traces.duckdb"
    process, http_port, ui_port = serve_process(str(db))
    try:
        answer = httpx.post(
            f"http://127.0.0.1:{http_port}/v1/traces",
            content=spans_file.read_bytes(),
            headers={"Content-Type": "application/x-protobuf"},
            timeout=60,
        )
        assert answer.status_code == 200, answer.text
        yield db, ui_port, process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            process.wait(60)


def test_query_and_analyze_read_a_served_store_through_its_server(
    served_store: tuple[Path, int, subprocess.Popen], spans_file: Path
) -> None:
    db, ui_port, process = served_store
    assert serving_url(db) == f"http://127.0.0.1:{ui_port}"

    found = spanscope("query", "--db", str(db), "--service", "frontend", "--limit", "500", "--json")
    assert found.returncode == 0, found.stderr
    assert "held by a running 'spanscope serve'" in found.stderr
    assert f"http://127.0.0.1:{ui_port}" in found.stderr
    assert len(json.loads(found.stdout)) == TRACES  # every request enters through frontend

    metrics = spanscope("query", "--db", str(db), "--metrics", "--since", "1000d", "--json")
    assert metrics.returncode == 0, metrics.stderr
    assert {row["service"] for row in metrics.stdout and json.loads(metrics.stdout)} >= {
        "frontend",
        "payment",
    }

    stored = spanscope("analyze", "--db", str(db), "--json")
    assert stored.returncode == 0, stored.stderr
    from_file = spanscope("analyze", str(spans_file), "--json")
    assert from_file.returncode == 0, from_file.stderr
    assert _report(stored.stdout) == _report(from_file.stdout)
    assert json.loads(stored.stdout)["inputs"] == [
        {
            "source": str(db),
            "format": "spanscope server",
            "spans": _span_count(spans_file),
            "error": None,
        }
    ]

    # The same through the server's address, from anywhere.
    by_url = spanscope("analyze", "--db", f"http://127.0.0.1:{ui_port}", "--json")
    assert by_url.returncode == 0, by_url.stderr
    assert _report(by_url.stdout) == _report(from_file.stdout)

    process.send_signal(signal.SIGTERM)
    assert process.wait(60) == 0
    assert not Path(str(db) + SERVING_SUFFIX).exists()
    # Stopped: the file itself is read.
    direct = spanscope("analyze", "--db", str(db), "--json")
    assert direct.returncode == 0, direct.stderr
    assert "held by" not in direct.stderr
    assert _report(direct.stdout) == _report(from_file.stdout)
    assert json.loads(direct.stdout)["inputs"][0]["format"] == "store"


def _span_count(path: Path) -> int:
    from spanscope.formats import decode_spans

    return len(decode_spans(path.read_bytes(), "otlp-proto"))


def test_a_file_held_by_something_else_says_what_to_do(tmp_path: Path) -> None:
    db = tmp_path / "traces.duckdb"
    with open_store(db) as store:
        store.write(list(generate_spans(3, seed=1, start_ns=T0)))
    # A server that was killed left its file; another process holds the store now.
    Path(str(db) + SERVING_SUFFIX).write_text(json.dumps({"url": "http://127.0.0.1:9", "pid": 1}))
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb, sys; held = duckdb.connect({str(db)!r}); print('held', flush=True); "
            "sys.stdin.read()",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == b"held\n"
        probe = spanscope("query", "--db", str(db), "--service", "frontend")
        assert probe.returncode == 2
        assert "open for writing in another process" in probe.stderr
        assert "Traceback" not in probe.stderr
        analysed = spanscope("analyze", "--db", str(db))
        assert analysed.returncode == 2
        assert "open for writing in another process" in analysed.stderr
    finally:
        holder.communicate(b"", timeout=30)


def test_a_stale_serving_file_is_ignored(tmp_path: Path) -> None:
    db = tmp_path / "traces.duckdb"
    with open_store(db) as store:
        store.write(list(generate_spans(3, seed=1, start_ns=T0)))
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], check=True,
                          capture_output=True, text=True).stdout.strip()  # fmt: skip
    Path(str(db) + SERVING_SUFFIX).write_text(
        json.dumps({"url": "http://127.0.0.1:9", "pid": int(dead)})
    )
    assert serving_url(db) is None
    Path(str(db) + SERVING_SUFFIX).write_text("{not json")
    assert serving_url(db) is None
    # alive (this process) but nothing answers there
    Path(str(db) + SERVING_SUFFIX).write_text(
        json.dumps({"url": "http://127.0.0.1:9", "pid": os.getpid()})
    )
    assert serving_url(db) is None


def test_analyze_wants_files_or_a_store_not_both(tmp_path: Path, spans_file: Path) -> None:
    runner = CliRunner()
    neither = runner.invoke(main, ["analyze"])
    assert neither.exit_code == 2
    assert "give the trace files to analyse (FILE...), or a store (--db)" in neither.output
    both = runner.invoke(main, ["analyze", str(spans_file), "--db", str(tmp_path / "x.duckdb")])
    assert both.exit_code == 2
    assert "not both" in both.output
    missing = runner.invoke(main, ["analyze", "--db", str(tmp_path / "none.duckdb")])
    assert missing.exit_code == 2
    assert "no such store" in missing.output


@pytest.mark.parametrize("command", ["analyze", "lint", "info", "diff"])
def test_limit_without_a_store_is_a_usage_error(spans_file: Path, command: str) -> None:
    # It was taken and ignored: files are read whole, and the user meant something by it.
    extra = [str(spans_file)] if command == "diff" else []
    done = CliRunner().invoke(main, [command, str(spans_file), *extra, "--limit", "5"])
    assert done.exit_code == 2, done.output
    assert "--limit goes with --db" in done.output


# --- the store search loses no trace that the filters keep ---------------------------------


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list]:
    db = tmp_path_factory.mktemp("stored") / "traces.duckdb"
    spans = list(generate_spans(120, seed=9, start_ns=T0))
    with open_store(db) as store:
        store.write(spans)
    groups = group_by_trace(spans)
    return db, [build_trace(trace_id, group) for trace_id, group in groups.items()]


SERVICES = ["frontend", "checkout", "payment", "inventory", "email", "nobody"]
OPERATIONS = ["POST /api/checkout", "shop.payment/Charge", "payment:POST", "SELECT shop.stock"]
MINUTE = 60 * 10**9


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    services=st.lists(st.sampled_from(SERVICES), max_size=2, unique=True),
    operations=st.lists(st.sampled_from(OPERATIONS), max_size=2, unique=True),
    since=st.none() | st.integers(0, 4 * MINUTE),
    length=st.none() | st.integers(1, 4 * MINUTE),
    min_duration=st.none() | st.integers(0, 200_000_000),
)
def test_a_store_search_keeps_every_trace_the_filter_keeps(
    stored: tuple[Path, list],
    services: list[str],
    operations: list[str],
    since: int | None,
    length: int | None,
    min_duration: int | None,
) -> None:
    db, traces = stored
    start = traces[0].start_ns if since is None else T0 + since
    trace_filter = TraceFilter(
        services=tuple(services),
        operations=tuple(operations),
        since_ns=None if since is None else start,
        until_ns=None if length is None else start + length,
        min_duration_ns=min_duration,
    )
    wanted = {trace.trace_id for trace in filter_traces(traces, trace_filter)}
    with open_store(db, read_only=True) as store:
        found = {
            spans[0].trace_id for spans in store.find_traces(store_search(trace_filter, 10**6))
        }
    assert wanted <= found


def test_serve_refuses_a_servers_address_as_its_store() -> None:
    result = CliRunner().invoke(main, ["serve", "--db", "http://127.0.0.1:9"])
    assert result.exit_code == 2
    assert "a server's address, whose store is read-only from here" in result.output


def test_traces_after_the_window_do_not_use_up_the_limit(tmp_path: Path) -> None:
    """A service's search ends STRADDLE_NS after --until: unbounded, the most recent --limit
    traces of a busy service came from after the window, and the window read as empty (the
    earlier side of diff --db)."""
    db = tmp_path / "busy.duckdb"
    early = list(generate_spans(100, seed=3, start_ns=T0))
    late = list(generate_spans(400, seed=4, start_ns=T0 + 10 * MINUTE))
    with open_store(db) as store:
        store.write(early + late)
    file = tmp_path / "early.jsonl"
    file.write_bytes(encode_spans(early, "otlp-jsonl"))
    window = ["--service", "checkout", "--since", str((T0 - 10**9) // 10**9)]
    window += ["--until", str((T0 + 5 * MINUTE) // 10**9)]

    def traces(*source: str) -> int:
        result = CliRunner().invoke(main, ["analyze", *source, *window, "--json"])
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)["summary"]["traces"]

    wanted = traces(str(file))
    assert 15 < wanted < 40  # and more than 40 after the window
    assert traces("--db", str(db), "--limit", "40") == wanted
