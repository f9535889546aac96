"""Jaeger's HTTP query API over the store, so tools that read Jaeger can read spanscope.

Routes and JSON shapes are Jaeger's (``cmd/query/app/http_handler.go``): every answer is
``{"data": ..., "total": n, "limit": 0, "offset": 0, "errors": null}``; errors are
``{"data": null, "errors": [{"code": status, "msg": "..."}]}`` with that HTTP status.

- ``GET /api/services``
- ``GET /api/services/{service}/operations``
- ``GET /api/operations?service=&spanKind=``
- ``GET /api/traces?service=&operation=&tags=&minDuration=&maxDuration=&start=&end=``
  ``&lookback=&limit=``
  (``tags`` as JSON ``{"k":"v"}`` or logfmt ``k=v k2="v 2"``; also repeated ``tag=k:v``;
  ``start``/``end`` in microseconds since the epoch; durations like ``1.2s``, ``100ms``)
- ``GET /api/traces/{traceID}``
- ``GET /api/dependencies?endTs=&lookback=`` (milliseconds)
Store reads run in a worker thread so a slow query never stalls the receivers.
"""

from __future__ import annotations

import json
import re
import shlex
import time
from collections.abc import Mapping
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from spanscope.formats.jaeger_writer import trace_document
from spanscope.model import InvalidIdError, SpanKind, normalize_trace_id
from spanscope.store import TraceQuery
from spanscope.units import parse_duration

_DEFAULT_LIMIT = 20
_MAX_LIMIT = 1500
# What the analysis pages (Analysis, Compare, Quality, their flame graphs) may read: as many as
# ``analyze --db`` reads by default (its --limit), so a busy hour is not cut to its newest
# minutes; the Jaeger search keeps Jaeger's own bound.
INSIGHT_MAX_LIMIT = 10_000
_DEFAULT_LOOKBACK_NS = 3600 * 10**9
_LAST_NS = 2**63 - 1  # times and durations are signed 64-bit nanoseconds everywhere
_KINDS = {kind.name.lower(): kind for kind in SpanKind if kind != SpanKind.UNSPECIFIED}


class QueryError(Exception):
    """A bad query parameter: answered 400 with Jaeger's error shape."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def _ok(data: Any, total: int | None = None) -> JSONResponse:
    if total is None:
        total = len(data) if isinstance(data, list) else 0
    return JSONResponse({"data": data, "total": total, "limit": 0, "offset": 0, "errors": None})


def _error(message: str, status: int) -> JSONResponse:
    return JSONResponse(
        {
            "data": None,
            "total": 0,
            "limit": 0,
            "offset": 0,
            "errors": [{"code": status, "msg": message}],
        },
        status_code=status,
    )


def parse_tags(params: list[tuple[str, str]]) -> dict[str, str]:
    """Tags from ``tags`` (JSON object or logfmt) and repeated ``tag=key:value``."""
    tags: dict[str, str] = {}
    for name, value in params:
        if name == "tag":
            key, sep, tag_value = value.partition(":")
            if not sep or not key:
                raise QueryError(f"malformed 'tag' parameter {value!r}: expected key:value")
            tags[key] = tag_value
        elif name == "tags" and value.strip():
            tags.update(_parse_tags_value(value))
    return tags


def _parse_tags_value(value: str) -> dict[str, str]:
    text = value.strip()
    if text.startswith("{"):
        try:
            parsed = json.loads(text)
        except json.JSONDecodeError as exc:
            raise QueryError(f"malformed 'tags' JSON: {exc.msg} at column {exc.colno}") from None
        if not isinstance(parsed, dict):
            raise QueryError("'tags' JSON must be an object of key: value")
        return {str(k): v if isinstance(v, str) else json.dumps(v) for k, v in parsed.items()}
    try:
        words = shlex.split(text)
    except ValueError as exc:
        raise QueryError(f"malformed 'tags' (logfmt): {exc}") from None
    tags = {}
    for word in words:
        key, sep, tag_value = word.partition("=")
        if not sep or not key:
            raise QueryError(f"malformed 'tags' (logfmt) near {word!r}: expected key=value")
        tags[key] = tag_value
    return tags


def _duration(params, name: str) -> int | None:
    value = params.get(name)
    if not value:
        return None
    try:
        duration = parse_duration(value, default_unit="us")
    except ValueError as exc:
        raise QueryError(f"bad '{name}': {exc}") from None
    if duration > _LAST_NS:
        raise QueryError(f"bad '{name}': {value} is longer than 292 years")
    return duration


def micros_param(params: Mapping[str, str], name: str) -> int | None:
    """The query parameter ``name``, microseconds since the epoch, in nanoseconds (None: not
    given); a ``QueryError`` naming it when it is not a number of microseconds."""
    value = params.get(name)
    if not value:
        return None
    if not re.fullmatch(r"\d{1,20}", value):
        raise QueryError(f"bad '{name}': expected microseconds since the epoch, got {value!r}")
    if int(value) * 1000 > _LAST_NS:
        raise QueryError(f"bad '{name}': {value} is after the year 2262")
    return int(value) * 1000


def trace_id_param(request: Request) -> str:
    """The route's ``{trace_id}``, normalized; a ``QueryError`` when it is not a trace id."""
    try:
        return normalize_trace_id(request.path_params["trace_id"])
    except InvalidIdError as exc:
        raise QueryError(str(exc)) from None


