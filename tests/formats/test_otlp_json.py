"""OTLP JSON reader and writer: real fixtures, bad input, truncation, round trips."""

from __future__ import annotations

import base64
import gzip
import io
import json
import re
from pathlib import Path

import pytest
from google.protobuf import json_format
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from opentelemetry.proto.trace.v1.trace_pb2 import TracesData

from spanscope.errors import Diagnostics, InputError
from spanscope.formats import otlp_json, otlp_proto, read_spans, write_spans
from spanscope.model import Event, Link, Span, SpanKind, StatusCode

from ..conftest import FIXTURES
from .strategies import corrupt, span_lists

JAEGER = FIXTURES / "jaeger"
UI = FIXTURES / "jaeger-ui"
PARQUET = FIXTURES / "otlp2parquet"
APIV3 = "cmd__jaeger__internal__extension__jaegerquery__internal__apiv3__snapshots__"
MULTI_IN = UI / "packages__jaeger-ui__src__utils__fixtures__otlp2jaeger-multi-in.json.txt"
COMBINED = UI / "packages__jaeger-ui__src__utils__fixtures__otlp2jaeger-multi-in-combined.json"
OTLP_JSON_FIXTURES = sorted(
    [
        *JAEGER.glob("internal__storage__integration__fixtures__traces__*.json"),
        *JAEGER.glob("internal__storage__v2__*otel_traces_01.json"),
        JAEGER / f"{APIV3}GetTrace.json",
        JAEGER / f"{APIV3}FindTraces.json",
        JAEGER
        / "cmd__jaeger__internal__extension__jaegerquery__internal__fixture__otlp2jaeger-in.json",
        *UI.glob("packages__jaeger-ui__src__utils__fixtures__otlp2jaeger-in*.json"),
        MULTI_IN,
        COMBINED,
        FIXTURES / "opentelemetry-proto" / "examples__trace.json",
        PARQUET / "testdata__trace.json",
    ]
)


def read(data: bytes, diagnostics: Diagnostics | None = None) -> list[Span]:
    stream = io.BufferedReader(io.BytesIO(data))
    return list(otlp_json.read(stream, "input.json", diagnostics or Diagnostics()))


def reading_error(data: bytes) -> InputError:
    with pytest.raises(InputError) as error:
        read(data)
    assert error.value.location.source == "input.json"
    return error.value


def dump(spans: list[Span], lines: bool = False) -> bytes:
    out = io.BytesIO()
    (otlp_json.write_lines if lines else otlp_json.write)(spans, out)
    return out.getvalue()


def by_content(spans: list[Span]) -> list[Span]:
    """Writers group each batch by resource and scope, which may reorder spans in a batch."""
    return sorted(spans, key=repr)


def one_span_document(span: dict, resource: dict | None = None) -> bytes:
    return json.dumps(
        {"resourceSpans": [{"resource": resource or {}, "scopeSpans": [{"spans": [span]}]}]}
    ).encode()


GOOD_SPAN = {
    "traceId": "5b8efff798038103d269b633813fc60c",
    "spanId": "eee19b7ec3c1b174",
    "name": "x",
    "startTimeUnixNano": "1",
    "endTimeUnixNano": "2",
}


# --- every fixture, and exact fields ----------------------------------------------------------


@pytest.mark.parametrize("path", OTLP_JSON_FIXTURES, ids=lambda p: p.name[-60:])
def test_fixture_reads_and_round_trips(path: Path) -> None:
    spans = list(read_spans(path))
    assert spans
    for span in spans:
        assert re.fullmatch("[0-9a-f]{32}", span.trace_id) and span.trace_id != "0" * 32
        assert re.fullmatch("[0-9a-f]{16}", span.span_id)
        assert span.service_name == span.resource_attributes.get("service.name", "")
    for lines in (False, True):
        assert by_content(read(dump(spans, lines))) == by_content(spans)


