"""Jaeger's domain model as protobuf JSON (api_v2 ``model.proto``), read as Jaeger JSON.

This is what ``grpcurl`` prints for Jaeger's api_v2 query service and what Jaeger's own test
fixtures hold: ``traceId``/``spanId`` are base64 bytes (16 and 8), ``startTime`` is RFC 3339
with up to nanoseconds, ``duration`` a Go or protobuf duration (``"5000ns"``, ``"0.000005s"``,
``"1m2.5s"``), tags are ``{"key", "vType", "vStr" | "vBool" | "vInt64" | "vFloat64" |
"vBinary"}`` with ``vType`` defaulting to STRING, and reference types default to CHILD_OF
(protobuf's zero values are omitted). Accepted documents: a trace ``{"spans": [...],
"processMap": [{"processId", "process"}], "warnings"}``, the same under ``"result"`` (grpc-gateway),
one span, or an array of spans.

Each span is translated into the Jaeger UI structs and converted by the same code as Jaeger
JSON (``jaeger_json.SpanReader``), with nanosecond times, so the mapping is identical.
"""

from __future__ import annotations

import base64
import binascii
import calendar
import re
from collections.abc import Iterator
from decimal import Decimal, InvalidOperation
from typing import Any

import msgspec

from spanscope.errors import Diagnostics, InputError
from spanscope.formats import jaeger_json as jj
from spanscope.model import Span


class _KeyValue(msgspec.Struct):
    key: str = ""
    vType: str | int = "STRING"
    vStr: str = ""
    vBool: bool = False
    vInt64: int | str = 0
    vFloat64: float | str = 0.0
    vBinary: str = ""


class _Log(msgspec.Struct):
    timestamp: str = ""
    fields: list[_KeyValue] | None = None


class _Ref(msgspec.Struct):
    traceId: str = ""
    spanId: str = ""
    refType: str | int = "CHILD_OF"


class _Process(msgspec.Struct):
    serviceName: str = ""
    tags: list[_KeyValue] | None = None


class _Span(msgspec.Struct):
    traceId: str = ""
    spanId: str = ""
    operationName: str = ""
    references: list[_Ref] | None = None
    flags: int = 0
    startTime: str = ""
    duration: str = ""
    tags: list[_KeyValue] | None = None
    logs: list[_Log] | None = None
    process: _Process | None = None
    processId: str = ""
    warnings: list[str] | None = None


class _Mapping(msgspec.Struct):
    processId: str = ""
    process: _Process | None = None


class _Trace(msgspec.Struct):
    spans: list[_Span] | None = None
    processMap: list[_Mapping] | None = None
    warnings: list[str] | None = None
    resourceSpans: Any = None


class _Document(_Span):
    spans: list[_Span] | None = None
    processMap: list[_Mapping] | None = None
    result: _Trace | None = None
    resourceSpans: Any = None


_TOP = msgspec.json.Decoder(_Document | list[_Span])
_TIME = re.compile(
    r"(\d{4})-(\d\d)-(\d\d)[Tt ](\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d\d):(\d\d))$"
)
_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)")
_UNIT_NS = {
    "ns": 1,
    "us": 1_000,
    "µs": 1_000,
    "μs": 1_000,
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60_000_000_000,
    "h": 3_600_000_000_000,
}
_VALUE_TYPES = {0: "STRING", 1: "BOOL", 2: "INT64", 3: "FLOAT64", 4: "BINARY"}
_REF_TYPES = {0: "CHILD_OF", 1: "FOLLOWS_FROM"}


