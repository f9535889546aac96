"""Spans to the DuckDB store's rows and back.

Writing: ``encode_batch`` turns spans into JSON lines that DuckDB's ``read_json`` parses in C++
(``READ_COLUMNS``), and ``INSERT_SELECT`` maps those fields to the table's columns. This is the
fastest path from Python objects into DuckDB without pyarrow that we measured (DuckDB's
``executemany`` and list parameters are 10-100x slower; MAP columns 4x): msgspec encodes in C,
DuckDB parses in parallel, and no Python code runs per column. A span the columns cannot hold
exactly (see ``is_plain``) carries its msgpack encoding in an extra ``raw`` field, stored in
``RawSpan``.

Reading: ``SELECT_SPAN`` lists the columns ``RowDecoder`` rebuilds a ``Span`` from. Resource
and scope attribute objects are decoded once per distinct text and shared between spans, as the
model allows.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import msgspec

from spanscope.model import Event, Link, Span, SpanKind, StatusCode
from spanscope.store.schema import SPAN_KINDS, STATUS_CODES

# DuckDB's TIMESTAMP_NS keeps int64 nanoseconds except the largest value (its "infinity").
MAX_TIME_NS = 2**63 - 2

_json_encoder = msgspec.json.Encoder()
_json_encode = _json_encoder.encode
_json_lines = _json_encoder.encode_lines
_msgpack_encode = msgspec.msgpack.Encoder().encode
_json_decode = msgspec.json.Decoder().decode
_msgpack_decode = msgspec.msgpack.Decoder().decode

_SCALARS = frozenset((str, int, bool, type(None)))
_NUMBERS = frozenset((str, int, bool, type(None), float))


def _plain_value(value: Any) -> bool:
    kind = type(value)
    if kind in _SCALARS:
        return True
    if kind is float:
        return math.isfinite(value)  # JSON has no inf; msgspec would write null
    if kind is list:
        return all(_plain_value(item) for item in value)
    if kind is dict:
        return all(_plain_value(item) for item in value.values())
    return False  # bytes (JSON would make them base64 text), or a type the model does not have


def _plain_attributes(attributes: dict) -> bool:
    # The common cases (scalar values only) are decided by set operations in C; floats need
    # one look each (x - x is 0 only for finite x).
    values = attributes.values()
    types = set(map(type, values))
    if types <= _SCALARS:
        return True
    if types <= _NUMBERS:
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
        or not _plain_attributes(span.attributes)
    ):
        return False
    for shared in (span.resource_attributes, span.scope_attributes):
        if shared:
            known = checked.get(id(shared))
            if known is None:
                known = checked[id(shared)] = _plain_attributes(shared)
            if not known:
                return False
    for event in span.events:
        if (
            event.dropped_attributes_count
            or event.time_ns > MAX_TIME_NS
            or not _plain_attributes(event.attributes)
        ):
            return False
    for link in span.links:
        if link.dropped_attributes_count or not _plain_attributes(link.attributes):
            return False
    return True


def encode_batch(spans: Sequence[Span]) -> tuple[bytes, str]:
    """The batch as JSON lines for ``read_json`` (which parses lines on all threads), and that
    format's name there. Each span that is not plain carries its exact msgpack encoding in a
    ``raw`` field; when every span is plain (the common case) one msgspec call encodes all."""
    checked: dict[int, bool] = {}
    plain = [is_plain(span, checked) for span in spans]
    if all(plain):
        return _json_lines(spans), "newline_delimited"
    lines = []
    for span, is_plain_span in zip(spans, plain, strict=True):
        line = _json_encode(span)
        if not is_plain_span:
            # A span's JSON always ends with "}": add the exact encoding as one more field.
            raw = base64.b64encode(_msgpack_encode(span))
            line = line[:-1] + b',"raw":"' + raw + b'"}'
        lines.append(line)
    return b"\n".join(lines), "newline_delimited"


@dataclass(frozen=True, slots=True)
class PreparedBatch:
    """A batch encoded for the DuckDB store by ``prepare_batch``: pure CPU work that any thread
    may do (e.g. a receiver's) while the one writer is inside DuckDB, which releases the GIL."""

    size: int
    data: bytes
    json_format: str
    ranges: bytes
    operations: frozenset[tuple[str, str, SpanKind]]


def prepare_batch(spans: Sequence[Span]) -> PreparedBatch:
    data, json_format = encode_batch(spans)
    return PreparedBatch(
        len(spans), data, json_format, trace_ranges(spans), frozenset(operations(spans))
    )


def trace_ranges(spans: Sequence[Span]) -> bytes:
    """JSON for ``RANGES_COLUMNS``: each trace's first and last span start in the batch."""
    ranges: dict[str, list[int]] = {}
    for span in spans:
        start = span.start_ns
        found = ranges.get(span.trace_id)
        if found is None:
            ranges[span.trace_id] = [start, start]
        elif start < found[0]:
            found[0] = start
        elif start > found[1]:
            found[1] = start
    return _json_encode(
        [
            {"t": key, "s": value[0], "e": value[1], "k": trace_key(key)}
            for key, value in ranges.items()
        ]
    )


def trace_key(trace_id: str) -> int:
    """The id's low 64 bits (for 64-bit Jaeger/Zipkin ids, padded with zeros, the whole id)."""
    try:
        return int(trace_id[-16:], 16)
    except ValueError:
        return 0


def operations(spans: Sequence[Span]) -> set[tuple[str, str, SpanKind]]:
    return {(span.service_name, span.name, span.kind) for span in spans}


RANGES_COLUMNS = {"t": "VARCHAR", "s": "BIGINT", "e": "BIGINT", "k": "UBIGINT"}
OPERATIONS_COLUMNS = {"s": "VARCHAR", "n": "VARCHAR", "k": "VARCHAR"}


def operations_json(operations: set[tuple[str, str, SpanKind]]) -> bytes:
    """JSON for ``OPERATIONS_COLUMNS``: (service, span name, kind column text)."""
    return _json_encode(
        [{"s": service, "n": name, "k": SPAN_KINDS[kind]} for service, name, kind in operations]
    )


_A = "JSON"
READ_COLUMNS: dict[str, str] = {
    "trace_id": "VARCHAR",
    "span_id": "VARCHAR",
    "name": "VARCHAR",
    "start_ns": "BIGINT",
    "end_ns": "BIGINT",
    "parent_span_id": "VARCHAR",
    "kind": "INTEGER",
    "service_name": "VARCHAR",
    "status_code": "INTEGER",
    "status_message": "VARCHAR",
    "attributes": _A,
    "resource_attributes": _A,
    "scope_name": "VARCHAR",
    "scope_version": "VARCHAR",
    "scope_attributes": _A,
    "events": f"STRUCT(time_ns BIGINT, name VARCHAR, attributes {_A})[]",
    "links": (
        f"STRUCT(trace_id VARCHAR, span_id VARCHAR, trace_state VARCHAR, attributes {_A},"
        " flags UINTEGER)[]"
    ),
    "trace_state": "VARCHAR",
    "flags": "UINTEGER",
    "raw": "VARCHAR",
}


def _sql_list(names: Sequence[str]) -> str:
    return "[" + ", ".join(f"'{name}'" for name in names) + "]"


_EMPTY = "'{}'::JSON"
_TIME = f"make_timestamp_ns(least({{}}, {MAX_TIME_NS}))"
# Maps read_json's fields (msgspec leaves out fields at their default: NULL here) to the
# table's columns, in COLUMNS order.
INSERT_SELECT = f"""SELECT
    {_TIME.format("start_ns")},
    trace_id, span_id, coalesce(parent_span_id, ''), coalesce(trace_state, ''),
    coalesce(name, ''),
    {_sql_list(SPAN_KINDS)}[coalesce(kind, 0) + 1],
    coalesce(service_name, ''),
    coalesce(resource_attributes, {_EMPTY}),
    coalesce(scope_name, ''), coalesce(scope_version, ''),
    coalesce(attributes, {_EMPTY}),
    greatest(end_ns - start_ns, 0),
    {_sql_list(STATUS_CODES)}[coalesce(status_code, 0) + 1],
    coalesce(status_message, ''),
    coalesce(list_transform(events, e -> {_TIME.format("e.time_ns")}), []),
    coalesce(list_transform(events, e -> coalesce(e.name, '')), []),
    coalesce(list_transform(events, e -> coalesce(e.attributes, {_EMPTY})), []),
    coalesce(list_transform(links, e -> e.trace_id), []),
    coalesce(list_transform(links, e -> e.span_id), []),
    coalesce(list_transform(links, e -> coalesce(e.trace_state, '')), []),
    coalesce(list_transform(links, e -> coalesce(e.attributes, {_EMPTY})), []),
    coalesce(scope_attributes, {_EMPTY}),
    coalesce(flags, 0),
    coalesce(list_transform(links, e -> coalesce(e.flags, 0)), []),
    from_base64(raw)"""

RANGES_SELECT = f"SELECT t, {_TIME.format('s')}, {_TIME.format('e')}, k"

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
