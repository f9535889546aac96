"""Changes planted in the synthetic shop for the compare tests, shared by them."""

from __future__ import annotations

from typing import Any


def plant_cache_loop(monkeypatch: Any, reads: int = 8) -> None:
    """The product page reads the catalog's cache ``reads`` times a request (a loop) instead of
    once, for the shop generated while ``monkeypatch`` holds."""
    from spanscope.model import SpanKind
    from spanscope.synthetic import shop

    def product(t, start, parent):
        now = start + t.lognormal_ns(0.1)
        for _ in range(reads):
            end = now + t.lognormal_ns(0.3, 0.3)
            attributes = {"db.system": "redis", "db.operation.name": "GET"}
            t.add("product-catalog", "GET", SpanKind.CLIENT, now, end, parent, attributes)
            now = end
        return now + t.lognormal_ns(0.1), ""

    monkeypatch.setattr(shop, "_product", product)
