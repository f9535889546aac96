"""Synthetic but realistic traces of a small online shop, for demos and benchmarks.

The shop has the shape of the OpenTelemetry demo: a frontend calling checkout, cart, catalog,
payment, inventory, shipping and email services over HTTP/gRPC, with databases, a cache and a
queue. Latencies are log-normal, a few requests hit known problems on purpose so analysis has
something to find:

- inventory reserves each cart item with its own SQL query (an N+1 pattern), so big carts make
  ``POST /api/checkout`` slow;
- payment calls an external provider that sometimes times out and fails (HTTP 502, exception
  event), and the error travels up to the frontend;
- checkout fetches shipping quotes and the cart one after the other although they are independent.

``next_release=True`` gives the shop's next release, for ``spanscope diff``: inventory 1.5.0's
stock query lost its index (its SELECTs take about 4x as long), and shipping 1.1.0's carrier
now rate-limits about 4% of quotes, which fails those checkouts. Everything else is the same
shop; the default release is unchanged by this option's existence (same seed, same traces).

Contract: ``generate_spans(traces, seed, next_release=False)`` yields model ``Span``s trace by
trace (all spans of a trace together, children after parents), deterministic for a seed, times
in ns from ``start_ns``. Memory stays bounded to one trace at a time.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass

from spanscope.model import Attributes, Event, Span, SpanKind
from spanscope.synthetic.trace_builder import TraceBuilder

_SERVICES = {
    "frontend": ("web-1", "1.8.2", "nodejs"),
    "checkout": ("checkout-7f9c", "2.3.0", "go"),
    "cart": ("cart-5d2a", "1.1.4", "dotnet"),
    "product-catalog": ("catalog-0b11", "3.0.1", "go"),
    "payment": ("payment-9e4f", "0.9.7", "nodejs"),
    "inventory": ("inventory-44c1", "1.4.0", "python"),
    "shipping": ("shipping-1aa0", "1.0.3", "rust"),
    "email": ("email-c3d8", "0.4.2", "ruby"),
}


_NEXT_RELEASE_VERSIONS = {"inventory": "1.5.0", "shipping": "1.1.0"}


def _resources(next_release: bool) -> dict[str, Attributes]:
    versions = _NEXT_RELEASE_VERSIONS if next_release else {}
    return {
        name: {
            "service.name": name,
            "service.version": versions.get(name, version),
            "service.namespace": "shop",
            "host.name": host,
            "deployment.environment.name": "production",
            "telemetry.sdk.language": language,
            "telemetry.sdk.name": "opentelemetry",
        }
        for name, (host, version, language) in _SERVICES.items()
    }


@dataclass
class _ShopTrace(TraceBuilder):
    """One request's trace, in the current release of the shop or the next one."""

    next_release: bool = False


def _inventory_reserve(t: _ShopTrace, items: int, start: int, parent: str) -> tuple[int, str]:
    now = start + t.lognormal_ns(0.2)
    # The N+1: one SELECT per item, one after the other (4x slower without the index).
    select_ms = 6.0 if t.next_release else 1.5
    for _ in range(items):
        now = t.sql(
            "inventory",
            "SELECT quantity FROM stock WHERE product_id = $1",
            "stock",
            now,
            parent,
            select_ms,
        )
    now = t.sql(
        "inventory",
        "UPDATE stock SET reserved = reserved + $1 WHERE product_id = ANY($2)",
        "stock",
        now,
        parent,
    )
    return now + t.lognormal_ns(0.1), ""


def _payment_charge(t: _ShopTrace, start: int, parent: str) -> tuple[int, str]:
    now = start + t.lognormal_ns(0.5)
    failing = t.rng.random() < 0.03
    call_end = now + (t.lognormal_ns(2000, 0.1) if failing else t.lognormal_ns(35, 0.4))
    status = 502 if failing else 200
    events = []
    error = ""
    if failing:
        error = "upstream payment provider timed out after 2000 ms"
        events = [
            Event(
                time_ns=call_end,
                name="exception",
                attributes={
                    "exception.type": "PaymentProviderTimeout",
                    "exception.message": (
                        f"charge {t.rng.getrandbits(32):08x} timed out after 2000 ms"
                    ),
                },
            )
        ]
    t.add(
        "payment",
        "POST",
        SpanKind.CLIENT,
        now,
        call_end,
        parent,
        {
            "http.request.method": "POST",
            "url.full": "https://api.payments.example/v1/charges",
            "server.address": "api.payments.example",
            "http.response.status_code": status,
        },
        error=error,
        events=events,
    )
    return call_end + t.lognormal_ns(0.3), error


def _shipping_quote(t: _ShopTrace, start: int, parent: str) -> tuple[int, str]:
    if not t.next_release or t.rng.random() >= 0.04:
        return start + t.lognormal_ns(6, 0.4), ""
    # The next release's carrier API answers 429 to some quotes; shipping gives up.
    end = start + t.lognormal_ns(9, 0.3)
    error = "carrier rate limit exceeded (HTTP 429)"
    t.add(
        "shipping",
        "POST",
        SpanKind.CLIENT,
        start + t.lognormal_ns(0.3),
        end,
        parent,
        {
            "http.request.method": "POST",
            "url.full": "https://api.carrier.example/v2/quotes",
            "server.address": "api.carrier.example",
            "http.response.status_code": 429,
        },
        error=error,
        events=[
            Event(
                time_ns=end,
                name="exception",
                attributes={
                    "exception.type": "CarrierRateLimited",
                    "exception.message": f"quote {t.rng.getrandbits(32):08x} rate limited",
                },
            )
        ],
    )
    return end + t.lognormal_ns(0.2), error


