"""Real OpenTelemetry SDK exporters (OTLP/HTTP, OTLP/gRPC with gzip, Zipkin JSON) send spans to a
real server; the APIs return them with every field the wire format carries intact."""

from __future__ import annotations

import grpc
import httpx
import pytest
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (
    OTLPSpanExporter as GrpcExporter,
)
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
    OTLPSpanExporter as HttpExporter,
)
from opentelemetry.exporter.zipkin.json import ZipkinExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Link, SpanKind, Status, StatusCode

from spanscope.formats import decode_spans
from spanscope.model import Span

from .conftest import RunningServer, stored_trace


def _record(exporter) -> tuple[list[Span], str]:
    """Make a small, field-rich trace with the SDK; send it with ``exporter``; return the spans
    as the SDK's own OTLP encoding says they are (read with our protobuf reader)."""
    memory = InMemorySpanExporter()
    provider = TracerProvider(
        resource=Resource.create(
            {"service.name": "checkout", "service.version": "2.3.0", "host.name": "web-1"}
        )
    )
    provider.add_span_processor(SimpleSpanProcessor(memory))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("shop.checkout", "1.4.2")
    other = tracer.start_span("elsewhere")
    other.end()
    with (
        tracer.start_as_current_span(
            "POST /api/checkout",
            kind=SpanKind.SERVER,
            attributes={
                "http.request.method": "POST",
                "http.response.status_code": 502,
                "retry": True,
                "ratio": 0.25,
                "tags": ["a", "b"],
                "codes": [1, 2, 3],
            },
        ) as root,
        tracer.start_as_current_span(
            "charge", kind=SpanKind.CLIENT, links=[Link(other.get_span_context(), {"why": "batch"})]
        ) as child,
    ):
        child.add_event("exception", {"exception.type": "Timeout", "attempt": 3})
        child.set_status(Status(StatusCode.ERROR, "provider timed out"))
    provider.shutdown()
    finished = memory.get_finished_spans()
    expected = decode_spans(encode_spans(finished).SerializeToString(), "otlp-proto")
    return expected, format(root.get_span_context().trace_id, "032x")


def _by_id(spans: list[Span]) -> dict[str, Span]:
    return {span.span_id: span for span in spans}


def test_otlp_http_protobuf_exporter_round_trips_every_field(live_server: RunningServer) -> None:
    expected, trace_id = _record(HttpExporter(endpoint=f"{live_server.http}/v1/traces"))
    stored = _by_id(stored_trace(live_server, trace_id))
    wanted = _by_id([span for span in expected if span.trace_id == trace_id])
    assert stored == wanted
    charge = next(span for span in stored.values() if span.name == "charge")
    assert charge.status_message == "provider timed out"
    assert charge.events[0].attributes == {"exception.type": "Timeout", "attempt": 3}
    assert charge.links[0].attributes == {"why": "batch"}
    root = next(span for span in stored.values() if span.name == "POST /api/checkout")
    assert root.attributes["codes"] == [1, 2, 3] and root.attributes["ratio"] == 0.25
    assert root.resource_attributes["host.name"] == "web-1"
    assert (root.scope_name, root.scope_version) == ("shop.checkout", "1.4.2")


def test_otlp_http_gzip_exporter(live_server: RunningServer) -> None:
    exporter = HttpExporter(endpoint=f"{live_server.http}/v1/traces", compression=Compression.Gzip)
    expected, trace_id = _record(exporter)
    assert _by_id(stored_trace(live_server, trace_id)) == _by_id(
        [span for span in expected if span.trace_id == trace_id]
    )


def test_otlp_grpc_exporter_with_gzip(live_server: RunningServer) -> None:
    exporter = GrpcExporter(
        endpoint=live_server.grpc, insecure=True, compression=grpc.Compression.Gzip
    )
    expected, trace_id = _record(exporter)
    assert _by_id(stored_trace(live_server, trace_id)) == _by_id(
        [span for span in expected if span.trace_id == trace_id]
    )


