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
(``metrics_params``), never a traceback; so do windows that would start before 1970 and
steps that cut the window into more than ``MAX_BUCKETS``. Store reads run in a worker thread
so a slow query never stalls the receivers.
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
    parse_error,
    positive_ms,
    services_param,
    span_kinds_param,
    time_ms_param,
)
from spanscope.store.metrics_sql import MAX_BUCKETS, QUANTILES, MetricsQuery, MetricsSeries

_DEFAULT_LOOKBACK_MS = 3600 * 1000
_DEFAULT_STEP_MS = 5000
_DEFAULT_RATE_PER_MS = 600 * 1000
MIN_STEP_MS = 1000
# An answer's points over all its series: building and encoding one takes about 10 us, so this
# is a few seconds and tens of MB at most (a service with thousands of span names, grouped by
# operation over 20,000 steps, would otherwise be minutes and gigabytes).
MAX_POINTS = 200_000


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
            end_ms = time_ms_param(request, "endTs")
            end_ms = self.now_ns() // MS if end_ms is None else end_ms
            lookback = positive_ms(request, "lookback", _DEFAULT_LOOKBACK_MS)
            step = positive_ms(request, "step", _DEFAULT_STEP_MS)
            rate_per = positive_ms(request, "ratePer", _DEFAULT_RATE_PER_MS)
            # Counts are summed over the ratePer window before each point: fetch that much more.
            width = 1 if metric == "latencies" else max(1, round(rate_per / step))
            start_ms = end_ms - lookback - (width - 1) * step
            if start_ms < 0:
                before = f", and ratePer {rate_per} ms before it," if width > 1 else ""
                raise parse_error(
                    "lookback" if end_ms < lookback else "ratePer",
                    f"the window (lookback {lookback} ms{before} up to endTs {end_ms}) starts "
                    "before 1970-01-01",
                )
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
        return await run_in_threadpool(self._answer, metric, quantile, by_operation, query, width)

    def _answer(
        self,
        metric: str,
        quantile: float | None,
        by_operation: bool,
        query: MetricsQuery,
        width: int,
    ) -> Response:
        """The query, then the family built and encoded, all in a worker thread: up to
        ``MAX_POINTS`` points take a second or two, which would hold up the receivers on the
        event loop."""
        series = self.store.metrics_series(query)
        points = answer_points(metric, series, query, width)
        if points > MAX_POINTS:
            message = parse_error(
                "step",
                f"the answer would have {points} points ({len(series)} series; at most "
                f"{MAX_POINTS}): use a larger step, a shorter lookback, fewer services or "
                "no groupByOperation",
            )
            return envelope(None, 400, str(message))
        return JSONResponse(metric_family(metric, quantile, by_operation, series, query, width))


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


def answer_points(metric: str, found: list[MetricsSeries], query: MetricsQuery, width: int) -> int:
    """How many points ``metric_family`` gives (at most, for error rates)."""
    if metric == "latencies":
        return sum(len(series.points) for series in found)
    return len(found) * (query.buckets - (width - 1))


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
    stamps: dict[int, str] = {}  # every series has the same buckets: format each end once

    def gauge(bucket: int, value: float) -> dict[str, Any]:
        stamp = stamps.get(bucket)
        if stamp is None:
            at = min(query.start_ns + (bucket + 1) * step, query.end_ns)
            stamp = stamps[bucket] = _timestamp(at)
        return {"gaugeValue": {"doubleValue": value}, "timestamp": stamp}

    metrics = []
    for series in found:
        points = []
        if metric == "latencies":
            index = QUANTILES.index(quantile)  # type: ignore[arg-type]
            for point in series.points:
                value = (point.p50, point.p75, point.p95, point.p99)[index]
                points.append(gauge(point.bucket, value / MS))
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
                if metric == "call_rate":
                    points.append(gauge(bucket, window_calls / (width * step / 1e9)))
                elif window_calls:
                    points.append(gauge(bucket, window_errors / window_calls))
        metrics.append({"labels": _labels(series), "metricPoints": points})
    name = metric if not by_operation else f"operation_{metric}"
    help_text = _HELP[metric].format(q=quantile)
    if by_operation:
        help_text = help_text.replace("grouped by service", "grouped by service & operation")
    return {"name": f"service_{name}", "type": "GAUGE", "help": help_text, "metrics": metrics}
