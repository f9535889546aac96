"""Zipkin v2 JSON: every v2 fixture read with exact field checks, the collector's mapping rules,
time derivation and malformed times, errors for bad input (only ``InputError``, at any cut), the
writer against the zipkin2-api.yaml schema, and write -> read round trips (hypothesis)."""

from __future__ import annotations

import io
import json
import string
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jsonschema
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spanscope.errors import Diagnostics, InputError
from spanscope.formats import decode_spans, encode_spans, zipkin_v2
from spanscope.formats.zipkin_vocabulary import RESOURCE_KEYS
from spanscope.model import Event, Link, Span, SpanKind, StatusCode

from ..conftest import FIXTURES
from . import strategies

V2_FILES = {
    "sample1": "opentelemetry-collector/receiver__zipkinreceiver__testdata__sample1.json",
    "sample2": "opentelemetry-collector/receiver__zipkinreceiver__testdata__sample2.json",
    "sample3": "opentelemetry-collector-contrib/receiver__zipkinreceiver__testdata__sample3.json",
    "sample4": "opentelemetry-collector-contrib/receiver__zipkinreceiver__testdata__sample4.json",
    "single": "opentelemetry-collector/translator__trace__zipkinv2__testdata__zipkin_v2_single.json",
    "chinese": "zipkin/benchmarks__src__test__resources__zipkin2-chinese.json",
    "client": "zipkin/benchmarks__src__test__resources__zipkin2-client.json",
    "ascend": "zipkin/zipkin-lens__testdata__ascend.json",
    "envoy": "zipkin/zipkin-lens__testdata__envoy.json",
    "kafka": "zipkin/zipkin-lens__testdata__messaging-kafka.json",
    "messaging": "zipkin/zipkin-lens__testdata__messaging.json",
    "messaging2": "zipkin/zipkin-lens__testdata__messaging2.json",
    "db": "zipkin/zipkin-lens__testdata__simple-db-p6.json",
    "skew": "zipkin/zipkin-lens__testdata__skew.json",
    "smartthings": "zipkin/zipkin-lens__testdata__smartthings-oauth-authorization.json",
    "jaeger01": "jaeger/cmd__collector__app__handler__testdata__zipkin_v2_01.json",
    "jaeger02": "jaeger/cmd__collector__app__handler__testdata__zipkin_v2_02.json",
    "jaeger03": "jaeger/cmd__collector__app__handler__testdata__zipkin_v2_03.json",
    "merged": "jaeger/cmd__collector__app__handler__testdata__zipkin_v1_merged_spans.json",
}
NOT_WIRE_FORMATS = [
    "jaeger/cmd__collector__app__handler__testdata__zipkin_proto_01.json",
    "jaeger/cmd__collector__app__handler__testdata__zipkin_thrift_v1_merged_spans.json",
    "jaeger/model__converter__thrift__zipkin__fixtures__zipkin_01.json",
    "opentelemetry-collector/translator__trace__zipkinv1__testdata__zipkin_v1_thrift_single_batch.json",
]
US = 1000  # nanoseconds per microsecond


def read_bytes(data: bytes, diagnostics: Diagnostics | None = None) -> list[Span]:
    diagnostics = diagnostics if diagnostics is not None else Diagnostics()
    return list(zipkin_v2.read(io.BytesIO(data), "test.json", diagnostics))


def read(key: str, diagnostics: Diagnostics | None = None) -> list[Span]:
    diagnostics = diagnostics if diagnostics is not None else Diagnostics()
    path = FIXTURES / V2_FILES[key]
    return list(zipkin_v2.read(io.BytesIO(path.read_bytes()), str(path), diagnostics))


def by_id(spans: list[Span], span_id: str, kind: SpanKind | None = None) -> Span:
    found = [s for s in spans if s.span_id == span_id and (kind is None or s.kind == kind)]
    assert len(found) == 1, found
    return found[0]


# ---- fixtures, field by field ------------------------------------------------------------


def test_collector_sample1_client_span_with_endpoints_tags_and_annotations() -> None:
    spans = read("sample1")
    assert len(spans) == 9
    span = spans[0]
    assert span.trace_id == "4d1e00c0db9010db86154a4ba6e91385"
    assert (span.span_id, span.parent_span_id) == ("4d1e00c0db9010db", "86154a4ba6e91385")
    assert (span.name, span.kind, span.service_name) == ("get", SpanKind.CLIENT, "frontend")
    assert span.start_ns == 1472470996199000 * US
    assert span.end_ns == (1472470996199000 + 207000) * US
    assert span.resource_attributes == {"service.name": "frontend"}
    # endpoints as the collector maps them (current semantic conventions); Go prints the
    # ipv6 "7::0.128.128.127" as 7::80:807f, and so do we
    assert span.attributes == {
        "http.path": "/api",
        "clnt/finagle.version": "6.45.0",
        "network.local.address": "7::80:807f",
        "service.peer.name": "backend",
        "network.peer.address": "192.168.99.101",
        "network.peer.port": 9000,
    }
    assert [(e.name, e.time_ns) for e in span.events] == [
        ("foo", 1472470996238000 * US),
        ("bar", 1472470996403000 * US),
    ]
    assert span.status_code == StatusCode.UNSET and not span.shared
    assert all(s == span for s in spans)  # nine copies of the same span


def test_collector_sample2_no_service_names() -> None:
    (span,) = read("sample2")
    assert span.service_name == "" and span.resource_attributes == {}
    assert "service.peer.name" not in span.attributes
    assert span.attributes["network.peer.address"] == "192.168.99.101"


def test_otel_status_tags_give_the_status_and_leave_the_attributes() -> None:
    (span,) = read("sample3")
    assert span.status_code == StatusCode.ERROR
    assert span.status_message == "Something failed"
    assert not any(key.startswith("otel.") for key in span.attributes)
    assert "error" not in span.attributes


def test_error_tag_with_a_message_is_an_error_and_is_kept() -> None:
    (span,) = read("sample4")
    assert span.status_code == StatusCode.ERROR
    assert span.attributes["error"] == "Non-basic error message"  # as the collector keeps it
    assert span.status_message == "Non-basic error message"


