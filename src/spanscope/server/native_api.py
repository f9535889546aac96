"""spanscope's own API under ``/api/v1/``, for what Jaeger's lacks.

- ``GET /api/v1/traces/{id}?format=otlp-json`` — one trace in any writable format (every field
  the format holds; ``otlp-json`` and ``otlp-proto`` keep everything the store keeps);
- ``GET /api/v1/traces/{id}/analysis`` — the trace's critical path, self times and the analysis
  report of that one trace (the ``analyze --json`` schema) plus its assembly problems;
- ``GET /api/v1/analysis?service=...`` — the analysis report (same JSON as ``analyze --json``)
  for the traces a search finds; search parameters as Jaeger's ``/api/traces``. With
  ``flamegraph=slow,all`` (either or both) the answer is ``{"report": <the report>,
  "flamegraphs": {"slow": <svg>, "all": <svg>}}``: the report and the flame graphs
  ``/api/v1/flamegraph`` would draw, from one read of the store and one walk of the traces
  (what the Analysis page asks for; ``flamegraphs`` is empty when the search finds nothing).
  When more traces match than ``limit``, the analyses read a sample spread over the window (by
  trace id), and their answers say how many were read of how many matched (headers
  ``Spanscope-Traces-Read`` and ``-Matched``; ``spanscope.server.insight_api``);
- ``GET /api/v1/flamegraph?service=...&slow=true`` — the critical-path flame graph (SVG) of the
  traces a search finds, of one ``endpoint`` (``SERVICE:OPERATION``) or all, all requests or
  the slowest 5% (``spanscope flamegraph --aggregate``);
- ``GET /api/v1/export?service=...&format=zipkin-v2`` — the traces a search finds, in any format
  (the most recent first, as Jaeger's search);
- ``GET /api/v1/lint`` and ``/api/v1/diff`` — instrumentation quality and what changed, for
  the traces a search finds (``spanscope.server.insight_api``);
- ``POST /api/v1/store/{method}`` — the store's own reads, for another spanscope process
  (``spanscope.server.store_api``);
- ``GET /api/v1/openapi.json`` — the OpenAPI description of these routes.
Errors, here and in the whole API, are one JSON shape: ``{"error": {"status", "message"}}``.
"""

from __future__ import annotations

from typing import Any

import msgspec
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from spanscope.analysis.analyze import Analyzer, analyze
from spanscope.analysis.critical_path import critical_path
from spanscope.analysis.self_time import self_times
from spanscope.assembly import build_trace
from spanscope.formats import FORMATS, encode_spans, resolve_format
from spanscope.model import Span, Trace
from spanscope.report import encode_report
from spanscope.server.api_errors import json_errors
from spanscope.server.insight_api import InsightApi, Sampled, sample_headers, sample_traces
from spanscope.server.jaeger_api import (
    INSIGHT_MAX_LIMIT,
    QueryError,
    parse_trace_query,
    trace_id_param,
)
from spanscope.server.store_api import StoreApi

_MEDIA = {
    "otlp-json": "application/json",
    "otlp-jsonl": "application/x-ndjson",
    "otlp-proto": "application/x-protobuf",
    "jaeger-json": "application/json",
    "zipkin-v2": "application/json",
    "zipkin-v1": "application/json",
}


# What ``/api/v1/analysis?flamegraph=`` may ask for: the slowest 5% of each endpoint, or all.
_FLAME_KINDS = ("slow", "all")


def _flamegraph_kinds(request: Request) -> list[str]:
    """The flame graphs an analysis request asks for (``flamegraph=slow,all``), in its order."""
    text = request.query_params.get("flamegraph")
    if not text:
        return []
    kinds = list(dict.fromkeys(kind.strip().lower() for kind in text.split(",")))
    bad = [kind for kind in kinds if kind not in _FLAME_KINDS]
    if bad:
        raise QueryError(f"bad 'flamegraph' {bad[0]!r}: expected slow, all or slow,all")
    return kinds


