"""OTLP protobuf: read and write ``TracesData`` (wire-identical to ``ExportTraceServiceRequest``).

Decoding and encoding use ``opentelemetry-proto``'s generated messages on the upb backend; no
protobuf is written by hand. Protobuf carries no offsets in its errors, so a message it refuses
is walked field by field (tags and lengths only): the spans of the whole ``resource_spans``
entries before the first one cut short or refused are yielded, then ``InputError`` "not valid
OTLP protobuf" names the source and that entry's byte offset (or the size, if no entry is bad).
Ids of the wrong length or all zeros raise ``InputError`` naming the span; unknown enum values
read as UNSPECIFIED / UNSET with a warning.

Times are fixed64 on the wire, but the model (and OTLP JSON's reader, and every store) keeps
nanoseconds up to 2^63-1, the year 2262. A span with a start, end or event time past that is
left out with a warning naming the source, its resource/scope/span index and byte offset, and
the rest is read: one bad clock loses one span, not the file. ``decode_request`` also counts
such spans, which the receivers answer as OTLP's partial success (``rejected_spans``).

Reading is the hot path (target: 400k+ spans/s on two cores). When the optional C decoder
(``otlp_native``) is built, it reads every message it is sure to read exactly as the path below
does; it gives up on anything else (errors, warnings, markers), and this module's upb path, the
reference, reads the message instead. ``SPANSCOPE_NO_NATIVE=1`` forces the upb path. On the upb
path resources and scopes are converted once and cached by their serialized bytes (the dicts
are shared by all their spans, as ``spanscope.model`` allows), attribute values are read with
``WhichOneof`` and ids with ``bytes.hex()``, all inline.

``write`` encodes batch by batch and concatenates the encoded ``TracesData`` messages, which
protobuf defines as one message holding all the resource spans: memory stays bounded.
``follows_from`` and ``shared`` are carried as ``otlp_common`` says; resource and scope
``dropped_attributes_count`` and ``schema_url`` are not in the model and are lost.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import BinaryIO, NamedTuple

from google.protobuf.internal import api_implementation
from google.protobuf.message import DecodeError
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, TracesData

from spanscope.errors import Diagnostics, InputError
from spanscope.formats.otlp_common import (
    INT64_MAX,
    INT64_MIN,
    KIND_BY_VALUE,
    STATUS_BY_VALUE,
    BadField,
    ReadContext,
    ResourceGroup,
    batches,
    events_of,
    export_attributes,
    export_links,
    model_span,
    service_name_of,
)
from spanscope.formats.otlp_native import late_offsets, native_spans
from spanscope.model import (
    Attributes,
    AttributeValue,
    Link,
    Span,
    StatusCode,
    normalize_span_id,
    normalize_trace_id,
)

NAME = "otlp-proto"
_CACHE_LIMIT = 4096
_ZERO_TRACE = bytes(16)
_ZERO_SPAN = bytes(8)


# --- reading --------------------------------------------------------------------------------


def _any(value: AnyValue) -> AttributeValue:
    which = value.WhichOneof("value")
    if which is None:
        return None
    if which == "array_value":
        return [_any(item) for item in value.array_value.values]
    if which == "kvlist_value":
        return {kv.key: _any(kv.value) for kv in value.kvlist_value.values}
    return getattr(value, which)


def _attributes(kvs) -> Attributes:
    # upb builds a wrapper object per element and per access: touch each as little as we
    # can. A non-empty string_value answers the common case without WhichOneof.
    return {
        kv.key: (string if (string := (value := kv.value).string_value) else _any(value))
        for kv in kvs
    }


def _trace_id(context: ReadContext, raw: bytes, field_name: str) -> str:
    if len(raw) == 16 and raw != _ZERO_TRACE:
        return raw.hex()
    return context.id_bytes(raw, normalize_trace_id, field_name)


def _span_id(context: ReadContext, raw: bytes, field_name: str) -> str:
    if len(raw) == 8 and raw != _ZERO_SPAN:
        return raw.hex()
    return context.id_bytes(raw, normalize_span_id, field_name)


def _links(context: ReadContext, links) -> list[Link]:
    return [
        Link(
            _trace_id(context, link.trace_id, f"links[{i}].trace_id"),
            _span_id(context, link.span_id, f"links[{i}].span_id"),
            link.trace_state,
            _attributes(link.attributes),
            link.flags,
            link.dropped_attributes_count,
        )
        for i, link in enumerate(links)
    ]


@dataclass(slots=True)
class _Rejections:
    """The spans a read left out (a time past int64): how many, and the first one's warning."""

    count: int = 0
    first: str = ""


class DecodedRequest(NamedTuple):
    """What ``decode_request`` gives: the spans read, and how many were left out and why (the
    first one's warning, and how many more), as OTLP's partial success says it."""

    spans: list[Span]
    rejected: int
    message: str