class _BadValue(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def parse_time(text: str) -> int:
    """RFC 3339 time (nanosecond precision kept) to ns since the epoch; "" is 0."""
    if not text:
        return 0
    match = _TIME.match(text.strip())
    if match is None:
        raise ValueError(f"invalid time {text!r}: expected RFC 3339")
    year, month, day, hour, minute, second, fraction, zulu, sign, off_h, off_m = match.groups()
    seconds = calendar.timegm(
        (int(year), int(month), int(day), int(hour), int(minute), int(second), 0, 0, 0)
    )
    if not zulu and sign:
        offset = int(off_h) * 3600 + int(off_m) * 60
        seconds -= offset if sign == "+" else -offset
    nanos = int((fraction or "").ljust(9, "0")) if fraction else 0
    return seconds * 1_000_000_000 + nanos


def parse_duration(text: str) -> int:
    """A Go (``1m2.5s``, ``5000ns``) or protobuf (``0.000005s``) duration in ns; "" is 0."""
    text = text.strip()
    if not text:
        return 0
    sign = -1 if text.startswith("-") else 1
    body = text.lstrip("+-")
    total = Decimal(0)
    position = 0
    for match in _DURATION_PART.finditer(body):
        if match.start() != position:
            break
        try:
            total += Decimal(match.group(1)) * _UNIT_NS[match.group(2)]
        except InvalidOperation:
            break
        position = match.end()
    if position != len(body) or position == 0:
        raise ValueError(f"invalid duration {text!r}: expected e.g. 5000ns, 1.5s or 1m2s")
    return sign * int(total)


def _hex_id(value: str, width: int, field: str) -> str:
    """Base64 id bytes to hex; a value that is already hex is taken as it is."""
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return value  # not base64: let the id check report it (or accept hex)
    if raw and len(raw) * 2 <= width:
        return raw.hex()
    if len(value) <= width and all(c in "0123456789abcdefABCDEF" for c in value):
        return value
    raise _BadValue(field, f"invalid id {value!r}: {len(raw)} bytes, expected {width // 2}")


def _tag(kv: _KeyValue) -> jj._Tag:
    kind = kv.vType if isinstance(kv.vType, str) else _VALUE_TYPES.get(kv.vType, str(kv.vType))
    kind = kind.upper()
    if kind == "STRING":
        return jj._Tag(kv.key, "string", kv.vStr)
    if kind == "BOOL":
        return jj._Tag(kv.key, "bool", kv.vBool)
    if kind == "INT64":
        return jj._Tag(kv.key, "int64", kv.vInt64)
    if kind == "FLOAT64":
        return jj._Tag(kv.key, "float64", kv.vFloat64)
    if kind == "BINARY":
        return jj._Tag(kv.key, "binary", kv.vBinary)
    return jj._Tag(kv.key, kind.lower(), kv.vStr)


def _process(process: _Process) -> jj._Process:
    return jj._Process(process.serviceName, [_tag(kv) for kv in process.tags or ()])


def _span(span: _Span, place: str) -> jj._Span:
    field = "startTime"
    try:
        start_ns = parse_time(span.startTime)
        field = "duration"
        duration_ns = parse_duration(span.duration)
        references = []
        for index, ref in enumerate(span.references or ()):
            field = f"references[{index}]"
            ref_type = ref.refType
            if not isinstance(ref_type, str):
                ref_type = _REF_TYPES.get(ref_type, str(ref_type))
            references.append(
                jj._Ref(
                    ref_type,
                    _hex_id(ref.traceId, 32, field) if ref.traceId else "",
                    _hex_id(ref.spanId, 16, field),
                )
            )
        logs = []
        for index, log in enumerate(span.logs or ()):
            field = f"logs[{index}].timestamp"
            logs.append(jj._Log(parse_time(log.timestamp), [_tag(kv) for kv in log.fields or ()]))
        return jj._Span(
            traceID=_hex_id(span.traceId, 32, "traceId"),
            spanID=_hex_id(span.spanId, 16, "spanId"),
            flags=span.flags,
            operationName=span.operationName,
            references=references,
            startTime=start_ns,
            duration=duration_ns,
            tags=[_tag(kv) for kv in span.tags or ()],
            logs=logs,
            processID=span.processId,
            process=_process(span.process) if span.process is not None else None,
            warnings=span.warnings,
        )
    except _BadValue as exc:
        raise _Located(f"{place}.{exc.field}", str(exc)) from None
    except ValueError as exc:
        raise _Located(f"{place}.{field}", str(exc)) from None


class _Located(Exception):
    def __init__(self, place: str, message: str) -> None:
        super().__init__(message)
        self.place = place


def read_document(data: bytes, source: str, diagnostics: Diagnostics) -> Iterator[Span]:
    """Yield the spans of one domain-model document (see the module docstring)."""
    doc = jj.decode(_TOP, data, source)
    reader = jj.SpanReader(source, diagnostics, time_scale=1)
    if isinstance(doc, list):
        spans, mappings, path = doc, [], "$"
    elif doc.resourceSpans is not None:
        raise InputError(source, "$.resourceSpans", "this is OTLP JSON, not Jaeger JSON")
    elif doc.result is not None and doc.result.resourceSpans is not None:
        raise InputError(
            source,
            "$.result.resourceSpans",
            "this is a Jaeger api_v3 answer (OTLP JSON under 'result'), not Jaeger JSON",
        )
    elif doc.result is not None:
        spans, mappings, path = doc.result.spans or [], doc.result.processMap or [], "$.result"
        path += ".spans"
    elif doc.spans is not None:
        spans, mappings, path = doc.spans, doc.processMap or [], "$.spans"
    elif doc.spanId:
        spans, mappings, path = [doc], [], ""
    else:
        raise InputError(
            source, "$", "not Jaeger JSON: expected a trace {spans: [...]} or a span {spanId}"
        )
    warnings = None  # a trace's warnings (a lone span's are its own)
    if not isinstance(doc, list):
        warnings = doc.result.warnings if doc.result is not None else None
        warnings = doc.warnings if doc.spans is not None else warnings
    for warning in warnings or ():
        reader.warn("$", f"Jaeger trace warning: {warning}")
    processes = {m.processId: _process(m.process) for m in mappings if m.process is not None}
    resolved: dict[str, Any] = {}
    for index, span in enumerate(spans):
        place = f"{path}[{index}]" if path else "$"
        try:
            raw = _span(span, place)
        except _Located as exc:
            raise InputError(source, exc.place, str(exc)) from None
        process = reader.process_of(raw, processes, resolved, place)
        yield reader.span(raw, "", process, place)
