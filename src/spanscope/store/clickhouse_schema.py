"""The ClickHouse store's tables and how a span becomes a row and back.

``otel_traces`` is exactly the OpenTelemetry Collector ``clickhouseexporter``'s table (names,
types, order, indexes, partitioning, ``ORDER BY``), plus spanscope's own columns at the end, so a
table a collector already writes is read as it is and spanscope's writes fit a collector's table:

- ``ScopeAttributes``, ``Flags``, ``LinksFlags``: what OTLP carries and the exporter drops;
- ``RawSpan``: the whole span, msgpack then base64, written for every span spanscope stores. The
  exporter's ``Map(String, String)`` columns keep attribute values only as text; ``RawSpan``
  gives them back with their types (ints, floats, bools, arrays, bytes), with FOLLOWS_FROM and
  Zipkin ``shared`` marks, dropped counts and reader warnings. Searches use the columns only.
  A row without it (written by a collector) is rebuilt from the columns, values as text.

``otel_traces_trace_id_ts`` and its materialized view are the exporter's too: a trace's first and
last span start (to the second) so one trace is read without scanning the table. Tables spanscope
creates fsync each insert (``fsync_after_insert``), as the store contract asks of a write.

Times outside 1970..2106 are clamped in the ``Timestamp`` column (``DATETIME_END_NS``).

Attribute values become text with ``model.attributes.attribute_text``, as the Zipkin writer and
the DuckDB store's text lookups render them (ints in decimal, bools ``true``/``false``, bytes
base64, arrays and maps JSON), so a ``key=value`` search finds the same spans in either store.
Floats differ from the collector's text for whole numbers and infinities (``1.0`` where it
writes ``1``): a search of a collector-written row spells them as the collector did.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import Any

import msgspec

from spanscope.model import Event, Link, Span, SpanKind, StatusCode
from spanscope.model.attributes import attribute_text
from spanscope.store.schema import SPAN_KINDS, STATUS_CODES

TRACES = "otel_traces"
TRACE_INDEX = "otel_traces_trace_id_ts"

_MAP = "Map(LowCardinality(String), String)"
CREATE_TRACES = f"""
CREATE TABLE IF NOT EXISTS {{db}}.{TRACES} (
    Timestamp DateTime64(9) CODEC(Delta, ZSTD(1)),
    TraceId String CODEC(ZSTD(1)),
    SpanId String CODEC(ZSTD(1)),
    ParentSpanId String CODEC(ZSTD(1)),
    TraceState String CODEC(ZSTD(1)),
    SpanName LowCardinality(String) CODEC(ZSTD(1)),
    SpanKind LowCardinality(String) CODEC(ZSTD(1)),
    ServiceName LowCardinality(String) CODEC(ZSTD(1)),
    ResourceAttributes {_MAP} CODEC(ZSTD(1)),
    ScopeName String CODEC(ZSTD(1)),
    ScopeVersion String CODEC(ZSTD(1)),
    SpanAttributes {_MAP} CODEC(ZSTD(1)),
    Duration UInt64 CODEC(ZSTD(1)),
    StatusCode LowCardinality(String) CODEC(ZSTD(1)),
    StatusMessage String CODEC(ZSTD(1)),
    Events Nested (
        Timestamp DateTime64(9),
        Name LowCardinality(String),
        Attributes {_MAP}
    ) CODEC(ZSTD(1)),
    Links Nested (
        TraceId String,
        SpanId String,
        TraceState String,
        Attributes {_MAP}
    ) CODEC(ZSTD(1)),
    ScopeAttributes {_MAP} CODEC(ZSTD(1)),
    Flags UInt32 CODEC(ZSTD(1)),
    LinksFlags Array(UInt32) CODEC(ZSTD(1)),
    RawSpan String CODEC(ZSTD(1)),
    INDEX idx_trace_id TraceId TYPE bloom_filter(0.001) GRANULARITY 1,
    INDEX idx_res_attr_key mapKeys(ResourceAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_res_attr_value mapValues(ResourceAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_span_attr_key mapKeys(SpanAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_span_attr_value mapValues(SpanAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_duration Duration TYPE minmax GRANULARITY 1
) ENGINE = MergeTree
PARTITION BY toDate(Timestamp)
ORDER BY (ServiceName, SpanName, toDateTime(Timestamp))
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1, fsync_after_insert = 1
"""
# spanscope's columns, added to a collector's table when spanscope opens it for writing.
OWN_COLUMNS = (
    ("ScopeAttributes", _MAP),
    ("Flags", "UInt32"),
    ("LinksFlags", "Array(UInt32)"),
    ("RawSpan", "String"),
)
CREATE_TRACE_INDEX = f"""
CREATE TABLE IF NOT EXISTS {{db}}.{TRACE_INDEX} (
    TraceId String CODEC(ZSTD(1)),
    Start DateTime CODEC(Delta, ZSTD(1)),
    End DateTime CODEC(Delta, ZSTD(1)),
    INDEX idx_trace_id TraceId TYPE bloom_filter(0.01) GRANULARITY 1
) ENGINE = MergeTree
PARTITION BY toDate(Start)
ORDER BY (TraceId, Start)
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1, fsync_after_insert = 1
"""
CREATE_TRACE_INDEX_VIEW = f"""
CREATE MATERIALIZED VIEW IF NOT EXISTS {{db}}.{TRACE_INDEX}_mv TO {{db}}.{TRACE_INDEX}
AS SELECT TraceId, min(Timestamp) AS Start, max(Timestamp) AS End
FROM {{db}}.{TRACES} WHERE TraceId != '' GROUP BY TraceId
"""

# The JSON lines ``encode_rows`` writes, and the INSERT that turns them into table rows.
ROW_STRUCTURE = (
    f"ts Int64, TraceId String, SpanId String, ParentSpanId String, TraceState String, "
    f"SpanName String, SpanKind String, ServiceName String, ResourceAttributes {_MAP}, "
    f"ScopeName String, ScopeVersion String, SpanAttributes {_MAP}, Duration UInt64, "
    f"StatusCode String, StatusMessage String, ev_ts Array(Int64), ev_name Array(String), "
    f"ev_attrs Array({_MAP}), lk_trace Array(String), lk_span Array(String), "
    f"lk_state Array(String), lk_attrs Array({_MAP}), ScopeAttributes {_MAP}, Flags UInt32, "
    f"LinksFlags Array(UInt32), RawSpan String"
)
INSERT = (
    f"INSERT INTO {{db}}.{TRACES} (Timestamp, TraceId, SpanId, ParentSpanId, TraceState, "
    "SpanName, SpanKind, ServiceName, ResourceAttributes, ScopeName, ScopeVersion, "
    "SpanAttributes, Duration, StatusCode, StatusMessage, `Events.Timestamp`, `Events.Name`, "
    "`Events.Attributes`, `Links.TraceId`, `Links.SpanId`, `Links.TraceState`, "
    "`Links.Attributes`, ScopeAttributes, Flags, LinksFlags, RawSpan) "
    "SELECT fromUnixTimestamp64Nano(ts), TraceId, SpanId, ParentSpanId, TraceState, SpanName, "
    "SpanKind, ServiceName, ResourceAttributes, ScopeName, ScopeVersion, SpanAttributes, "
    "Duration, StatusCode, StatusMessage, arrayMap(t -> fromUnixTimestamp64Nano(t), ev_ts), "
    "ev_name, ev_attrs, lk_trace, lk_span, lk_state, lk_attrs, ScopeAttributes, Flags, "
    "LinksFlags, RawSpan FROM {rows}"
)
# What a read selects: enough to rebuild a collector-written row; RawSpan when spanscope wrote it.
SELECT_SPAN = (
    "TraceId, RawSpan, SpanId, SpanName, toUnixTimestamp64Nano(Timestamp), Duration, "
    "ParentSpanId, SpanKind, ServiceName, StatusCode, StatusMessage, SpanAttributes, "
    "ResourceAttributes, ScopeName, ScopeVersion, TraceState, "
    "arrayMap(t -> toUnixTimestamp64Nano(t), `Events.Timestamp`), `Events.Name`, "
    "`Events.Attributes`, `Links.TraceId`, `Links.SpanId`, `Links.TraceState`, "
    "`Links.Attributes`"
)
JSON_SETTINGS = "SETTINGS output_format_json_quote_64bit_integers = 0"
# ClickHouse's DateTime (the trace index, and the partition key's Date) ends early in 2106:
# a span's Timestamp column is clamped into 1970..2106 so partitions and the index agree;
# RawSpan keeps the true start.
DATETIME_END_NS = (2**32 - 1) * 10**9

_raw_encoder = msgspec.msgpack.Encoder()
_raw_decoder = msgspec.msgpack.Decoder(Span)
_json = msgspec.json.Encoder()


def _texts(attributes: dict[str, Any]) -> dict[str, str]:
    return {key: attribute_text(value) for key, value in attributes.items()}


def encode_rows(spans: Sequence[Span]) -> bytes:
    """``spans`` as the JSON lines ``INSERT`` reads (``ROW_STRUCTURE``)."""
    lines = []
    for span in spans:
        end = span.end_ns
        events, links = span.events, span.links
        row = (
            min(max(0, span.start_ns), DATETIME_END_NS),
            span.trace_id,
            span.span_id,
            span.parent_span_id,
            span.trace_state,
            span.name,
            SPAN_KINDS[span.kind],
            span.service_name,
            _texts(span.resource_attributes),
            span.scope_name,
            span.scope_version,
            _texts(span.attributes),
            end - span.start_ns if end > span.start_ns else 0,
            STATUS_CODES[span.status_code],
            span.status_message,
            [event.time_ns for event in events],
            [event.name for event in events],
            [_texts(event.attributes) for event in events],
            [link.trace_id for link in links],
            [link.span_id for link in links],
            [link.trace_state for link in links],
            [_texts(link.attributes) for link in links],
            _texts(span.scope_attributes),
            span.flags,
            [link.flags for link in links],
            base64.b64encode(_raw_encoder.encode(span)).decode(),
        )
        lines.append(_json.encode(dict(zip(_ROW_KEYS, row, strict=True))))
    lines.append(b"")
    return b"\n".join(lines)


_ROW_KEYS = tuple(part.split(" ")[0] for part in ROW_STRUCTURE.split(", ") if " " in part)

_KIND_BY_TEXT = {text.lower(): SpanKind(i) for i, text in enumerate(SPAN_KINDS)}
_KIND_BY_TEXT.update({f"span_kind_{text.lower()}": kind for text, kind in _KIND_BY_TEXT.items()})
_STATUS_BY_TEXT = {text.lower(): StatusCode(i) for i, text in enumerate(STATUS_CODES)}
_STATUS_BY_TEXT.update({f"status_code_{t}": code for t, code in list(_STATUS_BY_TEXT.items())})


def kind_from_text(text: str) -> SpanKind:
    return _KIND_BY_TEXT.get(text.lower(), SpanKind.UNSPECIFIED)


def span_from_row(row: list[Any]) -> Span:
    """A span from one ``SELECT_SPAN`` row."""
    raw = row[1]
    if raw:
        return _raw_decoder.decode(base64.b64decode(raw))
    (
        trace_id,
        _,
        span_id,
        name,
        start,
        duration,
        parent,
        kind,
        service,
        status,
        message,
        attributes,
        resource,
        scope_name,
        scope_version,
        trace_state,
        event_times,
        event_names,
        event_attributes,
        link_traces,
        link_spans,
        link_states,
        link_attributes,
    ) = row
    return Span(
        trace_id,
        span_id,
        name,
        start,
        start + duration,
        parent,
        kind_from_text(kind),
        service,
        _STATUS_BY_TEXT.get(status.lower(), StatusCode.UNSET),
        message,
        attributes,
        resource,
        scope_name,
        scope_version,
        events=[
            Event(t, n, a)
            for t, n, a in zip(event_times, event_names, event_attributes, strict=True)
        ],
        links=[
            Link(t, s, st, a)
            for t, s, st, a in zip(
                link_traces, link_spans, link_states, link_attributes, strict=True
            )
        ],
        trace_state=trace_state,
    )
