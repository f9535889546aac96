"""Three small services instrumented with the OpenTelemetry SDK (stdlib http.server, SDK tracer,
OpenTelemetry propagators) in a chain on loopback. Their spans go to a real loopback trace
store speaking Jaeger's ``/api/traces/{id}``; the tester finds the trace there and checks the
services form one connected tree, in every format, with the upstream propagators and with ours.
A middle service that does not inject, or injects a parent it never reports, fails with an
explanation naming it."""

from __future__ import annotations

import json
import secrets
import urllib.request
from collections.abc import Iterator

import pytest
from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_ON
from opentelemetry.trace import NonRecordingSpan, SpanContext, SpanKind, TraceFlags

from spanscope.propagation import codecs
from spanscope.propagation.otel import SpanscopePropagator, propagator
from spanscope.propagation.tester import run_test

from .loopback import LoopbackServer, QuietHandler
from .tracestore import TraceStore

SERVICES = ["gateway", "orders", "payments"]


class OtelService(LoopbackServer):
    """One instrumented service: a SERVER span per request, a CLIENT span per call on.
    ``mode``: "ok", "no-inject" (calls on without context), "orphan" (sends a parent id it
    never reports) or "always-sample" (records every trace, whatever its caller decided)."""

    def __init__(self, name, next_url, textmap, exporter, mode: str = "ok") -> None:
        provider = TracerProvider(
            resource=Resource.create({"service.name": name}),
            sampler=ALWAYS_ON if mode == "always-sample" else None,  # None: ParentBased
        )
        provider.add_span_processor(SimpleSpanProcessor(exporter))
        tracer = provider.get_tracer("spanscope.tests")
        self.provider = provider

        class Handler(QuietHandler):
            def do_GET(self) -> None:
                parent = textmap.extract(self.headers)
                with tracer.start_as_current_span(
                    f"GET {self.path}", context=parent, kind=SpanKind.SERVER
                ):
                    if next_url:
                        self._call_on(next_url)
                self.answer(200, json.dumps({"service": name}).encode())

            def _call_on(self, url: str) -> None:
                with tracer.start_as_current_span(f"GET {url}", kind=SpanKind.CLIENT) as span:
                    carrier: dict[str, str] = {}
                    if mode in ("ok", "always-sample"):
                        textmap.inject(carrier)
                    elif mode == "orphan":
                        unreported = SpanContext(
                            span.get_span_context().trace_id,
                            int(secrets.token_hex(8), 16),
                            is_remote=False,
                            trace_flags=TraceFlags(TraceFlags.SAMPLED),
                        )
                        textmap.inject(
                            carrier, context=trace.set_span_in_context(NonRecordingSpan(unreported))
                        )
                    with urllib.request.urlopen(
                        urllib.request.Request(url, headers=carrier), timeout=10
                    ) as response:
                        response.read()

        super().__init__(Handler)
        self.url = f"{self.base_url}/{name}"

    def stop(self) -> None:
        super().stop()
        self.provider.shutdown()


@pytest.fixture
def otel_chain() -> Iterator:
    """``otel_chain(fmt, upstream, modes)`` -> (first service URL, trace store URL)."""
    started: list = []

    def build(fmt: str, upstream: bool = True, modes: dict[str, str] | None = None):
        exporter = InMemorySpanExporter()
        store = TraceStore(sources=[exporter.get_finished_spans])
        started.append(store)
        textmap = propagator(fmt, prefer_upstream=upstream)
        next_url = ""
        for name in reversed(SERVICES):
            mode = (modes or {}).get(name, "ok")
            service = OtelService(name, next_url, textmap, exporter, mode)
            started.append(service)
            next_url = service.url
        return next_url, store.url

    yield build
    for thing in started:
        thing.stop()


@pytest.mark.parametrize("upstream", [True, False], ids=["upstream-propagators", "ours"])
@pytest.mark.parametrize("fmt", codecs.FORMAT_NAMES)
def test_otel_sdk_chain_passes_in_every_format(otel_chain, fmt: str, upstream: bool) -> None:
    url, store = otel_chain(fmt, upstream)
    report = run_test(url, fmt, hops=3, expect_services=SERVICES, backend=store, backend_wait=3)
    result = report.formats[0]
    assert report.ok, result.failures()
    assert result.backend.found and result.backend.span_count == 5
    assert sorted(result.backend.services) == sorted(SERVICES)


def test_chosen_propagators() -> None:
    assert isinstance(propagator("w3c", prefer_upstream=False), SpanscopePropagator)
    assert type(propagator("b3multi", with_baggage=False)).__name__ == "B3MultiFormat"
    assert type(propagator("xray", with_baggage=False)).__name__ == "AwsXRayPropagator"


def test_middle_service_that_does_not_inject(otel_chain) -> None:
    url, store = otel_chain("w3c", modes={"orders": "no-inject"})
    report = run_test(url, "w3c", expect_services=SERVICES, backend=store, backend_wait=0.5)
    assert not report.ok
    failures = report.formats[0].failures()
    assert any(
        "service payments has no spans" in f and "orders did not pass the context on" in f
        for f in failures
    ), failures


def test_middle_service_that_sends_an_unreported_parent(otel_chain) -> None:
    url, store = otel_chain("b3", modes={"orders": "orphan"})
    report = run_test(url, "b3", expect_services=SERVICES, backend=store, backend_wait=0.5)
    assert not report.ok
    failures = " | ".join(report.formats[0].failures())
    assert "spans of payments" in failures and "which is not in the trace" in failures
    assert "payments is in the trace but not below orders" in failures


def test_backend_that_does_not_answer(otel_chain) -> None:
    url, _ = otel_chain("w3c")
    report = run_test(url, "w3c", backend="http://127.0.0.1:9", backend_wait=0)
    assert not report.ok
    assert any("cannot reach" in f for f in report.formats[0].failures())


@pytest.mark.parametrize("fmt", ["w3c", "b3multi", "jaeger"])
def test_a_not_sampled_trace_stays_out_of_the_store(otel_chain, fmt: str) -> None:
    # With --unsampled and --backend the tester looked for the trace, found none (as it should
    # be) and failed: 'not in the store: the first hop did not keep the trace id'.
    url, store = otel_chain(fmt)
    report = run_test(
        url, fmt, expect_services=SERVICES, backend=store, backend_wait=0.5, sampled=False
    )
    result = report.formats[0]
    assert report.ok, result.failures()
    assert not result.backend.found and result.backend.to_dict()["expected"] == "absent"


def test_a_service_that_ignores_its_callers_not_sampled_decision(otel_chain) -> None:
    url, store = otel_chain("w3c", modes={"orders": "always-sample"})
    report = run_test(
        url, "w3c", expect_services=SERVICES, backend=store, backend_wait=0.5, sampled=False
    )
    assert not report.ok
    (failure,) = report.formats[0].failures()
    assert failure.startswith("trace store: orders exported a trace its caller marked not")
    assert "ParentBased" in failure and "spans of orders, payments stored" in failure