def test_tag_values_stay_strings_as_in_the_collector() -> None:
    (span,) = read("single")
    assert span.attributes["http.status_code"] == "500"
    assert span.attributes["cache_hit"] == "true"
    assert span.attributes["ping_count"] == "25"
    assert span.attributes["timeout"] == "12.3"
    assert span.status_code == StatusCode.UNSET  # http 500 is analysis' business, not ours


def test_non_ascii_names_and_error_message() -> None:
    (span,) = read("chinese")  # a single span object, not a list
    assert span.name == "个人信息查询"
    assert span.service_name == "订单维护服务"
    assert span.attributes["service.peer.name"] == "个人信息服务"
    assert span.attributes["network.local.address"] == "2001:db8::c001"
    assert span.status_code == StatusCode.ERROR
    assert span.status_message == "此用户没有操作权限"
    back = decode_spans(encode_spans([span], "zipkin-v2"), "zipkin-v2")
    assert back == [span]


def test_single_object_benchmark_payload() -> None:
    (span,) = read("client")
    assert (span.kind, span.service_name, span.name) == (SpanKind.CLIENT, "frontend", "get")
    assert span.attributes["network.peer.port"] == 9000
    assert [e.name for e in span.events] == ["foo", "bar"]


def test_skew_fixture_keeps_the_shared_server_span_and_its_client() -> None:
    spans = read("skew")
    assert len(spans) == 4
    server = by_id(spans, "74280ae0c10d8062", SpanKind.SERVER)
    client = by_id(spans, "74280ae0c10d8062", SpanKind.CLIENT)
    assert server.shared and not client.shared
    assert server.parent_span_id == client.parent_span_id == "bf396325699c84bf"
    assert (server.service_name, client.service_name) == ("serviceb", "servicea")
    # the server "starts" 65 ms before its client: skew, left for assembly to adjust
    assert server.start_ns == 1470150004008761 * US
    assert client.start_ns == 1470150004074202 * US
    assert server.end_ns == (1470150004008761 + 93577) * US
    child = by_id(spans, "43210ae0c10d1234")
    assert (child.kind, child.parent_span_id) == (SpanKind.UNSPECIFIED, "74280ae0c10d8062")
    assert child.trace_id == "00000000000000001e223ff1f80f1c69"
    assert by_id(spans, "bf396325699c84bf").attributes["network.local.address"] == "127.0.0.0"


def test_smartthings_175_span_trace() -> None:
    diagnostics = Diagnostics()
    spans = read("smartthings", diagnostics)
    assert len(spans) == 175
    assert {s.trace_id for s in spans} == {"00000000000000008ce82b2e9ed820ba"}
    kinds = [s.kind for s in spans]
    assert (kinds.count(SpanKind.CLIENT), kinds.count(SpanKind.SERVER)) == (95, 77)
    assert sum(s.shared for s in spans) == 45
    first = spans[0]
    assert (first.span_id, first.name) == ("c8a2bcb3011b9fcd", "access_token-store-without-refresh")
    assert first.attributes["network.local.port"] == 8180
    assert first.attributes["service.peer.name"] == "auth"
    assert first.attributes["network.peer.address"] == "10.0.0.3"
    assert first.attributes["network.peer.port"] == 9042
    assert first.attributes["cassandra.keyspace"] == "auth"
    assert first.end_ns - first.start_ns == 3816 * US
    # 19 spans were reported without duration (a redirect leaves the system): never ended
    unclosed = [s for s in spans if s.end_ns == 0]
    assert len(unclosed) == 19
    nameless = by_id(spans, "c2fac1d86e52d441", SpanKind.SERVER)
    assert nameless.name == "" and nameless.shared and nameless.end_ns == 0
    assert nameless.start_ns == 1543334727098066 * US
    assert sum("never ended" in w.message for w in diagnostics.warnings) == 19
    # error tags hold the http status: status ERROR with that message
    failed = [s for s in spans if s.status_code == StatusCode.ERROR]
    assert {s.span_id for s in failed} == {"c47bff7f7964b321"}
    assert {s.status_message for s in failed} == {"401"}
    annotated = by_id(spans, "5f35e80a5a50fdca")
    assert [e.name for e in annotated.events] == [
        "Body Part Received",
        "Headers Received",
        "Status Received",
    ]


def test_zipkin_lens_samples() -> None:
    ascend = read("ascend")
    assert len(ascend) == 8 and sum(s.shared for s in ascend) == 2
    (envoy,) = read("envoy")
    assert envoy.kind == SpanKind.SERVER and envoy.shared
    assert envoy.service_name == "" and envoy.attributes["network.local.address"] == "169.254.65.45"
    assert envoy.attributes["http.status_code"] == "200"
    kafka = read("kafka")
    kinds = [s.kind for s in kafka]
    assert len(kafka) == 28
    assert (kinds.count(SpanKind.PRODUCER), kinds.count(SpanKind.CONSUMER)) == (9, 7)
    poll = by_id(kafka, "0562809467078eab")
    assert poll.kind == SpanKind.CONSUMER and poll.attributes["service.peer.name"] == "kafka"
    assert poll.end_ns - poll.start_ns == 26 * US
    db = read("db")
    root = by_id(db, "19f84f102048e047")
    assert root.attributes["network.peer.address"] == "::1"
    assert root.attributes["network.peer.port"] == 53367
    messaging = read("messaging")
    assert by_id(messaging, "05e3ac9a4f6e3b90").kind == SpanKind.PRODUCER
    assert len(read("messaging2")) == 11


