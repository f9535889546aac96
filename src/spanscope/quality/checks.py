"""The checks behind the rules of ``spanscope.quality.rules``, one span or one trace at a time.

``span_findings(span)`` returns ``(rule id, detail)`` pairs for what one span shows on its own;
``trace_findings(trace)`` the pairs ``(span or None, rule id, detail)`` that need the whole
trace (what assembly noticed, mixed sampling decisions). Details name keys and codes, never
attribute values: a report about leaked credentials must not print them.

Rules keyed on attributes look only at the span's own attributes. ``deprecated-attribute``
applies only to spans an OpenTelemetry SDK made (``telemetry.sdk.name`` on the resource, or a
scope, which OTel's Zipkin and Jaeger exporters carry as ``otel.scope.name``). What follows
from a span's kind and attribute keys alone is decided once per distinct (kind, keys) "shape"
and cached; per span, only the values that matter are looked at (status codes, URLs,
credential keys, lengths): about 3 us a span.
"""

from __future__ import annotations

import re
from functools import lru_cache
from urllib.parse import parse_qsl, urlsplit

from spanscope.model import ProblemKind, Span, SpanKind, StatusCode, Trace
from spanscope.model.attributes import attribute_int
from spanscope.quality.semconv import DEPRECATED, replacement

LONG_VALUE_CHARS = 4096

