"""Jaeger JSON: the query API / UI export (``{"data": [trace, ...]}``) and its relatives.

Reading accepts, detected from the document's shape:
- the API / UI export ``{"data": [trace, ...], "total", "limit", "offset", "errors"}``;
- one trace ``{"traceID", "spans": [...], "processes": {"p1": {...}}, "warnings"}``, also
  inside jaeger-ui's fetch-state wrapper ``{"id", "state", "data": trace}``, or an array of them;
- a bare array of spans, each with an inline ``"process"`` (Jaeger's anonymizer output);
- one span object with an inline process (a Jaeger Elasticsearch span document, whose tag
  values are all strings and whose binary values are hex).
Jaeger's internal domain model written as protobuf JSON (base64 ``traceId``/``spanId``, RFC 3339
times: Jaeger's own test fixtures) is refused with a message saying so, as is OTLP JSON.

Mapping (the one the OTel Jaeger translator uses): ``startTime``/``duration`` are microseconds,
``end = start + duration``; 16-digit trace ids are left-padded to 32. The first CHILD_OF
reference into the same trace (or ``parentSpanID``) is the parent; failing that, a FOLLOWS_FROM
reference in first place is the parent with ``follows_from=True``; every other reference is a
``Link`` whose attribute ``opentracing.ref_type`` (``child_of``/``follows_from``) keeps its type.
Tags become typed attributes, except those that carry model fields, which are removed:
``span.kind`` (kind), ``otel.status_code`` and ``error=true`` (status ERROR),
``otel.status_description`` (status message), ``otel.scope.name``/``otel.library.name`` and
their ``version`` (scope), ``w3c.tracestate`` (trace state). A special tag whose value does not
fit (an unknown kind, ``error=false``) stays an attribute. ``process.serviceName`` is the service
name; process tags plus ``service.name`` are the resource attributes, one dict per process.
Logs become events named by their ``event`` field (else ``"log"``), the other fields attributes.
A span's ``warnings`` become ``span.warnings``; a trace's warnings go to diagnostics. Jaeger's
``flags`` (1 = sampled) become ``span.flags``. A span without ``duration`` never ended
(``end_ns == 0``; the writer omits it for such spans).

Memory: a Jaeger document is one JSON value, so it is decoded whole (typed ``msgspec`` structs)
and spans are yielded trace by trace; this format cannot stream.

Bad input raises ``InputError`` naming the JSON path (``$.data[0].spans[3].spanID``) or byte
offset: malformed or truncated JSON, a value of the wrong JSON type, a missing trace or span id.
Jaeger itself accepts any string as an id and hand-made traces use that (jaeger-ui's test traces
say ``"trace-123"``/``"span-1"``), so an id that is not hex is read as a stable hex id derived
from it (``hex_id_for``) with a warning naming it, rather than refused.

Writing: see ``spanscope.formats.jaeger_writer`` (``write`` is re-exported here), which also
lists precisely what Jaeger JSON cannot hold.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator
from typing import Any, BinaryIO

import msgspec

from spanscope.errors import Diagnostics, InputError
from spanscope.formats.jaeger_tags import decode_value
from spanscope.formats.jaeger_writer import write
from spanscope.model import (
    Attributes,
    Event,
    InvalidIdError,
    Link,
    Span,
    SpanKind,
    StatusCode,
    normalize_span_id,
    normalize_trace_id,
)

NAME = "jaeger-json"

__all__ = ["NAME", "hex_id_for", "read", "write"]


class _Tag(msgspec.Struct):
    key: str = ""
    type: str | None = None
    value: Any = None


class _Log(msgspec.Struct):
    timestamp: int = 0
    fields: list[_Tag] | None = None


class _Ref(msgspec.Struct):
    refType: str = "CHILD_OF"
    traceID: str = ""
    spanID: str = ""


class _Process(msgspec.Struct):
    serviceName: str = ""
    tags: list[_Tag] | None = None


class _Span(msgspec.Struct):
    traceID: str = ""
    spanID: str = ""
    parentSpanID: str = ""
    flags: int = 0
    operationName: str = ""
    references: list[_Ref] | None = None
    startTime: int = 0
    duration: int | None = None
    tags: list[_Tag] | None = None
    logs: list[_Log] | None = None
    processID: str = ""
    process: _Process | None = None
    warnings: list[str] | None = None


class _Trace(msgspec.Struct):
    traceID: str = ""
    spans: list[_Span] | None = None
    processes: dict[str, _Process] | None = None
    warnings: list[str] | None = None


class _Document(_Span):
    """Any top-level object: an export (``data``), a trace (``spans``) or one span."""

    data: list[_Trace] | _Trace | None = None
    spans: list[_Span] | None = None
    processes: dict[str, _Process] | None = None
    errors: Any = None


class _Probe(msgspec.Struct):
    """Enough of an array's first element to tell traces from spans."""

    spans: Any = None


