"""Jaeger's metrics API over the stored spans (``spanscope.store.metrics_sql``), so Jaeger UI's
Monitor tab and scripts written for it work against spanscope (``cmd/query/app/
http_handler.go``, ``query_parser.go``):

- ``GET /api/metrics/calls``, ``/api/metrics/errors``, ``/api/metrics/latencies`` with
  ``service`` (required, repeatable), ``groupByOperation`` (bool), ``spanKind`` (repeatable,
  ``SPAN_KIND_SERVER`` etc., or ``server``; default server), ``endTs`` (ms since the epoch,
  default now), ``lookback``, ``step``, ``ratePer`` (ms; defaults 1 h, 5 s, 10 min) and, for
  latencies, ``quantile`` (one of 0.5, 0.75, 0.95, 0.99). The answer is a ``MetricFamily`` in
  protobuf JSON: ``{"name", "type": "GAUGE", "help", "metrics": [{"labels": [{"name":
  "service_name", "value"}, ({"name": "operation", ...})], "metricPoints": [{"gaugeValue":
  {"doubleValue"}, "timestamp": RFC 3339}]}]}``. Calls are per second and errors a fraction of
  calls, both over the ``ratePer`` window ending at each point (as Prometheus' ``rate`` over
  ``[ratePer]``); latencies are in milliseconds, over each ``step`` alone (a quantile cannot be
  summed across buckets). A point's timestamp is the end of its step. Steps without spans have
  no latency or error point; calls are 0 there.
- ``GET /api/metrics/minstep``: ``{"data": 1000, ...}`` (ms), in Jaeger's envelope.

Bad parameters answer 400 with Jaeger's error envelope naming the parameter
(``metrics_params``), never a traceback. Store reads run in a worker thread so a slow query
never stalls the receivers.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from spanscope.server.metrics_params import (
    MS,
    ParamError,
    bool_param,
    envelope,
    int_param,
    parse_error,
    positive_ms,
    services_param,
    span_kinds_param,
)
from spanscope.store.metrics_sql import MAX_BUCKETS, QUANTILES, MetricsQuery, MetricsSeries

_DEFAULT_LOOKBACK_MS = 3600 * 1000
_DEFAULT_STEP_MS = 5000
_DEFAULT_RATE_PER_MS = 600 * 1000
MIN_STEP_MS = 1000


class JaegerMetricsApi:
    """``/api/metrics/*`` over a store with ``metrics_series``."""

    def __init__(self, store, now_ns: Callable[[], int] = time.time_ns) -> None:
        self.store = store
        self.now_ns = now_ns

    def routes(self) -> list[Route]:
        return [
            Route("/api/metrics/latencies", self.latencies),
            Route("/api/metrics/calls", self.calls),
            Route("/api/metrics/errors", self.errors),
            Route("/api/metrics/minstep", self.min_step),
        ]

    async def min_step(self, request: Request) -> Response:
        return envelope(MIN_STEP_MS)

    async def latencies(self, request: Request) -> Response:
        raw = request.query_params.get("quantile", "")
        try:
            quantile = float(raw)
        except ValueError:
            return envelope(None, 400, str(parse_error("quantile", f"{raw!r} is not a number")))
        if quantile not in QUANTILES:
            levels = ", ".join(map(str, QUANTILES))
            message = str(parse_error("quantile", f"{raw} is not one of {levels}"))
            return envelope(None, 400, message)
        return await self._family(request, "latencies", quantile)

    async def calls(self, request: Request) -> Response:
        return await self._family(request, "call_rate", None)

    async def errors(self, request: Request) -> Response:
        return await self._family(request, "error_rate", None)

    async def _family(self, request: Request, metric: str, quantile: float | None) -> Response:
        try:
            services = services_param(request)
            by_operation = bool_param(request, "groupByOperation")
            kind = span_kinds_param(request)
            end_ms = int_param(request, "endTs", self.now_ns() // MS)
            lookback = positive_ms(request, "lookback", _DEFAULT_LOOKBACK_MS)
            step = positive_ms(request, "step", _DEFAULT_STEP_MS)
            rate_per = positive_ms(request, "ratePer", _DEFAULT_RATE_PER_MS)
            # Counts are summed over the ratePer window before each point: fetch that much more.
            width = 1 if metric == "latencies" else max(1, round(rate_per / step))
            start_ms = end_ms - lookback - (width - 1) * step
            buckets = -(-(end_ms - start_ms) // step)
            if buckets > MAX_BUCKETS:
                raise parse_error(
                    "step",
                    f"{step} ms makes {buckets} steps over the window (at most "
                    f"{MAX_BUCKETS}); use a larger step or a shorter lookback",
                )
            query = MetricsQuery(
                start_ms * MS, end_ms * MS, step * MS, kind, services, by_operation
            )
        except ParamError as exc:
            return envelope(None, 400, str(exc))
        series = await run_in_threadpool(self.store.metrics_series, query)
        family = metric_family(metric, quantile, by_operation, series, query, width)
        return JSONResponse(family)


_HELP = {
    "latencies": "{q}th quantile latency, in ms, grouped by service",
    "call_rate": "calls/sec, grouped by service",
    "error_rate": "error rate, computed as a fraction of errors/sec over calls/sec, grouped by "
    "service",
}


def _timestamp(ns: int) -> str:
    return datetime.fromtimestamp(ns / 1e9, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _labels(series: MetricsSeries) -> list[dict[str, str]]:
    labels = [{"name": "service_name", "value": series.service}]
    if series.operation is not None:
        labels.append({"name": "operation", "value": series.operation})
    return labels


def _point(ns: int, value: float) -> dict[str, Any]:
    return {"gaugeValue": {"doubleValue": value}, "timestamp": _timestamp(ns)}


def metric_family(
    metric: str,
    quantile: float | None,
    by_operation: bool,
    found: list[MetricsSeries],
    query: MetricsQuery,
    width: int,
) -> dict[str, Any]:
    """Jaeger's ``MetricFamily`` of ``metric`` (``latencies``, ``call_rate``, ``error_rate``)
    from the store's series; rates are summed over ``width`` steps before each point."""
    step = query.step_ns
    first = width - 1  # buckets before this one only feed the rate window
    metrics = []
    for series in found:
        points = []
        if metric == "latencies":
            index = QUANTILES.index(quantile)  # type: ignore[arg-type]
            for point in series.points:
                value = (point.p50, point.p75, point.p95, point.p99)[index]
                points.append(_point(min(point.start_ns + step, query.end_ns), value / MS))
        else:
            calls = [0] * query.buckets
            errors = [0] * query.buckets
            for point in series.points:
                calls[point.bucket] = point.calls
                errors[point.bucket] = point.errors
            window_calls = sum(calls[:first])
            window_errors = sum(errors[:first])
            for bucket in range(first, query.buckets):
                window_calls += calls[bucket]
                window_errors += errors[bucket]
                if bucket - width >= 0:
                    window_calls -= calls[bucket - width]
                    window_errors -= errors[bucket - width]
                at = min(query.start_ns + (bucket + 1) * step, query.end_ns)
                if metric == "call_rate":
                    points.append(_point(at, window_calls / (width * step / 1e9)))
                elif window_calls:
                    points.append(_point(at, window_errors / window_calls))
        metrics.append({"labels": _labels(series), "metricPoints": points})
    name = metric if not by_operation else f"operation_{metric}"
    help_text = _HELP[metric].format(q=quantile)
    if by_operation:
        help_text = help_text.replace("grouped by service", "grouped by service & operation")
    return {"name": f"service_{name}", "type": "GAUGE", "help": help_text, "metrics": metrics}
