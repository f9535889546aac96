"""The C columns path (``otlp_native.scan``/``ColumnsBuilder``, ``store.otlp_columns``) against
the Span path (``columns.encode_batch(decode_spans(...))``), the reference.

Whenever ``scan`` takes every body, ``encode_requests`` must give, value by value, the rows
``encode_batch`` gives for the decoded spans (``RawSpan`` included), in the columns path's
order (its plain spans, then its odd ones), the same trace ranges and the same operations; the
odd spans it hands back must equal the decoded ones. Inputs: every protobuf fixture, the OTLP
JSON fixtures re-encoded, real SDK exporter bodies, the ingest benchmark's payload, and random
messages (clean, messy and corrupted) from the strategies of the C decoder's own tests. A store
written through either path answers every query the same (``test_a_store_written...``).
"""

from __future__ import annotations

import contextlib
from collections import Counter

import pyarrow as pa
import pytest
from benchmarks.loadgen import prepare_pool
from hypothesis import given, settings
from hypothesis import strategies as st
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import TracesData

from spanscope.formats import decode_spans, otlp_native, read_spans
from spanscope.formats import encode_spans as encode_model
from spanscope.store.columns import ColumnBatch, encode_batch
from spanscope.store.otlp_columns import encode_requests

from ..conftest import FIXTURES
from .strategies import corrupt, span_lists
from .test_otlp_json import OTLP_JSON_FIXTURES
from .test_otlp_native import one_span_message, upb_only
from .test_otlp_native_differential import traces_data
from .test_otlp_proto import _sdk_spans

PROTOBUF_FIXTURES = sorted(FIXTURES.rglob("*.pb"))


def _rows(table) -> list[tuple]:
    return list(zip(*(column.to_pylist() for column in table.columns), strict=True))


def _ranges(table) -> dict[str, tuple]:
    found: dict[str, tuple] = {}
    for trace_id, start, end, key in _rows(table):
        low, high, _ = found.get(trace_id, (start, end, key))
        found[trace_id] = (min(low, start), max(high, end), key)
    return found


def _fill(bodies: list[bytes]) -> otlp_native.NativeColumns:
    builder = otlp_native.ColumnsBuilder()
    for body in bodies:
        builder.add(body)
    return builder.finish()


def same_as_span_path(bodies: list[bytes]) -> bool:
    """Assert the columns path gives the Span path's batch for ``bodies``; return whether it
    took them (``scan`` took every body)."""
    counts = [otlp_native.scan(body) for body in bodies]
    if None in counts:
        return False
    got: ColumnBatch = encode_requests(bodies)
    spans = [span for body in bodies for span in decode_spans(body, "otlp-proto")]
    assert sum(counts) == len(spans) == got.size
    reference = encode_batch(spans)
    odd = _fill(bodies).odd
    for position, span in odd:
        assert span == spans[position]
    positions = {position for position, _ in odd}
    order = [index for index in range(len(spans)) if index not in positions]
    order += [position for position, _ in odd]
    assert got.spans.schema == reference.spans.schema
    assert got.ranges.schema == reference.ranges.schema
    assert _rows(got.spans) == _rows(reference.spans.take(pa.array(order, pa.int64())))
    assert _ranges(got.ranges) == _ranges(reference.ranges)
    assert got.operations == reference.operations
    return True


# --- real inputs ------------------------------------------------------------------------------


def test_the_benchmark_payload_is_taken_whole_and_mostly_plain() -> None:
    # The ingest benchmark's shop spans (events included; some FOLLOWS_FROM consumers, which
    # are odd: they go through encode_batch for their RawSpan).
    bodies = prepare_pool(4).bodies
    assert same_as_span_path(bodies)
    native = _fill(bodies)
    assert native.events > 0
    assert 0 < len(native.odd) < native.rows / 10
    assert all(span.follows_from for _, span in native.odd)
    for body in bodies:
        assert same_as_span_path([body])


