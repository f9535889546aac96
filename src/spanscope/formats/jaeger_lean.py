"""A projection of Jaeger JSON: only what critical paths and the profile need, or nothing.

``read_projected(data, source)`` returns the spans of one Jaeger JSON document with these
fields exactly as ``jaeger_json.read`` gives them: ids (trace, span, parent), name, start and
end, kind, ``follows_from``, flags, service name, resource attributes and, of the span's
attributes, only those that name its local address (``spanscope.assembly.hosts``: the host
rules of clock-skew adjustment and dedupe read them). Everything else is left empty: other
attributes, status, scope, events, links, trace state. That is all that assembly, filters,
``critical_time`` and ``ProfileCollector`` read, so they give the same answer on these spans as
on the full reader's. The empty containers of the spans are shared: read them, never fill them.

It returns ``None`` instead whenever the full reader would do anything but read the document
silently: a shape other than ``{"data": [trace, ...]}``, ``{"data": trace}`` or one trace, a
value the checked decode of ``jaeger_structs`` would refuse, a tag, log or process that would
warn, an id that is not one, a trace warning, a span without a process (or with only an inline
one), several or unusual references. The caller then reads the document with
``jaeger_json.read``, so errors and warnings are always the full reader's own. The full reader
is tried first with typed (checked) structs, and every part the projection skips over as raw
JSON (tags, processes) is checked with those same structs before it is trusted, so a
document the projection reads is one the full reader reads with its checked structs, with no
warning, to the same values.

Why it is faster: tags are the bulk of a span and of its decoding. Here a span's tags stay raw
bytes, and each distinct tag list is checked and converted once (``_TagCache``): spans of one
operation very often repeat the same tags. A tag list seen for the first time costs what the
full reader's checked decode costs.

The C profile (``spanscope.analysis.native_profile``) reads documents itself and asks this
module what msgspec checks here: ``tag_kind``, ``trace_processes``, ``logs_ok`` and
``normalized_id`` give what ``read_projected`` makes of a tag list, a trace's processes, a
span's logs and an id, or None (False) where it gives the document back.
"""

from __future__ import annotations

from typing import Any

import msgspec

from spanscope.errors import Diagnostics, InputError
from spanscope.formats.jaeger_spans import SpanReader
from spanscope.formats.jaeger_special import typed_special_fields
from spanscope.formats.jaeger_structs import (
    Log,
    Process,
    Ref,
    TypedTag,
    _Duration,
    _Flags,
    _Micros,
)
from spanscope.model import (
    Attributes,
    InvalidIdError,
    Span,
    SpanKind,
    StatusCode,
    normalize_span_id,
    normalize_trace_id,
)

_RAW_NONE = msgspec.Raw()
_CHILD_OF = "CHILD_OF"
_PARENT_TYPES = frozenset({_CHILD_OF, "FOLLOWS_FROM"})
_HEX_DIGITS = "0123456789abcdef"
_ZERO_TRACE, _ZERO_SPAN = "0" * 32, "0" * 16
_ZERO_IDS = frozenset({"", "0", _ZERO_SPAN, _ZERO_TRACE})
_UNSET = StatusCode.UNSET
_UNSPECIFIED = SpanKind.UNSPECIFIED
# Span attributes the assembly reads (``hosts.SPAN_ADDRESS_ATTRIBUTES``).
_KEPT_ATTRIBUTES = ("network.local.address", "net.host.ip")
_CACHE_LIMIT = 16384
_BUCKET = 8  # tag lists of one length compared directly
# Shared, never filled (module docstring).
_NO_ATTRIBUTES: Attributes = {}
_NO_LIST: list = []


class _Fallback(Exception):
    """The document needs the full reader."""


