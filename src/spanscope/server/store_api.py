"""The ``Store`` protocol's reads over HTTP: how a second process uses a running server's store.

DuckDB lets one process open a file while it writes, so ``spanscope query`` or ``analyze --db``
cannot open the store that ``spanscope serve`` holds. They ask the server instead
(``spanscope.store.server_store.ServerStore``), through these routes, which mirror the protocol
so that the answers are the store's own, exactly:

- ``POST /api/v1/store/{method}`` with a MessagePack body of the method's arguments (a map of
  parameter names) and a MessagePack answer, for ``get_traces``, ``services``, ``operations``,
  ``find_trace_ids``, ``sample_trace_ids``, ``dependencies``, ``metrics_series``,
  ``metrics_summary``, ``metrics_summary_and_series`` and ``stats``. ``TraceQuery`` and
  ``MetricsQuery`` travel as maps of their fields.
- Spans come only from ``get_traces``, at most ``MAX_TRACES_A_CALL`` traces a call:
  ``{"trace_ids": [...], "otlp": <OTLP protobuf of their spans>}`` (protobuf keeps every field
  the store keeps; the ids keep the order). A search is ``find_trace_ids`` (ids alone, at most
  ``MAX_TRACE_IDS``) or ``sample_trace_ids`` (``[ids, matched]``) and then its traces page by
  page, so no one answer holds a whole search.

The server's memory is shared with its receivers, so these calls are bounded: one runs at a
time (the others wait their turn), a body is at most ``MAX_BODY_BYTES``, a search at most
``MAX_TAGS`` tags. Writes are not offered: spans reach the store through the receivers, which
check and sample them. A bad body or argument answers 400 in the native API's error shape,
naming it; a store that fails answers 503 with the store's message. A call whose client goes
away has its reads stopped (``spanscope.store.read_group``), so the next one need not wait.
"""

from __future__ import annotations

import asyncio
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
from spanscope.store.base import Store, StoreError, TraceQuery
from spanscope.store.metrics_sql import MetricsQuery
from spanscope.store.read_group import ReadGroup

MEDIA_TYPE = "application/msgpack"
MAX_TRACES_A_CALL = 1_000  # traces of one get_traces answer: about 8k spans of the shop
MAX_TRACE_IDS = 1_000_000  # ids of one search: 33 MB at most
MAX_TAGS = 100
# Arguments are a few fields (or a page of ids); anything larger is not a client of this API.
MAX_BODY_BYTES = 1 << 20
# How often a running call looks whether its client is still there.
_DISCONNECT_CHECK_S = 0.25


class _GetTraces(msgspec.Struct, forbid_unknown_fields=True):
    trace_ids: list[str]


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


def _get_traces(store: Store, arguments: _GetTraces) -> dict[str, Any]:
    traces = store.get_traces(arguments.trace_ids)
    spans = [span for trace in traces for span in trace]
    return {
        "trace_ids": [trace[0].trace_id for trace in traces if trace],
        "otlp": encode_spans(spans, "otlp-proto"),
    }


# method -> (argument type, what it does with the store)
_METHODS: dict[str, tuple[type, Callable[[Store, Any], Any]]] = {
    "get_traces": (_GetTraces, _get_traces),
    "services": (_NoArguments, lambda store, _: store.services()),
    "operations": (_Operations, lambda store, a: store.operations(a.service, a.span_kind)),
    "find_trace_ids": (_Search, lambda store, a: store.find_trace_ids(a.query)),
    "sample_trace_ids": (_Search, lambda store, a: store.sample_trace_ids(a.query)),
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


def _too_much(arguments: Any) -> str | None:
    """What in ``arguments`` is over this API's bounds, or None."""
    trace_ids = getattr(arguments, "trace_ids", None)
    if trace_ids is not None and len(trace_ids) > MAX_TRACES_A_CALL:
        return f"at most {MAX_TRACES_A_CALL:,} traces a call, not {len(trace_ids):,}"
    query = getattr(arguments, "query", None)
    if isinstance(query, TraceQuery):
        if query.num_traces > MAX_TRACE_IDS:
            return f"at most {MAX_TRACE_IDS:,} traces a search, not {query.num_traces:,}"
        if len(query.tags) > MAX_TAGS:
            return f"at most {MAX_TAGS} tags a search, not {len(query.tags):,}"
    return None


class StoreApi:
    def __init__(self, store: Store) -> None:
        self.store = store
        self._one_at_a_time = asyncio.Semaphore(1)

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
                return error_response(f"body over {MAX_BODY_BYTES} bytes", 413)
        try:
            arguments: Any = msgspec.msgpack.decode(body or b"\x80", type=argument_type)
        except (msgspec.DecodeError, msgspec.ValidationError, ValueError) as exc:
            # ValueError: a query's own checks (an empty window, a bad id) in __post_init__
            return error_response(f"bad arguments: {exc}", 400)
        refused = _too_much(arguments)
        if refused:
            return error_response(refused, 400)
        async with self._one_at_a_time:
            try:
                answer = await self._while_connected(request, method, arguments)
            except StoreError as exc:
                return error_response(str(exc), 503)
            except ValueError as exc:  # e.g. a malformed trace id
                return error_response(str(exc), 400)
        return Response(msgspec.msgpack.encode(answer), media_type=MEDIA_TYPE)

    async def _while_connected(self, request: Request, method: Any, arguments: Any) -> Any:
        """``method(store, arguments)`` in a worker thread, its reads stopped if the client
        goes away first (Ctrl-C on a command reading through this server): a search of
        millions of spans would otherwise go on for no one, holding the next caller."""
        reads_in = getattr(self.store, "reads_in", None)  # a DuckDB or ClickHouse store's
        if reads_in is None:
            return await run_in_threadpool(method, self.store, arguments)
        group = ReadGroup()

        def grouped() -> Any:
            with reads_in(group):
                return method(self.store, arguments)

        call = asyncio.ensure_future(run_in_threadpool(grouped))
        while not (await asyncio.wait({call}, timeout=_DISCONNECT_CHECK_S))[0]:
            if await request.is_disconnected():
                await run_in_threadpool(group.stop)
                break
        return await call
