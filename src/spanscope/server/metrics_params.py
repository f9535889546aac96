"""Query parameters of the metrics endpoints (``jaeger_metrics_api``, ``monitor_api``) and
the error envelope both answer with.

Every parser reads one parameter from a Starlette ``Request`` and either returns its value or
raises ``ParamError`` whose message names the parameter the way Jaeger's ``query_parser.go``
does (``unable to parse param 'step': ...``). Handlers turn it into ``envelope(None, 400,
message)``, Jaeger's ``{"data", "total", "limit", "offset", "errors": [{"code", "msg"}]}``, so a
bad parameter is always a 400 naming it, never a traceback.

Limits, so that no request reaches a store with a value it would wrap or choke on: times
(``endTs``, ``end``) from 1970-01-01 to 2262-04-11 (int64 ns), durations (``lookback``,
``step``, ``ratePer``) positive and under 292 years, at most ``MAX_SERVICES`` ``service``
values.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from spanscope.model import SpanKind

MS = 1_000_000
# Times and durations are integer ns in 64 bits everywhere below (the stores' timestamps, the
# SQL's arithmetic): 1970-01-01 up to 2262-04-11. Anything beyond is refused, not wrapped.
LATEST_MS = (2**63 - 1) // MS
# Far more than any page or Jaeger UI sends (one), and it keeps the SQL's IN list well under
# ClickHouse's max_query_size.
MAX_SERVICES = 1000
_KINDS = {
    **{f"SPAN_KIND_{kind.name}": kind for kind in SpanKind},
    **{kind.name.lower(): kind for kind in SpanKind},
}
# Go's strconv.ParseBool, which Jaeger uses.
_TRUE = {"1", "t", "T", "TRUE", "true", "True"}
_FALSE = {"0", "f", "F", "FALSE", "false", "False"}


class ParamError(Exception):
    """A bad query parameter; the message names it."""


def envelope(data: Any, status: int = 200, error: str | None = None) -> JSONResponse:
    """Jaeger's JSON envelope around ``data``; with ``error``, its one-error form."""
    errors = [{"code": status, "msg": error}] if error is not None else None
    return JSONResponse(
        {"data": data, "total": 0, "limit": 0, "offset": 0, "errors": errors},
        status_code=status,
    )


def parse_error(name: str, why: str) -> ParamError:
    return ParamError(f"unable to parse param '{name}': {why}")


def int_param(request: Request, name: str, default: int) -> int:
    raw = request.query_params.get(name, "")
    if raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise parse_error(name, f"{raw!r} is not an integer") from None


def positive_ms(request: Request, name: str, default: int) -> int:
    """A duration in ms: positive, and at most ``LATEST_MS`` (292 years)."""
    value = int_param(request, name, default)
    if value <= 0:
        raise parse_error(name, f"must be a positive number of milliseconds, got {value}")
    if value > LATEST_MS:
        raise parse_error(name, f"{value} ms is too long: at most {LATEST_MS} ms")
    return value


def time_ms_param(request: Request, name: str) -> int | None:
    """A time in ms since the epoch (``None`` when not given): 1970-01-01 to 2262-04-11."""
    if request.query_params.get(name, "") == "":
        return None
    value = int_param(request, name, 0)
    if not 0 <= value <= LATEST_MS:
        raise parse_error(
            name,
            f"{value} is not a time from 1970-01-01 to 2262-04-11 in ms since the epoch",
        )
    return value


def bool_param(request: Request, name: str) -> bool:
    raw = request.query_params.get(name, "")
    if raw == "" or raw in _FALSE:
        return False
    if raw in _TRUE:
        return True
    raise parse_error(name, f"{raw!r} is not a boolean (true or false)")


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
            raise parse_error("spanKind", f"unsupported span kind: {name!r}")
        kinds.append(_KINDS[name])
    return kinds[0] if len(set(kinds)) == 1 else tuple(sorted(set(kinds)))


def services_param(request: Request, required: bool = True) -> tuple[str, ...]:
    """``service`` (repeatable; empty values ignored); when ``required``, at least one."""
    services = tuple(name for name in request.query_params.getlist("service") if name)
    if required and not services:
        raise parse_error("service", "please provide at least one service name")
    if len(services) > MAX_SERVICES:
        raise parse_error(
            "service", f"{len(services)} services: at most {MAX_SERVICES} in one request"
        )
    return services