def _analysis_with_flamegraphs(traces: list[Trace], kinds: list[str], services: list[str]) -> bytes:
    """The report of ``traces`` and their flame graphs of ``kinds``, as one JSON object: the
    graphs are drawn from the analyzer's own profile (``profile_flamegraph``), so each trace's
    critical path is walked once for both."""
    from spanscope.viz.flamegraph import profile_flamegraph

    analyzer = Analyzer()
    for trace in traces:
        analyzer.add(trace)
    report = msgspec.json.encode(analyzer.report())
    graphs = {}
    if traces:  # as /api/v1/flamegraph, which answers 404 to a search that finds nothing
        for kind in kinds:
            svg, _, _ = profile_flamegraph(
                analyzer.profiles, traces, slow=kind == "slow", services=services
            )
            graphs[kind] = svg
    return b'{"report":' + report + b',"flamegraphs":' + msgspec.json.encode(graphs) + b"}\n"


def _format(request: Request) -> str:
    name = request.query_params.get("format") or "otlp-json"
    try:
        return resolve_format(name).name
    except ValueError as exc:
        raise QueryError(str(exc)) from None


class NativeApi:
    def __init__(self, store) -> None:
        self.store = store

    def routes(self) -> list[Route]:
        return [
            Route("/api/v1/openapi.json", self.openapi),
            Route("/api/v1/traces/{trace_id}", json_errors(self.export_trace)),
            Route("/api/v1/traces/{trace_id}/analysis", json_errors(self.trace_analysis)),
            Route("/api/v1/analysis", json_errors(self.search_analysis)),
            Route("/api/v1/flamegraph", json_errors(self.search_flamegraph)),
            Route("/api/v1/export", json_errors(self.export_search)),
            *InsightApi(self.store).routes(),
            *StoreApi(self.store).routes(),
        ]

    async def _trace_spans(self, request: Request) -> tuple[str, list[Span]]:
        trace_id = trace_id_param(request)
        spans = await run_in_threadpool(self.store.get_trace, trace_id)
        if not spans:
            raise QueryError(f"trace {trace_id} not found", status=404)
        return trace_id, spans

    async def export_trace(self, request: Request) -> Response:
        format_name = _format(request)
        _, spans = await self._trace_spans(request)
        body = await run_in_threadpool(encode_spans, spans, format_name)
        return Response(body, media_type=_MEDIA[format_name])

    async def trace_analysis(self, request: Request) -> Response:
        trace_id, spans = await self._trace_spans(request)

        def work() -> bytes:
            trace = build_trace(trace_id, spans)
            report = msgspec.to_builtins(analyze([trace]))
            return msgspec.json.encode(
                {
                    "trace_id": trace_id,
                    "critical_path": msgspec.to_builtins(critical_path(trace)),
                    "self_times_ns": self_times(trace),
                    "problems": msgspec.to_builtins(trace.problems),
                    "report": report,
                }
            )

        return Response(await run_in_threadpool(work), media_type="application/json")

    async def search_analysis(self, request: Request) -> Response:
        query = parse_trace_query(request, INSIGHT_MAX_LIMIT)
        kinds = _flamegraph_kinds(request)

        def work() -> tuple[bytes, Sampled]:
            sampled = sample_traces(self.store, query)
            if kinds:
                services = self.store.services()
                return _analysis_with_flamegraphs(sampled.traces, kinds, services), sampled
            return encode_report(analyze(sampled.traces)), sampled

        body, sampled = await run_in_threadpool(work)
        return Response(body, media_type="application/json", headers=sample_headers(sampled))

    async def search_flamegraph(self, request: Request) -> Response:
        from spanscope.viz.flamegraph import traces_flamegraph

        query = parse_trace_query(request, INSIGHT_MAX_LIMIT)
        params = request.query_params
        endpoint = None
        if params.get("endpoint"):
            service, sep, operation = params["endpoint"].partition(":")
            if not sep:
                raise QueryError("bad 'endpoint': expected SERVICE:OPERATION")
            endpoint = (service, operation)
        slow_text = (params.get("slow") or "false").lower()
        if slow_text not in ("true", "false"):
            raise QueryError("bad 'slow': expected true or false")

        def work() -> tuple[bytes, Sampled]:
            sampled = sample_traces(self.store, query)
            traces = sampled.traces
            if not traces:
                raise QueryError("no traces match the search", status=404)
            try:
                svg, _, _ = traces_flamegraph(
                    traces,
                    endpoint=endpoint,
                    slow=slow_text == "true",
                    services=self.store.services(),
                )
            except LookupError as exc:
                raise QueryError(str(exc), status=404) from None
            return svg.encode(), sampled

        body, sampled = await run_in_threadpool(work)
        return Response(body, media_type="image/svg+xml", headers=sample_headers(sampled))

    async def export_search(self, request: Request) -> Response:
        format_name = _format(request)
        query = parse_trace_query(request, INSIGHT_MAX_LIMIT)

        def work() -> bytes:
            spans = [span for trace in self.store.find_traces(query) for span in trace]
            return encode_spans(spans, format_name)

        return Response(await run_in_threadpool(work), media_type=_MEDIA[format_name])

    async def openapi(self, request: Request) -> JSONResponse:
        return JSONResponse(openapi_document())


