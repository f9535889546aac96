"""Each rule's check on hand-built spans: it fires on the case it describes, says where, and
stays quiet on the near miss that is fine."""

from __future__ import annotations

import pytest

from spanscope.assembly import assemble
from spanscope.model import Event, Span, SpanKind, StatusCode
from spanscope.quality.checks import is_sensitive_name, span_findings, trace_findings

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"


def span(**fields) -> Span:
    base = dict(
        trace_id=TRACE,
        span_id="00f067aa0ba902b7",
        name="op",
        start_ns=1_000,
        end_ns=2_000,
        service_name="checkout",
        scope_name="app",
    )
    base.update(fields)
    return Span(**base)


def rules(s: Span) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for rule, detail in span_findings(s):
        found.setdefault(rule, []).append(detail)
    return found


def test_a_well_instrumented_server_span_has_no_finding():
    s = span(
        kind=SpanKind.SERVER,
        name="GET /users/{id}",
        attributes={
            "http.request.method": "GET",
            "http.route": "/users/{id}",
            "http.response.status_code": 200,
            "url.path": "/users/42",
        },
    )
    assert span_findings(s) == []


@pytest.mark.parametrize("service", ["", "unknown_service", "unknown_service:python"])
def test_missing_service_name(service):
    assert rules(span(service_name=service))["service-name-missing"] == [service or "(empty)"]


@pytest.mark.parametrize(
    ("kind", "attributes", "detail"),
    [
        (SpanKind.SERVER, {"http.response.status_code": 503}, "HTTP 503 answered by a SERVER span"),
        (SpanKind.SERVER, {"http.status_code": "500"}, "HTTP 500 answered by a SERVER span"),
        (SpanKind.CLIENT, {"http.response.status_code": 404}, "HTTP 404 received by a CLIENT span"),
        (SpanKind.CLIENT, {"rpc.grpc.status_code": 5}, "gRPC code 5 on a CLIENT span"),
        (SpanKind.SERVER, {"rpc.grpc.status_code": 14}, "gRPC code 14 on a SERVER span"),
        (
            SpanKind.SERVER,
            {"rpc.response.status_code": "INTERNAL"},
            "RPC status INTERNAL on a SERVER span",
        ),
        (
            SpanKind.CLIENT,
            {"rpc.response.status_code": "NOT_FOUND"},
            "RPC status NOT_FOUND on a CLIENT span",
        ),
    ],
)
def test_failed_calls_not_marked_as_errors(kind, attributes, detail):
    assert detail in rules(span(kind=kind, attributes=attributes))["error-not-marked"]
    marked = span(
        kind=kind, attributes=attributes, status_code=StatusCode.ERROR, status_message="x"
    )
    assert "error-not-marked" not in rules(marked)


@pytest.mark.parametrize(
    ("kind", "attributes"),
    [
        (SpanKind.SERVER, {"http.response.status_code": 404}),  # a client's fault, not the server's
        (SpanKind.CLIENT, {"http.response.status_code": 302}),
        (SpanKind.SERVER, {"rpc.grpc.status_code": 5}),  # NOT_FOUND is not a server failure
        (SpanKind.SERVER, {"rpc.response.status_code": "NOT_FOUND"}),
        (SpanKind.CLIENT, {"rpc.grpc.status_code": 0}),
        (SpanKind.INTERNAL, {"http.status_code": 500}),  # no kind: cannot tell which side
    ],
)
def test_codes_that_are_not_failures_of_this_span(kind, attributes):
    assert "error-not-marked" not in rules(span(kind=kind, attributes=attributes))


def test_escaped_exception_must_mark_the_span_and_a_handled_one_is_only_noted():
    escaped = Event(1_500, "exception", {"exception.type": "IOError", "exception.escaped": True})
    handled = Event(1_500, "exception", {"exception.type": "KeyError"})
    assert rules(span(events=[escaped]))["error-not-marked"] == ["escaped exception"]
    assert rules(span(events=[handled])) == {"exception-not-error": ["exception event"]}
    assert rules(span(events=[escaped], status_code=StatusCode.ERROR)) == {}


def test_error_without_any_explanation():
    assert rules(span(status_code=StatusCode.ERROR)) == {"error-unexplained": ["UNSPECIFIED span"]}
    for explained in (
        span(status_code=StatusCode.ERROR, status_message="timeout"),
        span(status_code=StatusCode.ERROR, attributes={"error.type": "timeout"}),
        span(status_code=StatusCode.ERROR, events=[Event(1_500, "exception")]),
        span(status_code=StatusCode.ERROR, events=[Event(1_500, "log", {"message": "boom"})]),
    ):
        assert "error-unexplained" not in rules(explained)


@pytest.mark.parametrize(
    ("kind", "key"),
    [
        (SpanKind.INTERNAL, "http.request.method"),
        (SpanKind.UNSPECIFIED, "db.system.name"),
        (SpanKind.INTERNAL, "rpc.system"),
        (SpanKind.UNSPECIFIED, "messaging.system"),
    ],
)
def test_calls_without_a_kind(kind, key):
    found = rules(span(kind=kind, attributes={key: "x", "server.address": "db"}))
    assert found["kind-missing"] == [f"{kind.name} span with {key}"]
    assert "kind-missing" not in rules(span(kind=SpanKind.CLIENT, attributes={key: "x"}))


