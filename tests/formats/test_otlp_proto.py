"""OTLP protobuf reader and writer: the real fixture, the real SDK encoder, bad input, round trips."""

from __future__ import annotations

import gzip
import io
from pathlib import Path

import pytest
from google.protobuf.internal import api_implementation
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.trace.v1.trace_pb2 import TracesData
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Link as SdkLink
from opentelemetry.trace import SpanKind as SdkSpanKind
from opentelemetry.trace import Status
from opentelemetry.trace import StatusCode as SdkStatusCode

from spanscope.errors import Diagnostics, InputError
from spanscope.formats import otlp_proto, read_spans, write_spans
from spanscope.model import Span, SpanKind, StatusCode

from ..conftest import FIXTURES
from .strategies import corrupt, span_lists
from .test_otlp_json import OTLP_JSON_FIXTURES, by_content

TRACE_PB = FIXTURES / "otlp2parquet" / "testdata__trace.pb"


def read(data: bytes, diagnostics: Diagnostics | None = None) -> list[Span]:
    stream = io.BufferedReader(io.BytesIO(data))
    return list(otlp_proto.read(stream, "input.pb", diagnostics or Diagnostics()))


def dump(spans: list[Span]) -> bytes:
    out = io.BytesIO()
    otlp_proto.write(spans, out)
    return out.getvalue()


def test_protobuf_backend_is_upb() -> None:
    assert api_implementation.Type() == "upb"


def test_real_pb_file_equals_its_json_twin() -> None:
    spans = list(read_spans(TRACE_PB))
    assert spans == list(read_spans(FIXTURES / "otlp2parquet" / "testdata__trace.json"))
    first = spans[0]
    assert first.trace_id == "9d79b1a37f31801cd11a6706fb40d6bd"
    assert first.name == "router frontend egress" and first.kind == SpanKind.CLIENT
    assert (first.start_ns, first.end_ns) == (1760738064624462000, 1760738064628483000)
    assert first.service_name == "frontend-proxy"
    assert first.resource_attributes["service.version"] == "2.1.3"
    assert first.scope_name == "envoy"
    assert first.attributes["http.status_code"] == "200"


def _sdk_spans():
    exporter = InMemorySpanExporter()
    provider = TracerProvider(
        resource=Resource.create({"service.name": "checkout", "service.version": "2.3.0"})
    )
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("shop.checkout", "1.4.0")
    with tracer.start_as_current_span("POST /checkout", kind=SdkSpanKind.SERVER) as root:
        root.set_attributes(
            {
                "http.response.status_code": 502,
                "retry": True,
                "ratio": 0.25,
                "tags": ["a", "b"],
                "ports": [80, 443],
            }
        )
        with tracer.start_as_current_span(
            "charge",
            kind=SdkSpanKind.CLIENT,
            links=[SdkLink(root.get_span_context(), {"reason": "retry"})],
        ) as child:
            child.add_event("exception", {"exception.type": "Timeout"}, timestamp=123)
            child.set_status(Status(SdkStatusCode.ERROR, "provider timed out"))
    provider.shutdown()
    return exporter.get_finished_spans()


def test_spans_from_the_real_sdk_encoder() -> None:
    sdk_spans = _sdk_spans()
    request: ExportTraceServiceRequest = encode_spans(sdk_spans)
    spans = read(request.SerializeToString())
    by_name = {span.name: span for span in spans}
    root, child = by_name["POST /checkout"], by_name["charge"]
    sdk_root = next(s for s in sdk_spans if s.name == "POST /checkout")
    assert root.trace_id == f"{sdk_root.context.trace_id:032x}"
    assert root.span_id == f"{sdk_root.context.span_id:016x}"
    assert (root.start_ns, root.end_ns) == (sdk_root.start_time, sdk_root.end_time)
    assert root.parent_span_id == "" and child.parent_span_id == root.span_id
    assert (root.kind, child.kind) == (SpanKind.SERVER, SpanKind.CLIENT)
    assert root.attributes == {
        "http.response.status_code": 502,
        "retry": True,
        "ratio": 0.25,
        "tags": ["a", "b"],
        "ports": [80, 443],
    }
    assert root.service_name == "checkout"
    assert root.resource_attributes["service.version"] == "2.3.0"
    assert root.resource_attributes is child.resource_attributes
    assert (root.scope_name, root.scope_version) == ("shop.checkout", "1.4.0")
    assert root.flags == child.flags == 0x100  # "has is_remote" set, parent not remote
    assert (child.status_code, child.status_message) == (StatusCode.ERROR, "provider timed out")
    assert [(e.time_ns, e.name, e.attributes) for e in child.events] == [
        (123, "exception", {"exception.type": "Timeout"})
    ]
    [link] = child.links
    assert (link.trace_id, link.span_id, link.attributes) == (
        root.trace_id,
        root.span_id,
        {"reason": "retry"},
    )
    # TracesData and ExportTraceServiceRequest are the same on the wire.
    assert read(TracesData(resource_spans=request.resource_spans).SerializeToString()) == spans


def test_garbage_and_truncation_are_input_errors() -> None:
    for data, place in (
        (b"\x0a\xff\xff\xff\xff\x0f", "byte 0 of 6"),
        (b"\x0a\x05abc", "byte 0 of 5"),
        (b"not protobuf at all", "byte 0 of 19"),
    ):
        with pytest.raises(InputError) as error:
            read(data)
        assert error.value.location.source == "input.pb"
        assert error.value.location.place == place
        assert "not valid OTLP protobuf" in error.value.message
    data = TRACE_PB.read_bytes()
    complete = read(data)
    for cut in range(len(data)):
        try:
            spans = read(data[:cut])
        except InputError as exc:
            assert "not valid OTLP protobuf" in exc.message
        else:  # a cut between whole messages is itself a valid, shorter message
            assert len(spans) <= len(complete)


