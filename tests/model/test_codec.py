"""The model decodes with msgspec as a typed ``Span`` (msgpack exactly; JSON up to its limits)."""

from __future__ import annotations

import msgspec
import pytest
from hypothesis import given

from spanscope.model import Event, Link, Span, SpanKind, StatusCode
from tests.formats.strategies import spans


def _example() -> Span:
    return Span(
        trace_id="5b8efff798038103d269b633813fc60c",
        span_id="eee19b7ec3c1b174",
        parent_span_id="eee19b7ec3c1b173",
        name="GET /cart",
        start_ns=1_700_000_000_000_000_000,
        end_ns=1_700_000_000_250_000_000,
        kind=SpanKind.SERVER,
        service_name="frontend",
        status_code=StatusCode.ERROR,
        attributes={"http.status_code": 503, "retry": True, "tags": ["a", 1, {"k": None}]},
        resource_attributes={"service.name": "frontend"},
        events=[Event(time_ns=1_700_000_000_100_000_000, name="exception", attributes={"x": 1.5})],
        links=[Link(trace_id="0" * 31 + "1", span_id="0" * 15 + "2", attributes={"y": "z"})],
        warnings=["clock skew adjusted"],
    )


def test_a_span_list_decodes_with_its_type() -> None:
    assert msgspec.json.decode(b"[]", type=list[Span]) == []
    assert msgspec.msgpack.decode(msgspec.msgpack.encode([]), type=list[Span]) == []


def test_a_span_round_trips_through_msgpack_and_json() -> None:
    span = _example()
    from_msgpack = msgspec.msgpack.decode(msgspec.msgpack.encode(span), type=Span)
    from_json = msgspec.json.decode(msgspec.json.encode(span), type=Span)
    assert from_msgpack == span
    assert from_json == span
    assert from_json.kind is SpanKind.SERVER and from_json.status_code is StatusCode.ERROR
    assert isinstance(from_json.events[0], Event) and isinstance(from_json.links[0], Link)


def test_a_typed_decode_rejects_a_span_of_the_wrong_shape() -> None:
    wrong = msgspec.json.encode({"trace_id": "a" * 32, "span_id": "b" * 16, "name": "x"})
    with pytest.raises(msgspec.ValidationError, match="start_ns"):
        msgspec.json.decode(wrong, type=Span)


@given(spans())
def test_any_span_round_trips_through_msgpack(span: Span) -> None:
    assert msgspec.msgpack.decode(msgspec.msgpack.encode(span), type=Span) == span


@given(spans())
def test_any_span_decodes_from_json_to_what_it_encodes(span: Span) -> None:
    # JSON has no bytes (base64 text) and no infinities (null), so equality is on the encoding.
    encoded = msgspec.json.encode(span)
    decoded = msgspec.json.decode(encoded, type=Span)
    assert isinstance(decoded, Span)
    assert msgspec.json.encode(decoded) == encoded
