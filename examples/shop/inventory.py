"""Inventory: ``POST /reserve`` checks the stock of each item in a real (in-memory) SQLite table.

On purpose, it asks the database once per item (``SELECT ... WHERE sku = ?`` in a loop) instead
of once for all (``WHERE sku IN (...)``): spanscope's ``n_plus_one`` finding. Each query is a
CLIENT span with the database semantic-convention attributes, as a DB driver's instrumentation
would make it.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from typing import Any, ClassVar

from examples.shop.telemetry import Handler, HttpError
from opentelemetry.trace import SpanKind

QUERY = "SELECT stock FROM items WHERE sku = ?"
# A network round trip to a real database server; SQLite in memory alone takes microseconds.
_ROUND_TRIP_S = 0.003


def _database() -> sqlite3.Connection:
    db = sqlite3.connect(":memory:", check_same_thread=False)
    db.execute("CREATE TABLE items (sku INTEGER PRIMARY KEY, stock INTEGER NOT NULL)")
    db.executemany("INSERT INTO items VALUES (?, ?)", [(sku, 1000) for sku in range(1, 101)])
    return db


def build(tracer, peers: dict[str, str]) -> type[Handler]:
    db = _database()
    lock = threading.Lock()  # one connection shared by the server's threads

    def stock_of(sku: int) -> int:
        with tracer.start_as_current_span(
            "SELECT items",
            kind=SpanKind.CLIENT,
            attributes={
                "db.system": "sqlite",
                "db.namespace": "inventory",
                "db.operation.name": "SELECT",
                "db.collection.name": "items",
                # The text as sent, literal included, the way many drivers report it.
                "db.query.text": QUERY.replace("?", str(sku)),
            },
        ):
            time.sleep(_ROUND_TRIP_S)
            with lock:
                row = db.execute(QUERY, (sku,)).fetchone()
            return row[0] if row else 0

    class Inventory(Handler):
        routes: ClassVar = {("POST", "/reserve"): "/reserve"}

        def route(self, method: str, path: str, body: Any) -> tuple[int, Any]:
            items = [int(sku) for sku in body["items"]]
            for sku in items:  # the N+1: one query per item
                if stock_of(sku) <= 0:
                    raise HttpError(409, f"item {sku} is out of stock")
            return 200, {"items": len(items)}

    Inventory.tracer = tracer
    return Inventory