@pytest.mark.parametrize("path", PROTOBUF_FIXTURES, ids=lambda path: path.name)
def test_protobuf_fixtures(path) -> None:
    assert same_as_span_path([path.read_bytes()])


@pytest.mark.parametrize("path", OTLP_JSON_FIXTURES, ids=lambda path: path.name)
def test_otlp_json_fixtures_encoded_as_protobuf(path) -> None:
    body = encode_model(list(read_spans(path)), "otlp-proto")
    assert same_as_span_path([body])
    assert same_as_span_path([body, body])  # resources, scopes and traces shared by two


def test_sdk_exporter_bodies() -> None:
    body = encode_spans(_sdk_spans()).SerializeToString()
    # Its root has a double attribute: taken, with that span odd.
    assert same_as_span_path([body])
    odd = _fill([body]).odd
    assert [span.name for _, span in odd] == ["POST /checkout"]


def test_json_text_of_every_string_escape_and_key_order() -> None:
    message = one_span_message()
    span = message.resource_spans[0].scope_spans[0].spans[0]
    text = "".join(map(chr, range(0x80))) + "\u2028\u2029é€😀\U0010ffff"
    for key, value in [
        ("z", AnyValue(string_value=text)),
        (text, AnyValue(int_value=-(2**63))),
        ("a", AnyValue(int_value=2**63 - 1)),
        ("b", AnyValue(bool_value=True)),
        ("empty", AnyValue()),
    ]:
        span.attributes.append(KeyValue(key=key, value=value))
    span.attributes.append(KeyValue(key="no value"))
    nested = span.attributes.add(key="nested").value
    nested.array_value.values.add().kvlist_value.values.add(key="x").value.string_value = text
    nested.array_value.values.add().bool_value = False
    span.end_time_unix_nano = 5
    assert same_as_span_path([message.SerializeToString()])
    assert _fill([message.SerializeToString()]).odd == []


@pytest.mark.parametrize(
    "change, odd",
    [
        (lambda span: span.attributes.add(key="k").value.__setattr__("double_value", 0.5), True),
        (lambda span: span.attributes.add(key="k").value.__setattr__("bytes_value", b"1"), True),
        (lambda span: span.attributes.extend([KeyValue(key="k"), KeyValue(key="k")]), True),
        (lambda span: setattr(span, "dropped_attributes_count", 1), True),
        (lambda span: setattr(span, "end_time_unix_nano", 2**63 - 1), True),  # DuckDB's infinity
        (lambda span: setattr(span, "start_time_unix_nano", 9), True),  # ends before it starts
        (lambda span: span.events.add(time_unix_nano=2**63 - 1), True),
        (lambda span: span.events.add(dropped_attributes_count=2), True),
        (
            lambda span: span.attributes.add(key="spanscope.shared").value.__setattr__(
                "bool_value", True
            ),
            True,
        ),
        (
            lambda span: span.attributes.add(key="spanscope.shared").value.__setattr__(
                "bool_value", False
            ),
            True,
        ),
        (lambda span: span.events.add(time_unix_nano=7, name="e"), False),
        (lambda span: setattr(span, "flags", 2**32 - 1), False),
    ],
)
def test_what_makes_a_span_odd(change, odd) -> None:
    message = one_span_message(end_time_unix_nano=8)
    change(message.resource_spans[0].scope_spans[0].spans[0])
    body = message.SerializeToString()
    assert same_as_span_path([body])
    assert bool(_fill([body]).odd) is odd


