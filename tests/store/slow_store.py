"""A store whose tag search runs for many seconds, built in a few, and the child processes that
search it: for the tests of what Ctrl-C and SIGTERM do to a running query, and what a server
does when it stops or a caller goes away while one runs. The ``slow_store`` fixture
(``tests/conftest.py``) builds it once; ``copied`` gives a test a copy of its own to write to.

The store is a real one (``open_store`` creates it, a few generated traces go in through
``write``), plus ``ROWS`` spans added by one DuckDB ``INSERT ... SELECT FROM range(...)`` into
the same tables. Each of them has ``KEYS`` span attributes (``k0`` ... that all equal ``v``) in
a JSON text of about 1 kB, the same for every span (DuckDB stores it once per row group). A
search with all ``KEYS`` tags (``TAGS``) matches every span, so DuckDB reads the JSON once per
tag and span: 100,000 spans took 15 s alone on two cores, built in 2 s.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb

from spanscope.store import open_store
from spanscope.synthetic import generate_spans

T0 = 1_764_150_000_000_000_000  # 2025-11-26T09:40:00Z
ROWS = 100_000
KEYS = 80
TAGS = [argument for i in range(KEYS) for argument in ("--tag", f"k{i}=v")]
SPANS_A_TRACE = 8


def build_slow_store(path: Path) -> Path:
    with open_store(path) as store:
        store.write(list(generate_spans(5, seed=1, start_ns=T0)))
    attributes = "{" + ", ".join(f'"k{i}": "v"' for i in range(KEYS)) + f', "pad": "{"x" * 200}"}}'
    with duckdb.connect(str(path)) as connection:
        # All within 10 ms of T0: a search's first (newest) window holds them all.
        connection.execute(
            f"""
            INSERT INTO otel_traces SELECT
                make_timestamp_ns({T0} + range * 100), printf('%032x', range // {SPANS_A_TRACE}),
                printf('%016x', range + 1), '', '', 'op', 'Server', 'slow', '{{}}', '', '',
                '{attributes}', 1000, 'Unset', '', [], [], [], [], [], [], [], '{{}}', 0, [],
                NULL
            FROM range({ROWS})
            """
        )
        connection.execute(
            f"""
            INSERT INTO otel_traces_trace_id_ts SELECT
                printf('%032x', range), make_timestamp_ns({T0} + range * {SPANS_A_TRACE} * 100),
                make_timestamp_ns({T0} + (range + 1) * {SPANS_A_TRACE} * 100 - 100), range
            FROM range({ROWS // SPANS_A_TRACE})
            """
        )
        connection.execute(
            "INSERT OR IGNORE INTO spanscope_operations VALUES ('slow', 'op', 'Server')"
        )
    return path


def copied(store: Path, folder: Path) -> Path:
    """A copy of ``store`` in ``folder`` (``served.duckdb``), for a test that writes to it."""
    db = folder / "served.duckdb"
    shutil.copy(store, db)
    return db


def _as_from_a_shell() -> None:
    # A test runner's worker may hand SIGINT on ignored or blocked; a shell does neither, and
    # Python then turns it into KeyboardInterrupt.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})


def start(command: list[str], **options) -> subprocess.Popen[str]:
    """``command`` in a child process that takes SIGINT as one started from a shell does."""
    return subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_as_from_a_shell,
        **options,
    )


def spanscope(*args: str) -> list[str]:
    return [sys.executable, "-m", "spanscope", *args]


def cpu_seconds(pid: int) -> float:
    """The CPU time process ``pid`` has used (user and system, all its threads)."""
    with open(f"/proc/{pid}/stat") as file:
        fields = file.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_until_busy(process: subprocess.Popen, cpu: float, timeout: float = 60) -> None:
    """Until ``process`` has used ``cpu`` seconds of CPU: starting Python and spanscope takes
    under one, so past that it is inside the search (a wall-clock wait would not know, on a
    loaded machine)."""
    deadline = time.monotonic() + timeout
    while cpu_seconds(process.pid) < cpu:
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the child never got busy"
        time.sleep(0.05)


def stop_time(process: subprocess.Popen, signum: int, limit: float) -> float:
    """Send ``signum``; the seconds until ``process`` ended (at most ``limit``: it is killed
    then, and the test fails on the time)."""
    sent = time.monotonic()
    process.send_signal(signum)
    try:
        process.wait(limit)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        return float("inf")
    return time.monotonic() - sent