def test_jaeger_collector_inputs_short_ids_shared_and_debug() -> None:
    diagnostics = Diagnostics()
    (span,) = read("jaeger01", diagnostics)
    assert span.trace_id == "bd7a974555f6b982bd71977555f6b981"
    assert (span.span_id, span.parent_span_id) == ("0000000000000002", "0000000000000001")
    assert span.kind == SpanKind.CLIENT and span.shared
    assert span.attributes["zipkin.debug"] is True
    assert span.attributes["foo"] == "bar"
    assert span.attributes["network.local.address"] == "10.43.17.42"
    assert span.attributes["service.peer.name"] == "bar"
    assert span.attributes["network.peer.address"] == "10.43.17.43"
    assert (span.start_ns, span.end_ns) == (1 * US, 11 * US)
    assert span.events == [Event(1 * US, "foo")]
    messages = [w.message for w in diagnostics.warnings]
    assert any("zero-padded" in m for m in messages)
    assert any("not a plausible epoch time" in m for m in messages)
    assert all(str(w.location).startswith(str(FIXTURES)) for w in diagnostics.warnings)
    (minimal,) = read("jaeger02")
    assert minimal.trace_id == "0" * 31 + "2" and minimal.parent_span_id == ""
    assert minimal.attributes == {
        "network.local.address": "10.43.17.42",
        "network.local.port": 8080,
    }
    (producer,) = read("jaeger03")
    assert producer.kind == SpanKind.PRODUCER
    assert producer.parent_span_id == "0c26551047c72d19"  # written with 15 digits
    assert producer.attributes["service.peer.name"] == "kafka"


def test_malformed_annotation_time_is_placed_on_the_span_and_reported() -> None:
    diagnostics = Diagnostics()
    root, child = read("merged", diagnostics)
    # times come from timestamp/duration, which are fine
    assert root.start_ns == 1633073248674949 * US
    assert root.end_ns == (1633073248674949 + 14861) * US
    sr, ss = root.events
    assert sr == Event(1633073248674949 * US, "sr")
    # "ss" was written one digit short (1975): placed at the span's end, original kept
    assert ss.name == "ss" and ss.time_ns == root.end_ns
    assert ss.attributes == {"zipkin.timestamp_us": 163307324868981}
    (warning,) = diagnostics.warnings
    assert warning.location.place == "$[0]"
    assert "4ed11df465275600" in warning.message and "'ss'" in warning.message
    assert root.warnings and "malformed" in root.warnings[0]
    # a v2 span carrying v1 core annotations is not split: they are plain events
    assert child.kind == SpanKind.UNSPECIFIED
    assert [e.name for e in child.events] == ["cs", "sr", "cr", "ss"]


@pytest.mark.parametrize("name", NOT_WIRE_FORMATS)
def test_thrift_and_proto_structures_as_json_are_refused_clearly(name: str) -> None:
    path = FIXTURES / name
    with pytest.raises(InputError) as error:
        list(zipkin_v2.read(io.BytesIO(path.read_bytes()), str(path), Diagnostics()))
    assert str(path) in str(error.value)
    assert "not a trace format spanscope reads" in str(error.value) or "Zipkin" in str(error.value)


# ---- mapping rules on small inputs --------------------------------------------------------


def one(fields: dict, diagnostics: Diagnostics | None = None) -> Span:
    base = {"traceId": "463ac35c9f6413ad", "id": "a2fb4a1d1a96d312", "name": "op"}
    (span,) = read_bytes(json.dumps([base | fields]).encode(), diagnostics)
    return span


def test_kind_rules() -> None:
    assert one({}).kind == SpanKind.UNSPECIFIED  # as the collector: no kind is unspecified
    span = one({"tags": {"span.kind": "internal"}})
    assert span.kind == SpanKind.INTERNAL and "span.kind" not in span.attributes
    assert one({"tags": {"span.kind": "server"}}).kind == SpanKind.SERVER
    assert one({"kind": "consumer"}).kind == SpanKind.CONSUMER
    diagnostics = Diagnostics()
    assert one({"kind": "SIDEWAYS"}, diagnostics).kind == SpanKind.UNSPECIFIED
    assert "unknown kind" in diagnostics.warnings[0].message


@pytest.mark.parametrize(
    ("tags", "code", "message", "left"),
    [
        ({"error": "true"}, StatusCode.ERROR, "", {}),
        ({"error": ""}, StatusCode.ERROR, "", {"error": ""}),
        ({"error": "timeout"}, StatusCode.ERROR, "timeout", {"error": "timeout"}),
        ({"otel.status_code": "OK"}, StatusCode.OK, "", {}),
        ({"otel.status_code": "STATUS_CODE_ERROR"}, StatusCode.ERROR, "", {}),
        ({"otel.status_code": "Error", "otel.status_description": "x"}, StatusCode.ERROR, "x", {}),
        ({"otel.status_code": "OK", "error": "true"}, StatusCode.ERROR, "", {}),
        (
            {"otel.status_description": "alone"},
            StatusCode.UNSET,
            "",
            {"otel.status_description": "alone"},
        ),
        ({"otel.status_code": "MAYBE"}, StatusCode.UNSET, "", {"otel.status_code": "MAYBE"}),
    ],
)
def test_status_rules(tags: dict, code: StatusCode, message: str, left: dict) -> None:
    span = one({"tags": tags})
    assert (span.status_code, span.status_message, span.attributes) == (code, message, left)


def test_scope_trace_state_links_and_event_attributes() -> None:
    link = '0af7651916cd43dd8448eb211c80319c|b7ad6b7169203331|k=v|{"a":1}|2'
    span = one(
        {
            "tags": {
                "otel.library.name": "io.lib",
                "otel.scope.version": "1.2",
                "w3c.tracestate": "congo=t61rcWkgMzE",
                "otlp.link.0": link,
                "otlp.link.1": "not|a|link",
                "host.name": "web-1",
            },
            "localEndpoint": {"serviceName": "web"},
            "annotations": [
                {"timestamp": 1502787600000001, "value": 'retry|{"attempt":2,"ok":false}|1'},
                {"timestamp": 1502787600000002, "value": "a|b|c"},
            ],
            "timestamp": 1502787600000000,
            "duration": 5,
        }
    )
    assert (span.scope_name, span.scope_version) == ("io.lib", "1.2")
    assert span.trace_state == "congo=t61rcWkgMzE"
    assert span.links == [
        Link("0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331", "k=v", {"a": 1}, 0, 2)
    ]
    assert span.attributes == {"otlp.link.1": "not|a|link"}  # not the collector's encoding
    assert span.resource_attributes == {"service.name": "web", "host.name": "web-1"}
    assert span.events == [
        Event(1502787600000001 * US, "retry", {"attempt": 2, "ok": False}, 1),
        Event(1502787600000002 * US, "a|b|c"),
    ]


