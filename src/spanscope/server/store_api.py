"""The ``Store`` protocol's reads over HTTP: how a second process uses a running server's store.

DuckDB lets one process open a file while it writes, so ``spanscope query`` or ``analyze --db``
cannot open the store that ``spanscope serve`` holds. They ask the server instead
(``spanscope.store.server_store.ServerStore``), through these routes, which mirror the protocol
one to one so that the answers are the store's own, exactly:

- ``POST /api/v1/store/{method}`` with a MessagePack body of the method's arguments (a map of
  parameter names) and a MessagePack answer, for ``get_trace``, ``services``, ``operations``,
  ``find_trace_ids``, ``find_traces``, ``dependencies``, ``metrics_series``,
  ``metrics_summary``, ``metrics_summary_and_series`` and ``stats``. ``TraceQuery`` and
  ``MetricsQuery`` travel as maps of their fields.
- ``get_trace`` answers ``{"otlp": <OTLP protobuf of its spans>}``, ``find_traces``
  ``{"trace_ids": [...], "otlp": ...}``: protobuf keeps every field the store keeps, and the id
  list keeps the search's order.

Writes are not offered: spans reach the store through the receivers, which check and sample
them. A bad body or argument answers 400 in the native API's error shape, naming it; so does a
search for more than ``MAX_TRACES`` traces.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from spanscope.formats import encode_spans
from spanscope.model import SpanKind
from spanscope.server.api_errors import error_response
from spanscope.store.base import Store, TraceQuery
from spanscope.store.metrics_sql import MetricsQuery

MEDIA_TYPE = "application/msgpack"
# A search's traces are encoded in one answer: bound what one call may hold (about 2M spans of
# the shop), as Jaeger's API bounds its limit.
MAX_TRACES = 100_000
# Arguments are a few fields; anything larger is not a client of this API.
MAX_BODY_BYTES = 1 << 20


class _GetTrace(msgspec.Struct, forbid_unknown_fields=True):
    trace_id: str


class _Operations(msgspec.Struct, forbid_unknown_fields=True):
    service: str
    span_kind: SpanKind | None = None


class _Search(msgspec.Struct, forbid_unknown_fields=True):
    query: TraceQuery


class _Dependencies(msgspec.Struct, forbid_unknown_fields=True):
    end_ns: int
    lookback_ns: int
    include_self_calls: bool = False


class _Metrics(msgspec.Struct, forbid_unknown_fields=True):
    query: MetricsQuery


class _NoArguments(msgspec.Struct, forbid_unknown_fields=True):
    pass


def _find_traces(store: Store, arguments: _Search) -> dict[str, Any]:
    traces = store.find_traces(arguments.query)
    spans = [span for trace in traces for span in trace]
    return {
        "trace_ids": [trace[0].trace_id for trace in traces if trace],
        "otlp": encode_spans(spans, "otlp-proto"),
    }


# method -> (argument type, what it does with the store)
_METHODS: dict[str, tuple[type, Callable[[Store, Any], Any]]] = {
    "get_trace": (
        _GetTrace,
        lambda store, a: {"otlp": encode_spans(store.get_trace(a.trace_id), "otlp-proto")},
    ),
    "services": (_NoArguments, lambda store, _: store.services()),
    "operations": (_Operations, lambda store, a: store.operations(a.service, a.span_kind)),
    "find_trace_ids": (_Search, lambda store, a: store.find_trace_ids(a.query)),
    "find_traces": (_Search, _find_traces),
    "dependencies": (
        _Dependencies,
        lambda store, a: store.dependencies(a.end_ns, a.lookback_ns, a.include_self_calls),
    ),
    "metrics_series": (_Metrics, lambda store, a: store.metrics_series(a.query)),
    "metrics_summary": (_Metrics, lambda store, a: store.metrics_summary(a.query)),
    "metrics_summary_and_series": (
        _Metrics,
        lambda store, a: store.metrics_summary_and_series(a.query),
    ),
    "stats": (_NoArguments, lambda store, _: store.stats()),
}


class StoreApi:
    def __init__(self, store: Store) -> None:
        self.store = store

    def routes(self) -> list[Route]:
        return [Route("/api/v1/store/{method}", self.call, methods=["POST"])]

    async def call(self, request: Request) -> Response:
        name = request.path_params["method"]
        if name not in _METHODS:
            return error_response(
                f"unknown store method {name!r}: one of {', '.join(sorted(_METHODS))}", 404
            )
        argument_type, method = _METHODS[name]
        body = b""
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_BODY_BYTES:
                return error_response(f"{name}: body over {MAX_BODY_BYTES} bytes", 413)
        try:
            arguments: Any = msgspec.msgpack.decode(body or b"\x80", type=argument_type)
        except (msgspec.DecodeError, msgspec.ValidationError, ValueError) as exc:
            # ValueError: a query's own checks (an empty window, a bad id) in __post_init__
            return error_response(f"{name}: bad arguments: {exc}", 400)
        query = getattr(arguments, "query", None)
        if isinstance(query, TraceQuery) and query.num_traces > MAX_TRACES:
            return error_response(
                f"{name}: at most {MAX_TRACES:,} traces a call, not {query.num_traces:,}", 400
            )
        try:
            answer = await run_in_threadpool(method, self.store, arguments)
        except ValueError as exc:  # e.g. a malformed trace id in a search's tags
            return error_response(f"{name}: {exc}", 400)
        return Response(msgspec.msgpack.encode(answer), media_type=MEDIA_TYPE)