class LeanSpan(msgspec.Struct, gc=False):
    """``jaeger_structs.RawSpan`` with the same checks, its tags raw. Logs and an inline
    process are decoded only to be checked (they are rare in exports)."""

    traceID: str = ""
    spanID: str = ""
    parentSpanID: str = ""
    flags: _Flags = 0
    operationName: str = ""
    references: list[Ref] | None = None
    startTime: _Micros = 0
    duration: _Duration | None = None
    tags: msgspec.Raw = _RAW_NONE
    logs: list[Log[TypedTag]] | None = None  # type: ignore[valid-type] # checked, not used
    processID: str = ""
    process: Process[TypedTag] | None = None  # type: ignore[valid-type] # checked, not used
    warnings: list[str] | None = None


class LeanTrace(msgspec.Struct, gc=False):
    traceID: str = ""
    spans: list[LeanSpan] | None = None
    processes: msgspec.Raw = _RAW_NONE  # checked and converted as a whole (_Processes)
    warnings: list[str] | None = None


class LeanDocument(msgspec.Struct, gc=False):
    """``jaeger_structs.Document``: the span fields of a top-level span keep their checked
    types (they are absent from exports, so they cost nothing)."""

    traceID: str = ""
    spanID: str = ""
    parentSpanID: str = ""
    flags: _Flags = 0
    operationName: str = ""
    references: list[Ref] | None = None
    startTime: _Micros = 0
    duration: _Duration | None = None
    tags: list[TypedTag] | None = None
    logs: list[Log[TypedTag]] | None = None  # type: ignore[valid-type]
    processID: str = ""
    process: Process[TypedTag] | None = None  # type: ignore[valid-type]
    warnings: list[str] | None = None
    data: list[LeanTrace] | LeanTrace | None = None
    spans: list[LeanSpan] | None = None
    processes: msgspec.Raw = _RAW_NONE  # checked and converted as a whole (_Processes)
    errors: Any = None


_DOCUMENT = msgspec.json.Decoder(LeanDocument)
_LOGS = msgspec.json.Decoder(list[Log[TypedTag]] | None)  # type: ignore[valid-type]
_TAGS = msgspec.json.Decoder(list[TypedTag] | None)
_PROCESSES_DECODER = msgspec.json.Decoder(dict[str, Process[TypedTag]] | None)  # type: ignore[valid-type]


class _TagCache:
    """Raw tag lists -> (kind, kept attributes), each distinct list checked once."""

    def __init__(self) -> None:
        self.entries: dict[bytes, tuple[SpanKind, Attributes]] = {}
        # length -> a few (raw list, what it gave): compared before ``entries`` is hashed
        self.by_length: dict[int, list[tuple[msgspec.Raw, tuple[SpanKind, Attributes]]]] = {}
        self._clear()

    def _clear(self) -> None:
        self.entries.clear()
        self.by_length.clear()
        for empty in (b"", b"null", b"[]"):  # absent, null, no tags
            self._remember(empty, (_UNSPECIFIED, _NO_ATTRIBUTES))

    def _remember(self, key: bytes, found: tuple[SpanKind, Attributes]) -> None:
        self.entries[key] = found
        bucket = self.by_length.setdefault(len(key), [])
        if len(bucket) < _BUCKET:
            bucket.append((msgspec.Raw(key), found))

    def find(self, raw: msgspec.Raw) -> tuple[SpanKind, Attributes]:
        """What ``raw`` gives, checked and converted if it is new."""
        key = bytes(raw)
        found = self.entries.get(key)
        if found is None:
            found = _convert_tags(key)
            if len(self.entries) >= _CACHE_LIMIT:
                self._clear()
            self._remember(key, found)
        return found


def _convert_tags(data: bytes) -> tuple[SpanKind, Attributes]:
    """What the full reader makes of one checked tag list: its kind and kept attributes."""
    try:
        tags = _TAGS.decode(data)
    except (msgspec.DecodeError, RecursionError, UnicodeDecodeError):
        raise _Fallback from None
    if not tags:
        return _UNSPECIFIED, _NO_ATTRIBUTES
    attributes = {tag.key: tag.value for tag in tags}
    if len(attributes) != len(tags):
        raise _Fallback  # a tag twice: the full reader warns
    kind = typed_special_fields(attributes)[0]
    kept = {key: attributes[key] for key in _KEPT_ATTRIBUTES if key in attributes}
    return kind, kept or _NO_ATTRIBUTES


