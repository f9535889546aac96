"""Zipkin v1 JSON: the collector's v1 fixtures read field by field, Zipkin's V1SpanConverter
semantics (client/server split, address annotations, messaging, typed binary annotations), bad
input, the writer against zipkin-api.yaml, and write -> read round trips (hypothesis)."""

from __future__ import annotations

import copy
import io
import json

import jsonschema
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spanscope.errors import Diagnostics, InputError
from spanscope.formats import decode_spans, encode_spans, zipkin_v1
from spanscope.formats.detect import detect_format
from spanscope.model import Event, Span, SpanKind, StatusCode

from ..conftest import FIXTURES
from . import strategies
from .test_zipkin_v2 import (
    _span,
    assert_core_kept,
    export_with_sdk,
    kept_by_zipkin,
    zipkin_spans,
)

V1_FILES = {
    "single": "translator__trace__zipkinv1__testdata__zipkin_v1_single_batch.json",
    "batches": "translator__trace__zipkinv1__testdata__zipkin_v1_multiple_batches.json",
    "local": "translator__trace__zipkinv1__testdata__zipkin_v1_local_component.json",
    "notimestamp": "translator__trace__zipkinv2__testdata__zipkin_v2_notimestamp.json",
    "error": "translator__trace__zipkinv1__testdata__zipkin_v1_error_batch.json",
}
US = 1000


def path_of(key: str):
    return FIXTURES / "opentelemetry-collector" / V1_FILES[key]


def read(key: str, diagnostics: Diagnostics | None = None) -> list[Span]:
    diagnostics = diagnostics if diagnostics is not None else Diagnostics()
    path = path_of(key)
    return list(zipkin_v1.read(io.BytesIO(path.read_bytes()), str(path), diagnostics))


def read_doc(document: object, diagnostics: Diagnostics | None = None) -> list[Span]:
    diagnostics = diagnostics if diagnostics is not None else Diagnostics()
    data = json.dumps(document).encode()
    return list(zipkin_v1.read(io.BytesIO(data), "v1.json", diagnostics))


def summary(span: Span) -> tuple:
    return (
        span.span_id,
        span.parent_span_id,
        span.name,
        span.kind,
        span.service_name,
        span.start_ns // US,
        span.end_ns // US,
        span.shared,
    )


# ---- the collector's v1 fixtures ------------------------------------------------------------

SINGLE_BATCH = [
    # the root's server side: no timestamp, so shared (v1 convention); times from sr/ss
    ("0ed2e63cbe71f5a8", "", "checkAvailability", SpanKind.SERVER, "service1",
     1544805927448081, 1544805927460102, True),
    ("f9ebb6e64880612a", "0ed2e63cbe71f5a8", "checkStock", SpanKind.CLIENT, "service1",
     1544805927453923, 1544805927453923 + 3740, False),
    ("0ed2e63cbe71f5a8", "", "checkAvailability", SpanKind.CLIENT, "front-proxy",
     1544805927446743, 1544805927446743 + 12956, False),
    ("f9ebb6e64880612a", "0ed2e63cbe71f5a8", "checkStock", SpanKind.SERVER, "service2",
     1544805927454487, 1544805927457320, True),
    ("fe351a053fbcac1f", "0ed2e63cbe71f5a8", "checkStock", SpanKind.UNSPECIFIED, "",
     1544805927453923, 1544805927453923 + 3740, False),
]  # fmt: skip


def test_single_batch() -> None:
    diagnostics = Diagnostics()
    spans = read("single", diagnostics)
    assert [summary(s) for s in spans] == SINGLE_BATCH
    assert not diagnostics.warnings
    root = spans[0]
    assert {s.trace_id for s in spans} == {"00000000000000000ed2e63cbe71f5a8"}
    assert root.events == [Event(1544805927450000 * US, "custom time event")]
    assert root.attributes == {"network.local.address": "172.31.0.4"}
    assert root.resource_attributes == {"service.name": "service1"}
    server = spans[3]
    # binary annotations without type stay strings, as the collector reads them by default
    assert server.attributes == {
        "http.url": "http://localhost:9000/trace/2",
        "http.status_code": "200",
        "success": "true",
        "processed": "1.5",
        "network.local.address": "172.31.0.7",
    }
    assert spans[4].attributes == {} and spans[4].resource_attributes == {}


def test_batches_read_as_the_same_spans_with_batch_paths() -> None:
    assert read("batches") == read("single")
    document = json.loads(path_of("batches").read_text())
    document[3][0]["id"] = "nothex"
    with pytest.raises(InputError) as error:
        read_doc(document)
    assert error.value.location.place == "$[3][0].id"


