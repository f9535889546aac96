"""Assembling and running the server: one Starlette app on several HTTP listeners, plus gRPC.

Start order is downstream first (store, writer, then receivers), stop order the reverse, like the
Collector: nothing is accepted that cannot be written, and everything accepted is written
before the store closes. ``Server.stop`` is safe to call twice or before ``start``.

Every HTTP port serves the same app, so the Jaeger-style UI/API port (16686), the OTLP/HTTP port
(4318) and the Zipkin port (9411) each answer on their usual paths.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import socket
import sys
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from spanscope.model import Span
from spanscope.server.metrics import Metrics
from spanscope.server.otlp_grpc import build_grpc_server
from spanscope.server.pipeline import SpanWriter, WritePipeline
from spanscope.server.receivers import Receivers

log = logging.getLogger(__name__)
T = TypeVar("T")


# Python's cyclic GC in a serving process: the receivers allocate a few dicts per span (about
# 2,000 container objects per 512-span request), so with the default gen-0 threshold of 700 a
# young collection ran after almost every request, and each old collection walked every live
# object (the store's caches, the queue). Spans make no cycles; a higher threshold keeps the
# collector for what does, at a bounded memory cost (50,000 objects between collections).
GC_THRESHOLDS = (50_000, 20, 100)
# How long a thread may hold the GIL while another waits for it (Python's default: 5 ms). The
# store's writer thread spends its time in DuckDB without the GIL, but each DuckDB call takes
# it back again and again (binding, each Arrow stream's schema and batches, commit, the
# result): about 35 times for one write. With the receivers and the encoder holding the GIL,
# each of those waited up to the whole interval (measured beside a busy Python thread: a
# 2,048-span write took 190 ms instead of 15 ms at 5 ms, 31 ms at 0.5 ms). Ingest benchmark,
# 8 senders: 54k -> 63k spans/s from 5 to 0.5 ms (writes of ~1.9k spans 35 -> 28 ms); on
# uvloop 71k -> 76k from 0.5 to 0.1 ms (25 -> 22 ms), for no measurable CPU per span.
SWITCH_INTERVAL_S = 0.0001


def tune_process_for_serving() -> None:
    """Call once in a process that serves, after start-up: what start-up built (modules, the
    app, the store) is moved out of the collector's sight (``gc.freeze``), young collections
    run less often (``GC_THRESHOLDS``) and a waiting thread gets the GIL sooner
    (``SWITCH_INTERVAL_S``). Not done by ``Server`` itself, which may run inside another
    program (tests, an embedding application) whose interpreter it should not set."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
    sys.setswitchinterval(SWITCH_INTERVAL_S)


def run_serving(main: Coroutine[object, object, T]) -> T:
    """``asyncio.run(main)``, on uvloop's event loop when it is installed (libuv's loop: less
    Python work per request on the thread that also decodes every request; the GIL, which the
    writer shares, is the server's scarcest resource)."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    return uvloop.run(main)


@dataclass
class ServerConfig:
    host: str = "127.0.0.1"
    otlp_grpc_port: int | None = 4317
    otlp_http_port: int | None = 4318
    zipkin_port: int | None = 9411
    ui_port: int | None = 16686
    max_body_bytes: int = 32 * 1024 * 1024
    queue_spans: int = 200_000

    def validate(self) -> None:
        ports = [
            p
            for p in (self.otlp_grpc_port, self.otlp_http_port, self.zipkin_port, self.ui_port)
            if p
        ]
        for port in ports:
            if not 0 < port < 65536:
                raise ValueError(f"port {port} is out of range 1-65535")
        if len(set(ports)) != len(ports):
            raise ValueError("each listener needs its own port")
        if self.max_body_bytes <= 0 or self.queue_spans <= 0:
            raise ValueError("body limit and queue size must be positive")


def build_app(
    receivers: Receivers,
    metrics: Metrics,
    extra_routes: Sequence[BaseRoute] = (),
) -> Starlette:
    async def metrics_endpoint(_: Request) -> Response:
        return PlainTextResponse(metrics.render(), media_type="text/plain; version=0.0.4")

    async def health(_: Request) -> Response:
        return PlainTextResponse("ok\n")

    routes: list[BaseRoute] = [
        *receivers.routes(),
        Route("/metrics", metrics_endpoint),
        Route("/healthz", health),
        *extra_routes,
    ]
    return Starlette(routes=routes)


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP, not 0: asyncio turns Nagle off (TCP_NODELAY) on accepted connections only
    # when the listening socket says TCP, and without that every small answer on a kept-alive
    # connection waits ~40 ms for the client's delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise OSError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    sock.listen(1024)
    sock.set_inheritable(True)
    return sock


@dataclass
class Server:
    """The running pieces. ``ports`` holds the bound ports by listener name (useful with 0)."""

    config: ServerConfig
    store: SpanWriter
    extra_routes: Sequence[BaseRoute] = ()
    sampler: Callable[[list[Span]], list[Span]] | None = None
    metrics: Metrics = field(default_factory=Metrics)
    ports: dict[str, int] = field(default_factory=dict)
    pipeline: WritePipeline = field(init=False)
    _uvicorn: uvicorn.Server | None = None
    _grpc: object | None = None
    _sockets: list[socket.socket] = field(default_factory=list)
    _started: asyncio.Event = field(default_factory=asyncio.Event)

    def __post_init__(self) -> None:
        self.config.validate()
        if hasattr(self.sampler, "stats"):  # a TailSampler: its counters go on /metrics
            self.metrics.tail_sampler = self.sampler
        self.pipeline = WritePipeline(
            self.store, self.metrics, capacity_spans=self.config.queue_spans, sampler=self.sampler
        )

    async def serve(self) -> None:
        """Run until ``stop`` is called or the process gets SIGINT/SIGTERM."""
        config = self.config
        self.pipeline.start()
        try:
            receivers = Receivers(self.pipeline, config.max_body_bytes)
            routes = list(self.extra_routes)
            if hasattr(self.store, "metrics_series"):  # a queryable store: RED metrics API
                from spanscope.server.metrics_api import MetricsApi

                routes[:0] = MetricsApi(self.store).routes()
            app = build_app(receivers, self.metrics, routes)
            for name in ("ui", "otlp_http", "zipkin"):
                port = getattr(config, f"{name}_port")
                if port is not None:
                    sock = _bind(config.host, port)
                    self._sockets.append(sock)
                    self.ports[name] = sock.getsockname()[1]
            if config.otlp_grpc_port is not None:
                grpc_server, grpc_port = build_grpc_server(
                    self.pipeline, f"{config.host}:{config.otlp_grpc_port}", config.max_body_bytes
                )
                await grpc_server.start()
                self._grpc = grpc_server
                self.ports["otlp_grpc"] = grpc_port
            self._uvicorn = uvicorn.Server(
                uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False)
            )
            self._started.set()
            await self._uvicorn.serve(sockets=self._sockets)
        finally:
            await self._shutdown()

    async def wait_started(self) -> None:
        await self._started.wait()

    def stop(self) -> None:
        if self._uvicorn is not None:
            self._uvicorn.should_exit = True

    async def _shutdown(self) -> None:
        if self._grpc is not None:
            await self._grpc.stop(grace=2)  # type: ignore[attr-defined]
            self._grpc = None
        for sock in self._sockets:
            with contextlib.suppress(OSError):
                sock.close()
        self._sockets.clear()
        # Drain: everything already accepted is written before the store closes.
        await asyncio.to_thread(self.pipeline.stop)
