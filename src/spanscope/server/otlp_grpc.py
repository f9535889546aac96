"""OTLP/gRPC receiver: ``opentelemetry.proto.collector.trace.v1.TraceService/Export`` on
grpcio's asyncio server, gzip accepted.

Same contract as the HTTP receivers: success only once the spans are stored;
INVALID_ARGUMENT for a payload that cannot be read (permanent), RESOURCE_EXHAUSTED when the
queue is full and UNAVAILABLE when the store fails (both retryable by OTLP exporters).
"""

from __future__ import annotations

import grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc

from spanscope.errors import InputError
from spanscope.formats import decode_spans
from spanscope.model import Span
from spanscope.server.pipeline import Overloaded, ProtobufRequest, WriteFailed, WritePipeline


def _raw(data: bytes) -> bytes:
    return data


class TraceService(trace_service_pb2_grpc.TraceServiceServicer):
    def __init__(self, pipeline: WritePipeline) -> None:
        self.pipeline = pipeline
        self.metrics = pipeline.metrics

    async def Export(
        self, request: bytes, context: grpc.aio.ServicerContext
    ) -> trace_service_pb2.ExportTraceServiceResponse:
        # Straight to the store's columns when it can (WritePipeline.protobuf_request).
        spans: list[Span] | ProtobufRequest | None = self.pipeline.protobuf_request(request)
        if spans is None:
            try:
                spans = decode_spans(request, "otlp-proto", source="otlp_grpc request")
            except InputError as exc:
                self.metrics.bad_requests["otlp_grpc"] += 1
                await context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(exc))
        self.metrics.spans_received["otlp_grpc"] += len(spans)
        try:
            await self.pipeline.submit(spans)
        except Overloaded as exc:
            await context.abort(grpc.StatusCode.RESOURCE_EXHAUSTED, str(exc))
        except WriteFailed as exc:
            await context.abort(grpc.StatusCode.UNAVAILABLE, str(exc))
        return trace_service_pb2.ExportTraceServiceResponse()


def build_grpc_server(
    pipeline: WritePipeline, address: str, max_message_bytes: int
) -> tuple[grpc.aio.Server, int]:
    """A server with the trace service bound to ``address`` (``host:port``; port 0 picks a free
    one). Returns the server (not started) and the bound port."""
    server = grpc.aio.server(
        options=[
            ("grpc.max_receive_message_length", max_message_bytes),
            ("grpc.max_send_message_length", 4 * 1024 * 1024),
        ],
        compression=grpc.Compression.NoCompression,
    )
    service = TraceService(pipeline)
    # The request is taken as raw bytes so our reader does the decoding (one code path for
    # files, HTTP and gRPC, with the same error messages).
    handler = grpc.method_handlers_generic_handler(
        "opentelemetry.proto.collector.trace.v1.TraceService",
        {
            "Export": grpc.unary_unary_rpc_method_handler(
                service.Export,
                request_deserializer=_raw,
                response_serializer=trace_service_pb2.ExportTraceServiceResponse.SerializeToString,
            )
        },
    )
    server.add_generic_rpc_handlers((handler,))
    port = server.add_insecure_port(address)
    if port == 0:
        raise OSError(f"cannot listen for OTLP/gRPC on {address}")
    return server, port
