"""RED metrics over HTTP, computed from the stored spans (``spanscope.store.metrics_sql``).

Jaeger's metrics API (``cmd/query/app/http_handler.go``, ``query_parser.go``), so Jaeger UI's
Monitor tab and scripts written for it work against spanscope:

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
(``unable to parse param 'step': ...``), never a traceback.

spanscope's own endpoints for the Monitor page (``/monitor``), one call per view:

- ``GET /api/v1/monitor?lookback=1h&end=<ms>&spanKind=server``: per service, the window's
  totals and a series per bucket (calls, errors, p50/p95/p99 in ns; ``null`` where no spans),
  services in incident order (``incident_order``), the step chosen for about 100 buckets;
- ``GET /api/v1/monitor/operations?service=...`` (same window parameters): per operation,
  calls, req/s, errors, p50/p95/p99 and impact.

Store reads run in a worker thread so a slow query never stalls the receivers.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from spanscope.model import SpanKind
from spanscope.store.metrics_sql import (
    MAX_BUCKETS,
    QUANTILES,
    MetricsQuery,
    MetricsSeries,
    MetricsSummary,
)
from spanscope.units import parse_duration

MS = 1_000_000
_DEFAULT_LOOKBACK_MS = 3600 * 1000
_DEFAULT_STEP_MS = 5000
_DEFAULT_RATE_PER_MS = 600 * 1000
MIN_STEP_MS = 1000
_KINDS = {
    **{f"SPAN_KIND_{kind.name}": kind for kind in SpanKind},
    **{kind.name.lower(): kind for kind in SpanKind},
}
_TRUE = {"1", "t", "T", "TRUE", "true", "True"}
_FALSE = {"0", "f", "F", "FALSE", "false", "False"}
# Steps the Monitor page picks from: the smallest giving at most ~100 buckets.
NICE_STEPS_S = (1, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200)
TARGET_BUCKETS = 100


class ParamError(Exception):
    """A bad query parameter; the message names it."""


def _envelope(data: Any, status: int = 200, error: str | None = None) -> JSONResponse:
    errors = [{"code": status, "msg": error}] if error is not None else None
    return JSONResponse(
        {"data": data, "total": 0, "limit": 0, "offset": 0, "errors": errors},
        status_code=status,
    )


def _parse_error(name: str, why: str) -> ParamError:
    return ParamError(f"unable to parse param '{name}': {why}")


def _int_param(request: Request, name: str, default: int) -> int:
    raw = request.query_params.get(name, "")
    if raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise _parse_error(name, f"{raw!r} is not an integer") from None


def _positive_ms(request: Request, name: str, default: int) -> int:
    value = _int_param(request, name, default)
    if value <= 0:
        raise _parse_error(name, f"must be a positive number of milliseconds, got {value}")
    return value


def _bool_param(request: Request, name: str) -> bool:
    raw = request.query_params.get(name, "")
    if raw == "" or raw in _FALSE:
        return False
    if raw in _TRUE:
        return True
    raise _parse_error(name, f"{raw!r} is not a boolean (true or false)")


def span_kinds_param(request: Request) -> SpanKind | tuple[SpanKind, ...] | None:
    """``spanKind`` (repeatable); default SERVER; ``all`` for every kind."""
    given = request.query_params.getlist("spanKind")
    if not given:
        return SpanKind.SERVER
    if given == ["all"]:
        return None
    kinds = []
    for name in given:
        if name not in _KINDS:
            raise _parse_error("spanKind", f"unsupported span kind: {name!r}")
        kinds.append(_KINDS[name])
    return kinds[0] if len(set(kinds)) == 1 else tuple(sorted(set(kinds)))


def _services_param(request: Request) -> tuple[str, ...]:
    services = tuple(name for name in request.query_params.getlist("service") if name)
    if not services:
        raise _parse_error("service", "please provide at least one service name")
    return services


def _timestamp(ns: int) -> str:
    return datetime.fromtimestamp(ns / 1e9, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _labels(series: MetricsSeries) -> list[dict[str, str]]:
    labels = [{"name": "service_name", "value": series.service}]
    if series.operation is not None:
        labels.append({"name": "operation", "value": series.operation})
    return labels


def _point(ns: int, value: float) -> dict[str, Any]:
    return {"gaugeValue": {"doubleValue": value}, "timestamp": _timestamp(ns)}


class MetricsApi:
    """The metrics routes over a store with ``metrics_series``/``metrics_summary``."""

    def __init__(self, store, now_ns: Callable[[], int] = time.time_ns) -> None:
        self.store = store
        self.now_ns = now_ns

    def routes(self) -> list[Route]:
        return [
            Route("/api/metrics/latencies", self.latencies),
            Route("/api/metrics/calls", self.calls),
            Route("/api/metrics/errors", self.errors),
            Route("/api/metrics/minstep", self.min_step),
            Route("/api/v1/monitor", self.monitor),
            Route("/api/v1/monitor/operations", self.monitor_operations),
        ]

    # -- Jaeger's API ------------------------------------------------------------------------

    async def min_step(self, request: Request) -> Response:
        return _envelope(MIN_STEP_MS)

    async def latencies(self, request: Request) -> Response:
        raw = request.query_params.get("quantile", "")
        try:
            quantile = float(raw)
        except ValueError:
            return _envelope(None, 400, str(_parse_error("quantile", f"{raw!r} is not a number")))
        if quantile not in QUANTILES:
            levels = ", ".join(map(str, QUANTILES))
            message = str(_parse_error("quantile", f"{raw} is not one of {levels}"))
            return _envelope(None, 400, message)
        return await self._jaeger(request, "latencies", quantile)

    async def calls(self, request: Request) -> Response:
        return await self._jaeger(request, "call_rate", None)

    async def errors(self, request: Request) -> Response:
        return await self._jaeger(request, "error_rate", None)

    async def _jaeger(self, request: Request, metric: str, quantile: float | None) -> Response:
        try:
            services = _services_param(request)
            by_operation = _bool_param(request, "groupByOperation")
            kind = span_kinds_param(request)
            end_ms = _int_param(request, "endTs", self.now_ns() // MS)
            lookback = _positive_ms(request, "lookback", _DEFAULT_LOOKBACK_MS)
            step = _positive_ms(request, "step", _DEFAULT_STEP_MS)
            rate_per = _positive_ms(request, "ratePer", _DEFAULT_RATE_PER_MS)
            # Counts are summed over the ratePer window before each point: fetch that much more.
            width = 1 if metric == "latencies" else max(1, round(rate_per / step))
            start_ms = end_ms - lookback - (width - 1) * step
            buckets = -(-(end_ms - start_ms) // step)
            if buckets > MAX_BUCKETS:
                raise _parse_error(
                    "step",
                    f"{step} ms makes {buckets} steps over the window (at most "
                    f"{MAX_BUCKETS}); use a larger step or a shorter lookback",
                )
            query = MetricsQuery(
                start_ms * MS, end_ms * MS, step * MS, kind, services, by_operation
            )
        except ParamError as exc:
            return _envelope(None, 400, str(exc))
        series = await run_in_threadpool(self.store.metrics_series, query)
        family = _family(metric, quantile, by_operation, series, query, width)
        return JSONResponse(family)

    # -- the Monitor page's API --------------------------------------------------------------

    def _window(self, request: Request) -> tuple[int, int, int]:
        """(start, end, step) in ns from ``lookback`` (e.g. 1h) and ``end`` (ms, default now);
        the start is aligned to the step so buckets fall on round times."""
        text = request.query_params.get("lookback") or "1h"
        try:
            lookback = parse_duration(text)
        except ValueError as exc:
            raise _parse_error("lookback", str(exc)) from None
        if lookback <= 0:
            raise _parse_error("lookback", "the window must be longer than zero")
        end = _int_param(request, "end", -1)
        end_ns = self.now_ns() if end < 0 else end * MS
        step = choose_step_ns(lookback)
        start = (end_ns - lookback) // step * step
        return start, end_ns, step

    async def monitor(self, request: Request) -> Response:
        try:
            start, end, step = self._window(request)
            kind = span_kinds_param(request)
            services = tuple(name for name in request.query_params.getlist("service") if name)
            query = MetricsQuery(start, end, step, kind, services)
        except (ParamError, ValueError) as exc:
            return _envelope(None, 400, str(exc))
        summary, series = await run_in_threadpool(self._both, query)
        return JSONResponse(monitor_document(query, summary, series))

    async def monitor_operations(self, request: Request) -> Response:
        try:
            start, end, step = self._window(request)
            kind = span_kinds_param(request)
            services = _services_param(request)
            query = MetricsQuery(start, end, step, kind, services, group_by_operation=True)
        except (ParamError, ValueError) as exc:
            return _envelope(None, 400, str(exc))
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

    def _both(self, query: MetricsQuery) -> tuple[list[MetricsSummary], list[MetricsSeries]]:
        both = getattr(self.store, "metrics_summary_and_series", None)
        if both is not None:  # one scan of the window instead of two
            return both(query)
        return self.store.metrics_summary(query), self.store.metrics_series(query)


def choose_step_ns(lookback_ns: int) -> int:
    """The smallest round step that cuts ``lookback_ns`` into at most ``TARGET_BUCKETS``."""
    for seconds in NICE_STEPS_S:
        if lookback_ns / (seconds * 10**9) <= TARGET_BUCKETS:
            return seconds * 10**9
    return -(-lookback_ns // TARGET_BUCKETS)


_HELP = {
    "latencies": "{q}th quantile latency, in ms, grouped by service",
    "call_rate": "calls/sec, grouped by service",
    "error_rate": "error rate, computed as a fraction of errors/sec over calls/sec, grouped by "
    "service",
}


def _family(
    metric: str,
    quantile: float | None,
    by_operation: bool,
    found: list[MetricsSeries],
    query: MetricsQuery,
    width: int,
) -> dict[str, Any]:
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