class _Processes:
    """A trace's raw ``processes`` object -> its processes by id, each (service name,
    resource attributes) as the full reader's own code converts it; once per distinct content
    (the traces of one data set mostly repeat the same processes). One that would warn sends
    the document back."""

    def __init__(self) -> None:
        self.entries: dict[bytes, dict[str, tuple[str, Attributes]]] = {}

    def get(self, raw: msgspec.Raw) -> dict[str, tuple[str, Attributes]]:
        key = bytes(raw)
        found = self.entries.get(key)
        if found is None:
            found = self._convert(key)
            if len(self.entries) >= _CACHE_LIMIT:
                self.entries.clear()
            self.entries[key] = found
        return found

    def _convert(self, data: bytes) -> dict[str, tuple[str, Attributes]]:
        try:
            processes = _PROCESSES_DECODER.decode(data) if data else None
        except (msgspec.DecodeError, RecursionError, UnicodeDecodeError):
            raise _Fallback from None
        diagnostics = Diagnostics()
        reader = SpanReader("", diagnostics)
        reader.typed = True
        # Every process is converted, as the checked decode checks them, used or not.
        found = {
            key: reader.shared_process(process, "$") for key, process in (processes or {}).items()
        }
        if diagnostics.count:
            raise _Fallback
        return found


_PROCESSES = _Processes()
_TAG_CACHE = _TagCache()  # shared by every document: data sets repeat the same tag lists


def read_projected(data: bytes, source: str) -> list[Span] | None:
    """The projected spans of one Jaeger JSON document, in the full reader's order, or None
    when only the full reader can say what it holds (module docstring)."""
    try:
        return _read(data, source)
    except _Fallback:
        return None


def _read(data: bytes, source: str) -> list[Span]:
    try:
        doc = _DOCUMENT.decode(data)
    except (msgspec.DecodeError, RecursionError, UnicodeDecodeError):
        raise _Fallback from None
    if doc.data is not None and doc.processes:
        _PROCESSES.get(doc.processes)  # beside data: unused, but checked as the full reader does
    if isinstance(doc.data, list):
        traces = doc.data
    elif doc.data is not None:
        traces = [doc.data]  # jaeger-ui's fetch state {"id", "state", "data": trace}
    elif doc.spans is not None and not doc.errors:
        traces = [LeanTrace(doc.traceID, doc.spans, doc.processes, doc.warnings)]
    else:
        raise _Fallback  # a span, an error answer, or not Jaeger at all
    spans: list[Span] = []
    append = spans.append
    processes_of = _PROCESSES.get
    by_length = _TAG_CACHE.by_length
    find_tags = _TAG_CACHE.find
    hex_digits, zero_span, child_of = _HEX_DIGITS, _ZERO_SPAN, _CHILD_OF
    last_raw, last_trace_id = None, ""
    # One loop, everything inline: it runs once per span of the data set.
    for trace in traces:
        if trace.warnings:
            raise _Fallback  # the full reader reports them
        resolved = processes_of(trace.processes)
        default_trace_id = trace.traceID
        for raw in trace.spans or ():
            raw_trace_id = raw.traceID or default_trace_id
            if raw_trace_id != last_raw:
                trace_id = raw_trace_id
                if len(trace_id) != 32 or trace_id.strip(hex_digits) or trace_id == _ZERO_TRACE:
                    trace_id = _id(trace_id, 32)
                last_raw, last_trace_id = raw_trace_id, trace_id
            else:
                trace_id = last_trace_id
            span_id = raw.spanID
            if len(span_id) != 16 or span_id.strip(hex_digits) or span_id == zero_span:
                span_id = _id(span_id, 16)
            references = raw.references
            if references and len(references) == 1 and not raw.parentSpanID:
                # One reference to a parent in the same trace, as SpanReader takes it.
                reference = references[0]
                parent_id = reference.spanID
                ref_type = reference.refType
                if (
                    ref_type in _PARENT_TYPES
                    and reference.traceID == raw.traceID
                    and len(parent_id) == 16
                    and not parent_id.strip(hex_digits)
                    and parent_id != zero_span
                ):
                    follows_from = ref_type != child_of
                else:
                    parent_id, follows_from = _references(raw, trace_id, source)
            elif not references and raw.parentSpanID in _ZERO_IDS:
                parent_id, follows_from = "", False
            else:
                parent_id, follows_from = _references(raw, trace_id, source)
            # Tag lists seen before, by length: a few memcmps instead of hashing the bytes.
            tags = raw.tags
            for seen, found in by_length.get(len(tags), ()):  # noqa: B007 - kept after break
                if seen == tags:
                    break
            else:
                found = find_tags(tags)
            process = resolved.get(raw.processID) if raw.processID else None
            if process is None:
                raise _Fallback  # an inline process (span arrays) or none (a warning)
            start_ns = raw.startTime * 1000
            duration = raw.duration
            append(
                Span(
                    trace_id,
                    span_id,
                    raw.operationName,
                    start_ns,
                    0 if duration is None else start_ns + duration * 1000,
                    parent_id,
                    found[0],  # kind
                    process[0],  # service name
                    _UNSET,
                    "",
                    found[1],  # the kept attributes
                    process[1],  # resource attributes
                    "",
                    "",
                    _NO_ATTRIBUTES,
                    _NO_LIST,
                    _NO_LIST,
                    "",
                    raw.flags,
                    follows_from,
                    warnings=raw.warnings or [],  # the decoded list itself: not shared
                )
            )
    if not spans:
        raise _Fallback  # the full reader looks for related formats in an empty document
    return spans