def test_otel_traces_fields() -> None:
    spans = list(
        read_spans(JAEGER / "internal__storage__v2__memory__fixtures__otel_traces_01.json")
    )
    assert [s.kind for s in spans] == [
        SpanKind.SERVER,
        SpanKind.CLIENT,
        SpanKind.PRODUCER,
        SpanKind.CONSUMER,
    ]
    span = spans[0]
    assert span.trace_id == "00000000000000010000000000000000"
    assert span.span_id == "0000000000000002"
    assert span.parent_span_id == "0000000000000003"
    assert (span.start_ns, span.end_ns) == (1485467191639875000, 1485467191639880000)
    assert (span.trace_state, span.flags) == ("state.2", 1)
    assert span.status_code == StatusCode.ERROR
    assert span.attributes == {
        "peer.service": "service-y",
        "peer.ipv4": 23456,
        "blob": b"\x00\x0009",
        "temperature": 72.5,
    }
    assert type(span.attributes["peer.ipv4"]) is int
    assert (span.scope_name, span.scope_version) == ("testing-library-2", "1.1.1")
    assert span.scope_attributes == {"scope.attributes.2": "attribute-y"}
    assert span.service_name == "service-x"
    assert span.resource_attributes == {"service.name": "service-x"}
    assert span.events == [
        Event(1485467191639875000, "testing-event", {"event-x": "event-y"}),
        Event(1485467191639875000, "", {"x": "y"}),
    ]
    # A FOLLOWS_FROM link to a span that is not the parent stays a link.
    assert span.links == [
        Link(
            "00000000000000010000000000000000",
            "0000000000000004",
            attributes={"opentracing.ref_type": "follows_from"},
        ),
        Link(
            "00000000000000ff0000000000000000",
            "00000000000000ff",
            attributes={"opentracing.ref_type": "child_of"},
        ),
    ]
    assert not span.follows_from
    # One dict per resource and per scope, shared by their spans.
    assert spans[0].resource_attributes is spans[1].resource_attributes
    assert spans[0].scope_attributes is spans[1].scope_attributes


def test_link_attribute_types() -> None:
    [span] = read_spans(
        JAEGER / "internal__storage__integration__fixtures__traces__link_attributes_trace.json"
    )
    assert span.parent_span_id == "" and span.scope_name == "" and span.scope_attributes == {}
    assert span.links[0].attributes == {
        "opentracing.ref_type": "child_of",
        "sameplacelinkattribute1": "sameplacevalue",
        "sameplacelinkattribute2": 123,
        "sameplacelinkattribute4": True,
        "sameplacelinkattribute3": 72.5,
        "linkblob": b"\x00\x0009",
    }
    assert [type(v) for v in span.links[0].attributes.values()] == [
        str,
        str,
        int,
        bool,
        float,
        bytes,
    ]


def test_upper_case_hex_ids_and_orphan_parent() -> None:
    [span] = read_spans(FIXTURES / "opentelemetry-proto" / "examples__trace.json")
    assert span.trace_id == "5b8efff798038103d269b633813fc60c"
    assert span.span_id == "eee19b7ec3c1b174"
    assert span.parent_span_id == "eee19b7ec3c1b173"
    assert span.kind == SpanKind.SERVER and span.name == "I'm a server span"
    assert (span.start_ns, span.end_ns) == (1544712660000000000, 1544712661000000000)
    assert (span.scope_name, span.scope_version) == ("my.library", "1.0.0")
    assert span.scope_attributes == {"my.scope.attribute": "some scope attribute"}
    assert span.attributes == {"my.span.attr": "some value"}
    assert span.service_name == "my.service"


def test_jaeger_api_v3_wrapper() -> None:
    [span] = read_spans(JAEGER / f"{APIV3}GetTrace.json")
    assert span.trace_id == "00000000000000000000000000000001"
    assert span.span_id == "0000000000000002"
    assert (span.name, span.kind, span.status_code) == ("foobar", SpanKind.SERVER, StatusCode.ERROR)
    assert (span.start_ns, span.end_ns, span.service_name) == (0, 0, "")
    assert span.is_unclosed


def test_resource_without_service_name() -> None:
    [span] = read_spans(UI / "packages__jaeger-ui__src__utils__fixtures__otlp2jaeger-in-error.json")
    assert span.service_name == "" and span.resource_attributes == {}
    assert span.scope_name == "telemetrygen"


def test_json_lines_equal_the_combined_document() -> None:
    diagnostics = Diagnostics()
    lines = list(read_spans(MULTI_IN, diagnostics=diagnostics))
    combined = list(read_spans(COMBINED))
    assert len(lines) == 4 and lines == combined
    assert diagnostics.count == 0
    root = [s for s in lines if s.parent_span_id == ""]
    assert [s.span_id for s in root] == ["eff3153be6b1fb93"]
    assert root[0].scope_version == "1.2.3" and root[0].kind == SpanKind.INTERNAL
    assert lines[0].end_ns == 1711138247024460625


