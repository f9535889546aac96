"""``spanscope serve`` (or another server script) as a child process for the benchmarks.

``serving(command, url, log)`` starts it with its output in ``log``, waits for ``/healthz``,
and stops it afterwards (SIGTERM, then SIGKILL after 60 s); ``serve_command`` is the command
line with every listener but the ones asked for on a free port; ``cpu_seconds`` is the CPU
time a process has used so far (user + system), read from ``/proc`` while it runs.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from benchmarks.loadgen import wait_healthy


def serve_command(
    db: Path | str, *, http_port: int = 0, ui_port: int = 0, extra: Sequence[str] = ()
) -> list[str]:
    """``spanscope serve`` on ``db`` with OTLP/HTTP and the UI/API on the given ports (0: a
    free one), gRPC and Zipkin on free ports, and ``extra`` options."""
    return [
        sys.executable, "-m", "spanscope", "serve", "--db", str(db),
        "--otlp-http-port", str(http_port), "--ui-port", str(ui_port),
        "--otlp-grpc-port", "0", "--zipkin-port", "0", *extra,
    ]  # fmt: skip


@contextmanager
def serving(command: list[str], url: str, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """The server of ``command``, healthy at ``url``, until the block ends."""
    with open(log, "wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_healthy(process, url, log)
        yield process
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def cpu_seconds(pid: int) -> float:
    """User plus system CPU seconds of a running process."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
