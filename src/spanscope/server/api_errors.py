"""The native API's one error shape, ``{"error": {"status", "message"}}``.

``error_response(message, status)`` builds it; ``json_errors(handler)`` wraps a route handler so
that a ``QueryError`` it raises (a bad parameter, an unknown trace) becomes that response.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from spanscope.server.jaeger_api import QueryError


def error_response(message: str, status: int) -> JSONResponse:
    return JSONResponse({"error": {"status": status, "message": message}}, status_code=status)


def json_errors(
    handler: Callable[[Request], Awaitable[Response]],
) -> Callable[[Request], Awaitable[Response]]:
    async def guarded(request: Request) -> Response:
        try:
            return await handler(request)
        except QueryError as exc:
            return error_response(str(exc), exc.status)

    return guarded
