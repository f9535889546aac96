"""A real server on loopback for the server tests: real DuckDB file, real HTTP and gRPC, each
listener on a free port (port 0), run in a background thread with its own event loop; and
``spanscope serve`` as a child process (``serve_process``)."""

from __future__ import annotations

import asyncio
import subprocess
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from benchmarks.loadgen import free_port
from benchmarks.serving import serve_command

from spanscope.formats import decode_spans, encode_spans
from spanscope.model import Span
from spanscope.server.app import Server, ServerConfig
from spanscope.server.jaeger_api import JaegerApi
from spanscope.server.native_api import NativeApi
from spanscope.server.pages import Pages
from spanscope.store import Store, open_store
from tests.browser import chromium


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """One headless Chromium per test module (``tests.browser``)."""
    yield from chromium()


@dataclass
class RunningServer:
    server: Server
    store: Store
    db_path: Path
    loop: asyncio.AbstractEventLoop

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.server.ports['otlp_http']}"

    @property
    def zipkin(self) -> str:
        return f"http://127.0.0.1:{self.server.ports['zipkin']}"

    @property
    def ui(self) -> str:
        return f"http://127.0.0.1:{self.server.ports['ui']}"

    @property
    def grpc(self) -> str:
        return f"127.0.0.1:{self.server.ports['otlp_grpc']}"


def start_server(
    db_path: Path, sampler: Callable[[list[Span]], list[Span]] | None = None, **config
) -> tuple[RunningServer, threading.Thread]:
    """A server over a new store at ``db_path`` (``config``: ``ServerConfig`` fields, ``sampler``
    a tail sampler), started; ``stop_server`` stops it and closes the store."""
    store = open_store(db_path)
    server = Server(
        ServerConfig(otlp_grpc_port=0, otlp_http_port=0, zipkin_port=0, ui_port=0, **config),
        store,
        extra_routes=[
            *JaegerApi(store).routes(),
            *NativeApi(store).routes(),
            *Pages(store).routes(),
        ],
        sampler=sampler,
    )
    loop = asyncio.new_event_loop()
    started = threading.Event()

    async def main() -> None:
        task = asyncio.create_task(server.serve())
        await server.wait_started()
        started.set()
        await task

    thread = threading.Thread(target=loop.run_until_complete, args=(main(),), daemon=True)
    thread.start()
    assert started.wait(30), "server did not start"
    return RunningServer(server, store, db_path, loop), thread


def post_spans(server: RunningServer, spans: Iterable[Span], *, timeout: float = 60) -> None:
    """Send ``spans`` to the server's OTLP/HTTP receiver as protobuf, 2,000 a request; every
    request must be accepted."""
    spans = list(spans)
    for first in range(0, len(spans), 2000):
        answer = httpx.post(
            f"{server.http}/v1/traces",
            content=encode_spans(spans[first : first + 2000], "otlp-proto"),
            headers={"Content-Type": "application/x-protobuf"},
            timeout=timeout,
        )
        assert answer.status_code == 200, answer.text


def stored_trace(server: RunningServer, trace_id: str, missing_ok: bool = False) -> list[Span]:
    """The spans of one stored trace, as the native API exports them (OTLP protobuf: every
    field); [] when the server has no such trace and ``missing_ok``."""
    response = httpx.get(f"{server.ui}/api/v1/traces/{trace_id}", params={"format": "otlp-proto"})
    if missing_ok and response.status_code == 404:
        return []
    assert response.status_code == 200, response.text
    return decode_spans(response.content, "otlp-proto")


def wait_until_stored(running: RunningServer, spans: int, timeout: float = 60) -> None:
    """Until the server's store holds ``spans`` spans."""
    deadline = time.monotonic() + timeout
    while running.store.stats().spans < spans:
        assert time.monotonic() < deadline, "spans were not stored"
        time.sleep(0.05)


def stop_server(running: RunningServer, thread: threading.Thread) -> None:
    running.loop.call_soon_threadsafe(running.server.stop)
    thread.join(30)
    assert not thread.is_alive(), "server did not stop"
    running.store.close()


def serve_process(db: str, *extra: str) -> tuple[subprocess.Popen[bytes], int, int]:
    """``spanscope serve --db db *extra`` in a child process, once it answers its health check;
    returns it with its OTLP/HTTP and UI ports (gRPC and Zipkin listen on free ports)."""
    http_port, ui_port = free_port(), free_port()
    process = subprocess.Popen(
        serve_command(db, http_port=http_port, ui_port=ui_port, extra=extra),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    announced = Path(db + ".server.json")  # written once it listens (store.server_store)
    while True:
        try:
            healthy = httpx.get(f"http://127.0.0.1:{ui_port}/healthz").status_code == 200
            if healthy and (announced.exists() or "://" in db or db.startswith("chdb:")):
                return process, http_port, ui_port
        except httpx.TransportError:
            pass
        if process.poll() is not None:
            assert process.stderr is not None
            raise AssertionError(f"server exited: {process.stderr.read().decode()}")
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.2)


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[RunningServer]:
    running, thread = start_server(tmp_path / "traces.duckdb")
    yield running
    stop_server(running, thread)
