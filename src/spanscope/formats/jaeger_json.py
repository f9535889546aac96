"""Jaeger JSON: the query API / UI export (``{"data": [trace, ...]}``) and its relatives.

Reading accepts, detected from the document's shape:
- the API / UI export ``{"data": [trace, ...], "total", "limit", "offset", "errors"}``;
- one trace ``{"traceID", "spans": [...], "processes": {"p1": {...}}, "warnings"}``, also
  inside jaeger-ui's fetch-state wrapper ``{"id", "state", "data": trace}``, or an array of them;
- a bare array of spans, each with an inline ``"process"`` (Jaeger's anonymizer output);
- one span object with an inline process (a Jaeger Elasticsearch span document, whose tag
  values are all strings and whose binary values are hex).
Jaeger's internal domain model written as protobuf JSON (base64 ``traceId``/``spanId``, RFC 3339
times: Jaeger's own test fixtures) is refused with a message saying so, as is OTLP JSON (looked
for only when a document gives no span, so valid Jaeger JSON is never scanned for them).

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

Memory: a Jaeger document is one JSON value, so it is decoded whole (typed ``msgspec`` structs,
``jaeger_structs``: tags checked by msgspec first, leniently when that fails) and spans are
yielded trace by trace; this format cannot stream.

Bad input raises ``InputError`` naming the JSON path (``$.data[0].spans[3].spanID``) or byte
offset: malformed or truncated JSON, a value of the wrong JSON type, a missing trace or span id.
Jaeger itself accepts any string as an id and hand-made traces use that (jaeger-ui's test traces
say ``"trace-123"``/``"span-1"``), so an id that is not hex is read as a stable hex id derived
from it (``hex_id_for``), with one warning for the input, rather than refused.

Writing: see ``spanscope.formats.jaeger_writer`` (``write`` is re-exported here), which also
lists precisely what Jaeger JSON cannot hold.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, BinaryIO

import msgspec

from spanscope.errors import Diagnostics, InputError
from spanscope.formats.jaeger_spans import SpanReader, hex_id_for
from spanscope.formats.jaeger_structs import CHECKED, LENIENT, PROBE, Decoders
from spanscope.formats.jaeger_writer import write
from spanscope.formats.json_errors import split_path, syntax_error, utf8_error
from spanscope.formats.source import document_share
from spanscope.model import Span

NAME = "jaeger-json"

__all__ = ["NAME", "hex_id_for", "read", "write"]

_BOM = b"\xef\xbb\xbf"
_HEAD = 65536


def read(stream: BinaryIO, source: str, diagnostics: Diagnostics) -> Iterator[Span]:
    """Yield the spans of one Jaeger JSON document (see the module docstring)."""
    data = stream.read()
    if data[:3] == _BOM:
        data = data[3:]
    if not data or data.isspace():
        raise InputError(source, "start of file", "the input is empty")
    spans = _spans(data, source, diagnostics)
    try:
        first = next(spans, None)
    except InputError:
        # JSON of a related format decodes into our structs but then lacks what Jaeger JSON
        # must have (ids, a known shape): say what it is instead. Looked for only when the
        # document gave no span, so reading valid Jaeger JSON never scans for it.
        _refuse_relatives(data[:_HEAD], source)
        raise
    if first is None:
        _refuse_relatives(data[:_HEAD], source)
        return
    yield first
    yield from spans


def _spans(data: bytes, source: str, diagnostics: Diagnostics) -> Iterator[Span]:
    flavour, doc = _decode(CHECKED, "top", data, source)
    reader = SpanReader(source, diagnostics)
    reader.typed = flavour.typed
    if isinstance(doc, list):
        if not doc:
            return
        first = decode(PROBE, doc[0], source, "$[0]")
        if first.spans is not None:
            flavour, traces = _decode(flavour, "traces", data, source)
            reader.typed = flavour.typed
            share = document_share()
            for index, trace in enumerate(traces):
                if share is not None:
                    share(index, len(traces))
                yield from reader.trace(trace, f"$[{index}]")
        else:
            flavour, spans = _decode(flavour, "spans", data, source)
            reader.typed = flavour.typed
            yield from reader.spans(spans, "", {}, "$")
        return
    if doc.data is not None:
        if isinstance(doc.data, list):
            share = document_share()
            for index, trace in enumerate(doc.data):
                if share is not None:
                    share(index, len(doc.data))
                yield from reader.trace(trace, f"$.data[{index}]")
        else:
            yield from reader.trace(doc.data, "$.data")
    elif doc.spans is not None:
        yield from reader.trace(doc, "$")
    elif doc.spanID:
        # A lone span is Jaeger's Elasticsearch document, where binary values are hex: only
        # the lenient flavour tries hex before base64.
        if flavour.typed:
            doc = decode(LENIENT.top, data, source)
            reader.typed = False
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


def _decode(flavour: Decoders, part: str, data: bytes, source: str) -> tuple[Decoders, Any]:
    """``data`` decoded by the ``part`` decoder (top, traces, spans) of ``flavour``; the checked
    flavour falls back to the lenient one, whose errors become InputError. Returns the flavour
    that decoded it."""
    if flavour.typed:
        try:
            return CHECKED, getattr(CHECKED, part).decode(data)
        except (msgspec.DecodeError, RecursionError, UnicodeDecodeError):
            pass  # ValidationError is a DecodeError
    return LENIENT, decode(getattr(LENIENT, part), data, source)


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
    """Decode ``data``, turning msgspec's errors into InputError with the JSON path or the line
    and column."""
    try:
        return decoder.decode(data)
    except msgspec.ValidationError as exc:
        place, text = split_path(exc, within or "$")
        raise InputError(source, place, f"not Jaeger JSON here: {text}") from None
    except RecursionError:
        raise InputError(source, "start of file", "JSON nested too deeply to be a trace") from None
    except msgspec.DecodeError as exc:
        raise InputError(source, *syntax_error(exc, data)) from None
    except UnicodeDecodeError:  # msgspec's, for a string that is not UTF-8
        raise InputError(source, *utf8_error(data)) from None
