"""OpenTelemetry by hand for the example shop: what an HTTP framework's instrumentation does.

- ``setup_tracing(service, endpoint)``: a ``TracerProvider`` with the ``service.name`` resource,
  a ``BatchSpanProcessor`` and the OTLP/HTTP exporter sending to ``endpoint`` (spanscope's
  ``/v1/traces``). Call ``provider.shutdown()`` before exiting: it flushes what is queued.
- ``Handler``: a ``BaseHTTPRequestHandler`` whose requests run inside a SERVER span that
  continues the caller's W3C ``traceparent`` (``opentelemetry.propagate.extract``) and carries
  the HTTP semantic-convention attributes; subclasses implement ``route(method, path, body)``
  and return ``(status, json-able body)``; an exception becomes a recorded exception event,
  an ERROR status and a 500 (``statuses`` maps exception types to other statuses; an
  ``HttpError`` answers its own status and is recorded only when it is >= 500).
- ``call(tracer, method, url, body, peer)``: an outgoing JSON call inside a CLIENT span whose
  context goes out in the headers (``opentelemetry.propagate.inject``); a status >= 400 raises
  ``HttpError`` carrying that status.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler
from typing import Any, ClassVar
from urllib.parse import urlsplit

from opentelemetry import propagate, trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import SpanKind, Status, StatusCode

# Short enough that a demo of a few seconds shows up in the UI while it runs.
_EXPORT_EVERY_MS = 500


class HttpError(Exception):
    """A failed HTTP exchange with the status to answer (or that was answered)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def setup_tracing(service: str, endpoint: str) -> TracerProvider:
    """A provider exporting ``service``'s spans over OTLP/HTTP to ``endpoint`` in batches."""
    resource = Resource.create(
        {
            "service.name": service,
            "service.namespace": "shop",
            # what 'spanscope lint' asks of every service: which build, which environment
            "service.version": "1.0.0",
            "deployment.environment.name": "demo",
        }
    )
    # The service shuts the provider down itself, with a time limit (see service.py).
    provider = TracerProvider(resource=resource, shutdown_on_exit=False)
    exporter = OTLPSpanExporter(endpoint=endpoint.rstrip("/") + "/v1/traces", timeout=10)
    provider.add_span_processor(
        BatchSpanProcessor(exporter, schedule_delay_millis=_EXPORT_EVERY_MS)
    )
    return provider


class Handler(BaseHTTPRequestHandler):
    """Base request handler: JSON in and out, each request inside a SERVER span."""

    tracer: trace.Tracer  # set by the service on its subclass
    routes: ClassVar[dict[tuple[str, str], str]] = {}  # (method, path) -> route template
    # Exceptions that mean a failure downstream of us rather than a bug (default: 500).
    statuses: ClassVar[dict[type[BaseException], int]] = {}
    protocol_version = "HTTP/1.1"

    def route(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        raise NotImplementedError

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the traces are the log here

    def _serve(self, method: str) -> None:
        path = urlsplit(self.path).path
        if path == "/healthz":  # readiness probes are not worth a trace
            self._answer(200, {"ok": True})
            return
        route = self.routes.get((method, path))
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        # The default getter looks keys up as given ("traceparent"), and clients capitalize.
        parent = propagate.extract({key.lower(): value for key, value in self.headers.items()})
        name = f"{method} {route}" if route else method
        host, port = self.connection.getsockname()[:2]  # where this request arrived
        with self.tracer.start_as_current_span(
            name,
            context=parent,
            kind=SpanKind.SERVER,
            record_exception=False,
            set_status_on_exception=False,
            attributes={
                "http.request.method": method,
                "url.path": path,
                "url.scheme": "http",
                "server.address": str(host),
                "server.port": int(port),
                "client.address": self.client_address[0],
                "network.protocol.version": self.request_version.removeprefix("HTTP/"),
                "user_agent.original": self.headers.get("User-Agent", ""),
            },
        ) as span:
            if route:
                span.set_attribute("http.route", route)
            try:
                if route is None:
                    raise HttpError(404, f"no route for {method} {path}")
                status, answer = self.route(method, path, json.loads(raw) if raw else None)
            except HttpError as exc:
                status, answer = exc.status, {"error": str(exc)}
                if status >= 500:
                    span.record_exception(exc)
                    span.set_status(Status(StatusCode.ERROR, str(exc)))
                    span.set_attribute("error.type", str(status))
            except Exception as exc:  # any bug: a 500 with its exception
                status = next(
                    (code for kind, code in self.statuses.items() if isinstance(exc, kind)), 500
                )
                answer = {"error": f"{type(exc).__name__}: {exc}"}
                span.record_exception(exc)
                span.set_status(Status(StatusCode.ERROR, str(exc)))
                span.set_attribute("error.type", type(exc).__qualname__)
            span.set_attribute("http.response.status_code", status)
        # Answer after the span ended: the caller's CLIENT span ends when the answer arrives,
        # and a SERVER span ending after its caller's would look like clock skew.
        self._answer(status, answer)

    def _answer(self, status: int, answer: Any) -> None:
        body = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def call(tracer: trace.Tracer, method: str, url: str, body: Any, peer: str) -> Any:
    """``method url`` with a JSON ``body`` to the service ``peer`` inside a CLIENT span;
    returns the decoded answer or raises ``HttpError`` with the status received (502 when the
    peer could not be reached)."""
    parts = urlsplit(url)
    # Span name "{method} {path}": the callee's route, so two calls to one host differ.
    with tracer.start_as_current_span(
        f"{method} {parts.path}",
        kind=SpanKind.CLIENT,
        record_exception=False,
        set_status_on_exception=False,
        attributes={
            "http.request.method": method,
            "url.full": url,
            "server.address": parts.hostname or "",
            "server.port": parts.port or 80,
            "peer.service": peer,
            "network.protocol.version": "1.1",
        },
    ) as span:
        headers = {"Content-Type": "application/json", "User-Agent": "shop-example/1"}
        propagate.inject(headers)  # traceparent (and tracestate) of this CLIENT span
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(url, data=data, headers=headers, method=method)
        started = time.monotonic()
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as exc:
            status, raw = exc.code, exc.read()
        except OSError as exc:
            span.record_exception(exc)
            span.set_status(Status(StatusCode.ERROR, str(exc)))
            span.set_attribute("error.type", type(exc).__qualname__)
            raise HttpError(502, f"{peer} unreachable: {exc}") from exc
        span.set_attribute("http.response.status_code", status)
        if status >= 400:
            # The callee recorded the exception; the client span only says the call failed.
            span.set_status(Status(StatusCode.ERROR, f"{peer} answered {status}"))
            span.set_attribute("error.type", str(status))
            raise HttpError(
                502, f"{peer} answered {status} after {time.monotonic() - started:.3f}s"
            )
        return json.loads(raw) if raw else None
