"""Converting decoded OTLP JSON requests to model spans: the hot loop of ``otlp_json``.

``Reader.spans(data, path, share)`` yields the model spans of one decoded request
(``otlp_json_schema.TracesData`` with its ``resourceSpans`` entries still raw, one document, or
``LineData``, a JSON line), in input order. Resources and scopes are converted once per distinct
JSON text (their attribute dicts shared by their spans), all spans of a trace share one trace id
string, and the common span (hex ids, known enums, no links, no ``spanscope.shared`` marker) is
built inline; ``otlp_common`` handles the rest. Base64 ids and enum names are read with one
warning per input (``ReadContext``); anything else wrong raises ``InputError`` naming the source,
the line (``Reader.place``, JSON lines) and the JSON path.

A ``resourceSpans`` entry decoded by a ``LATE_*`` decoder (``otlp_json_schema``: it holds a time
past 2^63-1 ns) first has the spans with such a time taken out, each with the warning of
``otlp_late_times`` (``Reader.leave_out_late``); a time past 2^64-1 is not OTLP and raises
``InputError``. The entries the strict decoders took, all of them but for such inputs, cost one
class test each, nothing per span.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence

import msgspec

from spanscope.errors import Diagnostics, InputError
from spanscope.formats import otlp_json_schema as schema
from spanscope.formats.json_errors import split_path
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
from spanscope.formats.otlp_late_times import LATEST, Rejections, leave_out
from spanscope.model import Attributes, Link, Span, StatusCode

# A span id as the spec writes it (16 lowercase hex digits, not all zero): the common case,
# checked inline; anything else goes to ReadContext.span_id.
_SPAN_ID = re.compile(r"(?!0{16})[0-9a-f]{16}").fullmatch
_TRACE_ID_CACHE = 1 << 16
_CACHE_LIMIT = 4096
_FIXED64_MAX = 2**64 - 1


class Reader(ReadContext):
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