def parse_trace_query(request: Request, max_limit: int = _MAX_LIMIT) -> TraceQuery:
    """The Jaeger search parameters of ``request``; ``limit`` up to ``max_limit``."""
    params = request.query_params
    service = params.get("service") or None
    if service is None:
        raise QueryError("parameter 'service' is required")
    limit_text = params.get("limit") or str(_DEFAULT_LIMIT)
    if not limit_text.isdecimal() or not 0 < int(limit_text) <= max_limit:
        raise QueryError(f"bad 'limit' {limit_text!r}: expected 1..{max_limit}")
    end = micros_param(params, "end") or time.time_ns()
    start = micros_param(params, "start")
    if start is None:
        lookback = params.get("lookback")
        lookback_ns = _DEFAULT_LOOKBACK_NS
        if lookback and lookback != "custom":
            try:
                lookback_ns = parse_duration(lookback)
            except ValueError as exc:
                raise QueryError(f"bad 'lookback': {exc}") from None
        start = end - lookback_ns
    min_duration = _duration(params, "minDuration")
    max_duration = _duration(params, "maxDuration")
    if min_duration is not None and max_duration is not None and min_duration > max_duration:
        raise QueryError("'minDuration' is greater than 'maxDuration'")
    if start < 0:
        raise QueryError(
            "the window starts before 1970: use a shorter 'lookback' or a later 'start'"
        )
    return TraceQuery(
        service=service,
        operation=params.get("operation") or None,
        tags=parse_tags(list(params.multi_items())),
        start_time_min=start,
        start_time_max=end,
        duration_min=min_duration,
        duration_max=max_duration,
        num_traces=int(limit_text),
    )


class JaegerApi:
    def __init__(self, store) -> None:
        self.store = store

    def routes(self) -> list[Route]:
        return [
            Route("/api/services", self.services),
            Route("/api/services/{service}/operations", self.service_operations),
            Route("/api/operations", self.operations),
            Route("/api/traces", self.find_traces),
            Route("/api/traces/{trace_id}", self.get_trace),
            Route("/api/dependencies", self.dependencies),
        ]

    async def _run(self, handler, *args):
        try:
            return await handler(*args)
        except QueryError as exc:
            return _error(str(exc), exc.status)

    async def services(self, request: Request) -> JSONResponse:
        services = await run_in_threadpool(self.store.services)
        return _ok(sorted(services))

    async def service_operations(self, request: Request) -> JSONResponse:
        service = request.path_params["service"]
        operations = await run_in_threadpool(self.store.operations, service)
        return _ok(sorted({name for name, _ in operations}))

    async def operations(self, request: Request) -> JSONResponse:
        async def handle() -> JSONResponse:
            service = request.query_params.get("service")
            if not service:
                raise QueryError("parameter 'service' is required")
            kind_name = request.query_params.get("spanKind") or None
            kind = None
            if kind_name is not None:
                kind = _KINDS.get(kind_name.lower())
                if kind is None:
                    raise QueryError(
                        f"bad 'spanKind' {kind_name!r}: expected one of {', '.join(_KINDS)}"
                    )
            operations = await run_in_threadpool(self.store.operations, service, kind)
            data = [
                {"name": name, "spanKind": _kind_name(op_kind)}
                for name, op_kind in sorted(operations, key=lambda item: (item[0], item[1]))
            ]
            return _ok(data)

        return await self._run(handle)

    async def find_traces(self, request: Request) -> JSONResponse:
        async def handle() -> JSONResponse:
            query = parse_trace_query(request)
            traces = await run_in_threadpool(self.store.find_traces, query)
            data = [trace_document(spans[0].trace_id, spans) for spans in traces if spans]
            return _ok(data)

        return await self._run(handle)

    async def get_trace(self, request: Request) -> JSONResponse:
        async def handle() -> JSONResponse:
            trace_id = trace_id_param(request)
            spans = await run_in_threadpool(self.store.get_trace, trace_id)
            if not spans:
                raise QueryError("trace not found", status=404)
            return _ok([trace_document(trace_id, spans)])

        return await self._run(handle)

    async def dependencies(self, request: Request) -> JSONResponse:
        async def handle() -> JSONResponse:
            params = request.query_params
            end_ms = params.get("endTs") or str(time.time_ns() // 10**6)
            lookback_ms = params.get("lookback") or str(24 * 3600 * 1000)
            if not end_ms.isdecimal() or not lookback_ms.isdecimal():
                raise QueryError("'endTs' and 'lookback' are milliseconds")
            end_ns = int(end_ms) * 10**6
            if end_ns > _LAST_NS:
                raise QueryError(f"bad 'endTs': {end_ms} is after the year 2262")
            # a lookback past 1970 asks for everything before endTs
            lookback_ns = min(int(lookback_ms) * 10**6, end_ns)
            links = await run_in_threadpool(self.store.dependencies, end_ns, lookback_ns)
            data = [
                {"parent": parent, "child": child, "callCount": count}
                for parent, child, count in links
            ]
            return _ok(data)

        return await self._run(handle)


def _kind_name(kind: SpanKind | int | None) -> str:
    if kind is None:
        return ""
    kind = SpanKind(kind)
    return "" if kind == SpanKind.UNSPECIFIED else kind.name.lower()