def _id(value: str, width: int) -> str:
    try:
        return normalize_trace_id(value) if width == 32 else normalize_span_id(value)
    except InvalidIdError:
        raise _Fallback from None  # missing (an error) or not hex (a warning)


def _references(raw: LeanSpan, trace_id: str, source: str) -> tuple[str, bool]:
    """Parent and FOLLOWS_FROM of the uncommon reference layouts, by the full reader's own
    code; any warning it would give sends the document back."""
    diagnostics = Diagnostics()
    try:
        parent, follows_from, _ = SpanReader(source, diagnostics).references(raw, trace_id, "$")  # type: ignore[arg-type]
    except InputError:
        raise _Fallback from None
    if diagnostics.count:
        raise _Fallback
    return parent, follows_from


# What the C profile of a document (``spanscope.analysis.native_profile``) asks of this module,
# so a document it reads is checked and converted by this code, as read_projected would.


def tag_kind(raw: bytes) -> SpanKind | None:
    """The span kind a raw tag list gives, or None where ``read_projected`` gives up."""
    try:
        return _TAG_CACHE.find(msgspec.Raw(raw))[0]
    except _Fallback:
        return None


def trace_processes(raw: bytes) -> dict[str, tuple[str, Attributes]] | None:
    """A trace's raw ``processes`` -> (service name, resource attributes) by process id, or
    None where ``read_projected`` gives up."""
    try:
        return _PROCESSES.get(msgspec.Raw(raw))
    except _Fallback:
        return None


def logs_ok(raw: bytes) -> bool:
    """Whether a span's raw ``logs`` pass the checked decode ``read_projected`` gives them."""
    try:
        _LOGS.decode(raw)
    except (msgspec.DecodeError, RecursionError, UnicodeDecodeError):
        return False
    return True


def normalized_id(value: str, width: int) -> str | None:
    """A trace id (``width`` 32) or span id (16) as ``read_projected`` normalises it, or None
    where it gives up."""
    try:
        return _id(value, width)
    except _Fallback:
        return None