@pytest.mark.parametrize(
    "value",
    [AnyValue(int_value=5), AnyValue(double_value=1.5), AnyValue(bytes_value=b"x"), None],
)
@pytest.mark.parametrize("where", ["resource", "scope"])
def test_a_resource_or_scope_the_columns_cannot_write_makes_its_spans_odd(value, where) -> None:
    # A service.name that is not a string (the model writes str() of it), a double or bytes
    # value, a key given twice (value None here): that resource's or scope's spans are odd,
    # the other resource's span is plain.
    message = one_span_message()
    other = message.resource_spans.add()
    other.scope_spans.add().spans.append(message.resource_spans[0].scope_spans[0].spans[0])
    holder = message.resource_spans[0].resource
    if where == "scope":
        holder = message.resource_spans[0].scope_spans[0].scope
    if value is None:
        holder.attributes.add(key="k")
        holder.attributes.add(key="k")
    else:
        key = "service.name" if where == "resource" else "k"
        holder.attributes.add(key=key).value.CopyFrom(value)
    body = message.SerializeToString()
    assert otlp_native.scan(body) == 2
    assert same_as_span_path([body])
    native = _fill([body])
    plain = where == "scope" and value == AnyValue(int_value=5)  # an int is fine there
    assert [position for position, _ in native.odd] == ([] if plain else [0])
    assert native.rows == (2 if plain else 1)


def test_switched_off_with_the_c_decoder() -> None:
    body = one_span_message().SerializeToString()
    assert otlp_native.scan(body) == 1
    with upb_only():
        assert otlp_native.scan(body) is None


# --- random inputs ----------------------------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(st.lists(traces_data(), min_size=1, max_size=3))
def test_clean_messages(messages: list[TracesData]) -> None:
    same_as_span_path([message.SerializeToString() for message in messages])


@settings(max_examples=100, deadline=None)
@given(traces_data(messy=True))
def test_messy_messages(message: TracesData) -> None:
    same_as_span_path([message.SerializeToString()])


@settings(max_examples=100, deadline=None)
@given(span_lists(max_size=8))
def test_model_spans_written_by_our_encoder(spans) -> None:
    body = encode_model(spans, "otlp-proto")
    assert same_as_span_path([body])  # our writer's output is always taken


@settings(max_examples=100, deadline=None)
@given(traces_data(), st.data())
def test_corrupted_messages_are_declined_or_read_exactly(message: TracesData, data) -> None:
    original = message.SerializeToString()
    if original:
        same_as_span_path([corrupt(data, original, edits=3, width=2)])


@settings(max_examples=100, deadline=None)
@given(traces_data(), st.data())
def test_the_fill_alone_is_safe_on_corrupted_input(message: TracesData, data) -> None:
    # columns() is only meant for messages scan() took; on anything else it must still only
    # raise or return (bounds-checked reads), never crash.
    body = corrupt(data, message.SerializeToString(), edits=3, width=2)
    with contextlib.suppress(RuntimeError, UnicodeDecodeError):
        _fill([body, body])


def test_counts_tally() -> None:
    bodies = prepare_pool(2).bodies
    native = _fill(bodies)
    spans = [span for body in bodies for span in decode_spans(body, "otlp-proto")]
    assert native.rows + len(native.odd) == len(spans)
    plain = [span for index, span in enumerate(spans) if index not in dict(native.odd)]
    assert native.events == sum(len(span.events) for span in plain)
    assert native.ranges == len(Counter(span.trace_id for span in plain))


def test_a_builder_fills_request_by_request_and_is_done_after_a_failure() -> None:
    bodies = prepare_pool(2).bodies
    builder = otlp_native.ColumnsBuilder()
    for body in bodies:
        builder.add(body)
    got = builder.finish()
    assert got.operations and len(got.odd) < 1024 and got.rows + len(got.odd) == 1024
    # What request-by-request filling gives, against the Span path.
    assert same_as_span_path(bodies)
    with pytest.raises(RuntimeError):
        builder.finish()  # taken once
    broken = otlp_native.ColumnsBuilder()
    with pytest.raises(RuntimeError):
        broken.add(bodies[0][: len(bodies[0]) // 2])  # a message scan() would not take
    with pytest.raises(RuntimeError):
        broken.add(bodies[1])
    with pytest.raises(RuntimeError):
        broken.finish()
