"""Query parameters of the metrics endpoints (``jaeger_metrics_api``, ``monitor_api``) and
the error envelope both answer with.

Every parser reads one parameter from a Starlette ``Request`` and either returns its value or
raises ``ParamError`` whose message names the parameter the way Jaeger's ``query_parser.go``
does (``unable to parse param 'step': ...``). Handlers turn it into ``envelope(None, 400,
message)``, Jaeger's ``{"data", "total", "limit", "offset", "errors": [{"code", "msg"}]}``, so a
bad parameter is always a 400 naming it, never a traceback.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from spanscope.model import SpanKind

MS = 1_000_000
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
    value = int_param(request, name, default)
    if value <= 0:
        raise parse_error(name, f"must be a positive number of milliseconds, got {value}")
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
    return services
