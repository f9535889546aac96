"""Payments: ``POST /authorize`` asks a (pretend) card network to hold the amount.

About one request in twenty fails the way a flaky third party does: the card network times
out, the exception is recorded on the SERVER span (an ``exception`` event, status ERROR) and
the answer is 502. spanscope's error report names this span as the *originating* error of the
failed checkouts, not the frontend or checkout spans that merely passed the failure on.
"""

from __future__ import annotations

import os
import random
import time
from typing import Any, ClassVar

from examples.shop.telemetry import Handler


class CardNetworkTimeout(Exception):
    """The card network did not answer in time."""


def build(tracer, peers: dict[str, str]) -> type[Handler]:
    failure_rate = float(os.environ.get("SHOP_PAYMENT_FAILURE_RATE", "0.05"))

    class Payments(Handler):
        routes: ClassVar = {("POST", "/authorize"): "/authorize"}
        statuses: ClassVar = {CardNetworkTimeout: 502}

        def route(self, method: str, path: str, body: Any) -> tuple[int, Any]:
            amount = int(body["amount_cents"])
            time.sleep(random.uniform(0.01, 0.03))  # the card network's answer
            if random.random() < failure_rate:
                raise CardNetworkTimeout(f"card network did not answer for {amount} cents")
            return 200, {"authorized": amount}

    Payments.tracer = tracer
    return Payments
