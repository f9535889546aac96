"""Spans with a time past 2^63-1 ns sent to the receivers: the rest of the batch is stored and
the answer is OTLP's partial success (``rejected_spans`` and the reader's warning); a batch with
nothing else is refused as a permanent error (400 / INVALID_ARGUMENT). Real OpenTelemetry SDK
exporters (OTLP/HTTP and OTLP/gRPC), and raw requests to read the answers the SDK ignores."""

from __future__ import annotations

import grpc
import httpx
import pytest
from google.rpc import status_pb2  # type: ignore[import-untyped]
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (
    OTLPSpanExporter as GrpcExporter,
)
from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
    OTLPSpanExporter as HttpExporter,
)
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SpanExportResult
from opentelemetry.trace import set_span_in_context

from .conftest import RunningServer, stored_trace

LATE = 2**63 + 5  # past the latest time the model keeps (2^63-1 ns)
START = 1_700_000_000_000_000_000


def _spans(late: list[bool]) -> list[ReadableSpan]:
    """One trace made by the SDK: a root and children, the ``late`` ones starting past int64."""
    provider = TracerProvider(resource=Resource.create({"service.name": "clock"}))
    tracer = provider.get_tracer("late.test")
    root = tracer.start_span("root", start_time=LATE if late[0] else START)
    root.end(end_time=(LATE if late[0] else START) + 10**9)
    spans = [root]
    for n, is_late in enumerate(late[1:], 1):
        start = LATE if is_late else START + n
        child = tracer.start_span(f"child{n}", set_span_in_context(root), start_time=start)
        child.end(end_time=start + 1000)
        spans.append(child)
    return spans  # type: ignore[return-value] - SDK spans are ReadableSpans once ended


def _ids(spans: list[ReadableSpan]) -> tuple[str, list[str]]:
    return (
        format(spans[0].context.trace_id, "032x"),
        [format(span.context.span_id, "016x") for span in spans],
    )


def _stored_ids(server: RunningServer, trace_id: str) -> list[str]:
    return sorted(span.span_id for span in stored_trace(server, trace_id, missing_ok=True))


def _exporter(kind: str, server: RunningServer):
    if kind == "http":
        return HttpExporter(endpoint=f"{server.http}/v1/traces", timeout=10)
    return GrpcExporter(endpoint=server.grpc, insecure=True, timeout=10)


@pytest.mark.parametrize("kind", ["http", "grpc"])
def test_sdk_exporter_batch_with_a_late_span_stores_the_rest(
    live_server: RunningServer, kind: str
) -> None:
    spans = _spans([False, True, False])
    trace_id, ids = _ids(spans)
    exporter = _exporter(kind, live_server)
    try:
        assert exporter.export(spans) == SpanExportResult.SUCCESS
    finally:
        exporter.shutdown()
    assert _stored_ids(live_server, trace_id) == sorted([ids[0], ids[2]])


@pytest.mark.parametrize("kind", ["http", "grpc"])
def test_sdk_exporter_batch_of_late_spans_only_fails(live_server: RunningServer, kind: str) -> None:
    spans = _spans([True, True])
    trace_id, _ = _ids(spans)
    exporter = _exporter(kind, live_server)
    try:
        # A permanent error: the SDK neither retries nor reports success.
        assert exporter.export(spans) == SpanExportResult.FAILURE
    finally:
        exporter.shutdown()
    assert _stored_ids(live_server, trace_id) == []


def _body(late: list[bool]) -> tuple[bytes, str, list[str]]:
    spans = _spans(late)
    trace_id, ids = _ids(spans)
    return encode_spans(spans).SerializeToString(), trace_id, ids


def _check_message(message: str, receiver: str, index: int, span_id: str) -> None:
    assert message.startswith(
        f"{receiver} request: resource_spans[0].scope_spans[0].spans[{index}], byte "
    )
    assert f"span {span_id} " in message
    assert "start_time_unix_nano 9223372036854775813 is past 2^63-1 ns" in message


def _post_protobuf(server: RunningServer, body: bytes) -> httpx.Response:
    return httpx.post(
        f"{server.http}/v1/traces",
        content=body,
        headers={"Content-Type": "application/x-protobuf"},
    )


def test_http_answers_partial_success(live_server: RunningServer) -> None:
    body, trace_id, ids = _body([False, True, True, False])
    response = _post_protobuf(live_server, body)
    assert response.status_code == 200
    answer = trace_service_pb2.ExportTraceServiceResponse.FromString(response.content)
    assert answer.partial_success.rejected_spans == 2
    _check_message(answer.partial_success.error_message, "otlp_http", 1, ids[1])
    assert answer.partial_success.error_message.endswith(
        " (and 1 more spans with times past int64)"
    )
    assert _stored_ids(live_server, trace_id) == sorted([ids[0], ids[3]])
    # A clean request still gets a plain success, no partial_success.
    clean, _, _ = _body([False, False])
    response = _post_protobuf(live_server, clean)
    assert response.status_code == 200
    answer = trace_service_pb2.ExportTraceServiceResponse.FromString(response.content)
    assert not answer.HasField("partial_success")


def test_http_refuses_a_request_of_late_spans_only(live_server: RunningServer) -> None:
    body, trace_id, ids = _body([True])
    response = _post_protobuf(live_server, body)
    assert response.status_code == 400
    status = status_pb2.Status.FromString(response.content)
    assert status.code == 3  # INVALID_ARGUMENT
    _check_message(status.message, "otlp_http", 0, ids[0])
    metrics = httpx.get(f"{live_server.ui}/metrics").text
    assert 'spanscope_bad_requests_total{receiver="otlp_http"} 1' in metrics
    assert _stored_ids(live_server, trace_id) == []


def test_grpc_answers_partial_success_or_invalid_argument(live_server: RunningServer) -> None:
    with grpc.insecure_channel(live_server.grpc) as channel:
        stub = trace_service_pb2_grpc.TraceServiceStub(channel)
        body, trace_id, ids = _body([False, True, False])
        request = trace_service_pb2.ExportTraceServiceRequest.FromString(body)
        answer = stub.Export(request, timeout=10)
        assert answer.partial_success.rejected_spans == 1
        _check_message(answer.partial_success.error_message, "otlp_grpc", 1, ids[1])
        assert _stored_ids(live_server, trace_id) == sorted([ids[0], ids[2]])

        body, trace_id, ids = _body([True, True])
        request = trace_service_pb2.ExportTraceServiceRequest.FromString(body)
        with pytest.raises(grpc.RpcError) as error:
            stub.Export(request, timeout=10)
        assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        _check_message(error.value.details(), "otlp_grpc", 0, ids[0])
        assert _stored_ids(live_server, trace_id) == []
