"""Zipkin v2 JSON (``POST /api/v2/spans``, ``GET /api/v2/trace/{id}``): read and write.

Reading: a JSON list of v2 spans (``ListOfSpans``, ``Trace``), a list of such lists
(``ListOfTraces``, what ``GET /api/v2/traces`` answers), or one span object (Zipkin's benchmark
payloads are single objects). The document is decoded whole with ``msgspec`` into typed
structs (a Zipkin document is one JSON value, so memory is proportional to the input), then
spans are converted and yielded one by one. How fields map to the model is documented in
``zipkin_convert`` (reading) and ``zipkin_encode`` (writing); they follow the OpenTelemetry
Collector's zipkin translator.
Errors: invalid ids (``"BADID"``), wrong types, malformed or truncated JSON raise ``InputError``
naming the source and the JSON path or byte; odd but readable data (short ids, missing times,
malformed annotation times, non-string tags) is read and reported through ``diagnostics``.

Writing: one JSON list of v2 spans, streamed span by span.

What a write -> read round trip keeps: ids (128-bit and 64-bit trace ids), parent, name, kind
(INTERNAL via the ``span.kind`` tag), start and end at microsecond precision, service name,
shared, status code, status message for OK and ERROR, attribute keys and values as strings, the
endpoint attributes, resource attributes named in ``zipkin_convert.RESOURCE_KEYS``, scope name
and version, trace state, links (via ``otlp.link.N`` tags), events with their attributes (via
the collector's ``name|{json}|dropped`` annotation encoding).

What it loses:
- nanosecond precision: times are truncated to microseconds; a span shorter than 1 µs becomes
  1 µs long (reading, a fractional microsecond such as OpenTelemetry JS's
  ``1700000000123456.8`` is kept to the nearest nanosecond: ``zipkin_common.exact``, which
  reads a float as its shortest text, the text JSON writers of doubles print; a time written
  with more digits than a double holds, ``1700000000123456.789``, is read to about 0.1 µs);
- attribute types: every attribute value is read back as a string (``true``, ``25``, ``12.3``,
  base64 for bytes, JSON for lists and maps); event and link attributes keep JSON types (so
  bytes come back as base64 strings);
- resource attributes other than ``service.name`` and the semantic-convention names: they come
  back as span attributes; resource attributes of a span without a service name likewise; and
  the other way round, span attributes named like resource conventions (``host.name``...) come
  back as resource attributes (``service.name`` as a span attribute is dropped);
- status message when the status is UNSET; an ``error`` attribute on a span that is not ERROR;
- scope attributes, trace flags, dropped attribute/event/link counts of the span, span
  ``follows_from``, and ``warnings``;
- the end of a span that never ended or ends before it starts (no ``duration`` is written, so
  it is read back as never ended), and the start of a span that starts within the first
  microsecond of the epoch;
- span attributes named like the tags this mapping gives a meaning (``span.kind``,
  ``otel.status_code``/``_description``, ``otel.scope.*``, ``otel.library.*``,
  ``w3c.tracestate``, ``otlp.link.N``, ``zipkin.debug``) come back as what those tags mean;
  the older endpoint names (``peer.service``, ``net.peer.ip``/``port``, ``net.host.ip``/``port``)
  come back under the current ones; link flags are not kept;
- a parent id equal to the span's own id (read as a root, as the collector does); identical
  events at the same microsecond (written once: Zipkin keeps annotations unique); the
  distinction of an event name containing ``|`` that looks like the collector's encoding.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import BinaryIO

import msgspec

from spanscope.errors import Diagnostics
from spanscope.formats.source import document_share
from spanscope.formats.zipkin_common import StrictZSpan, ZSpan, decode_document, write_json_list
from spanscope.formats.zipkin_convert import ZipkinReader
from spanscope.formats.zipkin_encode import to_zipkin
from spanscope.model import Span

NAME = "zipkin-v2"

# Strict first (every tag a string, checked by msgspec in C); the lenient decoder reads what the
# strict one refuses, or reports why the document cannot be read.
_STRICT = msgspec.json.Decoder(list[StrictZSpan | list[StrictZSpan]] | StrictZSpan)
_DECODER = msgspec.json.Decoder(list[ZSpan | list[ZSpan]] | ZSpan)


def read(stream: BinaryIO, source: str, diagnostics: Diagnostics) -> Iterator[Span]:
    """Yield the spans of a Zipkin v2 JSON document (see the module docstring)."""
    data = stream.read()
    try:
        document = _STRICT.decode(data)
        check_tags = False
    except (msgspec.DecodeError, ValueError, RecursionError, OverflowError):
        document = decode_document(_DECODER, data, source)
        check_tags = True
    convert = ZipkinReader(source, diagnostics).convert
    if isinstance(document, ZSpan):
        yield convert(document, "$", check_tags)
        return
    share = document_share()
    for index, item in enumerate(document):
        if share is not None and not index & 1023:  # a span each: a call per 1024 of them
            share(index, len(document))
        if isinstance(item, list):  # a list of traces (GET /api/v2/traces)
            for inner, zspan in enumerate(item):
                yield convert(zspan, f"$[{index}][{inner}]", check_tags)
        else:
            yield convert(item, f"$[{index}]", check_tags)


def write(spans: Iterable[Span], out: BinaryIO) -> None:
    """Write ``spans`` as one JSON list of Zipkin v2 spans."""
    write_json_list((to_zipkin(span) for span in spans), out)
