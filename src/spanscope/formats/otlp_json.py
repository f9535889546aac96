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
msgspec decodes into are in ``otlp_json_schema``, the writer in ``otlp_json_write``.

What OTLP cannot hold is carried as ``otlp_common`` says (``follows_from``, ``shared``); the
resource and scope ``droppedAttributesCount`` and ``schemaUrl`` are not in the model and are lost.
"""

from __future__ import annotations

import io
import itertools
import re
from collections.abc import Callable, Iterator, Sequence
from typing import BinaryIO

import msgspec

from spanscope.errors import Diagnostics, InputError
from spanscope.formats import otlp_json_schema as schema
from spanscope.formats.json_errors import split_path, syntax_error, utf8_error
from spanscope.formats.otlp_common import (
    KIND_BY_VALUE,
    SHARED_KEY,
    STATUS_BY_VALUE,
    BadField,
    ReadContext,
    events_of,
    model_span,
    service_name_of,
)
from spanscope.formats.otlp_json_write import write, write_lines
from spanscope.formats.otlp_late_times import (
    LATEST,
    DecodedRequest,
    Rejections,
    decoded_request,
    leave_out,
)
from spanscope.formats.source import document_share
from spanscope.model import Attributes, Link, Span, StatusCode

__all__ = ["NAME", "decode_request", "read", "write", "write_lines"]

NAME = "otlp-json"
# A span id as the spec writes it (16 lowercase hex digits, not all zero): the common case,
# checked inline; anything else goes to ReadContext.span_id.
_SPAN_ID = re.compile(r"(?!0{16})[0-9a-f]{16}").fullmatch
_TRACE_ID_CACHE = 1 << 16
_BOM = b"\xef\xbb\xbf"
_CACHE_LIMIT = 4096
_FIXED64_MAX = 2**64 - 1


# --- reading --------------------------------------------------------------------------------


class _Reader(ReadContext):
    """Converts decoded requests to spans; caches resources and scopes by their JSON bytes."""

    def __init__(self, source: str, diagnostics: Diagnostics, rejections: Rejections) -> None:
        super().__init__(source, diagnostics)
        self.rejections = rejections
        self._resources: dict[bytes, tuple[Attributes, str]] = {}
        self._scopes: dict[bytes, tuple[str, str, Attributes]] = {}
        self._trace_ids: dict[str, str] = {}  # as written -> normalised
        self._names: dict[str, str] = {}  # one string per distinct span name

    def fail(self, path: str, message: str) -> InputError:
        return InputError(self.source, ", ".join(p for p in (self.place, path) if p), message)

    def resource(self, raw: msgspec.Raw, path: str) -> tuple[Attributes, str]:
        key = bytes(raw)
        found = self._resources.get(key)
        if found is None:
            try:
                attributes = (
                    schema.attributes(schema.RESOURCE.decode(key).attributes)
                    if key and key != b"null"
                    else {}
                )
            except msgspec.ValidationError as exc:
                raise self.fail(*split_path(exc, path)) from None
            except UnicodeDecodeError:
                raise self.fail(path, "not valid UTF-8 text") from None
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
                scope = schema.SCOPE.decode(key) if key and key != b"null" else schema.Scope()
            except msgspec.ValidationError as exc:
                raise self.fail(*split_path(exc, path)) from None
            except UnicodeDecodeError:
                raise self.fail(path, "not valid UTF-8 text") from None
            found = (scope.name, scope.version, schema.attributes(scope.attributes))
            if len(self._scopes) >= _CACHE_LIMIT:
                self._scopes.clear()
            self._scopes[key] = found
        return found

    def resource_spans(self, raw: msgspec.Raw, path: str) -> schema.ResourceSpans:
        try:
            try:
                return schema.RESOURCE_SPANS.decode(raw)
            except msgspec.ValidationError:
                # Perhaps a time past 2^63-1 ns (see the module doc); any other error is met
                # again, at the same place.
                return schema.LATE_RESOURCE_SPANS.decode(raw)
        except msgspec.ValidationError as exc:
            raise self.fail(*split_path(exc, path)) from None
        except UnicodeDecodeError:
            raise self.fail(path, "not valid UTF-8 text") from None

    def links(self, links: list[schema.Link]) -> list[Link]:
        out = []
        for i, link in enumerate(links):
            try:
                trace_id = self.trace_id(link.trace_id)
                span_id = self.span_id(link.span_id)
            except BadField as exc:
                raise BadField(f"links[{i}].{exc.field_name}", exc.message) from None
            attributes = schema.attributes(link.attributes) if link.attributes else {}
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

    def spans(
        self,
        data: schema.TracesData | schema.LineData,
        path: str,
        share: Callable[[int, int], None] | None = None,
    ) -> Iterator[Span]:
        """The spans of one request; ``share`` (one document) is told each entry it reaches."""
        while data.result is not None and not data.resource_spans:
            data, path = data.result, f"{path}.result"
        # Hot loop: everything it needs is a local, and the common span (hex ids, known enums,
        # no links, no ``spanscope.shared`` marker) is built here without a call to
        # ``model_span``, which handles the rest.
        trace_ids = self._trace_ids
        names = self._names
        span_id_ok = _SPAN_ID
        kinds = KIND_BY_VALUE
        codes = STATUS_BY_VALUE
        unset = StatusCode.UNSET
        attributes_of = schema.attributes
        shared_key = SHARED_KEY
        code: StatusCode | None  # None until the slow path has read an unusual one
        make = Span
        plain = schema.ResourceSpans
        # Raw entries (one document) or decoded ones (a JSON line), never a mix.
        entries: Sequence[msgspec.Raw | schema.ResourceSpans] = data.resource_spans
        try:
            for ri, raw_rs in enumerate(entries):
                if share is not None:
                    share(ri, len(entries))
                rpath = f"{path}.resourceSpans[{ri}]"
                rs = (
                    self.resource_spans(raw_rs, rpath)
                    if isinstance(raw_rs, msgspec.Raw)
                    else raw_rs
                )
                # One test per entry, none per span: only the LATE_* decoders made others.
                moved = None if rs.__class__ is plain else self.leave_out_late(rs, rpath)
                resource_attributes, service = self.resource(rs.resource, f"{rpath}.resource")
                for si, ss in enumerate(rs.scope_spans or rs.instrumentation_library_spans):
                    spath = f"{rpath}.scopeSpans[{si}]"
                    raw_scope = ss.scope if ss.scope else ss.instrumentation_library
                    scope = self.scope(raw_scope, f"{spath}.scope")
                    scope_name, scope_version, scope_attributes = scope
                    if len(names) > _CACHE_LIMIT:
                        names.clear()
                    k = 0
                    try:
                        for k, s in enumerate(ss.spans):  # noqa: B007 - k names the failing span
                            raw = s.trace_id
                            trace_id = trace_ids.get(raw)
                            if trace_id is None:
                                trace_id = self.known_trace_id(raw)
                            raw = s.span_id
                            span_id = raw if span_id_ok(raw) else self.span_id(raw)
                            raw = s.parent_span_id
                            if not raw:
                                parent = ""
                            elif span_id_ok(raw):
                                parent = raw
                            else:
                                parent = self.span_id(raw, "parentSpanId")
                            kind = kinds.get(s.kind)
                            if kind is None:
                                kind = self.kind(s.kind)
                            status = s.status
                            if status is None:
                                code, message = unset, ""
                            else:
                                code = codes.get(status.code)
                                if code is None:
                                    code = self.status_code(status.code)
                                message = status.message
                            attributes = attributes_of(s.attributes) if s.attributes else {}
                            if s.links or shared_key in attributes:
                                yield model_span(
                                    s,
                                    trace_id,
                                    span_id,
                                    parent,
                                    kind,
                                    service,
                                    code,
                                    message,
                                    attributes,
                                    resource_attributes,
                                    scope,
                                    events_of(s.events, attributes_of) if s.events else [],
                                    self.links(s.links) if s.links else [],
                                )
                                continue
                            name = s.name
                            # The same fields in the same order as model_span builds them.
                            yield make(
                                trace_id,
                                span_id,
                                names.setdefault(name, name),
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
                                events_of(s.events, attributes_of) if s.events else [],
                                [],
                                s.trace_state,
                                s.flags,
                                False,
                                False,
                                s.dropped_attributes_count,
                                s.dropped_events_count,
                                s.dropped_links_count,
                            )
                    except BadField as exc:
                        if moved is not None and si in moved:
                            k = moved[si][k]  # its index in the input, before late ones left
                        raise self.fail(
                            f"{spath}.spans[{k}].{exc.field_name}", exc.message
                        ) from None
        except RecursionError:
            raise self.fail(path, "attribute values nested too deeply") from None

    def leave_out_late(self, rs: schema.ResourceSpans, rpath: str) -> dict[int, list[int]] | None:
        """Take the spans with a time past 2^63-1 ns out of ``rs`` (from a LATE_* decoder), with
        a warning each; raise InputError for a time past 2^64-1 (not a fixed64). Returns, by
        scope index, the input index of each span kept, where spans were taken out."""
        moved: dict[int, list[int]] = {}
        for si, ss in enumerate(rs.scope_spans or rs.instrumentation_library_spans):
            kept: list[int] = []
            for k, s in enumerate(ss.spans):
                times = _times(s)
                if max(value for _, value in times) <= LATEST:
                    kept.append(k)
                    continue
                path = f"{rpath}.scopeSpans[{si}].spans[{k}]"
                for field_name, value in times:
                    if value > _FIXED64_MAX:
                        raise self.fail(
                            f"{path}.{field_name}",
                            f"{value} is past 2^64-1, the largest fixed64: not an OTLP time",
                        )
                field_name, value = next((f, v) for f, v in times if v > LATEST)
                place = ", ".join(p for p in (self.place, path) if p)
                ids = (s.span_id, s.name, s.trace_id)
                leave_out(
                    self.diagnostics, self.rejections, self.source, place, ids, field_name, value
                )
            if len(kept) < len(ss.spans):
                ss.spans = [ss.spans[k] for k in kept]
                moved[si] = kept
        return moved

    def known_trace_id(self, raw: str) -> str:
        """Normalise ``raw`` and remember it: all spans of a trace then share one id string
        (less memory) and later spans of the trace need one dict lookup."""
        trace_id = self.trace_id(raw)
        if len(self._trace_ids) >= _TRACE_ID_CACHE:
            self._trace_ids.clear()
        self._trace_ids[raw] = trace_id
        return trace_id


def _times(s: schema.Span) -> list[tuple[str, int]]:
    """The times of span ``s``: (field, value), as the JSON path names the field."""
    times = [
        ("startTimeUnixNano", s.start_time_unix_nano),
        ("endTimeUnixNano", s.end_time_unix_nano),
    ]
    times += [(f"events[{i}].timeUnixNano", e.time_unix_nano) for i, e in enumerate(s.events)]
    return times


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
    return _read(stream, _Reader(source, diagnostics, Rejections()), on_shape)


def decode_request(
    data: bytes, source: str, diagnostics: Diagnostics | None = None
) -> DecodedRequest:
    """All spans of one OTLP/HTTP JSON request body, with the spans left out (a time past
    2^63-1 ns); raises ``InputError`` as ``read`` does."""
    rejections = Rejections()
    diagnostics = diagnostics if diagnostics is not None else Diagnostics()
    reader = _Reader(source, diagnostics, rejections)
    return decoded_request(list(_read(io.BytesIO(data), reader, None)), rejections)


def _read(
    stream: BinaryIO, reader: _Reader, on_shape: Callable[[bool], None] | None
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
    reader: _Reader,
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
    reader: _Reader,
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