def _checkout(t: _ShopTrace, start: int, parent: str) -> tuple[int, str]:
    items = 1 + int(t.rng.expovariate(1 / 3))
    if t.rng.random() < 0.05:
        items += 25  # the occasional huge cart behind the slow tail
    now = start + t.lognormal_ns(0.3)
    # Independent calls made one after the other (could run in parallel).
    now, _ = t.rpc(
        "checkout",
        "cart",
        "GetCart",
        now,
        parent,
        lambda s, p: (
            t.sql(
                "cart",
                "SELECT * FROM cart_items WHERE cart_id = $1",
                "cart_items",
                s + t.lognormal_ns(0.1),
                p,
            ),
            "",
        ),
    )
    now, error = t.rpc(
        "checkout", "shipping", "GetQuote", now, parent, lambda s, p: _shipping_quote(t, s, p)
    )
    if error:
        return now + t.lognormal_ns(0.2), error
    now, _ = t.rpc(
        "checkout",
        "inventory",
        "ReserveItems",
        now,
        parent,
        lambda s, p: _inventory_reserve(t, items, s, p),
    )
    now, error = t.rpc(
        "checkout", "payment", "Charge", now, parent, lambda s, p: _payment_charge(t, s, p)
    )
    if not error:
        # Fire-and-forget confirmation through a queue: a FOLLOWS_FROM child.
        producer_end = now + t.lognormal_ns(0.8)
        producer = t.add(
            "checkout",
            "orders publish",
            SpanKind.PRODUCER,
            now,
            producer_end,
            parent,
            {"messaging.system": "kafka", "messaging.destination.name": "orders"},
        )
        consume_start = producer_end + t.lognormal_ns(15, 0.8)
        t.add(
            "email",
            "orders process",
            SpanKind.CONSUMER,
            consume_start,
            consume_start + t.lognormal_ns(40, 0.5),
            producer,
            {"messaging.system": "kafka", "messaging.destination.name": "orders"},
            follows_from=True,
        )
        now = producer_end
    return now + t.lognormal_ns(0.2), error


def _product(t: _ShopTrace, start: int, parent: str) -> tuple[int, str]:
    now = start + t.lognormal_ns(0.1)
    if t.rng.random() < 0.7:
        end = now + t.lognormal_ns(0.3, 0.3)
        t.add(
            "product-catalog",
            "GET",
            SpanKind.CLIENT,
            now,
            end,
            parent,
            {"db.system": "redis", "db.operation.name": "GET", "server.address": "redis"},
        )
        return end + t.lognormal_ns(0.1), ""
    end = t.sql("product-catalog", "SELECT * FROM products WHERE id = $1", "products", now, parent)
    return end + t.lognormal_ns(0.1), ""


_ROUTES = (
    ("POST", "/api/checkout", 0.25),
    ("GET", "/api/products/{id}", 0.55),
    ("GET", "/api/cart", 0.20),
)


def _request(t: _ShopTrace, start: int) -> None:
    method, route, _ = t.rng.choices(_ROUTES, weights=[r[2] for r in _ROUTES])[0]
    root_id = t.span_id()
    now = start + t.lognormal_ns(0.5)
    if route == "/api/checkout":
        now, error = t.rpc(
            "frontend", "checkout", "PlaceOrder", now, root_id, lambda s, p: _checkout(t, s, p)
        )
    elif route == "/api/cart":
        now, error = t.rpc(
            "frontend",
            "cart",
            "GetCart",
            now,
            root_id,
            lambda s, p: (
                t.sql("cart", "SELECT * FROM cart_items WHERE cart_id = $1", "cart_items", s, p),
                "",
            ),
        )
    else:
        now, error = t.rpc(
            "frontend",
            "product-catalog",
            "GetProduct",
            now,
            root_id,
            lambda s, p: _product(t, s, p),
        )
    end = now + t.lognormal_ns(0.8)
    t.add(
        "frontend",
        f"{method} {route}",
        SpanKind.SERVER,
        start,
        end,
        "",
        {
            "http.request.method": method,
            "http.route": route,
            "url.path": route.replace("{id}", str(t.rng.randrange(1, 5000))),
            "http.response.status_code": 500 if error else 200,
            "user_agent.original": "Mozilla/5.0 (X11; Linux x86_64)",
        },
        span_id=root_id,
        scope=("@opentelemetry/instrumentation-http", "0.52.1"),
        error=error,
    )


def generate_spans(
    traces: int,
    *,
    seed: int = 42,
    start_ns: int = 1_764_150_000_000_000_000,
    next_release: bool = False,
) -> Iterator[Span]:
    """Yield the spans of ``traces`` shop requests, one trace after another."""
    rng = random.Random(seed)
    resources = _resources(next_release)
    now = start_ns
    for _ in range(traces):
        builder = _ShopTrace(
            rng, f"{rng.getrandbits(128) | 1:032x}", resources, next_release=next_release
        )
        _request(builder, now)
        # Parents first, as most exporters would deliver a finished trace.
        builder.spans.sort(key=lambda span: span.start_ns)
        yield from builder.spans
        now += int(rng.expovariate(1 / 20e6))  # about 50 requests per second
