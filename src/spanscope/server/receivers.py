"""HTTP receivers: OTLP/HTTP ``/v1/traces``, Zipkin ``/api/v2/spans`` and ``/api/v1/spans``.

Each decodes the body with ``spanscope.formats`` and hands the spans to the write pipeline; it
answers success only once the spans are stored. An OTLP protobuf body the store can encode
itself goes to the pipeline as it is (``WritePipeline.protobuf_request``: checked and counted
here, no model spans made); any other, and any body that check declines, is decoded here, so a
bad payload gets the decoder's error. Errors follow the OTLP/HTTP specification:
- 200 with ``partial_success`` (``rejected_spans`` and the first one's warning) when the reader
  left some spans out (OTLP protobuf or JSON: a time past 2^63-1 ns) and stored the rest;
- 400 with a ``google.rpc.Status`` body for a permanently bad payload (never retried), and
  when every span of it was left out;
- 413 for a body over the limit, 415 for a content type we do not read;
- 429 (queue full) or 503 (store failing, shutting down) with ``Retry-After``: retryable.
A bad payload never crashes the server; it is counted in ``/metrics``.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import NamedTuple

# googleapis-common-protos ships no type information, and its stub package on PyPI
# (googleapis-common-protos-stubs) brings a grpc-stubs that clashes with types-grpcio.
from google.rpc import status_pb2  # type: ignore[import-untyped]
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from spanscope.errors import InputError
from spanscope.formats import decode_spans, otlp_json
from spanscope.formats.otlp_proto import DecodedRequest, decode_request
from spanscope.model import Span
from spanscope.server.body import BadEncoding, BodyTooLarge, read_body
from spanscope.server.pipeline import Overloaded, ProtobufRequest, WriteFailed, WritePipeline

PROTOBUF = "application/x-protobuf"
JSON = "application/json"
RETRY_AFTER_SECONDS = "1"
# gRPC status codes used in google.rpc.Status bodies
_INVALID_ARGUMENT, _RESOURCE_EXHAUSTED, _UNAVAILABLE = 3, 8, 14
_DECODE_INLINE_BYTES = 256 * 1024


class _Left(NamedTuple):
    """Spans the reader left out of a request, for the partial-success answer."""

    rejected: int = 0
    message: str = ""


def _decode(body: bytes, format_name: str, receiver: str) -> DecodedRequest:
    source = f"{receiver} request"
    if format_name == "otlp-proto":
        return decode_request(body, source)
    if format_name == "otlp-json":
        return otlp_json.decode_request(body, source)
    return DecodedRequest(decode_spans(body, format_name, source=source), 0, "")


def _media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


def _status(code: int, message: str, http_status: int, as_json: bool, **headers: str) -> Response:
    if as_json:
        body = json.dumps({"code": code, "message": message}).encode()
        media = JSON
    else:
        body = status_pb2.Status(code=code, message=message).SerializeToString()
        media = PROTOBUF
    return Response(body, status_code=http_status, media_type=media, headers=headers or None)


class Receivers:
    """Builds the receiver routes over one pipeline."""

    def __init__(self, pipeline: WritePipeline, max_body_bytes: int) -> None:
        self.pipeline = pipeline
        self.max_body_bytes = max_body_bytes
        self.metrics = pipeline.metrics

    def routes(self) -> list[Route]:
        return [
            Route("/v1/traces", self.otlp, methods=["POST"]),
            Route("/api/v2/spans", self.zipkin_v2, methods=["POST"]),
            Route("/api/v1/spans", self.zipkin_v1, methods=["POST"]),
        ]

    async def _receive(
        self,
        request: Request,
        receiver: str,
        format_name: str,
        as_json: bool,
        success: Callable[[_Left], Response],
    ) -> Response:
        try:
            body = await read_body(request, self.max_body_bytes)
        except BodyTooLarge as exc:
            self.metrics.bad_requests[receiver] += 1
            return _status(_INVALID_ARGUMENT, str(exc), 413, as_json)
        except BadEncoding as exc:
            self.metrics.bad_requests[receiver] += 1
            return _status(_INVALID_ARGUMENT, str(exc), 400, as_json)
        if format_name == "otlp-proto":
            # Straight to the store's columns when it can (see WritePipeline.protobuf_request);
            # its check runs without the GIL, but a big body still waits off the event loop.
            if len(body) > _DECODE_INLINE_BYTES:
                as_is = await run_in_threadpool(self.pipeline.protobuf_request, body)
            else:
                as_is = self.pipeline.protobuf_request(body)
            if as_is is not None:
                return await self._submit(as_is, receiver, as_json, lambda: success(_Left()))
        try:
            if len(body) > _DECODE_INLINE_BYTES:
                # Big bodies are decoded off the event loop so other requests keep flowing.
                decoded = await run_in_threadpool(_decode, body, format_name, receiver)
            else:
                decoded = _decode(body, format_name, receiver)
        except InputError as exc:
            self.metrics.bad_requests[receiver] += 1
            return _status(_INVALID_ARGUMENT, str(exc), 400, as_json)
        except RecursionError:
            self.metrics.bad_requests[receiver] += 1
            return _status(_INVALID_ARGUMENT, "payload nested too deeply", 400, as_json)
        spans, rejected, why = decoded
        if rejected and not spans:  # nothing accepted: a failure, not a partial success
            self.metrics.bad_requests[receiver] += 1
            return _status(_INVALID_ARGUMENT, why, 400, as_json)
        left = _Left(rejected, why)
        return await self._submit(spans, receiver, as_json, lambda: success(left))

    async def _submit(
        self,
        spans: list[Span] | ProtobufRequest,
        receiver: str,
        as_json: bool,
        success: Callable[[], Response],
    ) -> Response:
        self.metrics.spans_received[receiver] += len(spans)
        try:
            await self.pipeline.submit(spans)
        except Overloaded as exc:
            return _status(_RESOURCE_EXHAUSTED, str(exc), 429, as_json, **_retry())
        except WriteFailed as exc:
            return _status(_UNAVAILABLE, str(exc), 503, as_json, **_retry())
        return success()

    async def otlp(self, request: Request) -> Response:
        media = _media_type(request)
        if media not in (PROTOBUF, JSON):
            self.metrics.bad_requests["otlp_http"] += 1
            return _status(
                _INVALID_ARGUMENT,
                f"unsupported Content-Type {media!r}: use {PROTOBUF} or {JSON}",
                415,
                as_json=True,
            )
        as_json = media == JSON

        def success(left: _Left) -> Response:
            if as_json:
                partial = {"rejectedSpans": str(left.rejected), "errorMessage": left.message}
                answer = {"partialSuccess": partial} if left.rejected else {}
                return Response(json.dumps(answer).encode(), media_type=JSON)
            body = partial_success(left.rejected, left.message).SerializeToString()
            return Response(body, media_type=PROTOBUF)

        return await self._receive(
            request, "otlp_http", "otlp-json" if as_json else "otlp-proto", as_json, success
        )

    def _zipkin(self, format_name: str, receiver: str) -> Callable[[Request], Awaitable[Response]]:
        async def handle(request: Request) -> Response:
            media = _media_type(request)
            if media not in (JSON, ""):
                self.metrics.bad_requests[receiver] += 1
                return _status(
                    _INVALID_ARGUMENT,
                    f"unsupported Content-Type {media!r}: spanscope reads Zipkin JSON",
                    415,
                    as_json=True,
                )
            return await self._receive(
                request, receiver, format_name, True, lambda _: Response(status_code=202)
            )

        return handle

    async def zipkin_v2(self, request: Request) -> Response:
        return await self._zipkin("zipkin-v2", "zipkin_v2")(request)

    async def zipkin_v1(self, request: Request) -> Response:
        return await self._zipkin("zipkin-v1", "zipkin_v1")(request)


def partial_success(rejected: int, message: str) -> trace_service_pb2.ExportTraceServiceResponse:
    """The OTLP answer to a request whose ``rejected`` spans were left out (0: full success)."""
    if not rejected:
        return trace_service_pb2.ExportTraceServiceResponse()
    return trace_service_pb2.ExportTraceServiceResponse(
        partial_success=trace_service_pb2.ExportTracePartialSuccess(
            rejected_spans=rejected, error_message=message
        )
    )


def _retry() -> dict[str, str]:
    return {"Retry-After": RETRY_AFTER_SECONDS}
