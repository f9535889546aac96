"""OTLP protobuf times past 2^63-1 ns, the latest the model, OTLP JSON's reader and the stores
keep (fixed64 on the wire goes up to 2^64-1).

Both engines must treat such a span the same: the C decoder gives the message to the upb path,
which leaves that span out with one warning naming the source, the span's resource/scope/span
index and byte offset, and reads the rest. Times up to the bound, zero, and ends before starts
are read as given, by the C decoder. The offsets come from ``_otlp_native.late_times``, which
reads as upb does (the last of a field given twice wins; a field of the wrong wire type is
unknown): checked here against upb on hand-made and random messages.
"""

from __future__ import annotations

import io
import re
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from opentelemetry.proto.trace.v1.trace_pb2 import Span as PbSpan
from opentelemetry.proto.trace.v1.trace_pb2 import TracesData

from spanscope.errors import Diagnostics, InputError
from spanscope.formats import (
    _otlp_native,
    decode_spans,
    encode_spans,
    otlp_native,
    otlp_proto,
    read_spans,
)

from .strategies import corrupt
from .test_otlp_native import _WITHOUT_EXTENSION, one_span_message, outcome, same_both_ways
from .test_otlp_native_differential import traces_data

LATEST = 2**63 - 1
# Times around the bound, the ends of fixed64, and anything in between.
AROUND = st.one_of(
    st.integers(2**63 - 3, 2**63 + 3),
    st.sampled_from([0, 1, LATEST, 2**64 - 1]),
    st.integers(0, 2**64 - 1),
)
_WARNING = re.compile(
    r"resource_spans\[(\d+)\]\.scope_spans\[(\d+)\]\.spans\[(\d+)\](?:, byte (\d+))?: span "
)


def _late(span: PbSpan) -> bool:
    times = [span.start_time_unix_nano, span.end_time_unix_nano]
    return max(times + [event.time_unix_nano for event in span.events]) > LATEST


def _indexed(message: TracesData):
    for ri, rs in enumerate(message.resource_spans):
        for si, ss in enumerate(rs.scope_spans):
            for k, span in enumerate(ss.spans):
                yield (ri, si, k), span


def _warned(warnings: list[str]) -> dict[tuple[int, int, int], int | None]:
    """The spans the warnings say were left out, with the byte offset each names."""
    found = {}
    for warning in warnings:
        if "is past 2^63-1 ns" in warning:
            match = _WARNING.search(warning)
            assert match, warning
            ri, si, k, offset = match.groups()
            found[int(ri), int(si), int(k)] = None if offset is None else int(offset)
    return found


