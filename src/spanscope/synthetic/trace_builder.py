"""Building one synthetic trace the way OpenTelemetry-instrumented services record it.

``TraceBuilder`` draws everything from one ``random.Random`` (ids, log-normal latencies), so a
trace is deterministic for the generator's state; what it draws, and in which order, is part of
the contract (the same seed must give the same bytes). It records spans (``add``),
a remote call as a CLIENT span in the caller and a SERVER span in the callee (``rpc``), and a
SQL query as a CLIENT span with the database semantic conventions (``sql``). It knows nothing of
what the services do: the shop (``spanscope.synthetic.shop``) says that.

Contract: ``spans`` holds the trace's spans in the order they were recorded (a callee's spans
before the call's pair); times are integer ns; every span's resource is ``resources[service]``
(one shared dict per service) and its flags are 1 (sampled).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field

from spanscope.model import Attributes, Event, Span, SpanKind, StatusCode

# What a callee does inside a call: ``work(server_start, server_span_id) -> (server_end, error)``.
Work = Callable[[int, str], tuple[int, str]]


@dataclass
class TraceBuilder:
    rng: random.Random
    trace_id: str
    resources: dict[str, Attributes]
    spans: list[Span] = field(default_factory=list)

    def span_id(self) -> str:
        return f"{self.rng.getrandbits(64) | 1:016x}"

    def lognormal_ns(self, median_ms: float, sigma: float = 0.5) -> int:
        return int(median_ms * 1e6 * math.exp(self.rng.gauss(0.0, sigma)))

    def add(
        self,
        service: str,
        name: str,
        kind: SpanKind,
        start: int,
        end: int,
        parent: str,
        attributes: Attributes,
        *,
        span_id: str = "",
        scope: tuple[str, str] | None = None,
        error: str = "",
        events: list[Event] | None = None,
        follows_from: bool = False,
    ) -> str:
        """Record a span and return its id: ``span_id`` when the caller drew it already (a
        parent's id is drawn before its children are built), else a new one. ``scope`` is
        the instrumentation's (name, version), by default the service's own; ``error`` sets
        status ERROR and its message."""
        if not span_id:
            span_id = self.span_id()
        scope_name, scope_version = scope or (f"io.opentelemetry.{service}", "1.0.0")
        self.spans.append(
            Span(
                trace_id=self.trace_id,
                span_id=span_id,
                parent_span_id=parent,
                name=name,
                kind=kind,
                start_ns=start,
                end_ns=end,
                service_name=service,
                status_code=StatusCode.ERROR if error else StatusCode.UNSET,
                status_message=error,
                attributes=attributes,
                resource_attributes=self.resources[service],
                scope_name=scope_name,
                scope_version=scope_version,
                events=events or [],
                follows_from=follows_from,
                flags=1,
            )
        )
        return span_id

    # --- one remote call: a CLIENT span in the caller and a SERVER span in the callee -------

    def rpc(
        self, caller: str, callee: str, method: str, start: int, parent: str, work: Work
    ) -> tuple[int, str]:
        """Call ``work(server_start, server_span_id) -> (server_end, error)`` inside a client
        and server span pair; returns ``(client_end, error)``."""
        network = self.lognormal_ns(0.4, 0.3)
        client_id = self.span_id()
        server_start = start + network
        server_id = self.span_id()
        # ``work`` appends the callee's children; build the two spans after it knows the end.
        server_end, error = work(server_start, server_id)
        end = server_end + self.lognormal_ns(0.4, 0.3)
        rpc_attributes: Attributes = {
            "rpc.system": "grpc",
            "rpc.service": f"shop.{callee.title().replace('-', '')}Service",
            "rpc.method": method,
            "server.address": callee,
            "server.port": 8080,
        }
        status = {"rpc.grpc.status_code": 14 if error else 0}
        # The two ends of the call differ only in these; each gets its own attributes dict.
        for span_id, parent_id, kind, span_start, span_end, service in (
            (client_id, parent, SpanKind.CLIENT, start, end, caller),
            (server_id, client_id, SpanKind.SERVER, server_start, server_end, callee),
        ):
            self.add(
                service,
                f"shop.{callee}/{method}",
                kind,
                span_start,
                span_end,
                parent_id,
                {**rpc_attributes, **status},
                span_id=span_id,
                scope=("io.opentelemetry.grpc", "1.62.0"),
                error=error,
            )
        return end, error

    def sql(
        self,
        service: str,
        statement: str,
        table: str,
        start: int,
        parent: str,
        median_ms: float = 1.5,
    ) -> int:
        """Record a PostgreSQL query of ``service`` starting at ``start``; return its end."""
        end = start + self.lognormal_ns(median_ms, 0.6)
        operation = statement.split()[0]
        self.add(
            service,
            f"{operation} shop.{table}",
            SpanKind.CLIENT,
            start,
            end,
            parent,
            {
                "db.system": "postgresql",
                "db.namespace": "shop",
                "db.operation.name": operation,
                "db.collection.name": table,
                "db.query.text": statement,
                "server.address": "postgres",
                "server.port": 5432,
            },
        )
        return end
