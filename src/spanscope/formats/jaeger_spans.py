"""Decoded Jaeger JSON (``jaeger_structs``) converted to model spans.

``jaeger_json`` decodes a document into those structs and hands each trace's spans to a
``SpanReader``, which applies the mapping described in ``jaeger_json``'s docstring: ids
normalised (non-hex ids mapped by ``hex_id_for``, with one warning per input), microseconds to
nanoseconds, references to parent/links, special tags to fields (``jaeger_special``), processes
to one shared resource dict each. It warns through ``Diagnostics`` and raises ``InputError``
only for a missing id.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import msgspec

from spanscope.errors import Diagnostics, InputError
from spanscope.formats.jaeger_special import (
    NO_FIELDS,
    SPECIAL,
    Fields,
    special_fields,
    typed_special_fields,
)
from spanscope.formats.jaeger_structs import Log, Process, RawSpan, RawTrace
from spanscope.formats.jaeger_tags import decode_value
from spanscope.model import (
    Attributes,
    Event,
    InvalidIdError,
    Link,
    Span,
    normalize_span_id,
    normalize_trace_id,
)

_CHILD_OF = "CHILD_OF"
_FOLLOWS_FROM = "FOLLOWS_FROM"
_ZERO_IDS = frozenset({"", "0", "0" * 16, "0" * 32})
# Tag types whose JSON value needs no conversion when it already has this Python type.
_PLAIN = {"string": str, "bool": bool, "float64": float}  # int64 needs a range check
_INT64_MIN, _INT64_MAX = -(1 << 63), (1 << 63) - 1
_ZERO_SPAN = "0" * 16
_HEX = frozenset("0123456789abcdef")
_HEX_DIGITS = "0123456789abcdef"  # ``not text.strip(_HEX_DIGITS)``: all lowercase hex, fast
# Converted processes by their encoded content, for every reader (see shared_process); the
# model's resource attributes are shared dicts that nothing mutates.
_SHARED_PROCESSES: dict[bytes, tuple[str, Attributes]] = {}
_SHARED_LIMIT = 4096


# The field order ``SpanReader.span`` passes positionally; a model change must show up here.
_SPAN_ORDER = (
    "trace_id",
    "span_id",
    "name",
    "start_ns",
    "end_ns",
    "parent_span_id",
    "kind",
    "service_name",
    "status_code",
    "status_message",
    "attributes",
    "resource_attributes",
    "scope_name",
    "scope_version",
    "scope_attributes",
    "events",
    "links",
    "trace_state",
    "flags",
    "follows_from",
)
if Span.__struct_fields__[: len(_SPAN_ORDER)] != _SPAN_ORDER:  # pragma: no cover
    raise ImportError("spanscope.model.Span's field order changed: update SpanReader.span")


def hex_id_for(text: str, width: int) -> str:
    """The stable hex id (``width`` digits) that the reader gives the non-hex id ``text``."""
    import hashlib  # here: OpenSSL takes milliseconds to load, and few inputs need it

    return hashlib.blake2b(text.encode(), digest_size=width // 2).hexdigest()


class _Place:
    """Where a span sits in the document (``$.data[3].spans[7]``), formatted only when a
    message needs it: most spans never warn, and formatting it costs more than the rest of
    the span's ids. ``SpanReader.spans`` moves one instance along the array; every use turns
    it into a string at once (``str``, an f-string), so none outlives its span."""

    __slots__ = ("index", "path")

    def __init__(self, path: str) -> None:
        self.path = path
        self.index = 0

    def __str__(self) -> str:
        return f"{self.path}[{self.index}]"


Place = str | _Place


class SpanReader:
    """Turns decoded Jaeger structs into model spans, remembering processes and remapped ids."""

    def __init__(self, source: str, diagnostics: Diagnostics) -> None:
        self.source = source
        self.diagnostics = diagnostics
        self.hex_binary = False
        self.typed = False  # tags are checked structs (``jaeger_structs``), values as declared
        self._remapped: dict[str, str] = {}
        self._last_trace: tuple[str | None, str] = (None, "")
        self._inline: dict[bytes, tuple[str, Attributes]] = {}
        self._shared: dict[bytes, tuple[str, Attributes]] = {}  # processes of traces

    def warn(self, place: Place, message: str) -> None:
        self.diagnostics.warn(self.source, str(place), message)

    def trace(self, trace: RawTrace, path: str) -> Iterator[Span]:
        for warning in trace.warnings or ():
            self.warn(path, f"Jaeger trace warning: {warning}")
        yield from self.spans(
            trace.spans or [], trace.traceID, trace.processes or {}, f"{path}.spans"
        )

    def spans(
        self,
        raws: list[RawSpan],
        default_trace_id: str,
        processes: dict[str, Process],
        path: str,
    ) -> Iterator[Span]:
        """Yield ``raws`` (found at JSON ``path``), resolving each span's process."""
        resolved: dict[str, tuple[str, Attributes]] = {}
        place = _Place(path)
        for index, raw in enumerate(raws):
            place.index = index
            process = self.process_of(raw, processes, resolved, place)
            yield self.span(raw, default_trace_id, process, place)

    def process_of(
        self,
        raw: RawSpan,
        processes: dict[str, Process],
        resolved: dict[str, tuple[str, Attributes]],
        place: Place,
    ) -> tuple[str, Attributes]:
        if raw.processID and raw.processID in processes:
            process = resolved.get(raw.processID)
            if process is None:
                process = resolved[raw.processID] = self.shared_process(
                    processes[raw.processID], place
                )
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

    def shared_process(self, process: Process, place: Place) -> tuple[str, Attributes]:
        """``process`` converted once per content: every trace of an export repeats the same
        few processes. One that warns is converted each time, so every place is reported."""
        key = msgspec.json.encode(process)
        # Shared by every reader: data sets of many small files (one trace each) repeat the
        # same processes in every file. Hex binary values read differently: their own cache.
        shared = self._shared if self.hex_binary else _SHARED_PROCESSES
        found = shared.get(key)
        if found is None:
            warned = self.diagnostics.count
            found = self.process(process, place)
            if self.diagnostics.count == warned:
                if len(shared) >= _SHARED_LIMIT:
                    shared.clear()
                shared[key] = found
        return found

    def process(self, process: Process, place: Place) -> tuple[str, Attributes]:
        attributes: Attributes = {}
        name = process.serviceName
        if name:
            attributes["service.name"] = name
        for tag in process.tags or ():
            value = tag.value
            if _PLAIN.get(tag.type) is not type(value):  # type: ignore[arg-type]
                value = self.value(tag, place)
            if tag.key == "service.name":
                if not name and type(value) is str:
                    name = value
                    attributes["service.name"] = value
                continue
            attributes[tag.key] = value
        return name, attributes

    def value(self, tag: Any, place: Place) -> Any:
        """One tag's attribute value (a ``Tag`` or a checked tag, see ``jaeger_structs``)."""
        value = tag.value
        if _PLAIN.get(tag.type) is type(value) or type(value) is bytes:  # bytes: checked binary
            return value
        return decode_value(
            tag.key, tag.type, value, lambda message: self.warn(place, message), self.hex_binary
        )

    def id(self, value: str, width: int, place: Place, field: str) -> str:
        """``value`` as a normalised id; ``place``/``field`` say where, for messages."""
        try:
            return normalize_trace_id(value) if width == 32 else normalize_span_id(value)
        except InvalidIdError:
            if not value:
                what = "trace id" if width == 32 else "span id"
                raise InputError(self.source, f"{place}.{field}", f"missing {what}") from None
        key = f"{width}:{value}"
        mapped = self._remapped.get(key)
        if mapped is None:
            mapped = self._remapped[key] = hex_id_for(value, width)
            if len(self._remapped) == 1:  # one warning per input, not one per id
                self.warn(
                    f"{place}.{field}",
                    f"id {value!r} is not a hex id; read as {mapped} (every non-hex id in this "
                    "input is read as a hash of it; only the first is reported)",
                )
        return mapped

    def span(
        self, raw: RawSpan, default_trace_id: str, process: tuple[str, Attributes], place: Place
    ) -> Span:
        raw_trace_id = raw.traceID or default_trace_id
        if raw_trace_id == self._last_trace[0]:
            trace_id = self._last_trace[1]  # spans of one trace repeat its id: normalise once
        else:
            trace_id = self.id(raw_trace_id, 32, place, "traceID")
            self._last_trace = (raw_trace_id, trace_id)
        span_id = raw.spanID
        # Already a lowercase 16-digit hex id (the usual case): skip the normalising call.
        if len(span_id) != 16 or span_id.strip(_HEX_DIGITS) or span_id == _ZERO_SPAN:
            span_id = self.id(span_id, 16, place, "spanID")
        references = raw.references
        if (  # the common case: one CHILD_OF reference to a parent in the same trace
            references
            and len(references) == 1
            and not raw.parentSpanID
            and references[0].refType == _CHILD_OF
        ):
            reference = references[0]
            parent_id = reference.spanID
            if (
                reference.traceID == raw.traceID
                and len(parent_id) == 16
                and not parent_id.strip(_HEX_DIGITS)
                and parent_id != _ZERO_SPAN
            ):
                follows_from = False
                links: list[Link] = []
            else:
                parent_id, follows_from, links = self.references(raw, trace_id, place)
        elif references or raw.parentSpanID not in _ZERO_IDS:
            parent_id, follows_from, links = self.references(raw, trace_id, place)
        else:
            parent_id, follows_from, links = "", False, []

        tags = raw.tags
        if not tags:
            attributes: Attributes = {}
            fields = NO_FIELDS
        elif self.typed:
            # Checked tags (jaeger_structs): every value already has its declared type, so a
            # span whose tag keys are distinct is one dict build, the special tags moved out.
            attributes = {tag.key: tag.value for tag in tags}
            if len(attributes) != len(tags):
                attributes, fields = self.tags(tags, place)  # duplicates: warn as usual
            else:
                fields = typed_special_fields(attributes)
        else:
            attributes, fields = self.tags(tags, place)
        start_ns = raw.startTime * 1000
        duration = raw.duration
        # Positional: msgspec matches 20 keyword arguments several times slower than it takes
        # them in order (``_SPAN_ORDER``, checked at import, is that order).
        return Span(
            trace_id,
            span_id,
            raw.operationName,
            start_ns,
            0 if duration is None else start_ns + duration * 1000,  # end_ns
            parent_id,
            fields[0],  # kind
            process[0],  # service_name
            fields[1],  # status_code
            fields[2],  # status_message
            attributes,
            process[1],  # resource_attributes
            fields[3],  # scope_name
            fields[4],  # scope_version
            {},  # scope_attributes
            self.events(raw.logs, place) if raw.logs else [],
            links,
            fields[5],  # trace_state
            raw.flags,
            follows_from,
            warnings=list(raw.warnings) if raw.warnings else [],
        )

    def tags(self, tags: list, place: Place) -> tuple[Attributes, Fields]:
        """A span's attributes and the model fields its special tags carry, tag by tag."""
        attributes: Attributes = {}
        special: dict[str, Any] | None = None
        for tag in tags:
            key = tag.key
            value = tag.value
            kind = tag.type
            if _PLAIN.get(kind) is not type(value) and not (  # type: ignore[arg-type]
                # An int64 tag holding an in-range int (bools excluded) needs no conversion.
                kind == "int64" and type(value) is int and _INT64_MIN <= value <= _INT64_MAX
            ):
                value = self.value(tag, place)
            if key in SPECIAL:
                if special is None:
                    special = {}
                special[key] = value
            else:
                if key in attributes:
                    self.warn(place, f"tag {key!r} appears twice; the last value is kept")
                attributes[key] = value
        return attributes, special_fields(special, attributes) if special else NO_FIELDS

    def references(self, raw: RawSpan, trace_id: str, place: Place) -> tuple[str, bool, list[Link]]:
        references = raw.references
        if not references and raw.parentSpanID in _ZERO_IDS:
            return "", False, []
        if (  # the common case: one CHILD_OF reference to a parent in the same trace
            references
            and len(references) == 1
            and references[0].refType == _CHILD_OF
            and references[0].traceID in ("", raw.traceID)
            and raw.parentSpanID in _ZERO_IDS
            and references[0].spanID not in _ZERO_IDS
        ):
            parent = references[0].spanID
            if len(parent) == 16 and parent.islower() and _HEX.issuperset(parent):
                return parent, False, []  # already normalised (not all zeros: checked above)
            return self.id(parent, 16, place, "references[0].spanID"), False, []
        refs: list[tuple[str, str, str]] = []
        for index, ref in enumerate(references or ()):
            where = f"{place}.references[{index}]"
            if ref.spanID in _ZERO_IDS:
                self.warn(where, "reference without a span id ignored")
                continue
            ref_type = ref.refType
            if ref_type not in (_CHILD_OF, _FOLLOWS_FROM):
                ref_type = ref_type.upper()
                if ref_type not in (_CHILD_OF, _FOLLOWS_FROM):
                    self.warn(where, f"unknown reference type {ref.refType!r}; kept as a link")
            ref_trace = self.id(ref.traceID, 32, where, "traceID") if ref.traceID else trace_id
            refs.append((ref_type, ref_trace, self.id(ref.spanID, 16, where, "spanID")))

        parent = ""
        follows_from = False
        chosen = -1
        if raw.parentSpanID not in _ZERO_IDS:
            parent = self.id(raw.parentSpanID, 16, place, "parentSpanID")
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

    def events(self, logs: list[Log], place: Place) -> list[Event]:
        events = []
        for index, log in enumerate(logs):
            name: str | None = None
            attributes: Attributes = {}
            for tag in log.fields or ():
                value = tag.value
                if _PLAIN.get(tag.type) is not type(value):  # type: ignore[arg-type]
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