def test_repeated_texts_are_one_string_each() -> None:
    """Trace ids, names and attribute keys and values are shared between spans (memory); upper
    case trace ids are still normalised, each spelling once."""
    span = {
        "traceId": "5B8EFFF798038103D269B633813FC60C",
        "name": "GET /cart",
        "startTimeUnixNano": "1",
        "endTimeUnixNano": "2",
        "attributes": [
            {"key": "http.request.method", "value": {"stringValue": "GET"}},
            {"key": "http.response.status_code", "value": {"intValue": "200"}},
        ],
    }
    text = b"".join(
        one_span_document({**span, "spanId": f"{index + 1:016x}"}).replace(b"\n", b"") + b"\n"
        for index in range(3)
    )
    spans = read(text)
    assert len(spans) == 3
    first, *others = spans
    assert first.trace_id == "5b8efff798038103d269b633813fc60c"
    assert first.attributes == {"http.request.method": "GET", "http.response.status_code": 200}
    for other in others:
        assert other.trace_id is first.trace_id and other.name is first.name
        for mine, theirs in zip(other.attributes.items(), first.attributes.items(), strict=True):
            assert mine[0] is theirs[0] and mine[1] is theirs[1]


def test_base64_ids_and_enum_names_are_read_with_one_warning_each() -> None:
    diagnostics = Diagnostics()
    spans = list(read_spans(PARQUET / "testdata__trace.json", diagnostics=diagnostics))
    assert [s.trace_id for s in spans] == ["9d79b1a37f31801cd11a6706fb40d6bd"] * 2
    assert [s.span_id for s in spans] == ["de562439e9c1b823", "57526846903bb13e"]
    assert [s.parent_span_id for s in spans] == ["57526846903bb13e", "a96089bca71f3d1a"]
    assert [s.kind for s in spans] == [SpanKind.CLIENT, SpanKind.SERVER]
    messages = [w.message for w in diagnostics.warnings]
    assert len(messages) == 2
    assert any("base64" in m and "OTLP spec forbids" in m for m in messages)
    assert any("SPAN_KIND_CLIENT" in m and "OTLP spec forbids" in m for m in messages)
    assert spans == list(read_spans(PARQUET / "testdata__trace.pb"))


# --- invalid input ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "place", "words"),
    [
        ("malformed.json", "line 21, column 15", "not valid JSON"),
        (
            "trace_invalid_base64.json",
            "$.resourceSpans[0].scopeSpans[0].spans[0].traceId",
            "neither hex nor base64",
        ),
        (
            "trace_invalid_kind.json",
            "$.resourceSpans[0].scopeSpans[0].spans[0].kind",
            "SPAN_KIND_INVALID_TYPE",
        ),
        (
            "trace_mixed_encoding.json",
            "$.resourceSpans[0].scopeSpans[0].spans[0].traceId",
            "'zzz'",
        ),
    ],
)
def test_invalid_fixtures(name: str, place: str, words: str) -> None:
    path = PARQUET / f"testdata__invalid__{name}"
    with pytest.raises(InputError) as error:
        list(read_spans(path, format="otlp-json"))
    assert error.value.location == type(error.value.location)(str(path), place)
    assert words in error.value.message


@pytest.mark.parametrize(
    ("change", "place", "words"),
    [
        ({"kind": [1]}, "$.resourceSpans[0].scopeSpans[0].spans[0].kind", "Expected"),
        ({"spanId": "0000000000000000"}, "spans[0].spanId", "all zeros"),
        ({"traceId": ""}, "spans[0].traceId", "invalid trace id"),
        ({"parentSpanId": "xyz"}, "spans[0].parentSpanId", "neither hex nor base64"),
        ({"status": {"code": "STATUS_CODE_BAD"}}, "spans[0].status.code", "STATUS_CODE_BAD"),
        (
            {"links": [{"traceId": "zz", "spanId": "eee19b7ec3c1b174"}]},
            "spans[0].links[0].traceId",
            "'zz'",
        ),
        (
            {"attributes": [{"key": "k", "value": {"bytesValue": "!!"}}]},
            "spans[0].attributes[0].value.bytesValue",
            "base64",
        ),
        ({"startTimeUnixNano": "soon"}, "spans[0].startTimeUnixNano", "Expected `int`"),
    ],
)
def test_bad_fields_name_their_place(change: dict, place: str, words: str) -> None:
    error = reading_error(one_span_document({**GOOD_SPAN, **change}))
    assert error.location.place.endswith(place)
    assert words in error.message


