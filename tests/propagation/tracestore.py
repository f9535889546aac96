"""A small real trace store for the tests: receives OTLP/HTTP protobuf (``POST /v1/traces``),
can also take spans straight from an OpenTelemetry SDK exporter, and answers Jaeger's query API
``GET /api/traces/{id}`` with Jaeger JSON written by spanscope's Jaeger writer."""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Callable, Sequence

from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.trace import ReadableSpan

from spanscope.errors import Diagnostics
from spanscope.formats import otlp_proto
from spanscope.model import Span

from .loopback import LoopbackServer, QuietHandler


def jaeger_document(spans: Sequence[Span]) -> bytes:
    try:
        from spanscope.formats import jaeger_json
    except ImportError:  # the writer had not landed: the tester's own minimal Jaeger JSON
        return _minimal_jaeger(spans)
    out = io.BytesIO()
    jaeger_json.write(spans, out)
    return out.getvalue()


def _minimal_jaeger(spans: Sequence[Span]) -> bytes:
    services = sorted({s.service_name for s in spans})
    pids = {name: f"p{i}" for i, name in enumerate(services, 1)}
    trace = {
        "traceID": spans[0].trace_id if spans else "",
        "spans": [
            {
                "traceID": s.trace_id,
                "spanID": s.span_id,
                "operationName": s.name,
                "references": [
                    {"refType": "CHILD_OF", "traceID": s.trace_id, "spanID": s.parent_span_id}
                ]
                if s.parent_span_id
                else [],
                "processID": pids[s.service_name],
            }
            for s in spans
        ],
        "processes": {pid: {"serviceName": name} for name, pid in pids.items()},
    }
    return json.dumps({"data": [trace]}).encode()


class TraceStore(LoopbackServer):
    def __init__(self, sources: Sequence[Callable[[], Sequence[ReadableSpan]]] = ()) -> None:
        self.received: list[Span] = []
        self.sources = list(sources)
        self.lock = threading.Lock()
        store = self

        class Handler(QuietHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                spans = list(otlp_proto.read(io.BytesIO(body), "otlp", Diagnostics()))
                with store.lock:
                    store.received.extend(spans)
                self.answer(200, b"", "application/x-protobuf")

            def do_GET(self) -> None:
                trace_id = self.path.rstrip("/").rsplit("/", 1)[-1].lower().rjust(32, "0")
                spans = [s for s in store.all_spans() if s.trace_id == trace_id]
                if not spans:
                    error = {"data": None, "errors": [{"code": 404, "msg": "trace not found"}]}
                    self.answer(404, json.dumps(error).encode(), "application/json")
                    return
                self.answer(200, jaeger_document(spans), "application/json")

        super().__init__(Handler)

    @property
    def url(self) -> str:
        return self.base_url

    def all_spans(self) -> list[Span]:
        with self.lock:
            spans = list(self.received)
        for source in self.sources:
            finished = source()
            if finished:
                data = encode_spans(finished).SerializeToString()
                spans += otlp_proto.read(io.BytesIO(data), "sdk", Diagnostics())
        return spans