def test_endpoint_details() -> None:
    span = one(
        {
            "localEndpoint": {"serviceName": "a", "ipv4": "10.0.0.1", "ipv6": "::1", "port": 0},
            "remoteEndpoint": {"ipv4": "not-an-ip", "port": 443},
        }
    )
    assert span.attributes == {
        "network.local.address": "::1",  # ipv6 wins, as in the collector; port 0 is "unset"
        "network.peer.address": "not-an-ip",
        "network.peer.port": 443,
    }
    assert any("not an IP address" in w for w in span.warnings)


def test_non_string_tags_are_kept_with_their_type_and_reported() -> None:
    diagnostics = Diagnostics()
    span = one({"tags": {"http.status_code": 500, "ok": True, "gone": None}}, diagnostics)
    assert span.attributes == {"http.status_code": 500, "ok": True}
    assert "not strings" in diagnostics.warnings[0].message


def test_parent_equal_to_id_is_a_root() -> None:
    span = one({"parentId": "a2fb4a1d1a96d312"})
    assert span.parent_span_id == ""


# ---- times ------------------------------------------------------------------------------

T0 = 1502787600000000


@pytest.mark.parametrize(
    ("fields", "start", "end", "warning"),
    [
        ({"timestamp": T0, "duration": 150}, T0, T0 + 150, None),
        ({"timestamp": T0}, T0, 0, "never ended"),
        (
            {"timestamp": T0, "annotations": [{"timestamp": T0 + 9, "value": "cr"}]},
            T0,
            T0 + 9,
            "end taken from the cr annotation",
        ),
        (
            {
                "annotations": [
                    {"timestamp": T0 + 2, "value": "sr"},
                    {"timestamp": T0 + 7, "value": "ss"},
                    {"timestamp": T0, "value": "cs"},
                    {"timestamp": T0 + 10, "value": "cr"},
                ]
            },
            T0,
            T0 + 10,
            "times taken from the cs/cr annotations",
        ),
        (
            {"annotations": [{"timestamp": T0 + 2, "value": "sr"}], "duration": 5},
            T0 + 2,
            T0 + 7,
            "times taken from the sr annotation",
        ),
        ({"duration": 5}, 0, 0, "start and end unknown"),
        ({}, 0, 0, "start and end unknown"),
        ({"timestamp": T0, "duration": 0}, T0, 0, "never ended"),
        ({"timestamp": T0, "duration": -4}, T0, 0, "not a positive number"),
        ({"timestamp": -1, "duration": 4}, 0, 0, "not a positive number"),
        ({"timestamp": 1502787600000, "duration": 5}, 1502787600000, 1502787600005, "plausible"),
        (
            {
                "annotations": [
                    {"timestamp": T0, "value": "cs"},
                    {"timestamp": T0 - 5, "value": "cr"},
                ]
            },
            T0,
            0,
            "before start",
        ),
    ],
)
def test_times(fields: dict, start: int, end: int, warning: str | None) -> None:
    diagnostics = Diagnostics()
    span = one(fields, diagnostics)
    assert (span.start_ns, span.end_ns) == (start * US, end * US)
    messages = " | ".join(w.message for w in diagnostics.warnings)
    if warning is None:
        assert messages == ""
    else:
        assert warning in messages
        assert all(
            w.location.place == "$[0]" and "a2fb4a1d1a96d312" in w.message
            for w in diagnostics.warnings
        )


def _raw(text: str, diagnostics: Diagnostics | None = None) -> Span:
    """The one span of a Zipkin v2 document written as ``text`` (numbers exactly as given)."""
    base = '"traceId": "463ac35c9f6413ad", "id": "a2fb4a1d1a96d312", "name": "op"'
    (span,) = read_bytes(f"[{{{base}, {text}}}]".encode(), diagnostics)
    return span


def test_fractional_microseconds_keep_their_nanoseconds() -> None:
    """OpenTelemetry JS's Zipkin exporter writes times in fractional microseconds, as the
    shortest text of a double (``1700000000123456.8`` for the double ...456.75): read as that
    text says, to the nanosecond (times 1000 in binary is off by up to 0.25 µs), quietly."""
    diagnostics = Diagnostics()
    span = _raw(
        '"timestamp": 1700000000123456.8, "duration": 9999.877, '
        '"annotations": [{"timestamp": 1700000000123460.2, "value": "retry"}]',
        diagnostics,
    )
    assert (span.start_ns, span.end_ns) == (1700000000123456800, 1700000000133456677)
    assert [(event.time_ns, event.name) for event in span.events] == [
        (1700000000123460200, "retry")
    ]
    assert not diagnostics.warnings
    # Exponents and integral floats are whole numbers of ns; integers are unchanged.
    assert _raw('"timestamp": 1.7e15, "duration": 2.5E1').start_ns == 17 * 10**17
    assert _raw('"timestamp": 1.7e15, "duration": 2.5E1').end_ns == 17 * 10**17 + 25_000
    assert _raw('"timestamp": 1700000000123456, "duration": 5.0').end_ns == (1700000000123461000)


def test_fractions_of_a_nanosecond_are_rounded_with_a_warning() -> None:
    diagnostics = Diagnostics()
    span = _raw('"timestamp": 1700000000123456.8, "duration": 1.0006', diagnostics)
    assert (span.start_ns, span.end_ns) == (1700000000123456800, 1700000000123457801)
    messages = " | ".join(w.message for w in diagnostics.warnings)
    assert "fractions of a nanosecond rounded" in messages


@pytest.mark.parametrize("huge", ["1.5e25", "1.5e300", "-1.5", "1e-400"])
def test_absurd_fractional_times_are_warned_about(huge: str) -> None:
    # Past 1e25 µs a Decimal's remainder raised (a traceback instead of the warning).
    diagnostics = Diagnostics()
    span = _raw(f'"timestamp": {huge}, "duration": 1.5', diagnostics)
    messages = " | ".join(w.message for w in diagnostics.warnings)
    assert span.start_ns == 0
    assert "not a positive number of µs in range; ignored" in messages
    assert "fractions of a nanosecond" not in messages