def test_bad_resource_and_scope_name_their_place() -> None:
    bad = {"attributes": [{"key": "n", "value": {"intValue": "x"}}]}
    error = reading_error(one_span_document(GOOD_SPAN, resource=bad))
    assert (
        error.location.place == "line 1, $.resourceSpans[0].resource.attributes[0].value.intValue"
    )
    doc = json.loads(one_span_document(GOOD_SPAN))
    doc["resourceSpans"][0]["scopeSpans"][0]["scope"] = {"name": 5}
    error = reading_error(json.dumps(doc, indent=2).encode())
    assert error.location.place == "$.resourceSpans[0].scopeSpans[0].scope.name"


def test_64_bit_integers_as_json_numbers() -> None:
    span = {
        **GOOD_SPAN,
        "startTimeUnixNano": 1711138246978000000,
        "endTimeUnixNano": 1711138247024460625,
        "attributes": [{"key": "n", "value": {"intValue": 9007199254740993}}],
    }
    [back] = read(one_span_document(span))
    assert (back.start_ns, back.end_ns) == (1711138246978000000, 1711138247024460625)
    assert back.attributes == {"n": 9007199254740993}


def test_enum_numbers_as_strings_and_unknown_values_warn() -> None:
    diagnostics = Diagnostics()
    [span] = read(one_span_document({**GOOD_SPAN, "kind": "3", "status": {"code": 7}}), diagnostics)
    assert span.kind == SpanKind.CLIENT and span.status_code == StatusCode.UNSET
    assert len(diagnostics.warnings) == 2


def test_json_lines_error_names_the_line_after_yielding_the_good_ones() -> None:
    good = one_span_document(GOOD_SPAN)
    data = good + b"\n" + good + b"\n" + good[:-7] + b"\n" + good + b"\n"
    spans = []
    stream = otlp_json.read(io.BufferedReader(io.BytesIO(data)), "x.jsonl", Diagnostics())
    with pytest.raises(InputError) as error:
        for span in stream:
            spans.append(span)
    assert len(spans) == 2
    assert error.value.location.place.startswith("line 3, column ")
    bad_kind = one_span_document({**GOOD_SPAN, "kind": "NOPE"})
    error = reading_error(good + b"\n\n" + bad_kind + b"\n")
    assert error.location.place == "line 3, $.resourceSpans[0].scopeSpans[0].spans[0].kind"


def test_broken_bytes_and_syntax_name_line_and_column() -> None:
    good = one_span_document(GOOD_SPAN)
    bad_utf8 = good.replace(b'"name": "x"', b'"name": "\xff"')
    error = reading_error(good + b"\n" + bad_utf8 + b"\n")
    # A JSON line is decoded whole, so the bad byte itself is found.
    column = bad_utf8.index(b"\xff") + 1
    assert error.location.place == f"line 2, column {column}"
    assert "UTF-8" in error.message
    pretty = json.dumps(json.loads(good), indent=2).encode()
    broken = pretty.replace(b'"name": "x"', b'"name": "x" "y"')
    at = broken.index(b'"y"')
    line, column = broken.count(b"\n", 0, at) + 1, at - broken.rfind(b"\n", 0, at)
    assert reading_error(broken).location.place == f"line {line}, column {column}"
    error = reading_error(good.replace(b"{", b"{,", 1) + b"\n" + good)
    assert error.location.place == "line 1, column 2" and "not valid JSON" in error.message


def test_deep_nesting_is_an_input_error() -> None:
    depth = 3000
    value = '{"arrayValue":{"values":[' * depth + '{"stringValue":"x"}' + "]}}" * depth
    span = {**GOOD_SPAN, "attributes": [{"key": "k", "value": "VALUE"}]}
    data = one_span_document(span).replace(b'"VALUE"', value.encode())
    assert "nested too deeply" in reading_error(data).message