def decode_request(
    data: bytes, source: str, diagnostics: Diagnostics | None = None
) -> DecodedRequest:
    """All spans of one ``ExportTraceServiceRequest`` (a receiver's body), with the spans left
    out; raises ``InputError`` as ``read`` does."""
    rejections = _Rejections()
    diagnostics = diagnostics if diagnostics is not None else Diagnostics()
    spans = list(_spans_of(data, source, diagnostics, rejections))
    message = rejections.first
    if rejections.count > 1:
        message += f" (and {rejections.count - 1:,} more spans with times past int64)"
    return DecodedRequest(spans, rejections.count, message)


def read(stream: BinaryIO, source: str, diagnostics: Diagnostics) -> Iterator[Span]:
    yield from _spans_of(stream.read(), source, diagnostics, _Rejections())


def _spans_of(
    data: bytes, source: str, diagnostics: Diagnostics, rejections: _Rejections
) -> Iterator[Span]:
    # Not a generator: ``read`` delegates straight to the C decoder's iterator, with no
    # generator in between on the hot path.
    spans = native_spans(data)
    if spans is not None:
        return spans
    return _read_upb(data, source, diagnostics, rejections)


def _read_upb(
    data: bytes, source: str, diagnostics: Diagnostics, rejections: _Rejections
) -> Iterator[Span]:
    try:
        message = TracesData.FromString(data)
    except DecodeError:
        yield from _read_what_is_whole(data, source, diagnostics, rejections)
        return
    late = late_offsets(data)  # upb keeps no offsets: found now, while the bytes are here
    del data
    context = ReadContext(source, diagnostics)
    if api_implementation.Type() != "upb":
        context.warn_once(
            "backend",
            f"protobuf runs on its {api_implementation.Type()!r} backend, not upb: reading "
            "is many times slower (unset PROTOCOL_BUFFERS_PYTHON_IMPLEMENTATION)",
        )
    yield from _spans(message, context, late, rejections)


def _read_what_is_whole(
    data: bytes, source: str, diagnostics: Diagnostics, rejections: _Rejections
) -> Iterator[Span]:
    """For a message protobuf refuses: yield the spans of the whole ``resource_spans`` entries
    before the first bad one, then raise ``InputError`` at that entry's byte offset.

    A truncated export (a copy cut short, a full disk) is whole but for its last entry, and
    protobuf would refuse all of it without saying where: the contract keeps what was read.
    """
    start, reason = _first_bad_entry(data)
    count = 0
    whole = _spans_of(data[:start], source, diagnostics, rejections) if start else iter(())
    for count, span in enumerate(whole, 1):  # noqa: B007 - count is kept
        yield span
    where = f"byte {start} of {len(data)}" if reason else f"{len(data)} bytes"
    reason = reason or (
        "truncated, corrupt, or not a TracesData / ExportTraceServiceRequest message; "
        "protobuf does not say where"
    )
    kept = f"; the {count:,} spans before it were read" if count else ""
    raise InputError(source, where, f"not valid OTLP protobuf: {reason}{kept}")


def _varint(data: bytes, at: int) -> tuple[int, int] | None:
    """The varint at ``at`` and the offset after it, or None if the data ends inside it."""
    value = shift = 0
    while at < len(data) and shift < 64:
        byte = data[at]
        value |= (byte & 0x7F) << shift
        at += 1
        if byte < 0x80:
            return value, at
        shift += 7
    return None


# Bytes each fixed-size wire type takes (1: 64-bit, 5: 32-bit).
_FIXED = {1: 8, 5: 4}


def _first_bad_entry(data: bytes) -> tuple[int, str]:
    """The offset of the first top-level field that is cut short, not protobuf, or a
    ``resource_spans`` entry protobuf refuses, with why; ``(0, "")`` if none is found."""
    at = 0
    while at < len(data):
        tag = _varint(data, at)
        if tag is None:
            return at, "the file ends inside a field's header (truncated?)"
        field, wire_type = tag[0] >> 3, tag[0] & 7
        end = tag[1]
        if wire_type == 0:
            after = _varint(data, end)
            if after is None:
                return at, "the file ends inside a number (truncated?)"
            end = after[1]
        elif wire_type == 2:
            length = _varint(data, end)
            if length is None or length[1] + length[0] > len(data):
                what = "a resource_spans entry" if field == 1 else f"field {field}"
                size = f" of {length[0]:,} bytes" if length else ""
                return at, f"{what}{size} runs past the end of the file (truncated?)"
            end = length[1] + length[0]
            if field == 1:
                try:
                    ResourceSpans.FromString(data[length[1] : end])
                except DecodeError:
                    return at, "this resource_spans entry is corrupt"
        elif wire_type in _FIXED:
            end += _FIXED[wire_type]
            if end > len(data):
                return at, "the file ends inside a number (truncated?)"
        else:
            return at, f"field {field} has wire type {wire_type}, not protobuf here (corrupt?)"
        at = end
    return 0, ""


