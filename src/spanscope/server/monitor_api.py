"""spanscope's own RED metrics endpoints, one call per view of the Monitor page
(``/monitor``, ``server/ui/monitor.*``), over the stored spans (``spanscope.store.metrics_sql``):

- ``GET /api/v1/monitor?lookback=1h&end=<ms>&spanKind=server``: per service, the window's
  totals and a series per bucket (calls, errors, p50/p95/p99 in ns; ``null`` where no spans),
  services in incident order (``incident_order``), the step chosen for about 100 buckets
  (``choose_step_ns``). The totals and the series come from one scan of the window
  (``metrics_summary_and_series``);
- ``GET /api/v1/monitor/operations?service=...`` (same window parameters): per operation,
  calls, req/s, errors, p50/p95/p99 and impact.

``lookback`` is a duration (``15m``, ``1h``, ``7d``) that must not reach back before 1970,
``end`` ms since the epoch (default now; 1970 to 2262).
Bad parameters answer 400 in Jaeger's error envelope naming the parameter
(``metrics_params``), as the Jaeger metrics API does. Store reads run in a worker thread so a
slow query never stalls the receivers.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from spanscope.server.metrics_params import (
    MS,
    ParamError,
    envelope,
    parse_error,
    services_param,
    span_kinds_param,
    time_ms_param,
)
from spanscope.store.metrics_sql import MetricsQuery, MetricsSeries, MetricsSummary
from spanscope.units import parse_duration

# Steps the Monitor page picks from: the smallest giving at most ~100 buckets.
NICE_STEPS_S = (1, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200)
TARGET_BUCKETS = 100


class MonitorApi:
    """``/api/v1/monitor`` and ``/api/v1/monitor/operations`` over a store with
    ``metrics_summary`` and ``metrics_series``."""

    def __init__(self, store, now_ns: Callable[[], int] = time.time_ns) -> None:
        self.store = store
        self.now_ns = now_ns

    def routes(self) -> list[Route]:
        return [
            Route("/api/v1/monitor", self.monitor),
            Route("/api/v1/monitor/operations", self.monitor_operations),
        ]

    def _window(self, request: Request) -> tuple[int, int, int]:
        """(start, end, step) in ns from ``lookback`` (e.g. 1h) and ``end`` (ms, default now);
        the start is aligned to the step so buckets fall on round times."""
        text = request.query_params.get("lookback") or "1h"
        try:
            lookback = parse_duration(text)
        except ValueError as exc:
            raise parse_error("lookback", str(exc)) from None
        if lookback <= 0:
            raise parse_error("lookback", "the window must be longer than zero")
        end = time_ms_param(request, "end")
        end_ns = self.now_ns() if end is None else end * MS
        if lookback > end_ns:
            raise parse_error("lookback", f"{text} before the end reaches back before 1970-01-01")
        step = choose_step_ns(lookback)
        start = (end_ns - lookback) // step * step
        return start, end_ns, step

    async def monitor(self, request: Request) -> Response:
        try:
            start, end, step = self._window(request)
            kind = span_kinds_param(request)
            services = services_param(request, required=False)
            query = MetricsQuery(start, end, step, kind, services)
        except (ParamError, ValueError) as exc:
            return envelope(None, 400, str(exc))
        return await run_in_threadpool(self._monitor_answer, query)

    async def monitor_operations(self, request: Request) -> Response:
        try:
            start, end, step = self._window(request)
            kind = span_kinds_param(request)
            services = services_param(request)
            query = MetricsQuery(start, end, step, kind, services, group_by_operation=True)
        except (ParamError, ValueError) as exc:
            return envelope(None, 400, str(exc))
        summary = await run_in_threadpool(self.store.metrics_summary, query)
        seconds = (end - start) / 1e9
        return JSONResponse(
            {
                "start_ns": start,
                "end_ns": end,
                "step_ns": step,
                "operations": [
                    {**_summary_fields(row, seconds), "operation": row.operation}
                    for row in sorted(summary, key=lambda row: -row.impact)
                ],
            }
        )

    def _monitor_answer(self, query: MetricsQuery) -> Response:
        """The queries, then the document built and encoded, in a worker thread: with
        thousands of services that is seconds the event loop's receivers should not wait."""
        summary, series = self.store.metrics_summary_and_series(query)
        return JSONResponse(monitor_document(query, summary, series))


def choose_step_ns(lookback_ns: int) -> int:
    """The smallest round step that cuts ``lookback_ns`` into at most ``TARGET_BUCKETS``."""
    for seconds in NICE_STEPS_S:
        if lookback_ns / (seconds * 10**9) <= TARGET_BUCKETS:
            return seconds * 10**9
    return -(-lookback_ns // TARGET_BUCKETS)


def _summary_fields(row: MetricsSummary, seconds: float) -> dict[str, Any]:
    return {
        "service": row.service,
        "calls": row.calls,
        "rps": row.calls / seconds if seconds > 0 else 0.0,
        "errors": row.errors,
        "error_rate": row.error_rate,
        "p50": row.p50,
        "p95": row.p95,
        "p99": row.p99,
        "mean": row.mean_ns,
        "impact": row.impact,
    }


def p95_growth(series: MetricsSeries | None) -> float:
    """How much a service's p95 rose lately: the mean p95 of the last quarter of its buckets
    with spans over the median of the earlier ones (1.0 when there are too few buckets). The
    mean, so a slowdown in the last few buckets already counts; the median, so one old spike
    does not hide it."""
    if series is None or len(series.points) < 4:
        return 1.0
    values = [point.p95 for point in series.points]
    cut = len(values) - max(1, len(values) // 4)
    before = statistics.median(values[:cut])
    return statistics.fmean(values[cut:]) / before if before > 0 else 1.0


def incident_order(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Services as an SRE wants them in an incident: the most failed calls first, then the
    largest recent p95 growth, then the busiest."""
    return sorted(rows, key=lambda row: (-row["errors"], -row["p95_growth"], -row["calls"]))


def monitor_document(
    query: MetricsQuery, summary: list[MetricsSummary], found: list[MetricsSeries]
) -> dict[str, Any]:
    """The Monitor page's data: per service, totals and per-bucket arrays."""
    by_service = {series.service: series for series in found}
    seconds = (query.end_ns - query.start_ns) / 1e9
    rows = []
    for row in summary:
        series = by_service.get(row.service)
        arrays: dict[str, list] = {
            "calls": [0] * query.buckets,
            "errors": [0] * query.buckets,
            "p50": [None] * query.buckets,
            "p95": [None] * query.buckets,
            "p99": [None] * query.buckets,
        }
        for point in series.points if series else ():
            arrays["calls"][point.bucket] = point.calls
            arrays["errors"][point.bucket] = point.errors
            arrays["p50"][point.bucket] = point.p50
            arrays["p95"][point.bucket] = point.p95
            arrays["p99"][point.bucket] = point.p99
        rows.append(
            {**_summary_fields(row, seconds), "p95_growth": p95_growth(series), "series": arrays}
        )
    kind = query.span_kind
    return {
        "start_ns": query.start_ns,
        "end_ns": query.end_ns,
        "step_ns": query.step_ns,
        "buckets": query.buckets,
        "span_kind": None if kind is None or isinstance(kind, tuple) else kind.name.lower(),
        "services": incident_order(rows),
    }
