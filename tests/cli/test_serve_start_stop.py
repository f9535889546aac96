"""``spanscope serve`` that cannot start leaves no store behind it created (and never touches
one that was there), and Ctrl-C or SIGTERM stops it at once even while a search runs: real
child processes, real ports, real signals, a real store whose search takes many seconds."""

from __future__ import annotations

import hashlib
import json
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from benchmarks.loadgen import free_port

from spanscope.store import open_store
from spanscope.store.server_store import SERVING_SUFFIX
from spanscope.synthetic import generate_spans
from tests.store.slow_store import (
    KEYS,
    T0,
    copied,
    cpu_seconds,
    spanscope,
    start,
    stop_time,
    wait_until_busy,
)

# Before the fix a stop during the 15 s search took 8.6 s; 0.3 s after it, on a quiet machine.
# 5 s leaves room for a loaded one (3.3 s was seen at load 5 against a limit of 3).
STOP_LIMIT_S = 5.0


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A port something else listens on."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        yield listener.getsockname()[1]


def _serve(db: str, ui_port: int, grpc_port: int = 0) -> subprocess.CompletedProcess[str]:
    command = spanscope(
        "serve", "--db", db, "--ui-port", str(ui_port), "--otlp-http-port", "0",
        "--otlp-grpc-port", str(grpc_port), "--zipkin-port", "0",
    )  # fmt: skip
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


def _failed_to_listen(done: subprocess.CompletedProcess[str], port: int, option: str) -> None:
    assert done.returncode == 1, done.stderr
    assert f"127.0.0.1:{port}: Address already in use" in done.stderr
    assert option in done.stderr
    assert "Traceback" not in done.stderr


def test_a_serve_that_cannot_listen_leaves_no_new_store(tmp_path: Path, busy_port: int) -> None:
    db = tmp_path / "new.duckdb"
    _failed_to_listen(_serve(str(db), busy_port), busy_port, "--ui-port")
    assert sorted(tmp_path.iterdir()) == []  # no store, no .wal, no .server.json


def test_a_failure_later_in_start_up_also_removes_it(tmp_path: Path, busy_port: int) -> None:
    """gRPC starts after the HTTP listeners are bound: the store was created well before."""
    db = tmp_path / "new.duckdb"
    done = _serve(str(db), free_port(), grpc_port=busy_port)
    assert done.returncode == 1, done.stderr
    assert f"cannot listen on 127.0.0.1:{busy_port}: Address already in use" in done.stderr
    assert "another port with --otlp-grpc-port; 0 turns that listener off" in done.stderr
    assert "Traceback" not in done.stderr
    assert sorted(tmp_path.iterdir()) == []


def test_an_existing_store_is_left_as_it_was(tmp_path: Path, busy_port: int) -> None:
    db = tmp_path / "traces.duckdb"
    spans = list(generate_spans(10, seed=2, start_ns=T0))
    with open_store(db) as store:
        store.write(spans)
    before = {path.name: hashlib.sha256(path.read_bytes()).digest() for path in tmp_path.iterdir()}
    _failed_to_listen(_serve(str(db), busy_port), busy_port, "--ui-port")
    after = {path.name: hashlib.sha256(path.read_bytes()).digest() for path in tmp_path.iterdir()}
    assert after == before
    with open_store(db, read_only=True) as store:
        assert store.stats().spans == len(spans)


def test_a_new_chdb_folder_is_removed_too(tmp_path: Path, busy_port: int) -> None:
    pytest.importorskip("chdb", reason="chdb (embedded ClickHouse) is not installed")
    folder = tmp_path / "traces-ch"
    _failed_to_listen(_serve(f"chdb:{folder}", busy_port), busy_port, "--ui-port")
    assert not folder.exists()
    # one that was there stays, with what it held
    folder.mkdir()
    (folder / "kept").write_text("mine")
    _failed_to_listen(_serve(f"chdb:{folder}", busy_port), busy_port, "--ui-port")
    assert (folder / "kept").read_text() == "mine"


def test_a_new_chdb_folder_spelt_with_slashes_is_removed_too(
    tmp_path: Path, busy_port: int
) -> None:
    """``chdb://FOLDER`` is the same store as ``chdb:FOLDER``; it was taken for a ClickHouse
    server's URL (it has '://'), and its new folder was left behind (found in review)."""
    pytest.importorskip("chdb", reason="chdb (embedded ClickHouse) is not installed")
    folder = tmp_path / "traces-ch"
    _failed_to_listen(_serve(f"chdb://{folder}", busy_port), busy_port, "--ui-port")
    assert not folder.exists()


# -- stopping while a search runs --------------------------------------------------------


def _wait_healthy(process: subprocess.Popen, ui_port: int, db: Path) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            if (
                httpx.get(f"http://127.0.0.1:{ui_port}/healthz").status_code == 200
                and Path(str(db) + SERVING_SUFFIX).exists()
            ):
                return
        except httpx.TransportError:
            pass
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.1)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_stops_serve_while_a_search_runs(
    slow_store: Path, tmp_path: Path, signum: signal.Signals
) -> None:
    """The search is stopped, its request answered (500), the writes drained and the summary
    printed, as when nothing runs; before, the server waited for the search (8.6 s here)."""
    db = copied(slow_store, tmp_path)
    ui_port = free_port()
    command = spanscope(
        "serve", "--db", str(db), "--ui-port", str(ui_port), "--otlp-http-port", "0",
        "--otlp-grpc-port", "0", "--zipkin-port", "0",
    )  # fmt: skip
    server = start(command)
    answer: dict[str, object] = {}
    try:
        _wait_healthy(server, ui_port, db)
        idle = cpu_seconds(server.pid)
        micros = T0 // 1000

        def search() -> None:
            try:
                response = httpx.get(
                    f"http://127.0.0.1:{ui_port}/api/traces",
                    params={
                        "service": "slow",
                        "tags": json.dumps({f"k{i}": "v" for i in range(KEYS)}),
                        "start": str(micros - 10**6),
                        "end": str(micros + 10**6),
                        "limit": "20",
                    },
                    timeout=120,
                )
                answer["status"] = response.status_code
            except httpx.HTTPError as exc:
                answer["error"] = exc

        searching = threading.Thread(target=search)
        searching.start()
        wait_until_busy(server, idle + 1.0)  # inside the search
        took = stop_time(server, signum, STOP_LIMIT_S + 60)
        _, errors = server.communicate(timeout=10)
        searching.join(30)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    assert took < STOP_LIMIT_S, f"stopped {took:.1f} s after the signal"
    assert server.returncode == 0, errors
    assert errors.rstrip().endswith(f"stopped: 0 spans written to {db} since the start")
    assert "Traceback" not in errors
    assert answer.get("status") == 500, answer
    assert not Path(str(db) + SERVING_SUFFIX).exists()


def test_serving_on_every_interface_gives_addresses_a_browser_opens(tmp_path: Path) -> None:
    # It printed http://0.0.0.0:PORT/, which a browser cannot open everywhere.
    from tests.server.conftest import serve_process

    process, http_port, ui_port = serve_process(str(tmp_path / "t.duckdb"), "--host", "0.0.0.0")
    try:
        process.send_signal(signal.SIGTERM)
        assert process.wait(30) == 0
    finally:
        if process.poll() is None:
            process.kill()
    assert process.stderr is not None
    said = process.stderr.read().decode()
    assert "on every interface (0.0.0.0); from here:" in said, said
    assert f"http://127.0.0.1:{ui_port}/" in said and f"127.0.0.1:{http_port}/v1/traces" in said
    assert "http://0.0.0.0" not in said