def _param(name: str, description: str, required: bool = False) -> dict[str, Any]:
    """An OpenAPI query parameter (a string)."""
    return {
        "name": name,
        "in": "query",
        "required": required,
        "description": description,
        "schema": {"type": "string"},
    }


def _search_parameters() -> list[dict[str, Any]]:
    return [
        _param("service", "Service of a matching span.", required=True),
        _param("operation", "Name of a matching span."),
        _param("tags", 'Tags as JSON {"k":"v"} or logfmt k=v.'),
        _param("minDuration", "Smallest span duration, e.g. 100ms."),
        _param("maxDuration", "Largest span duration, e.g. 2s."),
        _param("start", "Earliest span start, microseconds since the epoch."),
        _param("end", "Latest span start, microseconds since the epoch."),
        _param("lookback", "Instead of start: how far back from end, e.g. 1h."),
        _param("limit", f"Most traces to read (1-{INSIGHT_MAX_LIMIT}, default 20)."),
    ]


def _monitor_parameters() -> list[dict[str, Any]]:
    return [
        _param("service", "Only these services (repeatable; default all)."),
        _param("lookback", "The window, ending at end: e.g. 15m, 1h, 24h (default 1h)."),
        _param("end", "End of the window, milliseconds since the epoch (default now)."),
        _param("spanKind", "Span kind(s): server (default), client, ..., or all."),
    ]


