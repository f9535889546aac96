"""The echo probe: a small HTTP service to put in a chain of services to see what context
arrives at each hop.

Every request is answered with JSON (the *echo answer*, schema below) naming the service, the
context headers it received, each format's reading of them, the server span it made and, when
it calls on, the headers it sent and the next hop's answer. That lets ``tester`` walk a whole
chain A -> B -> C from the first answer.

- ``GET``/``POST`` with ``forward`` set: the probe calls each forward URL with a fresh span id
  in the same format(s) it received (or ``inject`` formats when it received none or only
  invalid ones, starting a new trace), and nests the answer under ``downstream``.
- ``POST`` with a JSON array body of ``{"url": ..., "arguments": [...]}``: the W3C trace-context
  test harness contract. The probe POSTs ``arguments`` to each ``url`` with propagated headers;
  so it is a conforming service under test for the official suite. Only ``http://`` and
  ``https://`` URLs are called (urllib would also open ``file://`` and ``ftp://``).
- ``otlp_endpoint`` set: server and client spans are exported with the OpenTelemetry SDK over
  OTLP/HTTP (``http://host:4318`` or a full ``/v1/traces`` URL), so a trace store can show the
  chain. Span ids are the SDK's; what is propagated is the client span of each outgoing call.

Echo answer: ``{"service", "received": [[name, value]...], "parsed": {format: {...}},
"used": format|null, "notes": [...], "span": {"trace_id", "span_id", "parent_span_id"},
"calls": [{"url", "sent": [[name, value]...], "status", "error", "answer"}],
"downstream": <echo answer of the first call>|null}``.
"""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from opentelemetry import trace as otel_trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.id_generator import IdGenerator
from opentelemetry.trace import NonRecordingSpan, SpanContext, SpanKind, TraceFlags

from spanscope.propagation import baggage, codecs, jaeger
from spanscope.propagation.context import Context, new_span_id, new_trace_id, parsed_to_dict

MAX_BODY = 1 << 20


@dataclass
class EchoConfig:
    service: str = "echo"
    host: str = "127.0.0.1"
    port: int = 0
    forward: list[str] = field(default_factory=list)
    inject: list[str] = field(default_factory=lambda: ["w3c"])  # formats for a new trace
    propagate: bool = True  # False: call on without context (an uninstrumented service)
    otlp_endpoint: str | None = None
    timeout: float = 10.0


class _XRayFriendlyIds(IdGenerator):
    """Trace ids with the epoch second in front, so a trace started here is valid in every
    format including X-Ray. ``pending`` lets a root span take a trace id that arrived without
    a parent (an X-Ray root from a load balancer): the SDK has no other way to set one."""

    def __init__(self) -> None:
        self.pending = threading.local()

    def generate_span_id(self) -> int:
        return int(new_span_id(), 16)

    def generate_trace_id(self) -> int:
        trace_id = getattr(self.pending, "trace_id", "")
        self.pending.trace_id = ""
        return int(trace_id or new_trace_id(), 16)


def _tracer_provider(config: EchoConfig, ids: IdGenerator) -> TracerProvider:
    provider = TracerProvider(
        resource=Resource.create({"service.name": config.service}), id_generator=ids
    )
    if config.otlp_endpoint:
        try:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        except ImportError as exc:  # an optional extra, named in the message
            raise RuntimeError(
                "--otlp-endpoint needs the package opentelemetry-exporter-otlp-proto-http"
            ) from exc
        endpoint = config.otlp_endpoint.rstrip("/")
        if not endpoint.endswith("/v1/traces"):
            endpoint += "/v1/traces"
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
    return provider


def _span_ids(span: otel_trace.Span) -> tuple[str, str]:
    ctx = span.get_span_context()
    return f"{ctx.trace_id:032x}", f"{ctx.span_id:016x}"


