"""OTLP JSON: read and write ``ExportTraceServiceRequest`` / ``TracesData`` as JSON.

Reads, detected from content: one request object (``resourceSpans``), an array of them, JSON
lines (one object per line, as the collector's file exporter writes; streamed line by line, so
memory stays bounded), Jaeger api_v3's ``{"result": {...}}`` wrapper (also as lines), the old
``instrumentationLibrarySpans`` field, and snake_case field names (``resource_spans``).

The OTLP spec says ids are hex and enums integers. Ids in base64 and enum names (the proto3
JSON mapping, which the spec forbids) are unambiguous, so they are read with one warning per
input; anything else wrong raises ``InputError`` with the line (JSON lines) or the JSON path /
line and column (one document). A truncated JSON-lines file yields every complete line first.

Writes valid OTLP JSON: hex ids, integer enums, 64-bit integers as strings, spans grouped by
resource and scope (see ``otlp_common``). ``write`` writes one request; ``write_lines`` one
request of at most ``BATCH_SIZE`` spans per line (the ``otlp-jsonl`` format).

What OTLP cannot hold is carried as ``otlp_common`` says (``follows_from``, ``shared``); the
resource and scope ``droppedAttributesCount`` and ``schemaUrl`` are not in the model and are lost.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator
from typing import BinaryIO

import msgspec

from spanscope.errors import Diagnostics, InputError
from spanscope.formats.otlp_common import (
    INT64_MAX,
    INT64_MIN,
    KIND_BY_VALUE,
    SHARED_KEY,
    STATUS_BY_VALUE,
    BadField,
    ReadContext,
    ResourceGroup,
    batches,
    export_attributes,
    export_links,
    service_name_of,
    split_follows_from,
)
from spanscope.model import Attributes, AttributeValue, Event, Link, Span, StatusCode

NAME = "otlp-json"


# --- the OTLP JSON mapping, as typed structs (decoding into these is the hot path) ---------


class _AnyValue(msgspec.Struct, rename="camel", gc=False):
    string_value: str | None = None
    int_value: int | None = None  # a JSON string or number; strict=False turns both into int
    bool_value: bool | None = None
    double_value: float | None = None  # also "NaN", "Infinity", "-Infinity"
    array_value: _ArrayValue | None = None
    kvlist_value: _KeyValueList | None = None
    bytes_value: bytes | None = None  # base64, decoded by msgspec


class _ArrayValue(msgspec.Struct, gc=False):
    values: list[_AnyValue] = []


class _KeyValue(msgspec.Struct, gc=False):
    key: str = ""
    value: _AnyValue = msgspec.field(default_factory=_AnyValue)


class _KeyValueList(msgspec.Struct, gc=False):
    values: list[_KeyValue] = []


class _Resource(msgspec.Struct, rename="camel", gc=False):
    attributes: list[_KeyValue] = []


class _Scope(msgspec.Struct, rename="camel", gc=False):
    name: str = ""
    version: str = ""
    attributes: list[_KeyValue] = []


class _Status(msgspec.Struct, rename="camel", gc=False):
    code: int | str = 0
    message: str = ""


class _Event(msgspec.Struct, rename="camel", gc=False):
    time_unix_nano: int = 0
    name: str = ""
    attributes: list[_KeyValue] = []
    dropped_attributes_count: int = 0


class _Link(msgspec.Struct, rename="camel", gc=False):
    trace_id: str = ""
    span_id: str = ""
    trace_state: str = ""
    attributes: list[_KeyValue] = []
    dropped_attributes_count: int = 0
    flags: int = 0


class _Span(msgspec.Struct, rename="camel", gc=False):
    trace_id: str = ""
    span_id: str = ""
    trace_state: str = ""
    parent_span_id: str = ""
    flags: int = 0
    name: str = ""
    kind: int | str = 0
    start_time_unix_nano: int = 0
    end_time_unix_nano: int = 0
    attributes: list[_KeyValue] = []
    dropped_attributes_count: int = 0
    events: list[_Event] = []
    dropped_events_count: int = 0
    links: list[_Link] = []
    dropped_links_count: int = 0
    status: _Status | None = None


class _ScopeSpans(msgspec.Struct, rename="camel", gc=False):
    # Raw: the same scope repeats across requests; its bytes key a cache of the converted scope.
    scope: msgspec.Raw = msgspec.Raw(b"")
    instrumentation_library: msgspec.Raw = msgspec.Raw(b"")  # before OTLP 0.15
    spans: list[_Span] = []


class _ResourceSpans(msgspec.Struct, rename="camel", gc=False):
    resource: msgspec.Raw = msgspec.Raw(b"")
    scope_spans: list[_ScopeSpans] = []
    instrumentation_library_spans: list[_ScopeSpans] = []


class _TracesData(msgspec.Struct, rename="camel", gc=False):
    resource_spans: list[_ResourceSpans] = []
    result: _TracesData | None = None  # Jaeger api_v3 wraps the request in "result"


# strict=False reads 64-bit integers given as JSON strings, as the proto3 JSON mapping writes.
_LINE = msgspec.json.Decoder(_TracesData, strict=False)
_DOCUMENT = msgspec.json.Decoder(_TracesData | list[_TracesData], strict=False)
_RESOURCE = msgspec.json.Decoder(_Resource, strict=False)
_SCOPE = msgspec.json.Decoder(_Scope, strict=False)
_HEX = frozenset("0123456789abcdef")
_BOM = b"\xef\xbb\xbf"
_CACHE_LIMIT = 4096


# --- AnyValue -> plain values ---------------------------------------------------------------


def _any(value: _AnyValue) -> AttributeValue:
    if value.string_value is not None:
        return value.string_value
    if value.int_value is not None:
        return value.int_value
    if value.bool_value is not None:
        return value.bool_value
    if value.double_value is not None:
        return value.double_value
    if value.array_value is not None:
        return [_any(item) for item in value.array_value.values]
    if value.kvlist_value is not None:
        return {kv.key: _any(kv.value) for kv in value.kvlist_value.values}
    if value.bytes_value is not None:
        return value.bytes_value
    return None


def _attributes(kvs: list[_KeyValue]) -> Attributes:
    # Most values are strings: read those inline, everything else through _any.
    return {
        kv.key: (
            string if (string := (value := kv.value).string_value) is not None else _any(value)
        )
        for kv in kvs
    }


# --- reading --------------------------------------------------------------------------------


class _Reader(ReadContext):
    """Converts decoded requests to spans; caches resources and scopes by their JSON bytes."""

    def __init__(self, source: str, diagnostics: Diagnostics) -> None:
        super().__init__(source, diagnostics)
        self._resources: dict[bytes, tuple[Attributes, str]] = {}
        self._scopes: dict[bytes, tuple[str, str, Attributes]] = {}

    def fail(self, path: str, message: str) -> InputError:
        return InputError(self.source, ", ".join(p for p in (self.place, path) if p), message)

    def resource(self, raw: msgspec.Raw, path: str) -> tuple[Attributes, str]:
        key = bytes(raw)
        found = self._resources.get(key)
        if found is None:
            try:
                attributes = _attributes(_RESOURCE.decode(key).attributes) if key else {}
            except msgspec.ValidationError as exc:
                raise self.fail(*_split_path(exc, path)) from None
            found = (attributes, service_name_of(attributes))
            if len(self._resources) >= _CACHE_LIMIT:
                self._resources.clear()
            self._resources[key] = found
        return found

    def scope(self, raw: msgspec.Raw, path: str) -> tuple[str, str, Attributes]:
        key = bytes(raw)
        found = self._scopes.get(key)
        if found is None:
            try:
                scope = _SCOPE.decode(key) if key else _Scope()
            except msgspec.ValidationError as exc:
                raise self.fail(*_split_path(exc, path)) from None
            found = (scope.name, scope.version, _attributes(scope.attributes))
            if len(self._scopes) >= _CACHE_LIMIT:
                self._scopes.clear()
            self._scopes[key] = found
        return found

    def links(self, links: list[_Link]) -> list[Link]:
        out = []
        for i, link in enumerate(links):
            try:
                trace_id = self.trace_id(link.trace_id)
                span_id = self.span_id(link.span_id)
            except BadField as exc:
                raise BadField(f"links[{i}].{exc.field_name}", exc.message) from None
            attributes = _attributes(link.attributes) if link.attributes else {}
            out.append(
                Link(
                    trace_id,
                    span_id,
                    link.trace_state,
                    attributes,
                    link.flags,
                    link.dropped_attributes_count,
                )
            )
        return out

    def spans(self, data: _TracesData, path: str) -> Iterator[Span]:
        while data.result is not None and not data.resource_spans:
            data, path = data.result, f"{path}.result"
        last_raw_trace_id: str | None = None
        trace_id = ""
        hex_digits = _HEX
        try:
            for ri, rs in enumerate(data.resource_spans):
                rpath = f"{path}.resourceSpans[{ri}]"
                resource_attributes, service = self.resource(rs.resource, f"{rpath}.resource")
                for si, ss in enumerate(rs.scope_spans or rs.instrumentation_library_spans):
                    spath = f"{rpath}.scopeSpans[{si}]"
                    raw_scope = ss.scope if ss.scope else ss.instrumentation_library
                    scope_name, scope_version, scope_attributes = self.scope(
                        raw_scope, f"{spath}.scope"
                    )
                    k = 0
                    try:
                        for k, s in enumerate(ss.spans):  # noqa: B007 - k names the failing span
                            raw = s.trace_id
                            if raw != last_raw_trace_id:
                                trace_id = self.trace_id(raw)
                                last_raw_trace_id = raw
                            raw = s.span_id
                            if len(raw) == 16 and raw.islower() and hex_digits.issuperset(raw):
                                span_id = raw  # the common case, inline for speed
                            else:
                                span_id = self.span_id(raw)
                            raw = s.parent_span_id
                            if not raw:
                                parent = ""
                            elif len(raw) == 16 and raw.islower() and hex_digits.issuperset(raw):
                                parent = raw
                            else:
                                parent = self.span_id(raw, "parentSpanId")
                            kind = KIND_BY_VALUE.get(s.kind)  # type: ignore[call-overload]
                            if kind is None:
                                kind = self.kind(s.kind)
                            status = s.status
                            if status is None:
                                code, message = StatusCode.UNSET, ""
                            else:
                                code = STATUS_BY_VALUE.get(status.code)  # type: ignore[call-overload]
                                if code is None:
                                    code = self.status_code(status.code)
                                message = status.message
                            attributes = _attributes(s.attributes) if s.attributes else {}
                            shared = False
                            if SHARED_KEY in attributes and attributes[SHARED_KEY] is True:
                                del attributes[SHARED_KEY]
                                shared = True
                            events = (
                                [
                                    Event(
                                        e.time_unix_nano,
                                        e.name,
                                        _attributes(e.attributes) if e.attributes else {},
                                        e.dropped_attributes_count,
                                    )
                                    for e in s.events
                                ]
                                if s.events
                                else []
                            )
                            follows_from = False
                            if s.links:
                                links = self.links(s.links)
                                if parent:
                                    links, follows_from = split_follows_from(
                                        links, trace_id, parent
                                    )
                            else:
                                links = []
                            yield Span(
                                trace_id,
                                span_id,
                                s.name,
                                s.start_time_unix_nano,
                                s.end_time_unix_nano,
                                parent,
                                kind,
                                service,
                                code,
                                message,
                                attributes,
                                resource_attributes,
                                scope_name,
                                scope_version,
                                scope_attributes,
                                events,
                                links,
                                s.trace_state,
                                s.flags,
                                follows_from,
                                shared,
                                s.dropped_attributes_count,
                                s.dropped_events_count,
                                s.dropped_links_count,
                            )
                    except BadField as exc:
                        raise self.fail(
                            f"{spath}.spans[{k}].{exc.field_name}", exc.message
                        ) from None
        except RecursionError:
            raise self.fail(path, "attribute values nested too deeply") from None


_BYTE = re.compile(r"\(byte (\d+)\)")
_AT_PATH = re.compile(r" - at `(\$[^`]*)`$")


def _split_path(exc: msgspec.ValidationError, prefix: str = "$") -> tuple[str, str]:
    """(JSON path, message) of a msgspec validation error; the path is relative to ``prefix``."""
    text = str(exc)
    match = _AT_PATH.search(text)
    if match is None:
        return prefix, text
    return prefix + match.group(1)[1:], text[: match.start()]


def _syntax_error(exc: msgspec.DecodeError, data: bytes, first_line: int = 1) -> tuple[str, str]:
    """(line and column, message) of a JSON syntax error."""
    text = str(exc)
    match = _BYTE.search(text)
    if match is not None:
        offset = int(match.group(1))
        message = "not valid JSON: " + _BYTE.sub("", text).replace("JSON is malformed: ", "")
    else:
        offset = len(data.rstrip())
        message = "not valid JSON: the input ends early (truncated?)"
    line = data.count(b"\n", 0, offset)
    start = data.rfind(b"\n", 0, offset) + 1
    column = len(data[start:offset].decode("utf-8", "replace")) + 1
    return f"line {first_line + line}, column {column}", message.strip()


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def _camel_keys(value):
    if isinstance(value, dict):
        return {_camel(k): _camel_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_camel_keys(v) for v in value]
    return value


def _from_snake_case(data: bytes) -> bytes:
    """proto3 JSON also allows the proto field names; rare enough to convert generically."""
    return msgspec.json.encode(_camel_keys(msgspec.json.decode(data)))


def read(stream: BinaryIO, source: str, diagnostics: Diagnostics) -> Iterator[Span]:
    reader = _Reader(source, diagnostics)
    skipped, lineno = b"", 0
    while True:
        line = stream.readline()
        lineno += 1
        if not line:
            return
        if lineno == 1 and line.startswith(_BOM):
            line = line[len(_BOM) :]
        if line.strip():
            break
        skipped += line
    snake = b'"resource_spans"' in line
    if line.lstrip().startswith(b"{"):
        try:
            first = _LINE.decode(_from_snake_case(line) if snake else line)
        except msgspec.ValidationError as exc:
            reader.place = f"line {lineno}"
            raise reader.fail(*_split_path(exc)) from None
        except RecursionError:
            raise InputError(source, f"line {lineno}", "values nested too deeply") from None
        except msgspec.DecodeError:
            first = None  # not a whole object on one line: one (pretty-printed) document
        if first is not None:
            yield from _read_lines(reader, first, lineno, stream, snake)
            return
    data = skipped + line + stream.read()
    yield from _read_document(reader, data, b'"resource_spans"' in data[:65536])


def _read_lines(
    reader: _Reader, first: _TracesData, lineno: int, stream: BinaryIO, snake: bool
) -> Iterator[Span]:
    reader.place = f"line {lineno}"
    yield from reader.spans(first, "$")
    for line in stream:
        lineno += 1
        if not line.strip():
            continue
        reader.place = f"line {lineno}"
        try:
            data = _LINE.decode(_from_snake_case(line) if snake else line)
        except msgspec.ValidationError as exc:
            raise reader.fail(*_split_path(exc)) from None
        except RecursionError:
            raise reader.fail("", "values nested too deeply") from None
        except msgspec.DecodeError as exc:
            where, message = _syntax_error(exc, line, lineno)
            raise InputError(reader.source, where, message) from None
        yield from reader.spans(data, "$")


def _read_document(reader: _Reader, data: bytes, snake: bool) -> Iterator[Span]:
    try:
        decoded = _DOCUMENT.decode(_from_snake_case(data) if snake else data)
    except msgspec.ValidationError as exc:
        path, message = _split_path(exc)
        raise InputError(reader.source, path, message) from None
    except RecursionError:
        raise InputError(reader.source, "", "values nested too deeply") from None
    except msgspec.DecodeError as exc:
        where, message = _syntax_error(exc, data)
        raise InputError(reader.source, where, message) from None
    del data
    if isinstance(decoded, list):
        for i, request in enumerate(decoded):
            yield from reader.spans(request, f"$[{i}]")
    else:
        yield from reader.spans(decoded, "$")


# --- writing --------------------------------------------------------------------------------


def _value(value: AttributeValue) -> dict:
    kind = value.__class__
    if kind is str:
        return {"stringValue": value}
    if kind is bool:
        return {"boolValue": value}
    if kind is int:
        if INT64_MIN <= value <= INT64_MAX:  # type: ignore[operator]
            return {"intValue": str(value)}
        return {"stringValue": str(value)}  # OTLP integers are 64-bit; keep the digits
    if kind is float:
        if math.isfinite(value):  # type: ignore[arg-type]
            return {"doubleValue": value}
        return {
            "doubleValue": "NaN" if value != value else ("Infinity" if value > 0 else "-Infinity")
        }  # type: ignore[operator]
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