def test_http_server_without_route():
    no_route = span(kind=SpanKind.SERVER, attributes={"http.request.method": "GET"})
    assert rules(no_route)["http-route-missing"] == ["SERVER span with an HTTP method"]
    client = span(
        kind=SpanKind.CLIENT, attributes={"http.request.method": "GET", "url.full": "http://a/"}
    )
    assert "http-route-missing" not in rules(client)


def test_client_call_without_target():
    http = span(kind=SpanKind.CLIENT, attributes={"http.request.method": "GET"})
    rpc = span(kind=SpanKind.CLIENT, attributes={"rpc.system": "grpc"})
    database = span(kind=SpanKind.CLIENT, attributes={"db.system.name": "postgresql"})
    assert rules(http)["peer-unknown"] == ["HTTP client"]
    assert rules(rpc)["peer-unknown"] == ["RPC client"]
    assert "peer-unknown" not in rules(database)
    for key in ("server.address", "url.full", "peer.service", "net.peer.name"):
        known = span(kind=SpanKind.CLIENT, attributes={"http.request.method": "GET", key: "x"})
        assert "peer-unknown" not in rules(known)


def test_deprecated_attributes_name_their_replacement():
    found = rules(span(attributes={"http.method": "GET", "http.status_code": 200, "x": 1}))
    assert found["deprecated-attribute"] == [
        "http.method → http.request.method",
        "http.status_code → http.response.status_code",
    ]


def test_credentials_are_found_by_key_and_in_urls_and_never_quoted():
    secret = "hunter2-s3cr3t"
    s = span(
        kind=SpanKind.CLIENT,
        attributes={
            "http.request.header.authorization": f"Bearer {secret}",
            "db.password": secret,
            "url.full": f"https://bob:{secret}@api.example.com/v1?access_token={secret}&page=2",
            "app.token": "[REDACTED]",
            "gen_ai.usage.input_tokens": 120,
            "session.id.hash": "***",
        },
    )
    found = rules(s)["sensitive-data"]
    assert sorted(found) == [
        "attribute db.password",
        "attribute http.request.header.authorization",
        "url.full has a password in it",
        "url.full query parameter access_token",
    ]
    assert all(secret not in detail for _, detail in span_findings(s))


@pytest.mark.parametrize(
    ("name", "sensitive"),
    [
        ("password", True),
        ("user.password", True),
        ("http.request.header.cookie", True),
        ("http.request.header.x-api-key", True),
        ("api_key", True),
        ("gen_ai.usage.output_tokens", False),
        ("tokenizer", False),
        ("http.route", False),
        ("passwordless.enabled", False),
    ],
)
def test_sensitive_names(name, sensitive):
    assert is_sensitive_name(name) is sensitive


def test_long_values_and_dropped_data():
    s = span(
        attributes={"db.query.text": "x" * 5000, "short": "y"},
        dropped_attributes_count=3,
        events=[Event(1_500, "e", dropped_attributes_count=1)],
    )
    found = rules(s)
    assert found["long-attribute"] == ["db.query.text"]
    assert found["dropped-data"] == ["attributes dropped", "event attributes dropped"]


def test_trace_findings_come_from_assembly_and_sampling_flags():
    root = span(span_id="a000000000000001", flags=0x301, kind=SpanKind.SERVER)
    child = span(span_id="a000000000000002", parent_span_id="a000000000000001", flags=0x300)
    orphan = span(span_id="a000000000000003", parent_span_id="ffffffffffffffff", flags=1)
    unclosed = span(span_id="a000000000000004", parent_span_id="a000000000000001", end_ns=0)
    (trace,) = assemble([root, child, orphan, unclosed])
    found = {(rule, detail, s.span_id if s else "") for s, rule, detail in trace_findings(trace)}
    assert ("broken-trace", "parent span missing", "a000000000000003") in found
    assert ("unclosed-span", "a000000000000004") in {(r, i) for r, _, i in found}
    assert ("sampling-mixed", "span not sampled in a sampled trace", "a000000000000002") in found
    consistent = [
        span(span_id="b000000000000001", flags=1),
        span(span_id="b000000000000002", flags=0),
    ]
    (clean,) = assemble(consistent)
    assert not any(rule == "sampling-mixed" for _, rule, _ in trace_findings(clean))


def test_scope_missing_only_blames_spans_of_an_otel_sdk():
    sdk = {"telemetry.sdk.name": "opentelemetry", "service.name": "checkout"}
    assert rules(span(scope_name="", resource_attributes=sdk)) == {
        "scope-missing": ["tracer without a name"]
    }
    assert rules(span(scope_name="shop.checkout", resource_attributes=sdk)) == {}
    assert rules(span(scope_name="", resource_attributes={"hostname": "a"})) == {}


def test_deprecated_attributes_only_for_spans_an_otel_sdk_made():
    old = {"http.method": "GET", "peer.service": "db"}
    assert "deprecated-attribute" not in rules(span(scope_name="", attributes=old))  # Zipkin
    sdk = {"telemetry.sdk.name": "opentelemetry", "service.name": "checkout"}
    made = span(scope_name="", attributes=old, resource_attributes=sdk)
    assert rules(made)["deprecated-attribute"] == [
        "http.method → http.request.method",
        "peer.service → service.peer.name",
    ]
