"""The whole live example as processes: ``spanscope serve`` and the four shop services.

``ShopStack(workdir, ...)`` is a context manager: entering starts ``spanscope serve`` (OTLP/HTTP
and UI on free ports unless given, store ``workdir/spanscope.duckdb``, started afresh) and the
services, each a subprocess with its log in ``workdir/logs/``, and waits until every one answers.
``stop_services()`` stops the services with SIGTERM, which makes each flush its queued spans
first: after it, every span is in the store. Leaving the context stops whatever still runs
(SIGTERM, then SIGKILL after a grace period), also on Ctrl-C or an error.

One run per ``workdir``: entering takes an exclusive lock on ``workdir/.example.lock`` before
it empties the store, so a second run on the same directory stops with a ``StackError`` naming
the running one (its pid and UI) instead of deleting the store that run's server is writing.

No orphans: children run in their own session (a Ctrl-C in the terminal reaches only the runner,
which stops them in order: services, then the server) and, on Linux, get SIGTERM from the kernel
if the runner dies (``PR_SET_PDEATHSIG``); services also watch their parent's pid.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from examples.shop.service import SERVICES

REPO = Path(__file__).resolve().parents[2]
_CALLEES = {"frontend": ["checkout"], "checkout": ["inventory", "payments"]}
_GRACE_S = 10.0


class StackError(Exception):
    """A process of the example did not start or answer."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _die_with_parent() -> None:
    # Runs in the child between fork and exec: ask Linux for SIGTERM when the runner dies.
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def get(url: str, timeout: float = 30.0) -> bytes:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return response.read()


def get_json(url: str, timeout: float = 30.0):
    return json.loads(get(url, timeout))


class ShopStack:
    def __init__(
        self,
        workdir: Path,
        ui_port: int | None = None,
        otlp_port: int | None = None,
        payment_failure_rate: float = 0.05,
    ) -> None:
        self.workdir = Path(workdir).resolve()  # children run in the repository
        self.ui_port = ui_port or free_port()
        self.otlp_port = otlp_port or free_port()
        self.ports = {name: free_port() for name in SERVICES}
        self.payment_failure_rate = payment_failure_rate
        self.db = self.workdir / "spanscope.duckdb"
        self.server: subprocess.Popen | None = None
        self.services: dict[str, subprocess.Popen] = {}
        self._logs: list = []
        self._lock: int | None = None

    @property
    def ui_url(self) -> str:
        return f"http://127.0.0.1:{self.ui_port}"

    @property
    def checkout_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['frontend']}/api/checkout"

    @property
    def pids(self) -> dict[str, int]:
        pids = {name: process.pid for name, process in self.services.items()}
        if self.server is not None:
            pids["spanscope"] = self.server.pid
        return pids

    def __enter__(self) -> ShopStack:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def _spawn(self, name: str, args: list[str], env: dict[str, str]) -> subprocess.Popen:
        log = open(self.workdir / "logs" / f"{name}.log", "wb")  # noqa: SIM115 - closed in stop()
        self._logs.append(log)
        return subprocess.Popen(
            [sys.executable, *args],
            cwd=REPO,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_die_with_parent if sys.platform == "linux" else None,
        )

    def take_workdir(self) -> None:
        """Hold ``.example.lock`` for the run (released by ``stop``, or by the kernel when the
        runner dies), or say which run holds it. ``start`` takes it; the runner takes it first
        so that a second run says "in use" before announcing a start it will not make."""
        if self._lock is not None:
            return
        self.workdir.mkdir(parents=True, exist_ok=True)
        path = self.workdir / ".example.lock"
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 4096).decode(errors="replace").strip() or "another process"
            os.close(fd)
            raise StackError(
                f"{self.workdir} is in use by another run of the example ({holder}); stop it "
                "(Ctrl-C in its terminal) or give this run its own --output-dir"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"pid {os.getpid()}, UI {self.ui_url}/".encode())
        self._lock = fd

    def start(self) -> None:
        self.take_workdir()
        (self.workdir / "logs").mkdir(parents=True, exist_ok=True)
        for path in (self.db, self.db.with_name(self.db.name + ".wal")):
            path.unlink(missing_ok=True)  # each run starts with an empty store
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
        env["SHOP_PAYMENT_FAILURE_RATE"] = str(self.payment_failure_rate)
        self.server = self._spawn(
            "spanscope",
            [
                "-m", "spanscope", "serve", "--db", str(self.db),
                "--otlp-http-port", str(self.otlp_port), "--otlp-grpc-port", "0",
                "--zipkin-port", "0", "--ui-port", str(self.ui_port),
            ],
            env,
        )  # fmt: skip
        self._wait_until("spanscope", self.server, f"{self.ui_url}/api/services")
        otlp = f"http://127.0.0.1:{self.otlp_port}"
        for name in reversed(SERVICES):  # callees first
            peers = [f"--peer={p}=http://127.0.0.1:{self.ports[p]}" for p in _CALLEES.get(name, [])]
            args = ["-m", "examples.shop.service", name, "--port", str(self.ports[name])]
            args += ["--otlp", otlp, "--parent-pid", str(os.getpid()), *peers]
            self.services[name] = self._spawn(name, args, env)
        for name, process in self.services.items():
            self._wait_until(name, process, f"http://127.0.0.1:{self.ports[name]}/healthz")

    def _wait_until(self, name: str, process: subprocess.Popen, url: str) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise StackError(f"{name} exited with {process.returncode}:\n{self.log_tail(name)}")
            try:
                get(url, timeout=1)
                return
            except OSError:
                time.sleep(0.1)
        raise StackError(f"{name} did not answer {url} within 30s:\n{self.log_tail(name)}")

    def log_tail(self, name: str, lines: int = 20) -> str:
        path = self.workdir / "logs" / f"{name}.log"
        text = path.read_text(errors="replace") if path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def spans_accepted(self) -> int:
        for line in get(f"{self.ui_url}/metrics").decode().splitlines():
            if line.startswith("spanscope_spans_accepted_total "):
                return int(float(line.split()[1]))
        return 0

    def wait_for_flush(self, quiet_s: float = 1.5, timeout_s: float = 30.0) -> int:
        """Wait until no span has arrived for ``quiet_s`` (the services keep running)."""
        deadline = time.monotonic() + timeout_s
        last, since = self.spans_accepted(), time.monotonic()
        while time.monotonic() < deadline:
            time.sleep(0.25)
            now = self.spans_accepted()
            if now != last:
                last, since = now, time.monotonic()
            elif time.monotonic() - since >= quiet_s:
                break
        return last

    def stop_services(self) -> None:
        """SIGTERM the services (each flushes its spans before exiting) and wait for them."""
        _terminate(self.services.values())

    def stop(self) -> None:
        _terminate(self.services.values())
        if self.server is not None:
            _terminate([self.server])
        for log in self._logs:
            log.close()
        self._logs.clear()
        if self._lock is not None:
            os.close(self._lock)  # closing the descriptor releases the lock
            self._lock = None


def _terminate(processes) -> None:
    processes = [process for process in processes if process.poll() is None]
    for process in processes:
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + _GRACE_S
    for process in processes:
        try:
            process.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
