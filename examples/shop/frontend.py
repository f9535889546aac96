"""The shop's edge: ``POST /api/checkout`` takes a cart from a browser and hands it to checkout.

Its SERVER span is the root of every trace (the load generator is not traced, like a browser).
"""

from __future__ import annotations

from typing import Any, ClassVar

from examples.shop.telemetry import Handler, HttpError, call


def build(tracer, peers: dict[str, str]) -> type[Handler]:
    class Frontend(Handler):
        routes: ClassVar = {("POST", "/api/checkout"): "/api/checkout"}

        def route(self, method: str, path: str, body: Any) -> tuple[int, Any]:
            items = (body or {}).get("items")
            if not items:
                raise HttpError(400, "empty cart")
            order = call(
                tracer, "POST", peers["checkout"] + "/checkout", {"items": items}, "checkout"
            )
            return 200, order

    Frontend.tracer = tracer
    return Frontend