_HTTP_METHOD_KEYS = ("http.request.method", "http.method")
_HTTP_STATUS_KEYS = ("http.response.status_code", "http.status_code")
_GRPC_STATUS_KEY = "rpc.grpc.status_code"  # older conventions: the code as a number
_RPC_STATUS_KEY = "rpc.response.status_code"  # current ones: its name, e.g. UNAVAILABLE
_DB_KEYS = ("db.system.name", "db.system")
_RPC_KEYS = ("rpc.system.name", "rpc.system")
_PROTOCOL_KEYS = (*_HTTP_METHOD_KEYS, *_RPC_KEYS, *_DB_KEYS, "messaging.system")
# Attributes that name the other side of a client call (current and older conventions).
_PEER_KEYS = frozenset(
    (
        "server.address",
        "net.peer.name",
        "peer.service",
        "service.peer.name",
        "url.full",
        "http.url",
        "http.host",
        "network.peer.address",
        "net.sock.peer.addr",
        "net.sock.peer.name",
        "net.peer.ip",
    )
)
# gRPC codes that mean the server failed (semantic conventions, RPC spans): UNKNOWN,
# DEADLINE_EXCEEDED, UNIMPLEMENTED, INTERNAL, UNAVAILABLE, DATA_LOSS. A client fails on any
# code but OK.
_GRPC_SERVER_ERRORS = frozenset((2, 4, 12, 13, 14, 15))
_GRPC_SERVER_ERROR_NAMES = frozenset(
    ("UNKNOWN", "DEADLINE_EXCEEDED", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS")
)
_URL_KEYS = ("url.full", "http.url", "url.query", "http.target")
_EXPLAINING_KEYS = frozenset(("error.type", "exception.message", "exception.type", "error.message"))
_EXPLAINING_EVENT_KEYS = frozenset(
    ("exception.message", "exception.type", "message", "error.object")
)
_INTERESTING = frozenset(
    (
        *_PROTOCOL_KEYS,
        *_HTTP_STATUS_KEYS,
        _GRPC_STATUS_KEY,
        _RPC_STATUS_KEY,
        *_URL_KEYS,
        *DEPRECATED,
    )
)

_SENSITIVE_NAME = re.compile(
    r"(?:^|[._\-])(password|passwd|pwd|secret|client[_\-]?secret|token|access[_\-]?token|"
    r"refresh[_\-]?token|id[_\-]?token|api[_\-]?key|apikey|authorization|proxy-authorization|"
    r"cookie|set-cookie|session[_\-]?id|x-api-key|private[_\-]?key)(?:$|[._\-])"
)
_REDACTED = re.compile(r"^\s*$|^[*x•#?\-]+$|redact|mask|filtered|hidden|removed|\{.*\}$", re.I)

_ERROR = StatusCode.ERROR
# Every OpenTelemetry SDK puts this on its resource and names each span's scope after the tracer
# that made it: such a span without a scope came from a nameless tracer. Zipkin's and Jaeger's
# clients have no scopes and are not blamed.
_OTEL_SDK_KEY = "telemetry.sdk.name"
_CLIENT, _SERVER = SpanKind.CLIENT, SpanKind.SERVER
_KINDLESS = frozenset((SpanKind.UNSPECIFIED, SpanKind.INTERNAL))


@lru_cache(maxsize=65536)
def is_sensitive_name(name: str) -> bool:
    """Whether an attribute key or query parameter names a credential."""
    return _SENSITIVE_NAME.search(name.lower()) is not None


def _redacted(value: str) -> bool:
    return _REDACTED.search(value) is not None


def _first(attributes: dict, keys: tuple[str, ...]) -> object:
    for key in keys:
        value = attributes.get(key)
        if value is not None:
            return value
    return None


def _sensitive_urls(attributes: dict, keys: frozenset[str]) -> list[str]:
    """Credentials inside URL attributes: a password in the authority, secret query values."""
    found = []
    for key in _URL_KEYS:
        url = attributes.get(key) if key in keys else None
        if type(url) is not str or ("=" not in url and "@" not in url):
            continue
        try:
            parts = urlsplit(url if key != "url.query" else "?" + url.lstrip("?"))
            password = parts.password
        except ValueError:  # not a URL after all (a bad port, brackets): nothing to find
            continue
        if password and not _redacted(password):
            found.append(f"{key} has a password in it")
        for name, value in parse_qsl(parts.query):
            if is_sensitive_name(name) and not _redacted(value):
                found.append(f"{key} query parameter {name}")
    return found


def _error_not_marked(span: Span, attributes: dict) -> str | None:
    kind = span.kind
    status = attribute_int(_first(attributes, _HTTP_STATUS_KEYS))
    if status is not None:
        if kind == _SERVER and status >= 500:
            return f"HTTP {status} answered by a SERVER span"
        if kind == _CLIENT and status >= 400:
            return f"HTTP {status} received by a CLIENT span"
    grpc = attribute_int(attributes.get(_GRPC_STATUS_KEY))
    if grpc and (kind == _CLIENT or (kind == _SERVER and grpc in _GRPC_SERVER_ERRORS)):
        return f"gRPC code {grpc} on a {kind.name} span"
    name = attributes.get(_RPC_STATUS_KEY)
    failed = type(name) is str and name not in ("OK", "0")
    if failed and (kind == _CLIENT or (kind == _SERVER and name in _GRPC_SERVER_ERROR_NAMES)):
        return f"RPC status {name} on a {kind.name} span"
    return None


def _escaped_exception(span: Span) -> bool:
    return any(
        event.name == "exception" and event.attributes.get("exception.escaped") in (True, "true")
        for event in span.events
    )


def _explained(span: Span, attributes: dict) -> bool:
    if span.status_message or not _EXPLAINING_KEYS.isdisjoint(attributes):
        return True
    return any(
        event.name in ("exception", "error")
        or not _EXPLAINING_EVENT_KEYS.isdisjoint(event.attributes)
        for event in span.events
    )


def _dropped(span: Span) -> list[str]:
    found = []
    for label, count in (
        ("attributes", span.dropped_attributes_count),
        ("events", span.dropped_events_count),
        ("links", span.dropped_links_count),
    ):
        if count:
            found.append(f"{label} dropped")
    if any(event.dropped_attributes_count for event in span.events):
        found.append("event attributes dropped")
    if any(link.dropped_attributes_count for link in span.links):
        found.append("link attributes dropped")
    return found


class _Shape:
    """What can be decided from a span's kind and attribute keys alone, once per distinct
    (kind, keys) pair: spans made by one instrumentation share both, so a data set has few.
    ``static`` are the findings that hold for every span of the shape; the rest name the keys
    whose values still need a look."""

    __slots__ = ("check_status", "sensitive_keys", "static", "static_not_otel", "url_keys")

    def __init__(self, kind: SpanKind, keys: tuple[str, ...]) -> None:
        present = _INTERESTING.intersection(keys)
        static: list[tuple[str, str]] = [
            ("deprecated-attribute", f"{key} → {replacement(key)}")
            for key in sorted(present.intersection(DEPRECATED))
        ]
        protocol = next((key for key in _PROTOCOL_KEYS if key in present), None)
        if protocol is not None and kind in _KINDLESS:
            static.append(("kind-missing", f"{kind.name} span with {protocol}"))
        is_http = any(key in present for key in _HTTP_METHOD_KEYS)
        if kind == _SERVER and is_http and "http.route" not in keys:
            static.append(("http-route-missing", "SERVER span with an HTTP method"))
        if (
            kind == _CLIENT
            and (is_http or any(key in present for key in _RPC_KEYS))
            and _PEER_KEYS.isdisjoint(keys)
            and not any(key in present for key in _DB_KEYS)
        ):
            static.append(("peer-unknown", "HTTP client" if is_http else "RPC client"))
        self.static = static
        # Zipkin's and Jaeger's own clients (Brave, Envoy, jaeger-client) follow their own
        # conventions, in which http.method or peer.service are current names, not deprecated.
        self.static_not_otel = [f for f in static if f[0] != "deprecated-attribute"]
        self.check_status = kind in (_CLIENT, _SERVER) and any(
            key in present for key in (*_HTTP_STATUS_KEYS, _GRPC_STATUS_KEY, _RPC_STATUS_KEY)
        )
        self.url_keys = present.intersection(_URL_KEYS)
        self.sensitive_keys = [key for key in keys if is_sensitive_name(key)]


_SHAPES: dict[tuple, _Shape] = {}
_MAX_SHAPES = 65536  # spans with ever-new keys would otherwise grow it without end


def _shape(kind: SpanKind, attributes: dict) -> _Shape:
    signature = (kind, *attributes)
    shape = _SHAPES.get(signature)
    if shape is None:
        if len(_SHAPES) >= _MAX_SHAPES:
            _SHAPES.clear()
        shape = _SHAPES[signature] = _Shape(kind, tuple(attributes))
    return shape


def span_findings(span: Span) -> list[tuple[str, str]]:
    """What ``span`` shows on its own, as ``(rule id, detail)`` pairs."""
    found: list[tuple[str, str]] = []
    service = span.service_name
    if not service or service.startswith("unknown_service"):
        found.append(("service-name-missing", service or "(empty)"))
    made_by_otel = _OTEL_SDK_KEY in span.resource_attributes
    if not span.scope_name and made_by_otel:
        found.append(("scope-missing", "tracer without a name"))
    attributes = span.attributes
    marked_error = span.status_code == _ERROR
    if attributes:
        shape = _shape(span.kind, attributes)
        found += shape.static if made_by_otel or span.scope_name else shape.static_not_otel
        if shape.check_status and not marked_error:
            detail = _error_not_marked(span, attributes)
            if detail is not None:
                found.append(("error-not-marked", detail))
        if shape.url_keys:
            found.extend(
                ("sensitive-data", detail) for detail in _sensitive_urls(attributes, shape.url_keys)
            )
        for key in shape.sensitive_keys:
            value = attributes[key]
            if type(value) is str and not _redacted(value):
                found.append(("sensitive-data", f"attribute {key}"))
        for key, value in attributes.items():
            if type(value) is str and len(value) > LONG_VALUE_CHARS:
                found.append(("long-attribute", key))
    if span.events:
        if not marked_error and _escaped_exception(span):
            found.append(("error-not-marked", "escaped exception"))
        elif not marked_error and any(event.name == "exception" for event in span.events):
            found.append(("exception-not-error", "exception event"))
    if marked_error and not _explained(span, attributes):
        found.append(("error-unexplained", f"{span.kind.name} span"))
    if (
        span.dropped_attributes_count
        or span.dropped_events_count
        or span.dropped_links_count
        or span.events
        or span.links
    ):
        found.extend(("dropped-data", detail) for detail in _dropped(span))
    return found


_PROBLEM_RULES = {
    ProblemKind.ORPHAN: "broken-trace",
    ProblemKind.MULTIPLE_ROOTS: "broken-trace",
    ProblemKind.DUPLICATE_SPAN_ID: "duplicate-span-id",
    ProblemKind.NEGATIVE_DURATION: "negative-duration",
    ProblemKind.UNCLOSED: "unclosed-span",
    ProblemKind.CLOCK_SKEW: "clock-skew",
    ProblemKind.CYCLE: "parent-cycle",
    ProblemKind.INVALID: "invalid-data",
}
_PROBLEM_DETAILS = {
    ProblemKind.ORPHAN: "parent span missing",
    ProblemKind.MULTIPLE_ROOTS: "extra root span",
    ProblemKind.NEGATIVE_DURATION: "end before start",
    ProblemKind.UNCLOSED: "no end time",
    ProblemKind.CLOCK_SKEW: "shifted to fit in its parent",
    ProblemKind.CYCLE: "parent loop cut",
}


def trace_findings(trace: Trace) -> list[tuple[Span | None, str, str]]:
    """What needs the whole trace: assembly's problems and mixed sampling decisions."""
    found: list[tuple[Span | None, str, str]] = []
    for problem in trace.problems:
        rule = _PROBLEM_RULES[problem.kind]
        detail = _PROBLEM_DETAILS.get(problem.kind) or _short(problem.message)
        if problem.kind == ProblemKind.DUPLICATE_SPAN_ID:
            if problem.cause == "shared":
                continue  # Zipkin's shared client/server span: how B3 works, not a fault
            if problem.cause == "copy":
                rule, detail = "invalid-data", "the same span received more than once"
            else:
                detail = "two different spans with one id"
        found.append((trace.by_id.get(problem.span_id), rule, detail))
    flagged = [span for span in trace.spans if span.flags]
    if flagged and len({span.flags & 1 for span in flagged}) > 1:
        found.extend(
            (span, "sampling-mixed", "span not sampled in a sampled trace")
            for span in flagged
            if not span.flags & 1
        )
    return found


_NUMBERS = re.compile(r"\b[0-9a-f]{8,}\b|-?\d+(?:\.\d+)?")


def _short(message: str) -> str:
    # Problem messages carry ids and amounts; the detail groups findings, so they go.
    return _NUMBERS.sub("N", message)[:120]