def _late_field(span: Span) -> tuple[str, int]:
    """The first time of ``span`` past int64: its field name and value."""
    if span.start_ns > INT64_MAX:
        return "start_time_unix_nano", span.start_ns
    if span.end_ns > INT64_MAX:
        return "end_time_unix_nano", span.end_ns
    for i, event in enumerate(span.events):
        if event.time_ns > INT64_MAX:
            return f"events[{i}].time_unix_nano", event.time_ns
    raise AssertionError("no time past int64")  # pragma: no cover - callers checked


def _leave_out(
    context: ReadContext,
    span: Span,
    index: tuple[int, int, int],
    late: dict[tuple[int, int, int], int],
    rejections: _Rejections,
) -> None:
    """Warn about a span with a time past int64, which is not read (see the module doc)."""
    field_name, value = _late_field(span)
    ri, si, k = index
    place = f"resource_spans[{ri}].scope_spans[{si}].spans[{k}]"
    offset = late.get(index)
    if offset is not None:
        place += f", byte {offset}"
    name = span.name if len(span.name) <= 60 else span.name[:60] + "..."
    message = (
        f"span {span.span_id} ({name!r}) of trace {span.trace_id}: {field_name} {value} is past "
        f"2^63-1 ns (the year 2262), the latest time spanscope keeps; the span is left out"
    )
    context.diagnostics.warn(context.source, place, message)
    rejections.count += 1
    if rejections.count == 1:
        rejections.first = f"{context.source}: {place}: {message}"


def _spans(
    data: TracesData,
    context: ReadContext,
    late: dict[tuple[int, int, int], int],
    rejections: _Rejections,
) -> Iterator[Span]:
    resources: dict[bytes, tuple[Attributes, str]] = {}
    scopes: dict[bytes, tuple[str, str, Attributes]] = {}
    kinds = KIND_BY_VALUE
    codes = STATUS_BY_VALUE
    unset = StatusCode.UNSET
    zero_span = _ZERO_SPAN
    last_raw_trace_id = None
    trace_id = ""
    for ri, rs in enumerate(data.resource_spans):
        key = rs.resource.SerializeToString()
        cached = resources.get(key)
        if cached is None:
            attributes = _attributes(rs.resource.attributes)
            cached = (attributes, service_name_of(attributes))
            if len(resources) >= _CACHE_LIMIT:
                resources.clear()
            resources[key] = cached
        resource_attributes, service = cached
        for si, ss in enumerate(rs.scope_spans):
            key = ss.scope.SerializeToString()
            scope = scopes.get(key)
            if scope is None:
                found = ss.scope
                scope = (found.name, found.version, _attributes(found.attributes))
                if len(scopes) >= _CACHE_LIMIT:
                    scopes.clear()
                scopes[key] = scope
            k = 0
            try:
                for k, s in enumerate(ss.spans):  # k also names a failing span
                    raw = s.trace_id
                    if raw != last_raw_trace_id:
                        trace_id = _trace_id(context, raw, "trace_id")
                        last_raw_trace_id = raw
                    raw = s.span_id
                    if len(raw) == 8 and raw != zero_span:
                        span_id = raw.hex()
                    else:
                        span_id = _span_id(context, raw, "span_id")
                    raw = s.parent_span_id
                    if not raw:
                        parent = ""
                    elif len(raw) == 8 and raw != zero_span:
                        parent = raw.hex()
                    else:
                        parent = _span_id(context, raw, "parent_span_id")
                    kind = kinds.get(s.kind)
                    if kind is None:
                        kind = context.kind(s.kind)
                    if s.HasField("status"):  # one call instead of three when unset
                        status = s.status
                        code = codes.get(status.code)
                        if code is None:
                            code = context.status_code(status.code)
                        message = status.message
                    else:
                        code, message = unset, ""
                    span = model_span(
                        s,
                        trace_id,
                        span_id,
                        parent,
                        kind,
                        service,
                        code,
                        message,
                        _attributes(s.attributes),
                        resource_attributes,
                        scope,
                        events_of(s.events, _attributes) if s.events else [],
                        _links(context, s.links) if s.links else [],
                    )
                    if (span.start_ns | span.end_ns) > INT64_MAX or (
                        span.events and max(e.time_ns for e in span.events) > INT64_MAX
                    ):
                        _leave_out(context, span, (ri, si, k), late, rejections)
                        continue
                    yield span
            except BadField as exc:
                place = f"resource_spans[{ri}].scope_spans[{si}].spans[{k}].{exc.field_name}"
                raise InputError(context.source, place, exc.message) from None
            except RecursionError:
                place = f"resource_spans[{ri}].scope_spans[{si}].spans[{k}]"
                raise InputError(context.source, place, "values nested too deeply") from None


# --- writing --------------------------------------------------------------------------------


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
