"""Differential tests: random ``TracesData`` built with the upb classes, read by both engines.

Clean messages (valid ids, known enums, times up to 2^63-1 ns (zero, end before start, the
bound itself), any attribute values nested within the depth cap,
events, links incl. FOLLOWS_FROM markers, the ``spanscope.shared`` marker, unknown fields,
missing resources and scopes, resources shared between resource spans) must be taken by the C
decoder and give exactly the upb path's spans, with the same sharing of resource and scope
dicts. Messy messages (bad ids, unknown enums, times past int64, corrupted bytes) must give the
same outcome, spans or ``InputError`` and warnings, whichever engine reads them.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from opentelemetry.proto.common.v1.common_pb2 import (
    AnyValue,
    ArrayValue,
    InstrumentationScope,
    KeyValue,
    KeyValueList,
)
from opentelemetry.proto.resource.v1.resource_pb2 import Resource
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, Span, Status, TracesData

from spanscope.formats import _otlp_native

from .strategies import INT64, UINT32, corrupt, text
from .test_otlp_native import outcome, same_both_ways, upb_only

UINT64 = st.integers(0, 2**64 - 1)
# Times the model holds (what the C decoder takes), with the edges drawn often: zero and the
# bound; ends before starts come from drawing the two independently.
TIMES = st.one_of(st.integers(0, 2**63 - 1), st.sampled_from([0, 1, 2**63 - 2, 2**63 - 1]))
# Past them too (the upb path leaves such a span out with a warning): around 2^63 and up to 2^64-1.
MESSY_TIMES = st.one_of(TIMES, st.integers(2**63 - 2, 2**63 + 2), UINT64)
KEYS = st.one_of(
    st.sampled_from(["a", "b", "service.name", "spanscope.shared", "opentracing.ref_type"]),
    text(8),
)


def _array(values: list[AnyValue]) -> AnyValue:
    return AnyValue(array_value=ArrayValue(values=values))


def _kvlist(pairs: list[tuple[str, AnyValue]]) -> AnyValue:
    return AnyValue(kvlist_value=KeyValueList(values=[KeyValue(key=k, value=v) for k, v in pairs]))


def unknown_fields(first_free: int):
    """Raw bytes of fields the schema does not have, every wire type protobuf allows (numbers
    from ``first_free`` on, and far ones)."""
    number = st.one_of(st.integers(first_free, first_free + 20), st.integers(100, 3000))
    payload = st.sampled_from([(0, b"\x96\x01"), (1, b"\x00" * 8), (2, b"\x03abc"), (5, b"1234")])

    def encode(fields):
        out = bytearray()
        for n, (wire_type, data) in fields:
            tag = (n << 3) | wire_type
            while tag >= 0x80:
                out.append(tag & 0x7F | 0x80)
                tag >>= 7
            out.append(tag)
            out += data
        return bytes(out)

    return st.lists(st.tuples(number, payload), max_size=2).map(encode)


def _with_unknown(message, extra: bytes):
    return type(message).FromString(message.SerializeToString() + extra) if extra else message


PLAIN_LEAVES = st.one_of(
    st.just(AnyValue()),
    text().map(lambda v: AnyValue(string_value=v)),
    st.booleans().map(lambda v: AnyValue(bool_value=v)),
    INT64.map(lambda v: AnyValue(int_value=v)),
    st.floats(allow_nan=False).map(lambda v: AnyValue(double_value=v)),
    st.binary(max_size=8).map(lambda v: AnyValue(bytes_value=v)),
    st.sampled_from(["follows_from", "x"]).map(lambda v: AnyValue(string_value=v)),
)
LEAVES = st.tuples(PLAIN_LEAVES, unknown_fields(9)).map(lambda leaf: _with_unknown(*leaf))
# Depth stays within the C decoder's cap: at most 5 nested lists or kvlists below an attribute.
ANY_VALUES = st.recursive(
    LEAVES,
    lambda children: st.one_of(
        st.lists(children, max_size=3).map(_array),
        st.lists(st.tuples(KEYS, children), max_size=3).map(_kvlist),
    ),
    max_leaves=5,
)


def key_values(max_size: int = 4):
    def make(pairs):
        return [KeyValue(key=k) if v is None else KeyValue(key=k, value=v) for k, v in pairs]

    return st.lists(st.tuples(KEYS, st.one_of(st.none(), ANY_VALUES)), max_size=max_size).map(make)


@st.composite
def spans(draw, trace_ids, messy: bool) -> Span:
    ids16 = st.binary(min_size=16, max_size=16).filter(any)
    ids8 = st.binary(min_size=8, max_size=8).filter(any)
    if messy:  # sometimes what the upb path rejects, pads, or warns about
        ids16 = st.one_of(ids16, st.sampled_from([b"", bytes(16), b"\x01" * 8, b"\x01" * 17]))
        ids8 = st.one_of(ids8, st.sampled_from([b"", bytes(8), b"\x02" * 4]))
    times = MESSY_TIMES if messy else TIMES
    trace_id = draw(st.one_of(st.sampled_from(trace_ids), ids16))
    parent = draw(st.one_of(st.just(b""), ids8))
    span = Span(
        trace_id=trace_id,
        span_id=draw(ids8),
        parent_span_id=parent,
        trace_state=draw(text()),
        name=draw(text()),
        kind=draw(st.integers(0, 7 if messy else 5)),
        start_time_unix_nano=draw(times),
        end_time_unix_nano=draw(times),
        attributes=draw(key_values()),
        dropped_attributes_count=draw(UINT32),
        dropped_events_count=draw(UINT32),
        dropped_links_count=draw(UINT32),
        flags=draw(UINT32),
    )
    for _ in range(draw(st.integers(0, 2))):
        event = span.events.add(time_unix_nano=draw(times), name=draw(text()))
        event.attributes.extend(draw(key_values(2)))
        event.dropped_attributes_count = draw(UINT32)
        event.MergeFromString(draw(unknown_fields(5)))
    for _ in range(draw(st.integers(0, 2))):
        if parent and draw(st.booleans()):  # a FOLLOWS_FROM marker link, bare or not
            link = span.links.add(trace_id=trace_id, span_id=parent)
            link.attributes.add(key="opentracing.ref_type").value.string_value = "follows_from"
            if draw(st.booleans()):
                link.attributes.extend(draw(key_values(1)))
        else:
            link = span.links.add(trace_id=draw(ids16), span_id=draw(ids8))
            link.attributes.extend(draw(key_values(2)))
        link.trace_state = draw(text(4))
        link.flags = draw(st.sampled_from([0, 1, 2**32 - 1]))
        link.dropped_attributes_count = draw(st.sampled_from([0, 3]))
        link.MergeFromString(draw(unknown_fields(7)))
    if draw(st.booleans()):
        span.attributes.add(key="spanscope.shared").value.bool_value = draw(st.booleans())
    if draw(st.booleans()):
        span.status.CopyFrom(
            Status(code=draw(st.integers(0, 4 if messy else 2)), message=draw(text()))
        )
        span.status.MergeFromString(draw(unknown_fields(4)))
    return _with_unknown(span, draw(unknown_fields(17)))


@st.composite
def traces_data(draw, messy: bool = False) -> TracesData:
    trace_ids = draw(st.lists(st.binary(min_size=16, max_size=16).filter(any), min_size=1))
    resources = [
        _with_unknown(Resource(attributes=draw(key_values())), draw(unknown_fields(4)))
        for _ in range(draw(st.integers(1, 3)))
    ]
    message = TracesData()
    for _ in range(draw(st.integers(0, 3))):
        resource_spans: ResourceSpans = message.resource_spans.add()
        if draw(st.booleans()):  # else no resource at all
            resource_spans.resource.CopyFrom(draw(st.sampled_from(resources)))
        resource_spans.schema_url = draw(st.sampled_from(["", "https://opentelemetry.io/s/1"]))
        for _ in range(draw(st.integers(0, 2))):
            scope_spans = resource_spans.scope_spans.add()
            if draw(st.booleans()):
                scope_spans.scope.CopyFrom(
                    InstrumentationScope(
                        name=draw(text()), version=draw(text(4)), attributes=draw(key_values(2))
                    )
                )
                scope_spans.scope.MergeFromString(draw(unknown_fields(5)))
            for _ in range(draw(st.integers(0, 4))):
                scope_spans.spans.append(draw(spans(trace_ids, messy)))
    return message


def _sharing(spans) -> list[tuple[int, int]]:
    """Which spans share resource and scope attribute dicts, as first-seen indices."""
    seen: dict[int, int] = {}
    return [
        (
            seen.setdefault(id(s.resource_attributes), len(seen)),
            seen.setdefault(id(s.scope_attributes), len(seen)),
        )
        for s in spans
    ]


@settings(max_examples=200)
@given(traces_data())
def test_clean_messages_are_taken_and_read_exactly_as_upb(message: TracesData) -> None:
    data = message.SerializeToString()
    assert same_both_ways(data)  # the C decoder took it, and the outcome is the upb one
    native = outcome(data)[1]
    with upb_only():
        reference = outcome(data)[1]
    assert _sharing(native) == _sharing(reference)


@settings(max_examples=150)
@given(traces_data(messy=True))
def test_messy_messages_read_the_same_whichever_engine(message: TracesData) -> None:
    same_both_ways(message.SerializeToString())


@settings(max_examples=100)
@given(traces_data(), st.data())
def test_corrupted_messages_read_the_same_whichever_engine(message: TracesData, data) -> None:
    original = message.SerializeToString()
    if not original:
        return
    same_both_ways(corrupt(data, original, edits=3, width=2))


@settings(max_examples=100)
@given(traces_data(), st.data())
def test_the_build_pass_alone_is_safe_on_corrupted_input(message: TracesData, data) -> None:
    # Spans() is only meant for messages check() accepted; on anything else it must still only
    # raise (bounds-checked reads), never crash, and stay at its end afterwards.
    spans = _otlp_native.Spans(corrupt(data, message.SerializeToString(), edits=3, width=2))
    try:
        for _ in spans:
            pass
    except (RuntimeError, UnicodeDecodeError):
        assert list(spans) == []