def _varint(data: bytes, at: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[at]
        value |= (byte & 0x7F) << shift
        at += 1
        if byte < 0x80:
            return value, at
        shift += 7


def _span_at(data: bytes, offset: int) -> PbSpan:
    """The Span whose field (ScopeSpans.spans, tag 0x12) starts at ``offset``."""
    assert data[offset] == 0x12
    length, start = _varint(data, offset + 1)
    return PbSpan.FromString(data[start : start + length])


@st.composite
def timed_messages(draw, min_spans: int = 1, distinct_traces: bool = False) -> TracesData:
    """Requests of 1-2 resources of 1-2 scopes of ``min_spans``-4 spans with times
    ``AROUND`` the bound (events too); a trace per span if ``distinct_traces``, else one."""
    message = TracesData()
    serial = 0
    for _ in range(draw(st.integers(1, 2))):
        rs = message.resource_spans.add()
        rs.resource.attributes.add(key="service.name").value.string_value = "svc"
        for _ in range(draw(st.integers(1, 2))):
            ss = rs.scope_spans.add()
            for _ in range(draw(st.integers(min_spans, 4))):
                serial += 1
                span = ss.spans.add(
                    trace_id=bytes([serial if distinct_traces else 7]) * 16,
                    span_id=serial.to_bytes(8, "big"),
                    name=f"op{serial}",
                    start_time_unix_nano=draw(AROUND),
                    end_time_unix_nano=draw(AROUND),
                )
                for time in draw(st.lists(AROUND, max_size=2)):
                    span.events.add(time_unix_nano=time, name="e")
    return message


@settings(max_examples=200)
@given(timed_messages())
def test_both_engines_leave_out_exactly_the_spans_past_int64(message: TracesData) -> None:
    data = message.SerializeToString()
    taken = same_both_ways(data)  # same spans and warnings whichever engine reads it
    late = {index: span for index, span in _indexed(message) if _late(span)}
    assert taken == (not late)  # the C decoder takes every message without one
    kind, spans, warnings = outcome(data)
    assert kind == "spans"
    kept = [span for index, span in _indexed(message) if index not in late]
    # The others, times as given: zero, the bound itself, an end before the start.
    assert [(s.span_id, s.start_ns, s.end_ns, [e.time_ns for e in s.events]) for s in spans] == [
        (
            span.span_id.hex(),
            span.start_time_unix_nano,
            span.end_time_unix_nano,
            [event.time_unix_nano for event in span.events],
        )
        for span in kept
    ]
    # One warning per span left out, naming the source, its place and its byte offset.
    assert len(warnings) == len(late)
    assert all(warning.startswith("input.pb: resource_spans[") for warning in warnings)
    named = _warned(warnings)
    assert named.keys() == late.keys()
    for index, offset in named.items():
        assert offset is not None and _span_at(data, offset) == late[index]
    decoded = otlp_proto.decode_request(data, "request")
    assert (decoded.spans, decoded.rejected) == (spans, len(late))
    assert bool(decoded.message) == bool(late)


@pytest.mark.parametrize(
    ("fields", "left_out"),
    [
        ({"start_time_unix_nano": LATEST, "end_time_unix_nano": LATEST}, None),
        ({"start_time_unix_nano": 0, "end_time_unix_nano": 0}, None),  # zero times: as given
        ({"start_time_unix_nano": 9, "end_time_unix_nano": 8}, None),  # ends before it starts
        ({"start_time_unix_nano": 2**63}, "start_time_unix_nano 9223372036854775808"),
        ({"end_time_unix_nano": 2**64 - 1}, "end_time_unix_nano 18446744073709551615"),
    ],
)
def test_the_bound_is_2_to_the_63_minus_1(fields: dict, left_out: str | None) -> None:
    data = one_span_message(**fields).SerializeToString()
    assert same_both_ways(data) is (left_out is None)
    _, spans, warnings = outcome(data)
    if left_out is None:
        assert len(spans) == 1 and warnings == []
        assert (spans[0].start_ns, spans[0].end_ns) == (
            fields["start_time_unix_nano"],
            fields["end_time_unix_nano"],
        )
    else:
        assert spans == []
        assert warnings == [
            "input.pb: resource_spans[0].scope_spans[0].spans[0], byte 4: span 0202020202020202 "
            f"('x') of trace {'01' * 16}: {left_out} is past 2^63-1 ns (the year 2262), the "
            "latest time spanscope keeps; the span is left out"
        ]


def test_a_late_event_time_leaves_its_span_out() -> None:
    message = one_span_message(end_time_unix_nano=5)
    span = message.resource_spans[0].scope_spans[0].spans[0]
    span.events.add(time_unix_nano=3, name="fine")
    span.events.add(time_unix_nano=2**63, name="late")
    data = message.SerializeToString()
    assert not same_both_ways(data)
    _, spans, warnings = outcome(data)
    assert spans == [] and "events[1].time_unix_nano 9223372036854775808 is past" in warnings[0]
    assert not _otlp_native.check(data) and otlp_native.scan(data) is None


def _field(number: int, wire_type: int, payload: bytes) -> bytes:
    """A field: its tag (a varint), then ``payload``, its value as written."""
    tag, out = number << 3 | wire_type, bytearray()
    while tag >= 0x80:
        out.append(tag & 0x7F | 0x80)
        tag >>= 7
    return bytes([*out, tag]) + payload


def _message(number: int, body: bytes) -> bytes:
    """A length-delimited field (lengths under 128 here)."""
    assert len(body) < 128
    return _field(number, 2, bytes([len(body)]) + body)


def _fixed64(value: int) -> bytes:
    return value.to_bytes(8, "little")


@pytest.mark.parametrize(
    ("extra", "late"),
    [
        (_field(7, 1, _fixed64(2**63)) + _field(7, 1, _fixed64(5)), False),  # the last wins
        (_field(7, 1, _fixed64(5)) + _field(8, 1, _fixed64(2**63)), True),
        (_field(8, 0, b"\xff" * 9 + b"\x01"), False),  # wrong wire type: unknown to upb
        (_message(11, _field(1, 1, _fixed64(2**64 - 1)) + _field(1, 1, _fixed64(1))), False),
        (_message(11, _field(1, 1, _fixed64(2**64 - 1)) + _message(2, b"e")), True),
        (_field(30, 1, _fixed64(2**64 - 1)), False),  # an unknown field with a big number
    ],
)
def test_late_times_reads_the_wire_as_upb_does(extra: bytes, late: bool) -> None:
    span = one_span_message().resource_spans[0].scope_spans[0].spans[0].SerializeToString()
    # A top-level unknown field first, then two resource_spans entries, one span each.
    entry = _message(1, _message(2, _message(2, span + extra)))
    data = _field(15, 0, b"\x01") + entry + entry
    same_both_ways(data)
    _, spans, warnings = outcome(data)
    offsets = otlp_native.late_offsets(data)
    if late:
        assert spans == [] and len(warnings) == 2
        assert offsets.keys() == {(0, 0, 0), (1, 0, 0)}
        assert _warned(warnings) == offsets
    else:
        assert len(spans) == 2 and warnings == [] and offsets == {}


@settings(max_examples=150)
@given(traces_data(messy=True))
def test_late_times_finds_every_span_upb_leaves_out(message: TracesData) -> None:
    data = message.SerializeToString()
    found = otlp_native.late_offsets(data)
    result = outcome(data)
    if result[0] == "spans":  # else a bad id stopped the read first
        assert _warned(result[2]) == found
    assert found.keys() == {index for index, span in _indexed(message) if _late(span)}


@settings(max_examples=150)
@given(traces_data(messy=True), st.data())
def test_late_times_is_safe_on_corrupted_input(message: TracesData, data) -> None:
    original = message.SerializeToString()
    if original:
        bad = corrupt(data, original, edits=3, width=2)
        for ri, si, k, offset in _otlp_native.late_times(bad):
            assert min(ri, si, k) >= 0 and 0 <= offset < len(bad)
        same_both_ways(bad)


def _file_with_a_late_span() -> tuple[bytes, list[str]]:
    message = TracesData()
    ss = message.resource_spans.add().scope_spans.add()
    for n, start in enumerate([10**18, 2**63 + 7, 10**18 + 5], 1):
        ss.spans.add(
            trace_id=b"\x01" * 16,
            span_id=n.to_bytes(8, "big"),
            parent_span_id=b"" if n == 1 else (1).to_bytes(8, "big"),
            name=f"op{n}",
            start_time_unix_nano=start,
            end_time_unix_nano=start + 1000,
        )
    return message.SerializeToString(), ["0000000000000001", "0000000000000003"]


def test_what_is_read_converts_to_otlp_json_that_reads_back(tmp_path) -> None:
    # Before: the late span was read, and `convert --to otlp-json` wrote a file our own
    # OTLP JSON reader refused whole (its times are capped at 2^63-1).
    data, kept = _file_with_a_late_span()
    path = tmp_path / "late.pb"
    path.write_bytes(data)
    diagnostics = Diagnostics()
    spans = list(read_spans(path, diagnostics=diagnostics))
    assert [span.span_id for span in spans] == kept
    assert [d.location.source for d in diagnostics.warnings] == [str(path)]
    for format_name in ("otlp-json", "jaeger-json", "zipkin-v2", "otlp-proto"):
        again = decode_spans(encode_spans(spans, format_name), format_name)
        assert [span.span_id for span in again] == kept, format_name


def test_a_truncated_file_warns_about_late_spans_in_its_whole_part() -> None:
    data, kept = _file_with_a_late_span()
    cut = data + data[: len(data) // 2]
    diagnostics = Diagnostics()
    spans = []
    with pytest.raises(InputError) as error:
        spans.extend(otlp_proto.read(io.BytesIO(cut), "cut.pb", diagnostics))
    assert [span.span_id for span in spans] == kept
    assert error.value.location.place == f"byte {len(data)} of {len(cut)}"
    [warning] = diagnostics.warnings
    offset = otlp_native.late_offsets(data)[0, 0, 1]
    assert warning.location.place == f"resource_spans[0].scope_spans[0].spans[1], byte {offset}"


def test_without_the_extension_the_warning_has_no_offset(tmp_path) -> None:
    data, _ = _file_with_a_late_span()
    path = tmp_path / "late.pb"
    path.write_bytes(data)
    script = _WITHOUT_EXTENSION.replace(
        "spans = list(read_spans(sys.argv[1]))",
        "from spanscope.errors import Diagnostics\n"
        "d = Diagnostics()\n"
        "spans = list(read_spans(sys.argv[1], diagnostics=d))\n"
        "print(d.warnings[0].location.place)",
    )
    result = subprocess.run(
        [sys.executable, "-c", script, str(path)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    place, count, trace_id = result.stdout.split()
    assert (place, count, trace_id) == ("resource_spans[0].scope_spans[0].spans[1]", "2", "01" * 16)
