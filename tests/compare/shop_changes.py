"""Changes planted in the synthetic shop for the compare tests, shared by them."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def plant_checkout_share(monkeypatch: Any, checkout: float) -> None:
    """The shop with checkout ``checkout`` of the requests, the other two routes sharing the
    rest: the stock query is made more often per request overall, not in each checkout."""
    from spanscope.synthetic import shop

    other = (1 - checkout) / 2
    routes = (
        ("POST", "/api/checkout", checkout),
        ("GET", "/api/products/{id}", other),
        ("GET", "/api/cart", other),
    )
    monkeypatch.setattr(shop, "_ROUTES", routes)


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


def write_renamed(
    path: Path,
    traces: int,
    seed: int,
    names: dict[str, str],
    services: dict[str, str] | None = None,
    next_release: bool = False,
) -> None:
    """The shop's spans as OTLP JSON lines, span and service names replaced by ``names`` and
    ``services`` (names rich would read as markup, names of megabytes)."""
    import msgspec

    from spanscope.formats import write_spans
    from spanscope.synthetic import generate_spans

    services = services or {}

    def renamed(span: Any) -> Any:
        return msgspec.structs.replace(
            span,
            name=names.get(span.name, span.name),
            service_name=services.get(span.service_name, span.service_name),
        )

    spans = generate_spans(traces, seed=seed, next_release=next_release)
    with open(path, "wb") as out:
        write_spans(map(renamed, spans), out, "otlp-jsonl")