def test_local_component_names_the_service() -> None:
    first, second = read("local")
    assert (first.service_name, first.kind) == ("myLocalComponent", SpanKind.UNSPECIFIED)
    assert first.attributes == {"lc": "myLocalComponent"}
    assert (second.service_name, second.name) == ("myServiceName", "sendOrder")
    assert second.attributes == {"lc": "myLocalComponent", "network.local.address": "172.31.0.7"}
    assert (first.start_ns, first.end_ns) == (1544805927453923 * US, 1544805927457663 * US)


def test_v1_shaped_notimestamp_file_is_detected_and_read_as_v1() -> None:
    path = path_of("notimestamp")
    assert detect_format(path.read_bytes()) == "zipkin-v1"
    (span,) = read("notimestamp")
    assert summary(span) == (
        "c698c56b63c5f5cb", "62a165c66951ced3", "http:/parent/resource/abc", SpanKind.SERVER,
        "baz", 1615821510040000, 1615821510041000, True,
    )  # fmt: skip
    assert span.trace_id == "000000000000000013c3518297c3b59f"
    assert span.attributes == {
        "http.host": "10.3.32.70",
        "http.method": "GET",
        "http.path": "/resource/abc",
        "http.url": "http://10.3.32.70:32059/resource/abc?foo=bar",
        "network.local.address": "10.254.85.134",
        "network.local.port": 8080,
    }


def test_error_batch_bad_parent_id_is_rejected_after_the_good_span() -> None:
    path = path_of("error")
    stream = zipkin_v1.read(io.BytesIO(path.read_bytes()), str(path), Diagnostics())
    assert next(stream).name == "checkAvailability"
    with pytest.raises(InputError) as error:
        next(stream)
    assert error.value.location.source == str(path)
    assert error.value.location.place == "$[1].parentId"
    assert "BADID" in error.value.message


@pytest.mark.parametrize(
    "name",
    [
        "opentelemetry-collector/translator__trace__zipkinv1__testdata__zipkin_v1_thrift_single_batch.json",
        "jaeger/model__converter__thrift__zipkin__fixtures__zipkin_02.json",
    ],
)
def test_thrift_structures_forced_as_v1_are_refused_clearly(name: str) -> None:
    path = FIXTURES / name
    with pytest.raises(InputError) as error:
        list(zipkin_v1.read(io.BytesIO(path.read_bytes()), str(path), Diagnostics()))
    assert "Thrift or protobuf" in error.value.message


# ---- Zipkin's V1SpanConverter semantics ----------------------------------------------------

T = 1502787600000000
FRONT = {"serviceName": "frontend", "ipv4": "10.0.0.1"}
BACK = {"serviceName": "backend", "ipv4": "10.0.0.2", "port": 8080}


def v1(annotations=(), binary=(), **fields) -> dict:
    return {
        "traceId": "463ac35c9f6413ad",
        "id": "a2fb4a1d1a96d312",
        "name": "get",
        "annotations": list(annotations),
        "binaryAnnotations": list(binary),
        **fields,
    }


def note(offset: int, value: str, endpoint: dict | None) -> dict:
    return {"timestamp": T + offset, "value": value, "endpoint": endpoint}


def test_client_and_server_in_one_span_are_split() -> None:
    span = v1(
        [note(0, "cs", FRONT), note(5, "sr", BACK), note(50, "ss", BACK), note(60, "cr", FRONT)],
        [{"key": "http.path", "value": "/api", "endpoint": BACK}],
        timestamp=T,
        duration=60,
    )
    client, server = read_doc([span])
    assert summary(client)[3:] == (SpanKind.CLIENT, "frontend", T, T + 60, False)
    assert summary(server)[3:] == (SpanKind.SERVER, "backend", T + 5, T + 50, True)
    assert client.span_id == server.span_id
    assert server.attributes["http.path"] == "/api" and "http.path" not in client.attributes


