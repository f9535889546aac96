"""A real server on loopback for the server tests: real DuckDB file, real HTTP and gRPC, each
listener on a free port (port 0), run in a background thread with its own event loop."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from spanscope.server.app import Server, ServerConfig
from spanscope.server.jaeger_api import JaegerApi
from spanscope.server.native_api import NativeApi
from spanscope.server.pages import Pages
from spanscope.store import open_store


@dataclass
class RunningServer:
    server: Server
    store: object
    db_path: Path

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


def start_server(db_path: Path, **config) -> tuple[RunningServer, threading.Thread]:
    store = open_store(db_path)
    server = Server(
        ServerConfig(otlp_grpc_port=0, otlp_http_port=0, zipkin_port=0, ui_port=0, **config),
        store,
        extra_routes=[
            *JaegerApi(store).routes(),
            *NativeApi(store).routes(),
            *Pages(store).routes(),
        ],
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
    running = RunningServer(server, store, db_path)
    running._loop = loop  # type: ignore[attr-defined]
    return running, thread


def stop_server(running: RunningServer, thread: threading.Thread) -> None:
    running._loop.call_soon_threadsafe(running.server.stop)  # type: ignore[attr-defined]
    thread.join(30)
    assert not thread.is_alive(), "server did not stop"
    running.store.close()  # type: ignore[attr-defined]


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[RunningServer]:
    running, thread = start_server(tmp_path / "traces.duckdb")
    yield running
    stop_server(running, thread)