class EchoService:
    """The probe's logic, independent of the HTTP server that carries it."""

    def __init__(self, config: EchoConfig) -> None:
        self.config = config
        self.ids = _XRayFriendlyIds()
        self.provider = _tracer_provider(config, self.ids)
        self.tracer = self.provider.get_tracer("spanscope.propagation.echo")

    def handle(
        self, method: str, path: str, headers: Sequence[tuple[str, str]], body: bytes
    ) -> dict[str, Any]:
        results = codecs.extract_all(headers)
        found = codecs.first_valid(results)
        present = [n for n, p in results.items() if p.present]
        notes = codecs.disagreements(results)
        if found is not None:
            used, incoming = found
            formats = present
        else:
            # baggage travels without a trace context too; keep it on the new trace
            loose = baggage.extract_entries(headers).value or ()
            loose += jaeger.parse_baggage(headers)
            used, incoming = None, Context(sampled=True, random=True, baggage=loose)
            formats = present or list(self.config.inject)
            if present:
                notes.append("no valid context received: started a new trace")
        decided = incoming.sampled if incoming.sampled is not None else True
        parent = None  # no ids: the server span starts a new trace
        if incoming.has_ids:
            remote = NonRecordingSpan(_otel_context(incoming, decided))
            parent = otel_trace.set_span_in_context(remote)
        elif incoming.trace_id:
            self.ids.pending.trace_id = incoming.trace_id
            notes.append("received a trace id without a parent span id: this hop is the root")
        with self.tracer.start_as_current_span(
            f"{method} {path}", context=parent, kind=SpanKind.SERVER
        ) as server_span:
            trace_id, span_id = _span_ids(server_span)
            here = replace(
                incoming,
                trace_id=trace_id,
                span_id=span_id,
                parent_span_id=incoming.span_id,
                random=incoming.random if incoming.has_ids else True,
            )
            calls = [
                self._call(url, "GET" if method == "GET" else "POST", None, here, formats)
                for url in self.config.forward
            ]
            for instruction in _harness_instructions(method, body):
                calls.append(
                    self._call(
                        str(instruction["url"]),
                        "POST",
                        json.dumps(instruction.get("arguments", [])).encode(),
                        here,
                        formats,
                    )
                )
        return {
            "service": self.config.service,
            "received": [[k, v] for k, v in headers if codecs.is_context_header(k)],
            "parsed": {n: parsed_to_dict(p) for n, p in results.items() if p.present},
            "used": used,
            "notes": notes,
            "span": {
                "trace_id": trace_id,
                "span_id": span_id,
                "parent_span_id": incoming.span_id or None,
            },
            "calls": calls,
            "downstream": next((c["answer"] for c in calls if c.get("answer")), None),
        }

    def _call(
        self, url: str, method: str, body: bytes | None, here: Context, formats: list[str]
    ) -> dict[str, object]:
        with self.tracer.start_as_current_span(f"{method} {url}", kind=SpanKind.CLIENT) as span:
            _, client_id = _span_ids(span)
            outgoing = replace(here, span_id=client_id, parent_span_id=here.span_id)
            sent = codecs.inject(outgoing, formats) if self.config.propagate else []
            request = urllib.request.Request(url, data=body, method=method)
            for name, value in sent:
                request.add_header(name, value)
            if body is not None:
                request.add_header("Content-Type", "application/json")
            result: dict[str, object] = {"url": url, "sent": [list(h) for h in sent]}
            if not url.lower().startswith(("http://", "https://")):
                # urllib would open file:// and ftp:// too: a POSTed url list must not make the
                # probe read local files or speak other protocols for whoever can reach it
                result["error"] = f"not called: {url!r} is not an http:// or https:// URL"
                return result
            try:
                with urllib.request.urlopen(request, timeout=self.config.timeout) as response:
                    result["status"] = response.status
                    payload = response.read(MAX_BODY)
            except urllib.error.HTTPError as exc:
                result["status"], payload = exc.code, exc.read(MAX_BODY)
            except (OSError, ValueError) as exc:
                result["error"] = f"could not call {url}: {exc}"
                return result
            try:
                answer = json.loads(payload)
            except ValueError:
                return result
            if isinstance(answer, dict) and "service" in answer and "received" in answer:
                result["answer"] = answer
            return result

    def shutdown(self) -> None:
        self.provider.shutdown()


def _otel_context(context: Context, sampled: bool) -> SpanContext:
    return SpanContext(
        trace_id=int(context.trace_id, 16),
        span_id=int(context.span_id, 16),
        is_remote=True,
        trace_flags=TraceFlags(TraceFlags.SAMPLED if sampled else TraceFlags.DEFAULT),
    )


def _harness_instructions(method: str, body: bytes) -> list[dict[str, object]]:
    """The W3C harness body: a JSON array of ``{"url", "arguments"}``; anything else is no
    instruction (an ordinary request)."""
    if method != "POST" or not body:
        return []
    try:
        data = json.loads(body)
    except ValueError:
        return []
    if not isinstance(data, list):
        return []
    return [d for d in data if isinstance(d, dict) and isinstance(d.get("url"), str)]


class _Handler(BaseHTTPRequestHandler):
    service: EchoService  # set on the subclass made per server
    server_version = "spanscope-echo"

    def _serve(self) -> None:
        try:
            length = max(0, int(self.headers.get("Content-Length") or 0))
        except ValueError:
            length = 0
        body = self.rfile.read(min(length, MAX_BODY)) if length else b""
        status = 200
        try:
            answer = self.service.handle(self.command, self.path, list(self.headers.items()), body)
        except Exception as exc:  # a probe answers, whatever happens; it never dies on input
            status, answer = 500, {"service": self.service.config.service, "error": repr(exc)}
        payload = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = _serve
    do_POST = _serve

    def log_message(self, format: str, *args: object) -> None:  # quiet: the answer says it all
        pass


class EchoServer:
    """The probe on a real socket. ``port=0`` binds a free port; ``url`` tells which."""

    def __init__(self, config: EchoConfig) -> None:
        self.service = EchoService(config)
        handler = type("EchoHandler", (_Handler,), {"service": self.service})
        self.httpd = ThreadingHTTPServer((config.host, config.port), handler)
        self.httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        if isinstance(host, bytes):
            host = host.decode()
        return f"http://{host}:{port}/"

    def start(self) -> EchoServer:
        # a short poll interval so stop() returns quickly (tests start many probes)
        self._thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self.httpd.serve_forever()

    def stop(self) -> None:
        if self._thread is not None:
            self.httpd.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self.httpd.server_close()
        self.service.shutdown()

    def __enter__(self) -> EchoServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