def test_loopback_client_and_server_fork_into_two_spans() -> None:
    same = dict(FRONT)
    span = v1([note(0, "cs", same), note(5, "sr", same), note(9, "ss", same), note(12, "cr", same)])
    client, server = read_doc([span])
    assert (client.kind, server.kind) == (SpanKind.CLIENT, SpanKind.SERVER)
    assert (client.start_ns // US, client.end_ns // US) == (T, T + 12)
    assert server.shared and (server.start_ns // US, server.end_ns // US) == (T + 5, T + 9)


def test_address_annotations_become_remote_endpoints() -> None:
    client_addr = {"serviceName": "frontend", "ipv4": "10.0.0.9", "port": 5555}
    server_addr = {"serviceName": "db", "ipv6": "2001:db8::2", "port": 5432}
    server, client = read_doc(
        [
            v1(
                [note(0, "sr", FRONT), note(9, "ss", FRONT)],
                [{"key": "ca", "value": True, "type": "BOOL", "endpoint": client_addr}],
            ),
            v1(
                [note(0, "cs", FRONT), note(9, "cr", FRONT)],
                [{"key": "sa", "value": True, "endpoint": server_addr}],
                id="a2fb4a1d1a96d313",
            ),
        ]
    )
    # Finagle's "ca" with the server's own service name: the name is dropped (no loopback)
    assert "service.peer.name" not in server.attributes
    assert server.attributes["network.peer.address"] == "10.0.0.9"
    assert server.attributes["network.peer.port"] == 5555
    assert client.attributes["service.peer.name"] == "db"
    assert client.attributes["network.peer.address"] == "2001:db8::2"


def test_address_annotations_without_core_annotations() -> None:
    (only_ca,) = read_doc([v1((), [{"key": "ca", "value": True, "endpoint": FRONT}])])
    assert only_ca.kind == SpanKind.SERVER
    assert only_ca.attributes["service.peer.name"] == "frontend"
    (only_sa,) = read_doc([v1((), [{"key": "sa", "value": True, "endpoint": BACK}])])
    assert only_sa.kind == SpanKind.UNSPECIFIED  # "sa" alone is a remote, not a client
    assert only_sa.attributes["service.peer.name"] == "backend"


def test_messaging_annotations() -> None:
    producer, consumer = read_doc(
        [
            v1([note(0, "ms", FRONT), note(3, "ws", FRONT)]),
            v1([note(10, "wr", BACK), note(14, "mr", BACK)], id="a2fb4a1d1a96d313"),
        ]
    )
    assert summary(producer)[3:7] == (SpanKind.PRODUCER, "frontend", T, T + 3)
    assert summary(consumer)[3:7] == (SpanKind.CONSUMER, "backend", T + 10, T + 14)


def test_incomplete_and_bridged_spans() -> None:
    diagnostics = Diagnostics()
    (client,) = read_doc([v1([note(0, "cs", FRONT)], timestamp=T)], diagnostics)
    assert (client.kind, client.start_ns, client.end_ns) == (SpanKind.CLIENT, T * US, 0)
    assert "never ended" in diagnostics.warnings[0].message
    # only "cr", at timestamp + duration: Zipkin recreates the missing "cs"
    (bridged,) = read_doc([v1([note(40, "cr", FRONT)], timestamp=T, duration=40)])
    assert summary(bridged)[3:7] == (SpanKind.CLIENT, "frontend", T, T + 40)
    # a core annotation without endpoint is a plain annotation
    (plain,) = read_doc([v1([{"timestamp": T, "value": "cs"}], timestamp=T, duration=2)])
    assert plain.kind == SpanKind.UNSPECIFIED and plain.events == [Event(T * US, "cs")]


def test_typed_binary_annotations() -> None:
    diagnostics = Diagnostics()
    binary = [
        {"key": "b", "value": True, "type": "BOOL"},
        {"key": "bs", "value": "false", "type": "BOOL"},
        {"key": "i16", "value": 12, "type": "I16"},
        {"key": "i64", "value": "9007199254740993", "type": "I64"},
        {"key": "d", "value": 1.5, "type": "DOUBLE"},
        {"key": "bytes", "value": "AAE=", "type": "BYTES"},
        {"key": "s", "value": "text", "type": "STRING"},
        {"key": "n", "value": 7},
        {"key": "bad", "value": "x1", "type": "I32"},
        {"key": "odd", "value": "y", "type": "UUID"},
        {"key": "none"},
        {"key": "error", "value": "disk full"},
    ]
    (span,) = read_doc([v1([note(0, "sr", BACK), note(5, "ss", BACK)], binary)], diagnostics)
    assert span.attributes == {
        "b": True,
        "bs": False,
        "i16": 12,
        "i64": 9007199254740993,
        "d": 1.5,
        "bytes": b"\x00\x01",
        "s": "text",
        "n": 7,
        "bad": "x1",
        "odd": "y",
        "error": "disk full",
        "network.local.address": "10.0.0.2",
        "network.local.port": 8080,
    }
    assert (span.status_code, span.status_message) == (StatusCode.ERROR, "disk full")
    messages = [w.message for w in diagnostics.warnings]
    assert len(messages) == 3
    assert "'bad': 'x1' is not a valid I32" in messages[0]
    assert "unknown type 'UUID'" in messages[1] and "'none' has no value" in messages[2]
    assert all(w.location.place == "$[0]" for w in diagnostics.warnings)


def test_single_object_and_v2_fields_warning() -> None:
    diagnostics = Diagnostics()
    document = v1([note(0, "cs", FRONT)], tags={"a": "b"}, timestamp=T, duration=3)
    (span,) = read_doc(document, diagnostics)
    assert span.kind == SpanKind.CLIENT
    assert "Zipkin v2 fields ['tags']" in diagnostics.warnings[0].message


# ---- bad input ------------------------------------------------------------------------------


def test_every_truncation_is_an_input_error() -> None:
    data = path_of("single").read_bytes().rstrip()
    for cut in range(0, len(data), 3):
        with pytest.raises(InputError):
            list(zipkin_v1.read(io.BytesIO(data[:cut]), "v1.json", Diagnostics()))


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_corrupted_bytes_give_spans_or_input_error(data: st.DataObject) -> None:
    corrupted = strategies.corrupt(data, path_of("batches").read_bytes())
    try:
        spans = list(zipkin_v1.read(io.BytesIO(corrupted), "v1.json", Diagnostics()))
    except InputError as error:
        assert error.location.source == "v1.json"
        return
    assert all(len(s.trace_id) == 32 and len(s.span_id) == 16 for s in spans)


# ---- writer ---------------------------------------------------------------------------------


def _v1_validator() -> jsonschema.Draft4Validator:
    spec = yaml.safe_load((FIXTURES / "zipkin-api" / "zipkin-api.yaml").read_text())
    definitions = copy.deepcopy(spec["definitions"])
    # The schema says binary annotation values are strings, but its own text says address
    # annotations ("ca", "sa", "ma") carry boolean true, and v1 JSON readers accept the typed
    # values (BOOL, I64, DOUBLE) the ``type`` field names: allow those, and ``type`` itself.
    binary = definitions["BinaryAnnotation"]["properties"]
    binary["value"] = {"type": ["string", "boolean", "number"]}
    binary["type"] = {"enum": ["BOOL", "I64", "DOUBLE"]}
    return jsonschema.Draft4Validator(
        {"$ref": "#/definitions/ListOfSpans", "definitions": definitions},
        format_checker=jsonschema.FormatChecker(),
    )


V1_SCHEMA = _v1_validator()


def validate_v1(data: bytes) -> list[dict]:
    document = json.loads(data)
    V1_SCHEMA.validate(document)
    return document


def test_writer_client_span() -> None:
    span = _span(
        kind=SpanKind.CLIENT,
        service_name="frontend",
        attributes={
            "network.local.address": "10.0.0.1",
            "service.peer.name": "db",
            "network.peer.port": 5432,
            "rows": 3,
            "cached": False,
            "ratio": 0.25,
            "sql": "select 1",
        },
        events=[Event(1472470996200000000, "cs"), Event(1472470996300000000, "retry")],
    )
    (written,) = validate_v1(encode_spans([span], "zipkin-v1"))
    local = {"serviceName": "frontend", "ipv4": "10.0.0.1"}
    assert written == {
        "traceId": "4d1e00c0db9010db",
        "id": "86154a4ba6e91385",
        "name": "get",
        "timestamp": 1472470996199000,
        "duration": 207000,
        "annotations": [
            {"timestamp": 1472470996199000, "value": "cs", "endpoint": local},
            {"timestamp": 1472470996200000, "value": "cs"},  # an event, not a core annotation
            {"timestamp": 1472470996300000, "value": "retry", "endpoint": local},
            {"timestamp": 1472470996406000, "value": "cr", "endpoint": local},
        ],
        "binaryAnnotations": [
            {"key": "rows", "value": 3, "type": "I64", "endpoint": local},
            {"key": "cached", "value": False, "type": "BOOL", "endpoint": local},
            {"key": "ratio", "value": 0.25, "type": "DOUBLE", "endpoint": local},
            {"key": "sql", "value": "select 1", "endpoint": local},
            {
                "key": "sa",
                "value": True,
                "type": "BOOL",
                "endpoint": {"serviceName": "db", "port": 5432},
            },
        ],
    }
    (back,) = decode_spans(encode_spans([span], "zipkin-v1"), "zipkin-v1")
    assert back.attributes == span.attributes
    assert back.events == span.events and back.kind == SpanKind.CLIENT


@pytest.mark.parametrize(
    ("kind", "shared", "values", "timed"),
    [
        (SpanKind.SERVER, True, ["sr", "ss"], False),
        (SpanKind.SERVER, False, ["sr", "ss"], True),
        (SpanKind.PRODUCER, False, ["ms", "ws"], True),
        (SpanKind.CONSUMER, False, ["wr", "mr"], True),
        (SpanKind.INTERNAL, False, [], True),
        (SpanKind.UNSPECIFIED, False, [], True),
    ],
)
def test_writer_kinds(kind: SpanKind, shared: bool, values: list[str], timed: bool) -> None:
    span = _span(kind=kind, shared=shared, service_name="svc")
    (written,) = validate_v1(encode_spans([span], "zipkin-v1"))
    assert [a["value"] for a in written.get("annotations", [])] == values
    assert ("timestamp" in written) == timed  # a shared span leaves its times to sr/ss
    if not values:  # the service rides on a tag or on an empty "lc" marker
        keys = [b["key"] for b in written["binaryAnnotations"]]
        assert keys == (["span.kind"] if kind == SpanKind.INTERNAL else ["lc"])
    (back,) = decode_spans(encode_spans([span], "zipkin-v1"), "zipkin-v1")
    assert (back.kind, back.shared, back.service_name) == (kind, shared, "svc")
    assert (back.start_ns, back.end_ns) == (span.start_ns // US * US, span.end_ns // US * US)


@pytest.mark.parametrize("key", sorted(V1_FILES.keys() - {"error"}))
def test_written_fixtures_follow_the_v1_api_schema(key: str) -> None:
    spans = read(key)
    validate_v1(encode_spans(spans, "zipkin-v1"))
    assert [summary(s) for s in decode_spans(encode_spans(spans, "zipkin-v1"), "zipkin-v1")] == [
        summary(s) for s in spans
    ]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(zipkin_spans(), max_size=4))
def test_round_trip_keeps_what_zipkin_v1_holds(spans: list[Span]) -> None:
    diagnostics = Diagnostics()
    data = encode_spans(spans, "zipkin-v1")
    validate_v1(data)
    back = decode_spans(data, "zipkin-v1", diagnostics=diagnostics)
    assert [kept_by_zipkin(s, typed=True) for s in back] == [
        kept_by_zipkin(s, typed=True) for s in spans
    ]
    # v1 has no shared flag: only a server span without timestamp says it
    assert [s.shared for s in back] == [s.shared and s.kind == SpanKind.SERVER for s in spans]
    assert not diagnostics.warnings


def test_attributes_named_like_address_annotations_stay_attributes() -> None:
    span = _span(attributes={"ca": False, "sa": "x"})
    (written,) = validate_v1(encode_spans([span], "zipkin-v1"))
    assert [(b["key"], b["value"]) for b in written["binaryAnnotations"]] == [
        ("ca", "false"),
        ("sa", "x"),
    ]
    (back,) = decode_spans(encode_spans([span], "zipkin-v1"), "zipkin-v1")
    assert back.attributes == {"ca": "false", "sa": "x"}


def test_spans_from_the_opentelemetry_sdk_zipkin_v1_exporter() -> None:
    from opentelemetry.trace import format_span_id

    sdk_spans, bodies = export_with_sdk("v1")
    diagnostics = Diagnostics()
    child, root = [
        span for body in bodies for span in zipkin_v1.read(io.BytesIO(body), "sdk", diagnostics)
    ]
    assert not diagnostics.warnings
    sdk_child, sdk_root = sdk_spans
    assert child.span_id == format_span_id(sdk_child.context.span_id)
    assert root.span_id == format_span_id(sdk_root.context.span_id)
    assert child.parent_span_id == root.span_id
    # the SDK's v1 encoder writes no core annotations: the kind does not travel, the service
    # does (on the endpoint of every annotation)
    assert (root.kind, child.kind) == (SpanKind.UNSPECIFIED, SpanKind.UNSPECIFIED)
    assert (root.service_name, child.service_name) == ("checkout", "checkout")
    assert child.end_ns - child.start_ns == (
        (sdk_child.end_time - sdk_child.start_time + 500) // US * US
    )
    assert (child.status_code, child.status_message) == (StatusCode.ERROR, "card declined")
    assert root.events[0].name == "cache.miss"
    assert root.events[0].attributes == {"key": "cart:42", "size": 3}
    assert child.attributes["retries"] == "2"
    assert root.resource_attributes["service.version"] == "1.2"


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(strategies.spans(), max_size=3))
def test_any_span_is_written_as_valid_zipkin_v1_and_read_back(spans: list[Span]) -> None:
    data = encode_spans(spans, "zipkin-v1")
    validate_v1(data)
    assert_core_kept(spans, decode_spans(data, "zipkin-v1"))
