"""The C decoder for OTLP protobuf against the upb reference: real inputs, bad inputs, edges.

Every test runs ``otlp_proto.read`` twice, with the C decoder allowed and with
``SPANSCOPE_NO_NATIVE=1``, and asserts the same spans and warnings or the same ``InputError``;
and it asserts whether the C decoder took the message or gave it to upb, so a silent fallback
on good input fails here. Randomised messages are in ``test_otlp_native_differential.py``.
"""

from __future__ import annotations

import gc
import gzip
import io
import os
import subprocess
import sys
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import islice
from pathlib import Path

import pytest
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import TracesData

from spanscope import native_switch
from spanscope.errors import Diagnostics, InputError
from spanscope.formats import decode_spans, otlp_native, otlp_proto, read_spans
from spanscope.model import Span
from spanscope.synthetic import generate_spans

from ..conftest import FIXTURES
from .test_otlp_json import OTLP_JSON_FIXTURES
from .test_otlp_proto import _sdk_spans

TRACE_PB = FIXTURES / "otlp2parquet" / "testdata__trace.pb"


# --- running both engines ---------------------------------------------------------------------


@contextmanager
def upb_only() -> Iterator[None]:
    old = os.environ.get(native_switch.VARIABLE)
    os.environ[native_switch.VARIABLE] = "1"
    try:
        yield
    finally:
        if old is None:
            del os.environ[native_switch.VARIABLE]
        else:
            os.environ[native_switch.VARIABLE] = old


def outcome(data: bytes) -> tuple:
    """What ``otlp_proto.read`` gives for ``data``, as a comparable value."""
    diagnostics = Diagnostics()
    try:
        spans = list(otlp_proto.read(io.BytesIO(data), "input.pb", diagnostics))
    except InputError as exc:
        return ("error", exc.location.place, exc.message, [str(w) for w in diagnostics.warnings])
    return ("spans", spans, [str(w) for w in diagnostics.warnings])


def same_both_ways(data: bytes) -> bool:
    """Assert both engines give the same outcome; return whether the C decoder took it."""
    taken = otlp_native.native_spans(data) is not None
    native = outcome(data)
    with upb_only():
        assert otlp_native.native_spans(data) is None
        reference = outcome(data)
    assert native == reference
    return taken


def encode(spans: list[Span]) -> bytes:
    out = io.BytesIO()
    otlp_proto.write(spans, out)
    return out.getvalue()


def one_span_message(**fields) -> TracesData:
    message = TracesData()
    span = message.resource_spans.add().scope_spans.add().spans.add()
    span.trace_id, span.span_id, span.name = b"\x01" * 16, b"\x02" * 8, "x"
    for name, value in fields.items():
        setattr(span, name, value)
    return message


# --- the extension is there ---------------------------------------------------------------------


def test_the_extension_is_built_and_used() -> None:
    # CI builds it at `pip install -e .`; a silent fallback to upb must fail a test.
    from spanscope.formats import _otlp_native

    assert otlp_native.AVAILABLE and otlp_native.enabled()
    assert _otlp_native.check(TRACE_PB.read_bytes()) is True
    assert otlp_native.native_spans(TRACE_PB.read_bytes()) is not None
    with upb_only():
        assert not otlp_native.enabled()


# An install without a C compiler: the extension file is missing, nothing else. The sources'
# folder next to it must not be imported in its place (a folder named like the module would be,
# as an empty namespace package); the upb path then reads everything.
_WITHOUT_EXTENSION = """
import importlib.machinery as m, importlib.util, os, sys
formats = os.path.join(importlib.util.find_spec("spanscope").submodule_search_locations[0], "formats")
def python_only(path):
    if os.path.realpath(path) != os.path.realpath(formats):
        raise ImportError  # every other folder: the usual finder
    return m.FileFinder(path, (m.SourceFileLoader, m.SOURCE_SUFFIXES),
                        (m.SourcelessFileLoader, m.BYTECODE_SUFFIXES))
sys.path_hooks.insert(0, python_only)
sys.path_importer_cache.clear()
from spanscope.formats import otlp_native, read_spans
assert otlp_native._otlp_native is None and not otlp_native.AVAILABLE, otlp_native._otlp_native
assert otlp_native.native_spans(b"") is None and otlp_native.scan(b"") is None
spans = list(read_spans(sys.argv[1]))
print(len(spans), spans[0].trace_id)
"""


