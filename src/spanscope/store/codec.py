"""Which spans the store's columns hold exactly, and rows of the DuckDB store back to spans.

Writing (the columns themselves are built in ``spanscope.store.columns``): ``is_plain`` says
whether the columns hold a span exactly; a span that is not plain is also stored msgpack-encoded
in ``RawSpan`` and rebuilt from it (``span_from_raw``). ``trace_key`` is the integer key of
``otel_traces_trace_id_ts``, the same on the write and read sides; ``sample_key`` the order of a
spread sample.

Reading: ``SELECT_SPAN`` lists the columns ``RowDecoder`` rebuilds a ``Span`` from. Resource
and scope attribute objects are decoded once per distinct text and shared between spans, as the
model allows.
"""

from __future__ import annotations

import math
from typing import Any

import msgspec

from spanscope.model import Event, Link, Span, SpanKind, StatusCode
from spanscope.store.schema import SPAN_KINDS, STATUS_CODES

# DuckDB's TIMESTAMP_NS keeps int64 nanoseconds except the largest value (its "infinity").
MAX_TIME_NS = 2**63 - 2
MIN_TIME_NS = -(2**63)
MAX_FLAGS = 2**32 - 1  # Flags and Links.Flags are UINTEGER, as OTLP's fixed32

_json_decode = msgspec.json.Decoder().decode
_msgpack_decode = msgspec.msgpack.Decoder().decode

SCALAR_TYPES = frozenset((str, int, bool, type(None)))
NUMBER_TYPES = frozenset((str, int, bool, type(None), float))


def _plain_value(value: Any) -> bool:
    kind = type(value)
    if kind in SCALAR_TYPES:
        return True
    if kind is float:
        return math.isfinite(value)  # JSON has no inf; msgspec would write null
    if kind is list:
        return all(_plain_value(item) for item in value)
    if kind is dict:
        return all(_plain_value(item) for item in value.values())
    return False  # bytes (JSON would make them base64 text), or a type the model does not have


def plain_attributes(attributes: dict) -> bool:
    # The common cases (scalar values only) are decided by set operations in C; floats need
    # one look each (x - x is 0 only for finite x).
    values = attributes.values()
    types = set(map(type, values))
    if types <= SCALAR_TYPES:
        return True
    if types <= NUMBER_TYPES:
        return all(value - value == 0 for value in values if type(value) is float)
    return all(map(_plain_value, values))


def is_plain(span: Span, checked: dict[int, bool]) -> bool:
    """True when the columns hold ``span`` exactly. ``checked`` caches the answer for shared
    resource/scope attribute dicts (by identity) within one batch."""
    if (
        span.follows_from
        or span.shared
        or span.warnings
        or span.dropped_attributes_count
        or span.dropped_events_count
        or span.dropped_links_count
        or span.end_ns < span.start_ns
        or span.end_ns > MAX_TIME_NS
        or span.start_ns < MIN_TIME_NS
        or not 0 <= span.flags <= MAX_FLAGS
        or not plain_attributes(span.attributes)
    ):
        return False
    for shared in (span.resource_attributes, span.scope_attributes):
        if shared:
            known = checked.get(id(shared))
            if known is None:
                known = checked[id(shared)] = plain_attributes(shared)
            if not known:
                return False
    for event in span.events:
        if (
            event.dropped_attributes_count
            or not MIN_TIME_NS <= event.time_ns <= MAX_TIME_NS
            or not plain_attributes(event.attributes)
        ):
            return False
    for link in span.links:
        if (
            link.dropped_attributes_count
            or not 0 <= link.flags <= MAX_FLAGS
            or not plain_attributes(link.attributes)
        ):
            return False
    return True


_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")


def _hex_tail(trace_id: str) -> str | None:
    """The id's last 16 characters when they are ASCII hex digits (as the SQL keys read them:
    ``int(text, 16)`` also takes " 1", "+1", "0x12", "1_0" and digits of other scripts)."""
    tail = trace_id[-16:]
    return tail if tail and _HEX_DIGITS.issuperset(tail) else None


def trace_key(trace_id: str) -> int:
    """The id's low 64 bits (for 64-bit Jaeger/Zipkin ids, padded with zeros, the whole id);
    0 for an id whose last 16 characters are not hex."""
    tail = _hex_tail(trace_id)
    return 0 if tail is None else int(tail, 16)