def test_a_truncated_file_keeps_the_spans_of_its_whole_entries() -> None:
    whole = TRACE_PB.read_bytes()
    one = read(whole)
    # Two copies one after the other are one message with both copies' entries (protobuf's
    # concatenation rule); the second is then cut short, as a copy interrupted midway.
    data = whole + whole[: len(whole) // 2]
    spans: list[Span] = []
    with pytest.raises(InputError) as error:
        spans.extend(otlp_proto.read(io.BytesIO(data), "input.pb", Diagnostics()))
    assert spans == one
    assert error.value.location.place == f"byte {len(whole)} of {len(data)}"
    assert "runs past the end of the file (truncated?)" in error.value.message
    assert f"the {len(one):,} spans before it were read" in error.value.message


def test_a_corrupt_entry_is_named_by_its_offset() -> None:
    whole = TRACE_PB.read_bytes()
    entry = TracesData.FromString(whole).resource_spans[0]
    entry.scope_spans[0].spans[0].name = "x" * 40
    bad = bytearray(TracesData(resource_spans=[entry]).SerializeToString())
    at = bad.index(b"x" * 40)
    bad[at : at + 2] = b"\xff\xfe"  # a string field that is no longer UTF-8
    spans: list[Span] = []
    with pytest.raises(InputError) as error:
        spans.extend(otlp_proto.read(io.BytesIO(whole + bytes(bad)), "input.pb", Diagnostics()))
    assert spans == read(whole)
    assert error.value.location.place == f"byte {len(whole)} of {len(whole) + len(bad)}"
    assert "this resource_spans entry is corrupt" in error.value.message


@pytest.mark.parametrize(
    ("field", "value", "place", "words"),
    [
        ("trace_id", bytes(16), "spans[0].trace_id", "all zeros"),
        ("trace_id", b"\x01" * 17, "spans[0].trace_id", "17 bytes"),
        ("span_id", b"", "spans[0].span_id", "invalid span id"),
        ("parent_span_id", bytes(8), "spans[0].parent_span_id", "all zeros"),
    ],
)
def test_bad_ids_name_the_span(field: str, value: bytes, place: str, words: str) -> None:
    message = TracesData()
    span = message.resource_spans.add().scope_spans.add().spans.add()
    span.trace_id, span.span_id, span.name = b"\x01" * 16, b"\x02" * 8, "x"
    setattr(span, field, value)
    with pytest.raises(InputError) as error:
        read(message.SerializeToString())
    assert error.value.location.place == f"resource_spans[0].scope_spans[0].{place}"
    assert words in error.value.message


def test_short_ids_are_padded_and_unknown_enums_warn() -> None:
    message = TracesData()
    span = message.resource_spans.add().scope_spans.add().spans.add()
    span.trace_id, span.span_id, span.kind, span.status.code = b"\x01" * 8, b"\x02" * 8, 9, 5
    diagnostics = Diagnostics()
    [read_span] = read(message.SerializeToString(), diagnostics)
    assert read_span.trace_id == "0" * 16 + "01" * 8
    assert read_span.kind == SpanKind.UNSPECIFIED and read_span.status_code == StatusCode.UNSET
    assert len(diagnostics.warnings) == 2


def test_gzip_input(tmp_path: Path) -> None:
    target = tmp_path / "trace.pb.gz"
    target.write_bytes(gzip.compress(TRACE_PB.read_bytes()))
    assert list(read_spans(target)) == list(read_spans(TRACE_PB))


@pytest.mark.parametrize("path", OTLP_JSON_FIXTURES, ids=lambda p: p.name[-60:])
def test_fixture_round_trip(path: Path) -> None:
    spans = list(read_spans(path))
    assert by_content(read(dump(spans))) == by_content(spans)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(span_lists())
def test_round_trip_of_generated_spans(spans: list[Span]) -> None:
    assert by_content(read(dump(spans))) == by_content(spans)


def test_writer_batches_concatenate_into_one_message(tmp_path: Path) -> None:
    [template] = read(TRACE_PB.read_bytes())[:1]
    spans = []
    for i in range(1200):
        span = template.__copy__()
        span.span_id = f"{i + 1:016x}"
        spans.append(span)
    target = tmp_path / "out.pb"
    with open(target, "wb") as out:
        write_spans(spans, out, "otlp-proto")
    message = TracesData.FromString(target.read_bytes())
    assert len(message.resource_spans) == 3  # one per batch of at most 512 spans
    back = list(read_spans(target))
    assert back == spans
    assert back[0].resource_attributes is back[-1].resource_attributes


def test_follows_from_and_shared_round_trip() -> None:
    span = Span(
        trace_id="5b8efff798038103d269b633813fc60c",
        span_id="eee19b7ec3c1b174",
        parent_span_id="eee19b7ec3c1b173",
        name="consume",
        start_ns=1,
        end_ns=0,
        follows_from=True,
        shared=True,
    )
    message = TracesData.FromString(dump([span]))
    written = message.resource_spans[0].scope_spans[0].spans[0]
    assert written.links[0].span_id.hex() == "eee19b7ec3c1b173"
    assert written.links[0].attributes[0].value.string_value == "follows_from"
    assert read(dump([span])) == [span]


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_corrupted_input_gives_spans_or_an_input_error(data) -> None:
    try:
        spans = read(corrupt(data, TRACE_PB.read_bytes()))
    except InputError as exc:
        assert exc.location.source == "input.pb" and exc.message
    else:
        assert all(len(s.trace_id) == 32 and len(s.span_id) == 16 for s in spans)
