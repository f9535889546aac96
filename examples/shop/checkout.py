"""Checkout: reserves the items at inventory, then authorizes the payment at payments.

On purpose, the two calls run one after the other although neither needs the other's answer
(the authorization is for the cart's total, known up front): spanscope's ``sequential_calls``
finding says running them concurrently would save the shorter one.
"""

from __future__ import annotations

import uuid
from typing import Any, ClassVar

from examples.shop.telemetry import Handler, call

PRICE_CENTS = 1250  # every item costs the same in this shop


def build(tracer, peers: dict[str, str]) -> type[Handler]:
    class Checkout(Handler):
        routes: ClassVar = {("POST", "/checkout"): "/checkout"}

        def route(self, method: str, path: str, body: Any) -> tuple[int, Any]:
            items = body["items"]
            total = PRICE_CENTS * len(items)
            reserved = call(
                tracer, "POST", peers["inventory"] + "/reserve", {"items": items}, "inventory"
            )
            payment = call(
                tracer,
                "POST",
                peers["payments"] + "/authorize",
                {"amount_cents": total},
                "payments",
            )
            order_id = uuid.uuid4().hex[:12]
            return 200, {"order": order_id, "reserved": reserved, "payment": payment}

    Checkout.tracer = tracer
    return Checkout
