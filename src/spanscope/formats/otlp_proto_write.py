"""OTLP protobuf writing, for ``otlp_proto.write``: the model spans as ``TracesData``.

``write`` encodes batch by batch (``otlp_common.batches``: at most ``BATCH_SIZE`` spans, grouped
by resource and then scope, as the SDK exporters group them) and concatenates the encoded
``TracesData`` messages, which protobuf defines as one message holding all the resource spans:
memory stays bounded. Messages are ``opentelemetry-proto``'s generated ones (upb), never
hand-written protobuf. ``follows_from`` and ``shared`` are carried as ``otlp_common`` says;
integer attribute values outside int64 are written as their digits (a string value).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import BinaryIO

from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, TracesData

from spanscope.formats.otlp_common import (
    INT64_MAX,
    INT64_MIN,
    ResourceGroup,
    batches,
    export_attributes,
    export_links,
)
from spanscope.model import Attributes, AttributeValue, Span


def _set_value(target: AnyValue, value: AttributeValue) -> None:
    # Exact classes first (subclasses such as enums go below); ``value.__class__ is`` narrows
    # the type for the checker, and strings, the common case, are one test.
    if value.__class__ is str:
        target.string_value = value
    elif value.__class__ is bool:
        target.bool_value = value
    elif value.__class__ is int:
        if INT64_MIN <= value <= INT64_MAX:
            target.int_value = value
        else:
            target.string_value = str(value)  # OTLP integers are 64-bit; keep the digits
    elif value.__class__ is float:
        target.double_value = value
    elif value is None:
        pass
    elif isinstance(value, bytes | bytearray | memoryview):
        target.bytes_value = bytes(value)
    elif isinstance(value, dict):
        target.kvlist_value.SetInParent()
        _set_attributes(target.kvlist_value.values, value)
    elif isinstance(value, list | tuple):
        target.array_value.SetInParent()
        values = target.array_value.values
        for item in value:
            _set_value(values.add(), item)
    elif isinstance(value, bool):
        target.bool_value = bool(value)
    elif isinstance(value, int):
        _set_value(target, int(value))
    elif isinstance(value, float):
        target.double_value = float(value)
    else:
        target.string_value = str(value)


def _set_attributes(target, attributes: Attributes) -> None:
    for key, value in attributes.items():
        if value.__class__ is str:
            target.append(KeyValue(key=key, value=AnyValue(string_value=value)))
        else:
            kv = target.add()
            kv.key = key
            _set_value(kv.value, value)


def _fill_span(target, span: Span) -> None:
    target.trace_id = bytes.fromhex(span.trace_id)
    target.span_id = bytes.fromhex(span.span_id)
    if span.trace_state:
        target.trace_state = span.trace_state
    if span.parent_span_id:
        target.parent_span_id = bytes.fromhex(span.parent_span_id)
    if span.flags:
        target.flags = span.flags
    target.name = span.name
    target.kind = span.kind
    target.start_time_unix_nano = span.start_ns
    target.end_time_unix_nano = span.end_ns
    _set_attributes(target.attributes, export_attributes(span))
    target.dropped_attributes_count = span.dropped_attributes_count
    for event in span.events:
        e = target.events.add()
        e.time_unix_nano = event.time_ns
        e.name = event.name
        _set_attributes(e.attributes, event.attributes)
        e.dropped_attributes_count = event.dropped_attributes_count
    target.dropped_events_count = span.dropped_events_count
    for link in export_links(span):
        target_link = target.links.add()
        target_link.trace_id = bytes.fromhex(link.trace_id)
        target_link.span_id = bytes.fromhex(link.span_id)
        target_link.trace_state = link.trace_state
        _set_attributes(target_link.attributes, link.attributes)
        target_link.dropped_attributes_count = link.dropped_attributes_count
        target_link.flags = link.flags
    target.dropped_links_count = span.dropped_links_count
    if span.status_code or span.status_message:
        target.status.code = span.status_code
        target.status.message = span.status_message


def _fill_resource_spans(target: ResourceSpans, group: ResourceGroup) -> None:
    _set_attributes(target.resource.attributes, group.attributes)
    for scope in group.scopes:
        scope_spans = target.scope_spans.add()
        scope_spans.scope.name = scope.name
        scope_spans.scope.version = scope.version
        _set_attributes(scope_spans.scope.attributes, scope.attributes)
        spans = scope_spans.spans
        for span in scope.spans:
            _fill_span(spans.add(), span)


def write(spans: Iterable[Span], out: BinaryIO) -> None:
    """Write one ``TracesData``, encoded batch by batch (concatenated messages merge)."""
    for batch in batches(spans):
        message = TracesData()
        for group in batch:
            _fill_resource_spans(message.resource_spans.add(), group)
        out.write(message.SerializeToString())