def test_zipkin_json_exporter(live_server: RunningServer) -> None:
    expected, trace_id = _record(ZipkinExporter(endpoint=f"{live_server.zipkin}/api/v2/spans"))
    stored = _by_id(stored_trace(live_server, trace_id))
    wanted = _by_id([span for span in expected if span.trace_id == trace_id])
    assert stored.keys() == wanted.keys()
    for span_id, span in wanted.items():
        got = stored[span_id]
        # Zipkin carries microseconds and text tags: compare what it holds.
        assert (got.name, got.kind, got.parent_span_id, got.service_name) == (
            span.name,
            span.kind,
            span.parent_span_id,
            span.service_name,
        )
        assert abs(got.start_ns - span.start_ns) < 1000  # the SDK rounds to µs
        assert got.status_code == span.status_code
    charge = next(span for span in stored.values() if span.name == "charge")
    assert charge.status_message == "provider timed out"


def test_jaeger_api_shows_what_exporters_sent(live_server: RunningServer) -> None:
    _, trace_id = _record(HttpExporter(endpoint=f"{live_server.http}/v1/traces"))
    services = httpx.get(f"{live_server.ui}/api/services").json()
    assert services["data"] == ["checkout"] and services["errors"] is None
    operations = httpx.get(f"{live_server.ui}/api/services/checkout/operations").json()["data"]
    assert set(operations) == {"POST /api/checkout", "charge", "elsewhere"}
    server_ops = httpx.get(
        f"{live_server.ui}/api/operations", params={"service": "checkout", "spanKind": "server"}
    ).json()["data"]
    assert server_ops == [{"name": "POST /api/checkout", "spanKind": "server"}]
    found = httpx.get(
        f"{live_server.ui}/api/traces",
        params={"service": "checkout", "tags": '{"error":"true"}', "lookback": "1h"},
    ).json()["data"]
    assert [trace["traceID"] for trace in found] == [trace_id]
    logfmt = httpx.get(
        f"{live_server.ui}/api/traces",
        params={"service": "checkout", "tags": "http.response.status_code=502", "limit": "5"},
    ).json()["data"]
    assert [trace["traceID"] for trace in logfmt] == [trace_id]
    trace = httpx.get(f"{live_server.ui}/api/traces/{trace_id}").json()["data"][0]
    assert {span["operationName"] for span in trace["spans"]} == {"POST /api/checkout", "charge"}
    missing = httpx.get(f"{live_server.ui}/api/traces/{'ab' * 16}")
    assert missing.status_code == 404 and missing.json()["errors"][0]["code"] == 404


def test_native_analysis_of_a_stored_trace(live_server: RunningServer) -> None:
    _, trace_id = _record(HttpExporter(endpoint=f"{live_server.http}/v1/traces"))
    analysis = httpx.get(f"{live_server.ui}/api/v1/traces/{trace_id}/analysis").json()
    assert analysis["trace_id"] == trace_id
    assert analysis["critical_path"], "the critical path is not empty"
    assert sum(analysis["self_times_ns"].values()) > 0
    search = httpx.get(
        f"{live_server.ui}/api/v1/analysis", params={"service": "checkout", "lookback": "1h"}
    )
    assert search.status_code == 200
    exported = httpx.get(
        f"{live_server.ui}/api/v1/export",
        params={"service": "checkout", "format": "zipkin-v2", "lookback": "1h"},
    )
    assert {span.trace_id for span in decode_spans(exported.content, "zipkin-v2")} >= {trace_id}
    bad = httpx.get(f"{live_server.ui}/api/v1/export", params={"service": "x", "format": "csv"})
    assert bad.status_code == 400 and "unknown format" in bad.json()["error"]["message"]


@pytest.mark.parametrize("path", ["/api/v1/openapi.json"])
def test_openapi_describes_the_native_api(live_server: RunningServer, path: str) -> None:
    document = httpx.get(f"{live_server.ui}{path}").json()
    assert document["openapi"].startswith("3.")
    assert "/api/v1/traces/{trace_id}/analysis" in document["paths"]