@pytest.mark.parametrize("path", [MULTI_IN, COMBINED], ids=["jsonl", "document"])
def test_truncated_at_every_cut(path: Path) -> None:
    data = path.read_bytes()
    complete = read(data)
    line_ends = [m.end() for m in re.finditer(rb"\n", data)]
    for cut in range(len(data)):
        spans: list[Span] = []
        try:
            for span in otlp_json.read(
                io.BufferedReader(io.BytesIO(data[:cut])), "cut.json", Diagnostics()
            ):
                spans.append(span)
        except InputError as exc:
            assert exc.location.source == "cut.json" and exc.location.place
        if path is MULTI_IN:
            whole_lines = sum(1 for end in line_ends if end <= cut)
            assert spans == complete[:whole_lines] or spans == complete[: whole_lines + 1]


def test_gzip_input(tmp_path: Path) -> None:
    target = tmp_path / "traces.json.gz"
    target.write_bytes(gzip.compress(MULTI_IN.read_bytes()))
    assert list(read_spans(target)) == list(read_spans(MULTI_IN))


def test_array_of_requests_snake_case_and_bom() -> None:
    doc = json.loads(COMBINED.read_bytes())
    expected = read(COMBINED.read_bytes())
    assert read(json.dumps([doc, doc]).encode()) == expected * 2

    def snake(value):
        if isinstance(value, dict):
            return {re.sub("([A-Z])", r"_\1", k).lower(): snake(v) for k, v in value.items()}
        if isinstance(value, list):
            return [snake(v) for v in value]
        return value

    assert read(json.dumps(snake(doc), indent=1).encode()) == expected
    assert read(b"\xef\xbb\xbf" + COMBINED.read_bytes()) == expected
    assert read(b"") == [] and read(b"\n\n") == []


def test_old_instrumentation_library_fields() -> None:
    doc = {
        "resourceSpans": [
            {
                "instrumentationLibrarySpans": [
                    {
                        "instrumentationLibrary": {"name": "old", "version": "0.1"},
                        "spans": [GOOD_SPAN],
                    }
                ]
            }
        ]
    }
    [span] = read(json.dumps(doc).encode())
    assert (span.scope_name, span.scope_version) == ("old", "0.1")


# --- writing ------------------------------------------------------------------------------------


def _span(**fields) -> Span:
    base = dict(
        trace_id="5b8efff798038103d269b633813fc60c",
        span_id="eee19b7ec3c1b174",
        name="op",
        start_ns=1_000,
        end_ns=2_000,
    )
    return Span(**{**base, **fields})


def test_writer_output_follows_the_otlp_json_spec() -> None:
    span = _span(
        parent_span_id="eee19b7ec3c1b173",
        kind=SpanKind.CLIENT,
        status_code=StatusCode.ERROR,
        attributes={"n": 2**40, "f": float("inf"), "b": b"\x01", "l": [1, "a"], "d": {"x": None}},
        service_name="svc",
        resource_attributes={"service.name": "svc"},
        events=[Event(1_500, "e", {"k": 1})],
    )
    doc = json.loads(dump([span]))
    [resource] = doc["resourceSpans"]
    assert resource["resource"]["attributes"] == [
        {"key": "service.name", "value": {"stringValue": "svc"}}
    ]
    out = resource["scopeSpans"][0]["spans"][0]
    assert out["traceId"] == span.trace_id and out["parentSpanId"] == span.parent_span_id
    assert out["kind"] == 3 and out["status"] == {"code": 2}
    assert out["startTimeUnixNano"] == "1000" and out["endTimeUnixNano"] == "2000"
    assert out["attributes"][0] == {"key": "n", "value": {"intValue": str(2**40)}}
    assert out["attributes"][1] == {"key": "f", "value": {"doubleValue": "Infinity"}}
    assert out["attributes"][2] == {"key": "b", "value": {"bytesValue": "AQ=="}}
    assert out["events"] == [
        {
            "timeUnixNano": "1500",
            "name": "e",
            "attributes": [{"key": "k", "value": {"intValue": "1"}}],
        }
    ]
    assert read(dump([span])) == [span]


