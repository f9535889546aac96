"""``spanscope serve --db chdb:DIR`` notes its address beside the folder, as it does beside a
DuckDB file (``DIR.server.json``), so ``query``/``analyze``/``lint --db chdb:DIR`` read the
store through it while it runs (chDB lets one process use a folder) instead of failing; the note
goes when the server stops.

A real ``spanscope serve`` child process on a real chDB folder, spans sent over OTLP/HTTP, the
commands run as child processes.
"""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path

import httpx
import pytest

from spanscope.formats import encode_spans
from spanscope.synthetic import generate_spans
from tests.cli.run import spanscope
from tests.server.conftest import serve_process

pytest.importorskip("chdb", reason="chdb (embedded ClickHouse) is not installed")

TRACES = 30


@pytest.mark.parametrize("spelling", ["chdb:", "chdb://"])  # (chdb:// went unnoted)
def test_commands_read_a_served_chdb_folder_through_its_server(
    tmp_path: Path, spelling: str
) -> None:
    folder = tmp_path / "traces-ch"
    db = f"{spelling}{folder}"
    noted = Path(f"{folder}.server.json")
    process, http_port, ui_port = serve_process(db)
    try:
        spans = list(generate_spans(TRACES, seed=2))
        answer = httpx.post(
            f"http://127.0.0.1:{http_port}/v1/traces",
            content=encode_spans(spans, "otlp-proto"),
            headers={"Content-Type": "application/x-protobuf"},
            timeout=60,
        )
        assert answer.status_code == 200, answer.text
        deadline = time.monotonic() + 30
        while not noted.exists():  # written once it listens
            assert time.monotonic() < deadline, "no note beside the folder"
            time.sleep(0.1)
        assert json.loads(noted.read_text())["url"] == f"http://127.0.0.1:{ui_port}"
        held = f"{db} is held by a running 'spanscope serve': reading it through"

        queried = spanscope("query", "--db", db, "--json", "--limit", "100")
        assert queried.returncode == 0, queried.stderr
        assert held in queried.stderr
        assert len(json.loads(queried.stdout)) == TRACES
        described = spanscope("info", "--db", db, "--json")
        assert described.returncode == 0, described.stderr
        stats = json.loads(described.stdout)
        assert (stats["kind"], stats["traces"]) == ("spanscope server", TRACES)
        linted = spanscope("lint", "--db", db, "--json")
        assert linted.returncode == 0, linted.stderr
        assert held in linted.stderr
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(60)
    assert process.returncode == 0
    assert not noted.exists()  # gone with the server
    # and with it stopped, the folder is read as it is
    alone = spanscope("info", "--db", db, "--json")
    assert alone.returncode == 0, alone.stderr
    assert json.loads(alone.stdout)["kind"] == "store"