def test_without_the_extension_protobuf_is_read_by_upb() -> None:
    result = subprocess.run(
        [sys.executable, "-c", _WITHOUT_EXTENSION, str(TRACE_PB)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    expected = list(read_spans(TRACE_PB))
    assert result.stdout.split() == [str(len(expected)), expected[0].trace_id]


def test_files_streams_and_in_memory_bytes_take_the_c_decoder(monkeypatch, tmp_path) -> None:
    # read_spans (files, gzip) and decode_spans (the HTTP and gRPC receivers) both hand the
    # reader bytes, so both are on the fast path.
    taken = []

    def recording(data):
        spans = otlp_native.native_spans(data)
        taken.append(spans is not None)
        return spans

    monkeypatch.setattr(otlp_proto, "native_spans", recording)
    gzipped = tmp_path / "trace.pb.gz"
    gzipped.write_bytes(gzip.compress(TRACE_PB.read_bytes()))
    expected = outcome(TRACE_PB.read_bytes())[1]
    assert list(read_spans(TRACE_PB)) == expected
    assert list(read_spans(gzipped)) == expected
    assert decode_spans(TRACE_PB.read_bytes(), "otlp-proto") == expected
    assert taken == [True, True, True, True]


# --- real inputs --------------------------------------------------------------------------------


def test_the_real_pb_fixture_reads_the_same_both_ways() -> None:
    assert same_both_ways(TRACE_PB.read_bytes())
    assert next(iter(read_spans(TRACE_PB))).trace_id == "9d79b1a37f31801cd11a6706fb40d6bd"


@pytest.mark.parametrize("path", OTLP_JSON_FIXTURES, ids=lambda p: p.name[-60:])
def test_real_otlp_fixtures_as_protobuf_read_the_same_both_ways(path: Path) -> None:
    assert same_both_ways(encode(list(read_spans(path))))


def test_the_sdk_encoder_output_reads_the_same_both_ways() -> None:
    request = encode_spans(_sdk_spans())
    assert same_both_ways(request.SerializeToString())


def test_synthetic_shop_with_follows_from_and_shared_resources() -> None:
    spans = list(generate_spans(60, seed=3))
    spans[0].shared = True  # the Zipkin marker attribute, taken out by both engines
    data = encode(spans)
    assert same_both_ways(data)
    native = outcome(data)[1]

    def key(span: Span) -> tuple[str, str]:
        return span.trace_id, span.span_id

    assert sorted(native, key=key) == sorted(spans, key=key)  # the writer groups by resource
    assert any(span.follows_from for span in native) and native[0].shared
    by_service = {}
    for span in native:  # one attribute dict per resource, shared by its spans
        assert by_service.setdefault(span.service_name, span.resource_attributes) is (
            span.resource_attributes
        )


def test_marker_links_that_say_more_are_kept() -> None:
    message = one_span_message(parent_span_id=b"\x03" * 8)
    span = message.resource_spans[0].scope_spans[0].spans[0]
    marker = KeyValue(key="opentracing.ref_type", value=AnyValue(string_value="follows_from"))
    span.links.add(trace_id=b"\x01" * 16, span_id=b"\x03" * 8, attributes=[marker])
    span.links.add(trace_id=b"\x01" * 16, span_id=b"\x03" * 8, attributes=[marker], flags=1)
    span.attributes.add(key="spanscope.shared", value=AnyValue(string_value="not a bool"))
    assert same_both_ways(message.SerializeToString())
    [read] = outcome(message.SerializeToString())[1]
    assert read.follows_from and len(read.links) == 1 and not read.shared


# --- bad input: the C decoder gives up, upb reports ---------------------------------------------


def test_truncations_give_upb_errors() -> None:
    data = TRACE_PB.read_bytes()
    taken = [same_both_ways(data[:cut]) for cut in range(len(data))]
    assert any(taken) and not all(taken)  # cuts between whole messages are valid messages


@pytest.mark.parametrize(
    "data",
    [b"\x0a\xff\xff\xff\xff\x0f", b"\x0a\x05abc", b"not protobuf at all", b"\x0b\x0c", b"\x00"],
)
def test_garbage_gives_the_upb_result(data: bytes) -> None:
    assert not same_both_ways(data)  # the group b"\x0b\x0c" reads as no spans, the rest fail


@pytest.mark.parametrize(
    "bad",
    [b"\xff", b"\xc0\x80", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"ab\xe2\x82", b"\xf0\x9f\x98"],
)
@pytest.mark.parametrize("where", ["name", "key", "value", "scope", "schema"])
def test_invalid_utf8_gives_the_upb_error(bad: bytes, where: str) -> None:
    placeholder = "\u2603" * 4  # unique bytes to overwrite, as long as any `bad` or longer
    message = one_span_message()
    resource_spans = message.resource_spans[0]
    span = resource_spans.scope_spans[0].spans[0]
    if where == "name":
        span.name = placeholder
    elif where == "key":
        span.attributes.add(key=placeholder)
    elif where == "value":
        span.attributes.add(key="k", value=AnyValue(string_value=placeholder))
    elif where == "scope":
        resource_spans.scope_spans[0].scope.version = placeholder
    else:
        resource_spans.schema_url = placeholder
    encoded = placeholder.encode()
    padded = bad + b"a" * (len(encoded) - len(bad))
    data = message.SerializeToString().replace(encoded, padded)
    assert not same_both_ways(data)


def test_valid_utf8_of_every_length_is_taken() -> None:
    message = one_span_message(name="aé€😀" * 3, trace_state="ok=1")
    assert same_both_ways(message.SerializeToString())


@pytest.mark.parametrize(
    "fields",
    [
        {"trace_id": bytes(16)},
        {"trace_id": b"\x01" * 17},
        {"trace_id": b"\x01" * 8},  # short: padded by the upb path
        {"trace_id": b""},
        {"span_id": b""},
        {"span_id": bytes(8)},
        {"parent_span_id": bytes(8)},
        {"parent_span_id": b"\x01" * 4},
        {"kind": 9},
        {"kind": -1},
    ],
)
def test_bad_ids_and_enums_give_the_upb_error_or_warning(fields: dict) -> None:
    assert not same_both_ways(one_span_message(**fields).SerializeToString())


def test_unknown_status_code_and_bad_link_ids_go_to_upb() -> None:
    message = one_span_message()
    message.resource_spans[0].scope_spans[0].spans[0].status.code = 7
    assert not same_both_ways(message.SerializeToString())
    for trace_id, span_id in [(b"", b"\x01" * 8), (b"\x01" * 16, bytes(8)), (b"\x01" * 3, b"1")]:
        message = one_span_message()
        message.resource_spans[0].scope_spans[0].spans[0].links.add(
            trace_id=trace_id, span_id=span_id
        )
        assert not same_both_ways(message.SerializeToString())


# --- wire-format edges ----------------------------------------------------------------------------


def _field(number: int, wire_type: int, payload: bytes) -> bytes:
    tag = (number << 3) | wire_type
    out = bytearray()
    while tag >= 0x80:
        out.append(tag & 0x7F | 0x80)
        tag >>= 7
    out.append(tag)
    if wire_type == 2:
        size = len(payload)
        while size >= 0x80:
            out.append(size & 0x7F | 0x80)
            size >>= 7
        out.append(size)
    return bytes(out) + payload


def _wrapped_span(span_bytes: bytes) -> bytes:
    """A TracesData with one resource, one scope and the span given as raw bytes."""
    return _field(1, 2, _field(2, 2, _field(2, 2, span_bytes)))


BASE_SPAN = one_span_message().resource_spans[0].scope_spans[0].spans[0].SerializeToString()


@pytest.mark.parametrize(
    "extra",
    [
        _field(99, 0, b"\x96\x01"),
        _field(99, 1, b"12345678"),
        _field(99, 2, b"\xff\xfe anything"),
        _field(99, 5, b"1234"),
        _field(5000, 0, b"\x01"),
        b"\x98\x86\x80\x80\x00\x01",  # field 99 with its tag padded to 5 bytes
        b"\x2a\x83\x80\x80\x80\x80\x80\x80\x80\x80\x00abc",  # a name length in 10 bytes
        b"\x30\x82\x80\x80\x80\x80\x80\x80\x80\x80\x00",  # kind 2 in 10 bytes
        _field(5, 2, b"second name wins"),
        _field(1, 2, b"\x07" * 16),  # a later trace id wins
    ],
)
def test_unknown_fields_are_skipped_and_later_scalars_win(extra: bytes) -> None:
    data = _wrapped_span(BASE_SPAN + extra)
    assert same_both_ways(data)


@pytest.mark.parametrize(
    "extra",
    [
        _field(15, 2, _field(2, 2, b"a")) * 2,  # status twice: protobuf merges
        _field(9, 2, _field(2, 2, _field(1, 2, b"s") + _field(3, 0, b"\x05"))),  # oneof twice
        _field(9, 2, _field(2, 2, b"") * 2),  # KeyValue.value twice
        _field(99, 3, b"") + _field(99, 4, b""),  # a group
        _field(99, 6, b""),  # no such wire type
        b"\x98\x86\x80\x80\x80\x00\x01",  # a tag in 6 bytes: upb says malformed
        b"\x98\x86\x80\x80\x10\x01",  # a tag over 32 bits
        b"\x30" + b"\xff" * 9 + b"\x02",  # a varint over 64 bits
        _field(5, 0, b"\x01"),  # name with the wrong wire type
        _field(9, 2, _field(2, 2, _field(8, 0, b"\x01"))),  # string_value_strindex: not ours
        _field(10, 0, b"\x80\x80\x80\x80\x10"),  # a uint32 over 32 bits
        _field(9, 2, _field(2, 2, _field(2, 0, b"\x02"))),  # a bool that is not 0 or 1
    ],
)
def test_merges_oneof_conflicts_and_strange_wire_types_go_to_upb(extra: bytes) -> None:
    assert not same_both_ways(_wrapped_span(BASE_SPAN + extra))


def test_fields_upb_knows_but_the_c_decoder_does_not_go_to_upb() -> None:
    resource = _field(3, 2, b"")  # Resource.entity_refs (an empty EntityRef)
    data = _field(1, 2, _field(1, 2, resource) + _field(2, 2, _field(2, 2, BASE_SPAN)))
    assert not same_both_ways(data)


def _nested(levels: int) -> bytes:
    """An AnyValue nested ``levels`` times, alternating arrays and kvlists, as raw bytes (the
    upb constructors would refuse the deepest)."""
    value = _field(1, 2, b"leaf")
    for i in range(levels):
        if i % 2:
            value = _field(5, 2, _field(1, 2, value))
        else:
            value = _field(6, 2, _field(1, 2, _field(1, 2, b"k") + _field(2, 2, value)))
    return value


@pytest.mark.parametrize(
    ("levels", "taken"),
    [(4, True), (10, True), (14, False), (30, False), (40, False)],  # upb refuses 40 (> 100)
)
def test_deep_nesting_is_capped(levels: int, taken: bool) -> None:
    attribute = _field(9, 2, _field(1, 2, b"deep") + _field(2, 2, _nested(levels)))
    assert same_both_ways(_wrapped_span(BASE_SPAN + attribute)) is taken


# --- memory ---------------------------------------------------------------------------------------


def test_no_objects_leak_across_many_reads() -> None:
    data = encode(list(generate_spans(100, seed=5)))
    bad = data[: len(data) // 2] + b"\xff" + data[len(data) // 2 + 1 :]

    def read_many() -> None:
        for _ in range(5):
            assert sum(1 for _ in otlp_native.native_spans(data)) > 500
            next(otlp_native.native_spans(data))  # dropped half-way
            otlp_native.native_spans(bad)

    read_many()
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for _ in range(4):
            read_many()
        gc.collect()
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert grown < 64 * 1024, f"{grown} bytes still held after the reads"


def test_spans_are_built_lazily() -> None:
    data = encode(list(generate_spans(200, seed=9)))
    first = list(islice(otlp_native.native_spans(data), 3))
    assert first == outcome(data)[1][:3]