def test_annotation_without_time_is_dropped_and_far_ones_are_placed() -> None:
    diagnostics = Diagnostics()
    span = one(
        {
            "timestamp": T0,
            "duration": 100,
            "annotations": [
                {"value": "no time"},
                {"timestamp": T0 + 50, "value": "fine"},
                {"timestamp": T0 * 10, "value": "later"},
                {"timestamp": T0 // 10, "value": "earlier"},
            ],
        },
        diagnostics,
    )
    assert [(e.name, e.time_ns // US) for e in span.events] == [
        ("fine", T0 + 50),
        ("later", T0 + 100),
        ("earlier", T0),
    ]
    assert span.events[1].attributes == {"zipkin.timestamp_us": T0 * 10}
    assert len(diagnostics.warnings) == 3


# ---- bad input: InputError and nothing else -----------------------------------------------


@pytest.mark.parametrize(
    ("data", "place", "words"),
    [
        (b"", "start of file", "empty"),
        (b"   \n", "start of file", "empty"),
        (b"null", "$", "list of Zipkin spans"),
        (b"[1]", "$[0]", "expected a Zipkin span (a JSON object) or a list of spans, got `int`"),
        (b"{}", "$", "traceId"),
        (b'[{"traceId": "BADID", "id": "a2fb4a1d1a96d312"}]', "$[0].traceId", "BADID"),
        (b'[{"traceId": "463ac35c9f6413ad", "id": "xyz"}]', "$[0].id", "xyz"),
        (b'[{"traceId": "463ac35c9f6413ad", "id": "0000000000000000"}]', "$[0].id", "zeros"),
        (
            b'[{"traceId":"463ac35c9f6413ad","id":"a2fb4a1d1a96d312"},'
            b'{"traceId":"463ac35c9f6413ad","id":"a2fb4a1d1a96d313","parentId":"BADID"}]',
            "$[1].parentId",
            "BADID",
        ),
        (
            b'[{"traceId": "463ac35c9f6413ad", "id": "1", "timestamp": "now"}]',
            "$[0].timestamp",
            "Expected",
        ),
        (b'[{"traceId": "463ac35c9f6413ad", "id": "1", "tags": []}]', "$[0].tags", "Expected"),
        (b'[{"traceId": 12, "id": "1"}]', "$[0].traceId", "Expected `str`"),
        (b'[{"traceId": "1", "id": "1"}] trailing', "line 1, column 32", "trailing"),
        (b"[{,}]", "line 1, column 3", "not valid JSON"),
        (b'[{"traceId": "1", "id": "1"', "line 1, column 28", "truncated"),
        (b"\xff\xfe[]", "line 1, column 1", "not valid JSON"),
    ],
)
def test_bad_input_names_the_place(data: bytes, place: str, words: str) -> None:
    with pytest.raises(InputError) as error:
        read_bytes(data)
    assert error.value.location.source == "test.json"
    assert error.value.location.place == place
    assert words in error.value.message


def test_spans_before_a_bad_id_are_yielded() -> None:
    data = (
        b'[{"traceId":"463ac35c9f6413ad","id":"a2fb4a1d1a96d312"},'
        b'{"traceId":"463ac35c9f6413ad","id":"BADID"}]'
    )
    stream = zipkin_v2.read(io.BytesIO(data), "x", Diagnostics())
    assert next(stream).span_id == "a2fb4a1d1a96d312"
    with pytest.raises(InputError):
        next(stream)


@pytest.mark.parametrize("key", ["sample1", "skew", "merged", "chinese"])
def test_every_truncation_is_an_input_error(key: str) -> None:
    data = (FIXTURES / V2_FILES[key]).read_bytes().rstrip()
    for cut in range(len(data)):
        with pytest.raises(InputError):
            read_bytes(data[:cut])


def test_truncated_large_file_at_many_cut_points() -> None:
    data = (FIXTURES / V2_FILES["smartthings"]).read_bytes().rstrip()
    for cut in range(0, len(data), 997):
        with pytest.raises(InputError):
            read_bytes(data[:cut])


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_corrupted_bytes_give_spans_or_input_error(data: st.DataObject) -> None:
    try:
        spans = read_bytes(strategies.corrupt(data, (FIXTURES / V2_FILES["sample4"]).read_bytes()))
    except InputError:
        return
    assert all(len(s.trace_id) == 32 and len(s.span_id) == 16 for s in spans)


@settings(max_examples=300, deadline=None)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
        lambda inner: (
            st.lists(inner, max_size=3)
            | st.dictionaries(
                st.sampled_from(
                    [
                        "traceId",
                        "id",
                        "parentId",
                        "kind",
                        "timestamp",
                        "duration",
                        "tags",
                        "localEndpoint",
                        "annotations",
                        "value",
                        "ipv4",
                        "port",
                        "shared",
                        "x",
                    ]
                ),
                inner,
                max_size=5,
            )
        ),
        max_leaves=12,
    )
)
def test_any_json_gives_spans_or_input_error(document: object) -> None:
    try:
        spans = read_bytes(json.dumps(document).encode())
    except InputError as error:
        assert error.location.source == "test.json" and error.message
        return
    assert all(len(s.trace_id) == 32 and len(s.span_id) == 16 for s in spans)


# ---- writer ---------------------------------------------------------------------------------


def _schema(api: str, definition: str) -> dict:
    spec = yaml.safe_load((FIXTURES / "zipkin-api" / api).read_text())
    return {"$ref": f"#/definitions/{definition}", "definitions": spec["definitions"]}


# The API's definitions are Swagger 2 schemas, which are JSON Schema draft 4.
V2_SCHEMA = jsonschema.Draft4Validator(
    _schema("zipkin2-api.yaml", "ListOfSpans"), format_checker=jsonschema.FormatChecker()
)


def validate_v2(data: bytes) -> list[dict]:
    document = json.loads(data)
    V2_SCHEMA.validate(document)
    return document


