"""OTLP protobuf to model spans on the upb path: the reference reader of ``otlp_proto``.

``spans(message, context, late, rejections)`` converts a parsed ``TracesData`` (upb messages of
``opentelemetry-proto``) span by span. Resources and scopes are converted once and cached by
their serialized bytes (their dicts are shared by all their spans, as ``spanscope.model``
allows); attribute values are read with ``WhichOneof`` and ids with ``bytes.hex()``, inline:
upb builds a wrapper object per field access, so each is touched as little as it can be.

Ids of the wrong length or all zeros raise ``InputError`` naming the span
(``resource_spans[i].scope_spans[j].spans[k].field``); unknown enum values read as UNSPECIFIED /
UNSET with a warning (``ReadContext``). A span with a time past 2^63-1 ns is left out with the
warning of ``otlp_late_times``, naming its byte offset from ``late`` (upb keeps none).
"""

from __future__ import annotations

from collections.abc import Iterator

from opentelemetry.proto.common.v1.common_pb2 import AnyValue
from opentelemetry.proto.trace.v1.trace_pb2 import TracesData

from spanscope.errors import InputError
from spanscope.formats.otlp_common import (
    INT64_MAX,
    KIND_BY_VALUE,
    STATUS_BY_VALUE,
    BadField,
    ReadContext,
    events_of,
    model_span,
    service_name_of,
)
from spanscope.formats.otlp_late_times import Rejections, leave_out
from spanscope.model import (
    Attributes,
    AttributeValue,
    Link,
    Span,
    StatusCode,
    normalize_span_id,
    normalize_trace_id,
)

_CACHE_LIMIT = 4096
_ZERO_TRACE = bytes(16)
_ZERO_SPAN = bytes(8)


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
    rejections: Rejections,
) -> None:
    """Warn about a span with a time past int64, which is not read (see the module doc)."""
    field_name, value = _late_field(span)
    ri, si, k = index
    place = f"resource_spans[{ri}].scope_spans[{si}].spans[{k}]"
    offset = late.get(index)
    if offset is not None:
        place += f", byte {offset}"
    ids = (span.span_id, span.name, span.trace_id)
    leave_out(context.diagnostics, rejections, context.source, place, ids, field_name, value)


def spans(
    data: TracesData,
    context: ReadContext,
    late: dict[tuple[int, int, int], int],
    rejections: Rejections,
) -> Iterator[Span]:
    """The model spans of ``data``; ``late``: the byte offsets of the spans with a time past
    int64, by (resource, scope, span) index, for their warnings (see the module doc)."""
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
