"""OTLP JSON: read and write ``ExportTraceServiceRequest`` / ``TracesData`` as JSON.

Reads, detected from content: one request object (``resourceSpans``), an array of them, JSON
lines (one object per line, as the collector's file exporter writes; streamed line by line, so
memory stays bounded), Jaeger api_v3's ``{"result": {...}}`` wrapper (also as lines), the old
``instrumentationLibrarySpans`` field, and snake_case field names (``resource_spans``). One
document (not lines) is read into memory whole, and its ``resourceSpans`` entries are decoded
one at a time, as they are converted; a JSON line (an exporter's batch) is decoded in one go.
Resources and scopes are converted once per distinct JSON text, so their attribute dicts are
shared by their spans, and all spans of a trace share one trace id string.

The OTLP spec says ids are hex and enums integers. Ids in base64 and enum names (the proto3
JSON mapping, which the spec forbids) are unambiguous, so they are read with one warning per
input; anything else wrong raises ``InputError`` with the line (JSON lines) or the JSON path /
line and column (one document). A truncated JSON-lines file yields every complete line first.

Times are fixed64: a negative one, or one past 2^64-1, is not OTLP and raises ``InputError`` at
its JSON path. A span with a start, end or event time past 2^63-1 ns (the year 2262, the latest
the model keeps) is valid OTLP that spanscope cannot hold: it is left out with a warning naming
the source, the line (JSON lines) and the span's JSON path, and the rest is read, as the OTLP
protobuf reader does (``otlp_late_times``). ``decode_request`` (the OTLP/HTTP JSON receiver's
body) also counts such spans, for OTLP's partial success. The bound costs nothing per span: the
decoders check it in C, and only an input they refuse for it is decoded again and filtered
(see ``otlp_json_schema``).

Writes valid OTLP JSON: hex ids, integer enums, 64-bit integers as strings, spans grouped by
resource and scope (see ``otlp_common``). ``write`` writes one request; ``write_lines`` one
request of at most ``BATCH_SIZE`` spans per line (the ``otlp-jsonl`` format). The structs that
msgspec decodes into are in ``otlp_json_schema``, their conversion to model spans in
``otlp_json_convert``, the writer in ``otlp_json_write``.

What OTLP cannot hold is carried as ``otlp_common`` says (``follows_from``, ``shared``); the
resource and scope ``droppedAttributesCount`` and ``schemaUrl`` are not in the model and are lost.
"""

from __future__ import annotations

import io
import itertools
from collections.abc import Callable, Iterator
from typing import BinaryIO

import msgspec

from spanscope.errors import Diagnostics, InputError
from spanscope.formats import otlp_json_schema as schema
from spanscope.formats.json_errors import split_path, syntax_error, utf8_error
from spanscope.formats.otlp_json_convert import Reader
from spanscope.formats.otlp_json_write import write, write_lines
from spanscope.formats.otlp_late_times import DecodedRequest, Rejections, decoded_request
from spanscope.formats.source import document_share
from spanscope.model import Span

__all__ = ["NAME", "decode_request", "read", "write", "write_lines"]

NAME = "otlp-json"
_BOM = b"\xef\xbb\xbf"


# --- reading --------------------------------------------------------------------------------


def read(
    stream: BinaryIO,
    source: str,
    diagnostics: Diagnostics,
    on_shape: Callable[[bool], None] | None = None,
) -> Iterator[Span]:
    """The spans of one OTLP JSON input. ``on_shape`` is told, before the first span, whether
    it is JSON lines (True: its first line is one whole request and another line follows) or
    one document (False); not at all when reading stops before it knows."""
    # Not a generator itself: one generator between the caller and the spans, not two.
    return _read(stream, Reader(source, diagnostics, Rejections()), on_shape)


def decode_request(
    data: bytes, source: str, diagnostics: Diagnostics | None = None
) -> DecodedRequest:
    """All spans of one OTLP/HTTP JSON request body, with the spans left out (a time past
    2^63-1 ns); raises ``InputError`` as ``read`` does."""
    rejections = Rejections()
    diagnostics = diagnostics if diagnostics is not None else Diagnostics()
    reader = Reader(source, diagnostics, rejections)
    return decoded_request(list(_read(io.BytesIO(data), reader, None)), rejections)


def _read(
    stream: BinaryIO, reader: Reader, on_shape: Callable[[bool], None] | None
) -> Iterator[Span]:
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
        reader.place = f"line {lineno}"
        try:
            first = _decode(reader, schema.LINE, line, snake, lineno, schema.LATE_LINE)
        except _Incomplete:
            # Not a whole object on one line: one (pretty-printed) document. A line that is
            # broken in its middle is reported at once, without reading the rest of the file.
            first = None
        if first is not None:
            yield from _read_lines(reader, first, lineno, stream, snake, on_shape)
            return
    if on_shape is not None:
        on_shape(False)
    reader.place = ""
    data = skipped + line + stream.read()
    try:
        decoded = _decode(reader, schema.DOCUMENT, data, b'"resource_spans"' in data[:65536], 1)
    except _Incomplete as exc:
        raise exc.error from None
    del data
    share = document_share()
    if isinstance(decoded, list):
        for i, request in enumerate(decoded):
            if share is not None:
                share(i, len(decoded))
            yield from reader.spans(request, f"$[{i}]")
    else:
        yield from reader.spans(decoded, "$", share)


def _read_lines(
    reader: Reader,
    first: schema.LineData,
    lineno: int,
    stream: BinaryIO,
    snake: bool,
    on_shape: Callable[[bool], None] | None,
) -> Iterator[Span]:
    following: list[bytes] = []  # read ahead to the next line that is not blank
    if on_shape is not None:
        for line in stream:
            following.append(line)
            if line.strip():
                break
        on_shape(bool(following) and bool(following[-1].strip()))
    yield from reader.spans(first, "$")
    for line in itertools.chain(following, stream):
        lineno += 1
        if not line.strip():
            continue
        reader.place = f"line {lineno}"
        try:
            data = _decode(reader, schema.LINE, line, snake, lineno, schema.LATE_LINE)
        except _Incomplete as exc:
            raise exc.error from None
        yield from reader.spans(data, "$")


class _Incomplete(Exception):
    """JSON that ends early: the first line of a file may be the start of a longer document."""

    def __init__(self, error: InputError) -> None:
        self.error = error


def _decode(
    reader: Reader,
    decoder: msgspec.json.Decoder,
    data: bytes,
    snake: bool,
    line: int,
    late: msgspec.json.Decoder | None = None,
):
    """Decode ``data`` (starting at ``line``) or raise InputError saying where it is wrong;
    ``late``: the decoder to try when ``decoder`` refuses it (a time past 2^63-1 ns?)."""
    try:
        text = schema.decode_snake_case(data) if snake else data
        try:
            return decoder.decode(text)
        except msgspec.ValidationError:
            if late is None:
                raise
            # Any other error is met again, at the same place: its message is the same.
            return late.decode(text)
    except msgspec.ValidationError as exc:
        raise reader.fail(*split_path(exc)) from None
    except RecursionError:
        raise reader.fail("", "values nested too deeply") from None
    except UnicodeDecodeError:
        where, message = utf8_error(data, line)
        raise InputError(reader.source, where, message) from None
    except msgspec.DecodeError as exc:
        where, message = syntax_error(exc, data, line)
        error = InputError(reader.source, where, message)
        if "truncated" in str(exc):
            raise _Incomplete(error) from None
        raise error from None