def openapi_document() -> dict[str, Any]:
    formats = [name for name, fmt in FORMATS.items() if fmt.writable]
    format_param = {
        "name": "format",
        "in": "query",
        "description": "Output format (default otlp-json).",
        "schema": {"type": "string", "enum": formats},
    }
    trace_id = {
        "name": "trace_id",
        "in": "path",
        "required": True,
        "description": "Trace id, hex.",
        "schema": {"type": "string", "pattern": "^[0-9a-fA-F]{1,32}$"},
    }
    error = {
        "description": "Bad request or not found.",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }
    # The monitor endpoints answer bad parameters as Jaeger's metrics API does.
    jaeger_error = {"description": "A bad parameter, in Jaeger's envelope (errors[].msg)."}
    return {
        "openapi": "3.1.0",
        "info": {"title": "spanscope native API", "version": "1"},
        "paths": {
            "/api/v1/traces/{trace_id}": {
                "get": {
                    "summary": "One trace in any format.",
                    "parameters": [trace_id, format_param],
                    "responses": {"200": {"description": "The trace."}, "400": error, "404": error},
                }
            },
            "/api/v1/traces/{trace_id}/analysis": {
                "get": {
                    "summary": "Critical path, self times, problems and the analysis report.",
                    "parameters": [trace_id],
                    "responses": {
                        "200": {"description": "Analysis of one trace."},
                        "400": error,
                        "404": error,
                    },
                }
            },
            "/api/v1/analysis": {
                "get": {
                    "summary": "The analysis report (analyze --json) for a search.",
                    "parameters": [
                        *_search_parameters(),
                        _param(
                            "flamegraph",
                            "slow, all or slow,all: answer {report, flamegraphs: {kind: SVG}}, "
                            "the report with the flame graphs /api/v1/flamegraph draws.",
                        ),
                    ],
                    "responses": {"200": {"description": "The report."}, "400": error},
                }
            },
            "/api/v1/flamegraph": {
                "get": {
                    "summary": "The critical-path flame graph (SVG) of the traces a search finds.",
                    "parameters": [
                        *_search_parameters(),
                        _param("endpoint", "Only requests to this SERVICE:OPERATION (root span)."),
                        _param("slow", "true: only the slowest 5% of each endpoint's requests."),
                    ],
                    "responses": {
                        "200": {"description": "The flame graph, SVG."},
                        "400": error,
                        "404": error,
                    },
                }
            },
            "/api/v1/export": {
                "get": {
                    "summary": "The traces a search finds, in any format.",
                    "parameters": [*_search_parameters(), format_param],
                    "responses": {"200": {"description": "The traces."}, "400": error},
                }
            },
            "/api/v1/store/{method}": {
                "post": {
                    "summary": "A read of the store (get_traces, services, operations, "
                    "find_trace_ids, sample_trace_ids, dependencies, metrics_series, "
                    "metrics_summary, "
                    "metrics_summary_and_series, stats), for another spanscope process; "
                    "MessagePack in and out.",
                    "parameters": [
                        {
                            "name": "method",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string"},
                        }
                    ],
                    "responses": {
                        "200": {"description": "The store's answer, MessagePack."},
                        "400": error,
                        "404": error,
                    },
                }
            },
            "/api/v1/lint": {
                "get": {
                    "summary": "Instrumentation quality (lint --json) of the traces a search "
                    "finds.",
                    "parameters": _search_parameters(),
                    "responses": {"200": {"description": "The lint report."}, "400": error},
                }
            },
            "/api/v1/diff": {
                "get": {
                    "summary": "What changed (diff --json): the search's window against a "
                    "baseline.",
                    "parameters": [
                        *_search_parameters(),
                        _param(
                            "baseOffset",
                            "Baseline = the window this much earlier (default: its length).",
                        ),
                        _param("baseStart", "Baseline window start, microseconds since the epoch."),
                        _param("baseEnd", "Baseline window end, microseconds since the epoch."),
                    ],
                    "responses": {"200": {"description": "The comparison."}, "400": error},
                }
            },
            "/api/v1/monitor": {
                "get": {
                    "summary": "Requests, errors and latency over time per service (the Monitor "
                    "page's data), services in incident order.",
                    "parameters": _monitor_parameters(),
                    "responses": {
                        "200": {"description": "Totals and series."},
                        "400": jaeger_error,
                    },
                }
            },
            "/api/v1/monitor/operations": {
                "get": {
                    "summary": "Per operation of services: calls, req/s, errors, p50/p95/p99 "
                    "and impact over the window.",
                    "parameters": [
                        _param("service", "A service (repeatable).", required=True),
                        *_monitor_parameters()[1:],
                    ],
                    "responses": {"200": {"description": "The operations."}, "400": jaeger_error},
                }
            },
        },
        "components": {
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error"],
                    "properties": {
                        "error": {
                            "type": "object",
                            "required": ["status", "message"],
                            "properties": {
                                "status": {"type": "integer"},
                                "message": {"type": "string"},
                            },
                        }
                    },
                }
            }
        },
    }
