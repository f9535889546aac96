"""Writing OTLP JSON: one ``ExportTraceServiceRequest`` (``write``) or JSON lines of them
(``write_lines``, the ``otlp-jsonl`` format), re-exported by ``otlp_json``.

Output follows the OTLP JSON spec: hex ids, integer enums, 64-bit integers as strings (times,
``intValue``), non-finite doubles as "NaN"/"Infinity"/"-Infinity", bytes in base64. Spans are
batched and grouped by resource and scope (``otlp_common.batches``) and each batch is encoded
on its own, so memory stays bounded. Integers outside int64 are written as their digits in a
``stringValue`` (OTLP has no wider integer).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import BinaryIO

import msgspec

from spanscope.formats.otlp_common import (
    INT64_MAX,
    INT64_MIN,
    ResourceGroup,
    batches,
    export_attributes,
    export_links,
)
from spanscope.model import Attributes, AttributeValue, Event, Link, Span


def _value(value: AttributeValue) -> dict:
    # Exact classes first (subclasses such as enums go below); ``value.__class__ is`` narrows
    # the type for the checker, and strings, the common case, are one test.
    if value.__class__ is str:
        return {"stringValue": value}
    if value.__class__ is bool:
        return {"boolValue": value}
    if value.__class__ is int:
        if INT64_MIN <= value <= INT64_MAX:
            return {"intValue": str(value)}
        return {"stringValue": str(value)}  # OTLP integers are 64-bit; keep the digits
    if value.__class__ is float:
        if math.isfinite(value):
            return {"doubleValue": value}
        text = "NaN" if value != value else ("Infinity" if value > 0 else "-Infinity")
        return {"doubleValue": text}
    if value is None:
        return {}
    if isinstance(value, bytes | bytearray | memoryview):
        return {"bytesValue": bytes(value)}  # msgspec writes bytes as base64
    if isinstance(value, dict):
        return {"kvlistValue": {"values": _key_values(value)}}
    if isinstance(value, list | tuple):
        return {"arrayValue": {"values": [_value(item) for item in value]}}
    if isinstance(value, bool):
        return {"boolValue": bool(value)}
    if isinstance(value, int):
        return _value(int(value))
    if isinstance(value, float):
        return _value(float(value))
    return {"stringValue": str(value)}


def _key_values(attributes: Attributes) -> list[dict]:
    return [{"key": key, "value": _value(value)} for key, value in attributes.items()]


def _span(span: Span) -> dict:
    out: dict = {"traceId": span.trace_id, "spanId": span.span_id}
    if span.trace_state:
        out["traceState"] = span.trace_state
    if span.parent_span_id:
        out["parentSpanId"] = span.parent_span_id
    if span.flags:
        out["flags"] = span.flags
    out["name"] = span.name
    if span.kind:
        out["kind"] = int(span.kind)
    out["startTimeUnixNano"] = str(span.start_ns)
    if span.end_ns:
        out["endTimeUnixNano"] = str(span.end_ns)
    attributes = export_attributes(span)
    if attributes:
        out["attributes"] = _key_values(attributes)
    if span.dropped_attributes_count:
        out["droppedAttributesCount"] = span.dropped_attributes_count
    if span.events:
        out["events"] = [_event(event) for event in span.events]
    if span.dropped_events_count:
        out["droppedEventsCount"] = span.dropped_events_count
    links = export_links(span)
    if links:
        out["links"] = [_link(link) for link in links]
    if span.dropped_links_count:
        out["droppedLinksCount"] = span.dropped_links_count
    status: dict = {}
    if span.status_code:
        status["code"] = int(span.status_code)
    if span.status_message:
        status["message"] = span.status_message
    out["status"] = status
    return out


def _event(event: Event) -> dict:
    out: dict = {"timeUnixNano": str(event.time_ns), "name": event.name}
    if event.attributes:
        out["attributes"] = _key_values(event.attributes)
    if event.dropped_attributes_count:
        out["droppedAttributesCount"] = event.dropped_attributes_count
    return out


def _link(link: Link) -> dict:
    out: dict = {"traceId": link.trace_id, "spanId": link.span_id}
    if link.trace_state:
        out["traceState"] = link.trace_state
    if link.attributes:
        out["attributes"] = _key_values(link.attributes)
    if link.dropped_attributes_count:
        out["droppedAttributesCount"] = link.dropped_attributes_count
    if link.flags:
        out["flags"] = link.flags
    return out


def _resource_spans(group: ResourceGroup) -> dict:
    scopes = []
    for scope in group.scopes:
        head: dict = {}
        if scope.name:
            head["name"] = scope.name
        if scope.version:
            head["version"] = scope.version
        if scope.attributes:
            head["attributes"] = _key_values(scope.attributes)
        scopes.append({"scope": head, "spans": [_span(span) for span in scope.spans]})
    return {"resource": {"attributes": _key_values(group.attributes)}, "scopeSpans": scopes}


_ENCODER = msgspec.json.Encoder()


def write(spans: Iterable[Span], out: BinaryIO) -> None:
    """Write one ``ExportTraceServiceRequest``, encoded batch by batch (bounded memory)."""
    encode = _ENCODER.encode
    out.write(b'{"resourceSpans":[')
    separator = b""
    for batch in batches(spans):
        for group in batch:
            out.write(separator)
            out.write(encode(_resource_spans(group)))
            separator = b",\n"
    out.write(b"]}\n")


def write_lines(spans: Iterable[Span], out: BinaryIO) -> None:
    """Write JSON lines: one ``ExportTraceServiceRequest`` of up to BATCH_SIZE spans a line."""
    encode = _ENCODER.encode
    for batch in batches(spans):
        out.write(encode({"resourceSpans": [_resource_spans(group) for group in batch]}))
        out.write(b"\n")
