"""OTLP/gRPC receiver: ``opentelemetry.proto.collector.trace.v1.TraceService/Export`` on
grpcio's asyncio server, gzip accepted.

Same contract as the HTTP receivers: success only once the spans are stored, with
``partial_success`` when the reader left some spans out (a time past 2^63-1 ns);
INVALID_ARGUMENT for a payload that cannot be read or whose every span was left out
(permanent), RESOURCE_EXHAUSTED when the
queue is full and UNAVAILABLE when the store fails (both retryable by OTLP exporters).
"""

from __future__ import annotations

import grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc

from spanscope.errors import InputError
from spanscope.formats.otlp_proto import decode_request
from spanscope.model import Span
from spanscope.server.pipeline import Overloaded, ProtobufRequest, WriteFailed, WritePipeline
from spanscope.server.receivers import partial_success


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
        rejected, why = 0, ""
        if spans is None:
            try:
                spans, rejected, why = decode_request(request, "otlp_grpc request")
            except InputError as exc:
                self.metrics.bad_requests["otlp_grpc"] += 1
                await context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(exc))
            if rejected and not spans:  # nothing accepted: a failure, not a partial success
                self.metrics.bad_requests["otlp_grpc"] += 1
                await context.abort(grpc.StatusCode.INVALID_ARGUMENT, why)
        self.metrics.spans_received["otlp_grpc"] += len(spans)
        try:
            await self.pipeline.submit(spans)
        except Overloaded as exc:
            await context.abort(grpc.StatusCode.RESOURCE_EXHAUSTED, str(exc))
        except WriteFailed as exc:
            await context.abort(grpc.StatusCode.UNAVAILABLE, str(exc))
        return partial_success(rejected, why)


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
    # As the other listeners say it (serve names the option that chose the port): grpcio says
    # only "Failed to bind to address ..." (a RuntimeError; older versions returned port 0).
    refused = OSError(f"cannot listen on {address}: Address already in use")
    try:
        port = server.add_insecure_port(address)
    except RuntimeError:
        raise refused from None
    if port == 0:
        raise refused
    return server, port