def _hex_ids_to_base64(value):
    """OTLP JSON ids are hex; protobuf's own JSON parser wants base64 for bytes fields."""
    if isinstance(value, dict):
        return {
            k: base64.b64encode(bytes.fromhex(v)).decode()
            if k in ("traceId", "spanId", "parentSpanId")
            else _hex_ids_to_base64(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_hex_ids_to_base64(v) for v in value]
    return value


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(span_lists())
def test_round_trip_of_generated_spans(spans: list[Span]) -> None:
    for lines in (False, True):
        data = dump(spans, lines)
        assert by_content(read(data)) == by_content(spans)
    # protobuf's own (strict, unknown-field-rejecting) parser accepts what we write, and the
    # message it builds reads back to the same spans.
    message = json_format.Parse(
        json.dumps(_hex_ids_to_base64(json.loads(dump(spans)))), TracesData()
    )
    stream = io.BufferedReader(io.BytesIO(message.SerializeToString()))
    assert by_content(list(otlp_proto.read(stream, "x.pb", Diagnostics()))) == by_content(spans)


def test_follows_from_and_shared_travel_as_link_and_attribute() -> None:
    span = _span(parent_span_id="eee19b7ec3c1b173", follows_from=True, shared=True)
    out = json.loads(dump([span]))["resourceSpans"][0]["scopeSpans"][0]["spans"][0]
    assert out["links"] == [
        {
            "traceId": span.trace_id,
            "spanId": "eee19b7ec3c1b173",
            "attributes": [
                {"key": "opentracing.ref_type", "value": {"stringValue": "follows_from"}}
            ],
        }
    ]
    assert out["attributes"] == [{"key": "spanscope.shared", "value": {"boolValue": True}}]
    [back] = read(dump([span]))
    assert back.follows_from and back.shared and back.links == [] and back.attributes == {}


def test_a_follows_from_link_that_says_more_is_kept() -> None:
    marker = {"key": "opentracing.ref_type", "value": {"stringValue": "follows_from"}}
    link = {
        "traceId": GOOD_SPAN["traceId"],
        "spanId": "eee19b7ec3c1b173",
        "attributes": [marker, {"key": "why", "value": {"stringValue": "async"}}],
    }
    span = {**GOOD_SPAN, "parentSpanId": "eee19b7ec3c1b173", "links": [link]}
    [back] = read(one_span_document(span))
    assert back.follows_from
    assert back.links == [
        Link(
            GOOD_SPAN["traceId"],
            "eee19b7ec3c1b173",
            attributes={"opentracing.ref_type": "follows_from", "why": "async"},
        )
    ]
    assert read(dump([back])) == [back]  # no second marker is added


def test_service_name_is_written_into_the_resource() -> None:
    span = _span(service_name="cart", resource_attributes={"host.name": "h"})
    [back] = read(dump([span]))
    assert back.service_name == "cart"
    assert back.resource_attributes == {"host.name": "h", "service.name": "cart"}


def test_json_lines_batches_and_grouping() -> None:
    a = {"service.name": "a"}
    b = {"service.name": "b"}
    spans = [
        _span(span_id=f"{i + 1:016x}", service_name=s["service.name"], resource_attributes=s)
        for i, s in enumerate([a, b] * 650)
    ]
    data = dump(spans, lines=True)
    lines = data.splitlines()
    assert len(lines) == 3  # 512 + 512 + 276
    first = json.loads(lines[0])["resourceSpans"]
    assert [len(r["scopeSpans"][0]["spans"]) for r in first] == [256, 256]
    back = read(data)
    assert by_content(back) == by_content(spans)
    assert back[0].resource_attributes is back[1].resource_attributes  # cached resource


def test_write_spans_by_format_name(tmp_path: Path) -> None:
    spans = list(read_spans(COMBINED))
    for name in ("otlp-json", "otlp-jsonl"):
        target = tmp_path / f"out.{name}"
        with open(target, "wb") as out:
            write_spans(spans, out, name)
        assert list(read_spans(target)) == spans


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_corrupted_input_gives_spans_or_an_input_error(data) -> None:
    original = MULTI_IN.read_bytes() if data.draw(st.booleans()) else COMBINED.read_bytes()
    try:
        spans = read(corrupt(data, original))
    except InputError as exc:
        assert exc.location.source == "input.json" and exc.message
    else:
        assert all(len(s.trace_id) == 32 and len(s.span_id) == 16 for s in spans)