@pytest.mark.parametrize("key", sorted(V2_FILES))
def test_written_fixtures_follow_the_v2_api_schema(key: str) -> None:
    spans = read(key)
    document = validate_v2(encode_spans(spans, "zipkin-v2"))
    assert len(document) == len(spans)


def _span(**fields) -> Span:
    base = dict(
        trace_id="00000000000000004d1e00c0db9010db",
        span_id="86154a4ba6e91385",
        name="get",
        start_ns=1472470996199000123,
        end_ns=1472470996406000999,
    )
    return Span(**(base | fields))


def test_writer_field_by_field() -> None:
    span = _span(
        parent_span_id="4d1e00c0db9010db",
        kind=SpanKind.SERVER,
        service_name="frontend",
        resource_attributes={"service.name": "frontend", "host.name": "h1", "team": "core"},
        attributes={
            "network.local.address": "10.0.0.1",
            "net.host.port": 8080,
            "peer.service": "db",
            "network.peer.address": "2001:db8::1",
            "network.peer.port": 5432,
            "retries": 3,
            "ratio": 0.5,
            "cached": True,
            "raw": b"\x00\x01",
            "list": ["a", 1],
            "zipkin.debug": True,
        },
        status_code=StatusCode.ERROR,
        status_message="boom",
        events=[
            Event(1472470996200000500, "exception", {"exception.type": "E"}),
            Event(1472470996300000000, "plain"),
        ],
        links=[Link("0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331", "k=v", {"n": 1})],
        trace_state="k=v",
        scope_name="lib",
        scope_version="2.0",
        shared=True,
    )
    (written,) = validate_v2(encode_spans([span], "zipkin-v2"))
    assert written == {
        "traceId": "4d1e00c0db9010db",  # high half zero: 16 hex, as Zipkin writes it
        "id": "86154a4ba6e91385",
        "parentId": "4d1e00c0db9010db",
        "kind": "SERVER",
        "name": "get",
        "timestamp": 1472470996199000,
        "duration": 207000,
        "debug": True,
        "shared": True,
        "localEndpoint": {"serviceName": "frontend", "ipv4": "10.0.0.1", "port": 8080},
        "remoteEndpoint": {"serviceName": "db", "ipv6": "2001:db8::1", "port": 5432},
        "annotations": [
            {"timestamp": 1472470996200000, "value": 'exception|{"exception.type":"E"}|0'},
            {"timestamp": 1472470996300000, "value": "plain"},
        ],
        "tags": {
            "host.name": "h1",
            "team": "core",
            "retries": "3",
            "ratio": "0.5",
            "cached": "true",
            "raw": "AAE=",
            "list": '["a",1]',
            "error": "true",
            "otel.status_code": "ERROR",
            "otel.status_description": "boom",
            "w3c.tracestate": "k=v",
            "otel.scope.name": "lib",
            "otel.scope.version": "2.0",
            "otlp.link.0": '0af7651916cd43dd8448eb211c80319c|b7ad6b7169203331|k=v|{"n":1}|0',
        },
    }
    (back,) = decode_spans(encode_spans([span], "zipkin-v2"), "zipkin-v2")
    assert back.resource_attributes == {"service.name": "frontend", "host.name": "h1"}
    assert back.attributes["team"] == "core"  # not a resource convention: a span attribute
    assert back.events == [
        Event(1472470996200000000, "exception", {"exception.type": "E"}),
        Event(1472470996300000000, "plain"),
    ]
    assert back.links == span.links and back.shared and back.attributes["zipkin.debug"] is True


@pytest.mark.parametrize(
    ("fields", "timestamp", "duration"),
    [
        ({}, 1472470996199000, 207000),
        ({"end_ns": 1472470996199000500}, 1472470996199000, 1),  # under 1 µs: rounded up
        ({"end_ns": 0}, 1472470996199000, None),  # never ended
        ({"end_ns": 5}, 1472470996199000, None),  # ends before it starts
        ({"start_ns": 0, "end_ns": 0}, None, None),
    ],
)
def test_writer_times(fields: dict, timestamp: int | None, duration: int | None) -> None:
    (written,) = json.loads(encode_spans([_span(**fields)], "zipkin-v2"))
    assert (written.get("timestamp"), written.get("duration")) == (timestamp, duration)


def test_writer_kinds_status_and_error_attribute() -> None:
    spans = [
        _span(kind=SpanKind.INTERNAL),
        _span(kind=SpanKind.UNSPECIFIED, attributes={"error": "stale"}),
        _span(status_code=StatusCode.OK, status_message="fine"),
        _span(status_code=StatusCode.ERROR, attributes={"error": "timeout"}),
        _span(status_code=StatusCode.UNSET, status_message="lost"),
        _span(trace_id="4d1e00c0db9010db86154a4ba6e91385"),
    ]
    written = validate_v2(encode_spans(spans, "zipkin-v2"))
    assert "kind" not in written[0] and written[0]["tags"] == {"span.kind": "internal"}
    assert "tags" not in written[1]  # an error tag on a span that did not fail is dropped
    assert written[2]["tags"] == {"otel.status_code": "OK", "otel.status_description": "fine"}
    assert written[3]["tags"] == {"error": "timeout", "otel.status_code": "ERROR"}
    assert "tags" not in written[4]
    assert written[5]["traceId"] == "4d1e00c0db9010db86154a4ba6e91385"
    back = decode_spans(encode_spans(spans, "zipkin-v2"), "zipkin-v2")
    assert [s.kind for s in back[:2]] == [SpanKind.INTERNAL, SpanKind.UNSPECIFIED]
    assert (back[2].status_code, back[2].status_message) == (StatusCode.OK, "fine")
    assert (back[3].status_code, back[3].status_message) == (StatusCode.ERROR, "timeout")
    assert (back[4].status_code, back[4].status_message) == (StatusCode.UNSET, "")


def test_writer_streams_an_empty_list() -> None:
    assert encode_spans([], "zipkin-v2") == b"[]"


# ---- round trips ----------------------------------------------------------------------------

