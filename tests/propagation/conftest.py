"""Shared pieces of the propagation tests: echo probes on free loopback ports, and a callback
server that records what a service under test sends (the W3C harness's side of the contract)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from spanscope.propagation.echo import EchoConfig, EchoServer

from .loopback import LoopbackServer, QuietHandler

FIXTURES = Path(__file__).parent.parent / "fixtures"


class CallbackServer(LoopbackServer):
    """Records the headers of every request to ``/<scope>/<n>``, as the W3C harness does."""

    def __init__(self) -> None:
        self.calls: dict[str, list[tuple[str, str]]] = {}
        self.lock = threading.Lock()
        recorder = self

        class Handler(QuietHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                with recorder.lock:
                    recorder.calls[self.path.strip("/")] = list(self.headers.items())
                self.answer(200, b"{}")

        super().__init__(Handler)

    def url(self, scope: str) -> str:
        return f"{self.base_url}/{scope}"


@pytest.fixture
def callback_server() -> Iterator[CallbackServer]:
    server = CallbackServer()
    yield server
    server.stop()


@pytest.fixture
def echo_factory() -> Iterator[Callable[..., EchoServer]]:
    """Start echo probes on free ports; all are stopped after the test."""
    started: list[EchoServer] = []

    def start(**options: object) -> EchoServer:
        server = EchoServer(EchoConfig(**options)).start()  # type: ignore[arg-type]
        started.append(server)
        return server

    yield start
    for server in reversed(started):
        server.stop()


@pytest.fixture
def echo_chain(echo_factory) -> Callable[..., list[EchoServer]]:
    """``echo_chain(["gateway", "orders", "payments"])`` -> probes chained first to last."""

    def build(services: list[str], **per_service: dict) -> list[EchoServer]:
        chain: list[EchoServer] = []
        for index in reversed(range(len(services))):
            name = services[index]
            forward = [chain[0].url + services[index + 1]] if chain else []
            options = {"service": name, "forward": forward, **per_service.get(name, {})}
            chain.insert(0, echo_factory(**options))
        return chain

    return build


def load_json(relative: str) -> dict:
    return json.loads((FIXTURES / relative).read_text())