_TOP = msgspec.json.Decoder(_Document | list[msgspec.Raw])
_PROBE = msgspec.json.Decoder(_Probe)
_TRACES = msgspec.json.Decoder(list[_Trace])
_SPANS = msgspec.json.Decoder(list[_Span])
_PATH = re.compile(r" - at `(\$[^`]*)`$")
_BYTE = re.compile(r"\(byte (\d+)\)")

_KINDS = {
    "client": SpanKind.CLIENT,
    "server": SpanKind.SERVER,
    "producer": SpanKind.PRODUCER,
    "consumer": SpanKind.CONSUMER,
    "internal": SpanKind.INTERNAL,
}
_STATUS = {"OK": StatusCode.OK, "ERROR": StatusCode.ERROR, "UNSET": StatusCode.UNSET}
_SPECIAL = frozenset(
    {
        "span.kind",
        "otel.status_code",
        "otel.status_description",
        "error",
        "otel.scope.name",
        "otel.scope.version",
        "otel.library.name",
        "otel.library.version",
        "w3c.tracestate",
    }
)
_CHILD_OF = "CHILD_OF"
_FOLLOWS_FROM = "FOLLOWS_FROM"
_ZERO_IDS = frozenset({"", "0", "0" * 16, "0" * 32})


def hex_id_for(text: str, width: int) -> str:
    """The stable hex id (``width`` digits) that the reader gives the non-hex id ``text``."""
    return hashlib.blake2b(text.encode(), digest_size=width // 2).hexdigest()


def read(stream: BinaryIO, source: str, diagnostics: Diagnostics) -> Iterator[Span]:
    """Yield the spans of one Jaeger JSON document (see the module docstring)."""
    data = stream.read()
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if not data.strip():
        raise InputError(source, "start of file", "the input is empty")
    _refuse_relatives(data[:65536], source)
    doc = decode(_TOP, data, source)
    reader = SpanReader(source, diagnostics)
    if isinstance(doc, list):
        if not doc:
            return
        first = decode(_PROBE, doc[0], source, "$[0]")
        if first.spans is not None:
            for index, trace in enumerate(decode(_TRACES, data, source)):
                yield from reader.trace(trace, f"$[{index}]")
        else:
            yield from reader.spans(decode(_SPANS, data, source), "", {}, "$")
        return
    if doc.data is not None:
        if isinstance(doc.data, list):
            for index, trace in enumerate(doc.data):
                yield from reader.trace(trace, f"$.data[{index}]")
        else:
            yield from reader.trace(doc.data, "$.data")
    elif doc.spans is not None:
        yield from reader.trace(doc, "$")  # type: ignore[arg-type]
    elif doc.spanID:
        # A lone span is Jaeger's Elasticsearch document, where binary values are hex.
        reader.hex_binary = True
        yield reader.span(doc, "", reader.process_of(doc, {}, {}, "$"), "$")
    elif doc.errors:
        raise InputError(source, "$.errors", f"the Jaeger API answered with errors: {doc.errors}")
    else:
        raise InputError(
            source,
            "$",
            "not Jaeger JSON: expected {data: [trace...]}, a trace {traceID, spans, "
            "processes}, a span, or an array of spans",
        )


def _refuse_relatives(head: bytes, source: str) -> None:
    """JSON that decodes into our structs but means something else gets a clear message."""
    if b'"resourceSpans"' in head or b'"resource_spans"' in head:
        raise InputError(source, "$", "this is OTLP JSON, not Jaeger JSON")
    if b'"spanId"' in head and b'"spanID"' not in head:
        raise InputError(
            source,
            "$",
            "this is Jaeger's internal domain model (protobuf JSON, base64 traceId/spanId), "
            "not Jaeger JSON: export the trace from the Jaeger UI or its /api/traces API",
        )
    if b'"traceId"' in head and b'"traceID"' not in head:
        raise InputError(
            source, "$", "not Jaeger JSON: it has 'traceId' keys (Zipkin style), not 'traceID'"
        )


def decode(decoder: msgspec.json.Decoder, data: bytes, source: str, within: str = "") -> Any:
    """Decode ``data``, turning msgspec's errors into InputError with the JSON path or byte."""
    try:
        return decoder.decode(data)
    except msgspec.ValidationError as exc:
        message = str(exc)
        match = _PATH.search(message)
        place = match.group(1) if match else "$"
        if within:
            place = within + place[1:]
        text = message[: match.start()] if match else message
        raise InputError(source, place, f"not Jaeger JSON here: {text}") from None
    except msgspec.DecodeError as exc:
        message = str(exc)
        match = _BYTE.search(message)
        if match:
            place = f"byte {match.group(1)}"
        elif "truncated" in message:
            place = f"byte {len(data)} (end of input)"
        else:
            place = "start of file"
        raise InputError(source, place, f"malformed JSON: {message}") from None


class SpanReader:
    """Turns decoded Jaeger structs into model spans, remembering processes and remapped ids."""

    def __init__(self, source: str, diagnostics: Diagnostics) -> None:
        self.source = source
        self.diagnostics = diagnostics
        self.hex_binary = False
        self._remapped: dict[str, str] = {}
        self._inline: dict[bytes, tuple[str, Attributes]] = {}

    def warn(self, place: str, message: str) -> None:
        self.diagnostics.warn(self.source, place, message)

    def trace(self, trace: _Trace, path: str) -> Iterator[Span]:
        for warning in trace.warnings or ():
            self.warn(path, f"Jaeger trace warning: {warning}")
        yield from self.spans(
            trace.spans or [], trace.traceID, trace.processes or {}, f"{path}.spans"
        )

    def spans(
        self,
        raws: list[_Span],
        default_trace_id: str,
        processes: dict[str, _Process],
        path: str,
    ) -> Iterator[Span]:
        """Yield ``raws`` (found at JSON ``path``), resolving each span's process."""
        resolved: dict[str, tuple[str, Attributes]] = {}
        for index, raw in enumerate(raws):
            place = f"{path}[{index}]"
            process = self.process_of(raw, processes, resolved, place)
            yield self.span(raw, default_trace_id, process, place)

    def process_of(
        self,
        raw: _Span,
        processes: dict[str, _Process],
        resolved: dict[str, tuple[str, Attributes]],
        place: str,
    ) -> tuple[str, Attributes]:
        if raw.processID and raw.processID in processes:
            process = resolved.get(raw.processID)
            if process is None:
                process = resolved[raw.processID] = self.process(processes[raw.processID], place)
            return process
        if raw.process is not None:
            # Inline processes (anonymizer output) repeat per span: share one dict per content.
            key = msgspec.json.encode(raw.process)
            process = self._inline.get(key)
            if process is None:
                process = self._inline[key] = self.process(raw.process, place)
            return process
        self.warn(place, f"span has no process (processID {raw.processID!r} is not known)")
        return "", {}

    def process(self, process: _Process, place: str) -> tuple[str, Attributes]:
        attributes: Attributes = {}
        name = process.serviceName
        if name:
            attributes["service.name"] = name
        for tag in process.tags or ():
            value = self.value(tag, place)
            if tag.key == "service.name":
                if not name and type(value) is str:
                    name = value
                    attributes["service.name"] = value
                continue
            attributes[tag.key] = value
        return name, attributes

    def value(self, tag: _Tag, place: str) -> Any:
        value = tag.value
        if tag.type == "string" and type(value) is str:
            return value
        return decode_value(
            tag.key, tag.type, value, lambda message: self.warn(place, message), self.hex_binary
        )

    def id(self, value: str, width: int, place: Callable[[], str]) -> str:
        try:
            return normalize_trace_id(value) if width == 32 else normalize_span_id(value)
        except InvalidIdError:
            if not value:
                what = "trace id" if width == 32 else "span id"
                raise InputError(self.source, place(), f"missing {what}") from None
        key = f"{width}:{value}"
        mapped = self._remapped.get(key)
        if mapped is None:
            mapped = self._remapped[key] = hex_id_for(value, width)
            self.warn(place(), f"id {value!r} is not a hex id; read as {mapped}")
        return mapped

    def span(
        self, raw: _Span, default_trace_id: str, process: tuple[str, Attributes], place: str
    ) -> Span:
        trace_id = self.id(raw.traceID or default_trace_id, 32, lambda: f"{place}.traceID")
        span_id = self.id(raw.spanID, 16, lambda: f"{place}.spanID")
        parent_id, follows_from, links = self.references(raw, trace_id, place)

        attributes: Attributes = {}
        special: dict[str, Any] | None = None
        for tag in raw.tags or ():
            key = tag.key
            value = tag.value
            if tag.type != "string" or type(value) is not str:
                value = self.value(tag, place)
            if key in _SPECIAL:
                if special is None:
                    special = {}
                special[key] = value
            else:
                if key in attributes:
                    self.warn(place, f"tag {key!r} appears twice; the last value is kept")
                attributes[key] = value
        fields = _SpecialFields()
        if special:
            fields.apply(special, attributes)

        start_ns = raw.startTime * 1000
        duration = raw.duration
        return Span(
            trace_id=trace_id,
            span_id=span_id,
            name=raw.operationName,
            start_ns=start_ns,
            end_ns=0 if duration is None else start_ns + duration * 1000,
            parent_span_id=parent_id,
            kind=fields.kind,
            service_name=process[0],
            status_code=fields.status,
            status_message=fields.message,
            attributes=attributes,
            resource_attributes=process[1],
            scope_name=fields.scope_name,
            scope_version=fields.scope_version,
            events=self.events(raw.logs, place) if raw.logs else [],
            links=links,
            trace_state=fields.trace_state,
            flags=raw.flags,
            follows_from=follows_from,
            warnings=list(raw.warnings) if raw.warnings else [],
        )

    def references(self, raw: _Span, trace_id: str, place: str) -> tuple[str, bool, list[Link]]:
        refs: list[tuple[str, str, str]] = []
        for index, ref in enumerate(raw.references or ()):
            where = f"{place}.references[{index}]"
            if ref.spanID in _ZERO_IDS:
                self.warn(where, "reference without a span id ignored")
                continue
            ref_type = ref.refType
            if ref_type not in (_CHILD_OF, _FOLLOWS_FROM):
                ref_type = ref_type.upper()
                if ref_type not in (_CHILD_OF, _FOLLOWS_FROM):
                    self.warn(where, f"unknown reference type {ref.refType!r}; kept as a link")
            ref_trace = (
                self.id(ref.traceID, 32, lambda where=where: f"{where}.traceID")
                if ref.traceID
                else trace_id
            )
            ref_span = self.id(ref.spanID, 16, lambda where=where: f"{where}.spanID")
            refs.append((ref_type, ref_trace, ref_span))

        parent = ""
        follows_from = False
        chosen = -1
        if raw.parentSpanID not in _ZERO_IDS:
            parent = self.id(raw.parentSpanID, 16, lambda: f"{place}.parentSpanID")
            for index, (ref_type, ref_trace, ref_span) in enumerate(refs):
                if ref_trace == trace_id and ref_span == parent:
                    chosen, follows_from = index, ref_type == _FOLLOWS_FROM
                    break
        else:
            for index, (ref_type, ref_trace, _) in enumerate(refs):
                if ref_type == _CHILD_OF and ref_trace == trace_id:
                    chosen = index
                    break
            else:
                if refs and refs[0][0] == _FOLLOWS_FROM and refs[0][1] == trace_id:
                    chosen, follows_from = 0, True
            if chosen >= 0:
                parent = refs[chosen][2]
        links = [
            Link(
                trace_id=ref_trace,
                span_id=ref_span,
                attributes={"opentracing.ref_type": ref_type.lower()},
            )
            for index, (ref_type, ref_trace, ref_span) in enumerate(refs)
            if index != chosen
        ]
        return parent, follows_from, links

    def events(self, logs: list[_Log], place: str) -> list[Event]:
        events = []
        for index, log in enumerate(logs):
            name: str | None = None
            attributes: Attributes = {}
            for tag in log.fields or ():
                value = tag.value
                if tag.type != "string" or type(value) is not str:
                    value = self.value(tag, f"{place}.logs[{index}]")
                if tag.key == "event" and name is None and type(value) is str:
                    name = value
                else:
                    attributes[tag.key] = value
            events.append(
                Event(
                    time_ns=log.timestamp * 1000,
                    name="log" if name is None else name,
                    attributes=attributes,
                )
            )
        return events


class _SpecialFields:
    """The model fields that Jaeger carries in tags (see the module docstring)."""

    __slots__ = ("kind", "message", "scope_name", "scope_version", "status", "trace_state")

    def __init__(self) -> None:
        self.kind = SpanKind.UNSPECIFIED
        self.status = StatusCode.UNSET
        self.message = ""
        self.scope_name = ""
        self.scope_version = ""
        self.trace_state = ""

    def apply(self, special: dict[str, Any], attributes: Attributes) -> None:
        def keep(key: str) -> None:
            attributes[key] = special[key]

        if "span.kind" in special:
            value = special["span.kind"]
            kind = _KINDS.get(value.lower()) if type(value) is str else None
            if kind is None:
                keep("span.kind")
            else:
                self.kind = kind
        has_code = "otel.status_code" in special
        if has_code:
            value = special["otel.status_code"]
            status = _STATUS.get(value.upper()) if type(value) is str else None
            if status is None:
                keep("otel.status_code")
                has_code = False
            else:
                self.status = status
        if "error" in special:
            value = special["error"]
            is_true = value is True or (type(value) is str and value.lower() == "true")
            if is_true and (not has_code or self.status == StatusCode.ERROR):
                self.status = StatusCode.ERROR
            else:
                keep("error")
        for key, slot in (
            ("otel.status_description", "message"),
            ("w3c.tracestate", "trace_state"),
        ):
            if key in special:
                if type(special[key]) is str:
                    setattr(self, slot, special[key])
                else:
                    keep(key)
        for field in ("name", "version"):
            scope_key, library_key = f"otel.scope.{field}", f"otel.library.{field}"
            scope, library = special.get(scope_key), special.get(library_key)
            chosen = scope if type(scope) is str else library if type(library) is str else None
            if chosen is not None:
                setattr(self, f"scope_{field}", chosen)
            for key, value in ((scope_key, scope), (library_key, library)):
                if key in special and value != chosen:
                    keep(key)