def sample_key(trace_id: str) -> int:
    """The key a spread sample orders traces by (``Store.sample_trace_ids``): the id's last 16
    hex digits read backwards, the last one the most significant; 0 for an id whose last 16
    characters are not hex.

    Not ``trace_key``: ratio samplers (OpenTelemetry's ``TraceIdRatioBased``, Jaeger's, the
    ``probability`` policy) keep a trace when its low 64 bits are below ratio x 2^64, so the
    traces with the smallest low bits all pass them, and a sample of those would show a 10%
    sampler keeping everything. Reversed, the digits samplers compare first matter least, and
    the key is as random as the id's tail (W3C ids' right-most bytes are random, 64-bit ids
    all of them)."""
    tail = _hex_tail(trace_id)
    return 0 if tail is None else int(tail[::-1], 16)


SELECT_SPAN = """TraceId, SpanId, SpanName, epoch_ns("Timestamp"), Duration, ParentSpanId,
    SpanKind, ServiceName, StatusCode, StatusMessage, SpanAttributes, ResourceAttributes,
    ScopeName, ScopeVersion, ScopeAttributes,
    list_transform("Events.Timestamp", t -> epoch_ns(t)), "Events.Name", "Events.Attributes",
    "Links.TraceId", "Links.SpanId", "Links.TraceState", "Links.Attributes", "Links.Flags",
    TraceState, Flags, RawSpan"""

_KINDS = {name: SpanKind(index) for index, name in enumerate(SPAN_KINDS)}
_KINDS.update({f"SPAN_KIND_{kind.name}": kind for kind in SpanKind})  # older exporters' names
_STATUSES = {name: StatusCode(index) for index, name in enumerate(STATUS_CODES)}
_STATUSES.update({f"STATUS_CODE_{code.name}": code for code in StatusCode})


def kind_from_column(text: str) -> SpanKind:
    return _KINDS.get(text, SpanKind.UNSPECIFIED)


class RowDecoder:
    """Rebuilds spans from ``SELECT_SPAN`` rows; shares decoded resource/scope dicts."""

    def __init__(self) -> None:
        self._shared: dict[str, dict] = {}

    def _shared_attributes(self, text: str | None) -> dict:
        if not text or text == "{}":
            return {}
        found = self._shared.get(text)
        if found is None:
            found = self._shared[text] = _json_decode(text)
        return found

    def span(self, row: tuple) -> Span:
        raw = row[25]
        if raw is not None:
            return span_from_raw(raw)
        (trace_id, span_id, name, start, duration, parent, kind, service, status, message) = row[
            :10
        ]
        attributes = row[10]
        links = [
            Link(
                trace_id=link_trace,
                span_id=link_span,
                trace_state=state,
                attributes=_json_decode(link_attributes) if link_attributes != "{}" else {},
                flags=link_flags,
            )
            for link_trace, link_span, state, link_attributes, link_flags in zip(
                row[18], row[19], row[20], row[21], row[22], strict=True
            )
        ]
        events = [
            Event(time_ns=time_ns, name=event_name, attributes=_json_decode(event_attributes))
            for time_ns, event_name, event_attributes in zip(row[15], row[16], row[17], strict=True)
        ]
        return Span(
            trace_id=trace_id,
            span_id=span_id,
            name=name,
            start_ns=start,
            end_ns=start + duration,
            parent_span_id=parent,
            kind=_KINDS.get(kind, SpanKind.UNSPECIFIED),
            service_name=service,
            status_code=_STATUSES.get(status, StatusCode.UNSET),
            status_message=message,
            attributes=_json_decode(attributes) if attributes and attributes != "{}" else {},
            resource_attributes=self._shared_attributes(row[11]),
            scope_name=row[12],
            scope_version=row[13],
            scope_attributes=self._shared_attributes(row[14]),
            events=events,
            links=links,
            trace_state=row[23],
            flags=row[24] or 0,
        )


def span_from_raw(raw: bytes) -> Span:
    """Decode a ``RawSpan`` (a msgpack-encoded ``Span``; msgspec cannot decode the model's
    recursive attribute type directly, so the nested structs are built here)."""
    fields = _msgpack_decode(raw)
    fields["kind"] = SpanKind(fields.get("kind", 0))
    fields["status_code"] = StatusCode(fields.get("status_code", 0))
    fields["events"] = [Event(**event) for event in fields.get("events", ())]
    fields["links"] = [Link(**link) for link in fields.get("links", ())]
    return Span(**fields)