# Keys the format itself uses; a span attribute with one of these names cannot come back as is.
RESERVED = {
    "error",
    "span.kind",
    "w3c.tracestate",
    "zipkin.debug",
    "otel.status_code",
    "otel.status_description",
    "otel.scope.name",
    "otel.scope.version",
    "otel.library.name",
    "otel.library.version",
    "otel.dropped_attributes_count",
    "otel.dropped_events_count",
    "otel.dropped_links_count",
    "network.local.address",
    "network.local.port",
    "net.host.ip",
    "net.host.port",
    "service.peer.name",
    "peer.service",
    "network.peer.address",
    "network.peer.port",
    "net.peer.ip",
    "net.peer.port",
    "lc",
    "ca",
    "sa",
    "ma",
}
_HEX = "0123456789abcdef"
_MIN_US, _MAX_US = 946_684_800_000_000, 4_000_000_000_000_000  # 2000 .. 2096

keys = st.text(string.ascii_lowercase + "._/-", min_size=1, max_size=12).filter(
    lambda k: k not in RESERVED and k not in RESOURCE_KEYS and not k.startswith("otlp.link.")
)
scalars = st.one_of(
    st.text(max_size=8),
    st.booleans(),
    st.integers(-(2**63), 2**63 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
)
trace_ids = st.one_of(
    st.text(_HEX, min_size=32, max_size=32),
    st.text(_HEX, min_size=16, max_size=16).map(lambda low: "0" * 16 + low),
).filter(lambda t: t.strip("0"))
span_ids = st.text(_HEX, min_size=16, max_size=16).filter(lambda s: s.strip("0"))


@st.composite
def zipkin_spans(draw: st.DrawFn) -> Span:
    """Model spans whose times are whole microseconds and whose attribute keys are not the
    format's own: what Zipkin can hold, so a round trip must give them back."""
    start_us = draw(st.integers(_MIN_US, _MAX_US))
    end_us = start_us + draw(st.integers(1, 10**10))
    service = draw(st.text(max_size=8))
    event_names = st.one_of(
        st.text(max_size=8), st.sampled_from(['{"a":{}}', '{"a":{"b":1}}'])
    ).filter(lambda n: "|" not in n)
    span_id = draw(span_ids)
    parent = draw(st.one_of(st.just(""), span_ids))
    return Span(
        trace_id=draw(trace_ids),
        span_id=span_id,
        parent_span_id="" if parent == span_id else parent,  # a self-parent is read as a root
        name=draw(st.text(max_size=12)),
        start_ns=start_us * US,
        end_ns=end_us * US,
        kind=draw(st.sampled_from(SpanKind)),
        service_name=service,
        resource_attributes={"service.name": service} if service else {},
        status_code=draw(st.sampled_from(StatusCode)),
        status_message=draw(st.text(max_size=8)),
        attributes=draw(st.dictionaries(keys, scalars, max_size=5)),
        events=draw(
            st.lists(
                st.tuples(
                    st.integers(start_us, end_us).map(lambda us: us * US),
                    event_names,
                    st.dictionaries(keys, scalars, max_size=3),
                    st.integers(0, 5),
                ).map(lambda fields: Event(*fields)),
                max_size=3,
            )
        ),
        links=draw(
            st.lists(
                st.tuples(
                    trace_ids,
                    span_ids,
                    st.text("abc=,", max_size=6),
                    st.dictionaries(keys, scalars, max_size=2),
                    st.just(0),
                    st.integers(0, 3),
                ).map(lambda fields: Link(*fields)),
                max_size=2,
            )
        ),
        trace_state=draw(st.text("abc=,", max_size=6)),
        scope_name=draw(st.text(max_size=6)),
        scope_version=draw(st.text(max_size=6)),
        shared=draw(st.booleans()),
        dropped_attributes_count=draw(st.integers(0, 3)),
        dropped_events_count=draw(st.integers(0, 3)),
        dropped_links_count=draw(st.integers(0, 3)),
    )


def kept_by_zipkin(span: Span, typed: bool = False) -> tuple:
    """What a Zipkin round trip keeps of ``span``: attribute values as strings (v2) or with the
    types v1 can state (``typed``); the status message only with a status."""
    from spanscope.formats.zipkin_common import tag_string
    from spanscope.formats.zipkin_vocabulary import encode_annotation

    def value(v):
        return v if typed and type(v) in (str, bool, int, float) else tag_string(v)

    message = span.status_message if span.status_code != StatusCode.UNSET else ""
    events, seen = [], set()
    for event in span.events:  # identical annotations are written once
        key = (event.time_ns, encode_annotation(event))
        if key not in seen:
            seen.add(key)
            events.append(event)
    return (
        span.trace_id,
        span.span_id,
        span.parent_span_id,
        span.name,
        span.start_ns,
        span.end_ns,
        span.kind,
        span.service_name,
        span.resource_attributes,
        span.status_code,
        message,
        {k: value(v) for k, v in span.attributes.items()},
        events,
        span.links,
        span.trace_state,
        span.scope_name,
        span.scope_version,
        (span.dropped_attributes_count, span.dropped_events_count, span.dropped_links_count),
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(zipkin_spans(), max_size=4))
def test_round_trip_keeps_what_zipkin_holds(spans: list[Span]) -> None:
    diagnostics = Diagnostics()
    data = encode_spans(spans, "zipkin-v2")
    validate_v2(data)
    back = decode_spans(data, "zipkin-v2", diagnostics=diagnostics)
    assert [kept_by_zipkin(s) for s in back] == [kept_by_zipkin(s) for s in spans]
    assert [s.shared for s in back] == [s.shared for s in spans]
    assert not diagnostics.warnings
    # and a second trip changes nothing at all
    assert decode_spans(encode_spans(back, "zipkin-v2"), "zipkin-v2") == back


@settings(max_examples=100, deadline=None)
@given(st.integers(US, 2**62), st.integers(0, 2**40))
def test_times_are_truncated_to_microseconds(start_ns: int, length_ns: int) -> None:
    span = _span(start_ns=start_ns, end_ns=start_ns + length_ns)
    (back,) = decode_spans(encode_spans([span], "zipkin-v2"), "zipkin-v2")
    assert back.start_ns == start_ns // US * US
    if length_ns == 0:
        assert back.end_ns == 0
    elif (start_ns + length_ns) // US == start_ns // US:
        assert back.end_ns == back.start_ns + US  # shorter than 1 µs: 1 µs
    else:
        assert back.end_ns == (start_ns + length_ns) // US * US


def test_list_of_traces_as_the_traces_api_answers() -> None:
    skew = json.loads((FIXTURES / V2_FILES["skew"]).read_text())
    messaging = json.loads((FIXTURES / V2_FILES["messaging"]).read_text())
    spans = read_bytes(json.dumps([skew, messaging]).encode())
    assert spans == read("skew") + read("messaging")
    messaging[1]["id"] = "BADID"
    with pytest.raises(InputError) as error:
        read_bytes(json.dumps([skew, messaging]).encode())
    assert error.value.location.place == "$[1][1].id"


# ---- what a real OpenTelemetry SDK Zipkin exporter sends ---------------------------------


class _Capture(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.bodies.append(body)  # type: ignore[attr-defined]
        self.send_response(202)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def export_with_sdk(version: str) -> tuple[list, list[bytes]]:
    """Spans made with the OpenTelemetry SDK, sent by its Zipkin JSON exporter (``version``
    "v1" or "v2") over HTTP to a server on loopback; returns the SDK's spans and the bodies."""
    from opentelemetry.exporter.zipkin.encoder import Protocol
    from opentelemetry.exporter.zipkin.json import ZipkinExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
    from opentelemetry.trace import SpanKind as OtelKind
    from opentelemetry.trace import Status
    from opentelemetry.trace import StatusCode as OtelStatus

    server = ThreadingHTTPServer(("127.0.0.1", 0), _Capture)
    server.bodies = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        exporter = ZipkinExporter(
            version=Protocol(version),
            endpoint=f"http://127.0.0.1:{server.server_port}/api/{version}/spans",
            local_node_ipv4="10.1.2.3",
            local_node_port=8080,
            max_tag_value_length=1024,  # the v1 encoder fails on the default (None)
        )
        memory = InMemorySpanExporter()
        resource = Resource.create({"service.name": "checkout", "service.version": "1.2"})
        provider = TracerProvider(resource=resource)
        provider.add_span_processor(SimpleSpanProcessor(memory))
        provider.add_span_processor(SimpleSpanProcessor(exporter))
        tracer = provider.get_tracer("shop.checkout", "0.9")
        with tracer.start_as_current_span(
            "POST /checkout", kind=OtelKind.SERVER, attributes={"http.route": "/checkout"}
        ) as root:
            root.add_event("cache.miss", {"key": "cart:42", "size": 3})
            with tracer.start_as_current_span(
                "charge",
                kind=OtelKind.CLIENT,
                attributes={"retries": 2, "amount": 12.5, "ok": False, "cards": ["a", "b"]},
            ) as child:
                child.set_status(Status(OtelStatus.ERROR, "card declined"))
        provider.shutdown()
    finally:
        server.shutdown()
        server.server_close()
    return list(memory.get_finished_spans()), list(server.bodies)  # type: ignore[attr-defined]


def test_spans_from_the_opentelemetry_sdk_zipkin_v2_exporter() -> None:
    from opentelemetry.trace import format_span_id, format_trace_id

    sdk_spans, bodies = export_with_sdk("v2")
    assert len(bodies) == 2  # one POST per span (simple processor)
    diagnostics = Diagnostics()
    child, root = [span for body in bodies for span in read_bytes(body, diagnostics)]
    assert not diagnostics.warnings
    sdk_child, sdk_root = sdk_spans
    for ours, sdk in ((child, sdk_child), (root, sdk_root)):
        assert ours.trace_id == format_trace_id(sdk.context.trace_id)
        assert ours.span_id == format_span_id(sdk.context.span_id)
        assert ours.start_ns == (sdk.start_time + 500) // US * US  # the exporter rounds
        assert ours.service_name == "checkout"
        assert ours.resource_attributes["service.version"] == "1.2"
        assert ours.resource_attributes["telemetry.sdk.language"] == "python"
        assert (ours.scope_name, ours.scope_version) == ("shop.checkout", "0.9")
        assert ours.attributes["network.local.address"] == "10.1.2.3"
        assert ours.attributes["network.local.port"] == 8080
        assert not any(key.startswith("otel.") for key in ours.attributes)
    assert child.parent_span_id == root.span_id
    assert (root.kind, child.kind) == (SpanKind.SERVER, SpanKind.CLIENT)
    assert root.events == [
        Event(
            (sdk_root.events[0].timestamp + 500) // US * US,
            "cache.miss",
            {"key": "cart:42", "size": 3},
        )
    ]
    assert (child.status_code, child.status_message) == (StatusCode.ERROR, "card declined")
    assert child.attributes["retries"] == "2" and child.attributes["amount"] == "12.5"
    assert child.attributes["ok"] == "false" and child.attributes["cards"] == '["a","b"]'
    assert root.status_code == StatusCode.UNSET


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(strategies.spans(), max_size=3))
def test_any_span_is_written_as_valid_zipkin_and_read_back(spans: list[Span]) -> None:
    """Whatever the model holds (bytes, nested values, None, non-finite floats, times of 0 or
    far in the future, ends before starts), the writer gives schema-valid Zipkin and the reader
    gives the spans back with their core fields."""
    data = encode_spans(spans, "zipkin-v2")
    validate_v2(data)
    back = decode_spans(data, "zipkin-v2")
    assert_core_kept(spans, back)


def assert_core_kept(spans: list[Span], back: list[Span]) -> None:
    assert len(back) == len(spans)
    for original, read_back in zip(spans, back, strict=True):
        assert (read_back.trace_id, read_back.span_id) == (original.trace_id, original.span_id)
        self_parent = original.parent_span_id == original.span_id
        assert read_back.parent_span_id == ("" if self_parent else original.parent_span_id)
        assert (read_back.name, read_back.service_name) == (original.name, original.service_name)
        failed = original.status_code == StatusCode.ERROR
        assert (read_back.status_code == StatusCode.ERROR) == failed
        if original.start_ns >= US:
            assert read_back.start_ns == original.start_ns // US * US
