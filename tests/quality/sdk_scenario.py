"""Spans made by the real OpenTelemetry SDK the way services make them, with planted
instrumentation faults, exported as OTLP protobuf bytes by the SDK's own encoder.

Three services with their own tracer providers and resources; context crosses each hop through
the W3C propagator. ``frontend`` is instrumented well. ``checkout`` uses old attribute names, puts
an order id in its span name, answers 500 without marking the span, records a database call
without a kind, captures the authorization header and records a handled exception. A job
without a service name continues a trace whose parent was never exported, and fails without
saying why.
"""

from __future__ import annotations

from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.propagate import extract, inject
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import (
    NonRecordingSpan,
    SpanContext,
    SpanKind,
    TraceFlags,
    set_span_in_context,
)
from opentelemetry.trace.status import Status, StatusCode

SECRET = "Bearer eyJhbGciOi.s3cr3t"
ORDERS = 25


def provider(exporter: InMemorySpanExporter, attributes: dict) -> TracerProvider:
    tracer_provider = TracerProvider(resource=Resource.create(attributes))
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    return tracer_provider


def export() -> bytes:
    """The OTLP protobuf body of every span (see the module docstring)."""
    exporter = InMemorySpanExporter()
    frontend = provider(
        exporter,
        {
            "service.name": "frontend",
            "service.version": "2.1.0",
            "deployment.environment.name": "prod",
        },
    ).get_tracer("shop.frontend")
    checkout = provider(exporter, {"service.name": "checkout"}).get_tracer("shop.checkout")
    nameless = provider(exporter, {}).get_tracer("worker")

    for order in range(ORDERS):
        with frontend.start_as_current_span(
            "POST /checkout",
            kind=SpanKind.SERVER,
            attributes={"http.request.method": "POST", "http.route": "/checkout"},
        ) as server:
            server.set_attribute("http.response.status_code", 200)
            with frontend.start_as_current_span(
                "POST",
                kind=SpanKind.CLIENT,
                attributes={"http.request.method": "POST", "server.address": "checkout"},
            ) as client:
                headers: dict[str, str] = {}
                inject(headers)
                # The checkout service, on the other side of the hop, while the client waits
                # (it ran after the client span ended, which a busy machine stretched into a
                # clock-skew finding): old conventions, an id in the span name, a 500 it does
                # not mark, a database call without a kind.
                with checkout.start_as_current_span(
                    f"POST /orders/{order + 1000}",
                    context=extract(headers),
                    kind=SpanKind.SERVER,
                    attributes={
                        "http.method": "POST",
                        "http.status_code": 500,
                        "http.request.header.authorization": SECRET,
                    },
                ) as handler:
                    with checkout.start_as_current_span(
                        "INSERT orders",
                        attributes={"db.system": "postgresql", "db.statement": "INSERT ..."},
                    ):
                        pass
                    try:
                        raise KeyError("coupon")
                    except KeyError as exc:
                        handler.record_exception(exc)  # handled: the request went on
                client.set_attribute("http.response.status_code", 200)

    # A job without a service name, continuing a trace whose parent was never exported.
    lost_parent = SpanContext(
        trace_id=0x0AF7651916CD43DD8448EB211C80319C,
        span_id=0xB7AD6B7169203331,
        is_remote=True,
        trace_flags=TraceFlags(TraceFlags.SAMPLED),
    )
    with nameless.start_as_current_span(
        "nightly", context=set_span_in_context(NonRecordingSpan(lost_parent))
    ) as job:
        job.set_status(Status(StatusCode.ERROR))

    return encode_spans(exporter.get_finished_spans()).SerializeToString()
