"""What the OTLP JSON and protobuf readers and writers share.

Reading: enum tables, the slow paths for ids and enums that are not what the OTLP spec asks for
(``ReadContext``: base64 ids and enum names are accepted with one warning per input), and the
two model fields OTLP has no place for:

- ``Span.follows_from`` travels as a link to the parent carrying ``opentracing.ref_type =
  follows_from`` (what Jaeger's OTLP translator writes). A reader that finds such a link to the
  span's own parent sets ``follows_from`` and drops the link, so model -> OTLP -> model is exact.
- ``Span.shared`` (Zipkin) travels as the span attribute ``spanscope.shared = true``; OTLP has
  no such notion and no convention exists, so the key is ours and says so.

Writing: ``batches`` cuts the spans into batches of at most ``BATCH_SIZE`` (writers keep
memory bounded) and groups each batch by resource (service name and resource attributes) and
then by scope, as the SDK exporters do.

Both readers end each span with ``model_span`` (and ``events_of``): the two markers above and
the model ``Span`` are built in one place. The fast paths for ids and enums stay inline in the
format modules; only their rare cases come here.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from spanscope.errors import Diagnostics
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

FOLLOWS_FROM_KEY = "opentracing.ref_type"
FOLLOWS_FROM_VALUE = "follows_from"
SHARED_KEY = "spanscope.shared"
BATCH_SIZE = 512
_SCAN = 32  # groups compared by value before starting a new one; bounds the cost
INT64_MIN = -(1 << 63)
INT64_MAX = (1 << 63) - 1

# Keyed by the integer values, and looked up with whatever a reader decoded (a JSON enum may be
# a string, which misses and takes the slow path: ReadContext.kind and .status_code).
KIND_BY_VALUE: dict[object, SpanKind] = {kind.value: kind for kind in SpanKind}
STATUS_BY_VALUE: dict[object, StatusCode] = {code.value: code for code in StatusCode}
_KIND_BY_NAME = {f"SPAN_KIND_{kind.name}": kind for kind in SpanKind}
_STATUS_BY_NAME = {f"STATUS_CODE_{code.name}": code for code in StatusCode}
SPEC_NOTE = "the OTLP spec forbids this; read anyway (warned once per input)"


class BadField(ValueError):
    """A value the reader cannot use; the format module adds where it was."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(message)
        self.field_name = field_name
        self.message = message


class ReadContext:
    """Per-input state of a reader: where it is, and which warnings it gave already."""

    def __init__(self, source: str, diagnostics: Diagnostics) -> None:
        self.source = source
        self.diagnostics = diagnostics
        self.place = ""  # the line being read, for JSON lines
        self._warned: set[str] = set()

    def warn_once(self, key: str, message: str) -> None:
        if key not in self._warned:
            self._warned.add(key)
            self.diagnostics.warn(self.source, self.place, message)

    def kind(self, raw: object) -> SpanKind:
        """The slow path for ``Span.kind``: enum names, numbers as strings, unknown values."""
        return self._enum(raw, "kind", "kind", _KIND_BY_NAME, KIND_BY_VALUE, SpanKind.UNSPECIFIED)

    def status_code(self, raw: object) -> StatusCode:
        return self._enum(
            raw, "status code", "status.code", _STATUS_BY_NAME, STATUS_BY_VALUE, StatusCode.UNSET
        )

    def _enum(self, raw, label, field_name, by_name, by_value, default):
        if isinstance(raw, str):
            found = by_name.get(raw)
            if found is None and raw.isdecimal():
                found = by_value.get(int(raw))
            if found is None:
                choices = ", ".join(by_name)
                raise BadField(
                    field_name, f"unknown {field_name} {raw!r}; expected one of {choices}"
                )
            self.warn_once(
                f"enum-{field_name}",
                f"{field_name} given as a string ({raw!r}) instead of an integer: {SPEC_NOTE}",
            )
            return found
        self.warn_once(
            f"unknown-{field_name}",
            f"unknown {field_name} value {raw!r}, read as {default.name}",
        )
        return default

    def trace_id(self, raw: str) -> str:
        """Hex (any case, short ids padded) or, with a warning, base64 of 16 bytes."""
        return self._id(raw, normalize_trace_id, 16, "traceId")

    def span_id(self, raw: str, field_name: str = "spanId") -> str:
        return self._id(raw, normalize_span_id, 8, field_name)

    def _id(self, raw: str, normalize, size: int, field_name: str) -> str:
        try:
            return normalize(raw)
        except InvalidIdError as exc:
            problem = str(exc)
        # base64 of `size` bytes always ends in '=', which hex never contains: no ambiguity.
        if raw.endswith("=") and len(raw) == 4 * ((size + 2) // 3):
            try:
                decoded = base64.b64decode(raw, validate=True)
            except (binascii.Error, ValueError):
                decoded = b""
            if len(decoded) == size:
                self.warn_once(
                    "base64-id", f"ids in base64 (e.g. {field_name} {raw!r}), not hex: {SPEC_NOTE}"
                )
                return normalize(decoded.hex())
        raise BadField(field_name, f"{problem} (neither hex nor base64 of {size} bytes)")

    def id_bytes(self, raw: bytes, normalize, field_name: str) -> str:
        """The slow path for protobuf ids: wrong length or all zeros."""
        try:
            return normalize(raw.hex())
        except InvalidIdError as exc:
            raise BadField(field_name, f"{exc} ({len(raw)} bytes)") from None


def service_name_of(resource_attributes: Attributes) -> str:
    value = resource_attributes.get("service.name")
    if value is None:
        return ""
    return value if isinstance(value, str) else str(value)


def _marks_follows_from(link: Link, trace_id: str, parent: str) -> bool:
    return (
        link.span_id == parent
        and link.trace_id == trace_id
        and link.attributes.get(FOLLOWS_FROM_KEY) == FOLLOWS_FROM_VALUE
    )


def _is_bare_marker(link: Link) -> bool:
    """The link as the writer emits it: nothing else in it that dropping it would lose."""
    return (
        len(link.attributes) == 1
        and not link.trace_state
        and not link.flags
        and not link.dropped_attributes_count
    )


def split_follows_from(links: list[Link], trace_id: str, parent: str) -> tuple[list[Link], bool]:
    """Say whether a link marks the parent relation as FOLLOWS_FROM; drop it if that is all
    it says (a marker link that carries more stays, so nothing is lost)."""
    follows_from = False
    kept = []
    for link in links:
        if _marks_follows_from(link, trace_id, parent):
            follows_from = True
            if _is_bare_marker(link):
                continue
        kept.append(link)
    return kept, follows_from


def events_of(events: Iterable[Any], attributes_of: Callable[[Any], Attributes]) -> list[Event]:
    """Model events of OTLP events (JSON structs or protobuf messages: the same field names);
    ``attributes_of`` converts the format's key-value list."""
    return [
        Event(
            e.time_unix_nano,
            e.name,
            attributes_of(e.attributes) if e.attributes else {},
            e.dropped_attributes_count,
        )
        for e in events
    ]


def model_span(
    s: Any,
    trace_id: str,
    span_id: str,
    parent: str,
    kind: SpanKind,
    service: str,
    code: StatusCode,
    message: str,
    attributes: Attributes,
    resource_attributes: Attributes,
    scope: tuple[str, str, Attributes],
    events: list[Event],
    links: list[Link],
) -> Span:
    """The model span of OTLP span ``s`` (a JSON struct or protobuf message: the same field
    names), given what the reader has already converted its way (ids, enums, attribute values,
    events, links). Takes the ``spanscope.shared`` marker out of ``attributes`` and a bare
    FOLLOWS_FROM marker link out of ``links`` (see the module docstring)."""
    shared = False
    if SHARED_KEY in attributes and attributes[SHARED_KEY] is True:
        del attributes[SHARED_KEY]
        shared = True
    follows_from = False
    if links and parent:
        links, follows_from = split_follows_from(links, trace_id, parent)
    scope_name, scope_version, scope_attributes = scope
    return Span(
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


def export_attributes(span: Span) -> Attributes:
    if span.shared:
        return {**span.attributes, SHARED_KEY: True}
    return span.attributes


def export_links(span: Span) -> list[Link]:
    """The span's links, plus the FOLLOWS_FROM marker unless a link already says so."""
    if not (span.follows_from and span.parent_span_id):
        return span.links
    if any(_marks_follows_from(link, span.trace_id, span.parent_span_id) for link in span.links):
        return span.links
    marker = Link(
        span.trace_id, span.parent_span_id, attributes={FOLLOWS_FROM_KEY: FOLLOWS_FROM_VALUE}
    )
    return [*span.links, marker]


@dataclass
class ScopeGroup:
    name: str
    version: str
    attributes: Attributes
    spans: list[Span] = field(default_factory=list)


@dataclass
class ResourceGroup:
    service_name: str
    source: Attributes  # the spans' resource_attributes, to compare the next span with
    attributes: Attributes  # what to write: ``source`` with service.name = service_name
    scopes: list[ScopeGroup] = field(default_factory=list)


def _resource_attributes(span: Span) -> Attributes:
    attributes = span.resource_attributes
    if span.service_name and service_name_of(attributes) != span.service_name:
        return {**attributes, "service.name": span.service_name}
    return attributes


def _resource_group(batch: list[ResourceGroup], span: Span) -> ResourceGroup:
    """The group of ``batch`` with the resource of ``span`` (among the last ``_SCAN``), or a
    new one appended to it."""
    attributes = span.resource_attributes
    for group in batch[-_SCAN:]:
        if group.service_name == span.service_name and group.source == attributes:
            return group
    group = ResourceGroup(span.service_name, attributes, _resource_attributes(span))
    batch.append(group)
    return group


def _scope_group(resource: ResourceGroup, span: Span) -> ScopeGroup:
    """The scope group of ``resource`` with the scope of ``span`` (among the last ``_SCAN``),
    or a new one appended to it."""
    for group in resource.scopes[-_SCAN:]:
        if (
            group.name == span.scope_name
            and group.version == span.scope_version
            and group.attributes == span.scope_attributes
        ):
            return group
    group = ScopeGroup(span.scope_name, span.scope_version, span.scope_attributes)
    resource.scopes.append(group)
    return group


def batches(spans: Iterable[Span], size: int = BATCH_SIZE) -> Iterator[list[ResourceGroup]]:
    """Yield batches of at most ``size`` spans, grouped by resource and then by scope.

    Within a batch, spans join the group of an earlier span with the same resource and scope,
    as the SDK's OTLP exporters group a batch: groups keep their first span's place and spans
    keep their input order inside a group. (Grouping only consecutive spans would repeat the
    resource every span or two for spans that alternate services, as Jaeger and Zipkin files
    do: twice the bytes and a slower read.)
    """
    batch: list[ResourceGroup] = []
    by_identity: dict[tuple[str, int], ResourceGroup] = {}
    scopes: dict[tuple[int, str, str, int], ScopeGroup] = {}
    count = 0
    for span in spans:
        if count >= size:
            yield batch
            batch, by_identity, scopes, count = [], {}, {}, 0
        # Readers share one dict per resource, so identity finds the group almost always.
        identity = (span.service_name, id(span.resource_attributes))
        resource = by_identity.get(identity)
        if resource is None:
            resource = by_identity[identity] = _resource_group(batch, span)
        scope_key = (id(resource), span.scope_name, span.scope_version, id(span.scope_attributes))
        scope = scopes.get(scope_key)
        if scope is None:
            scope = scopes[scope_key] = _scope_group(resource, span)
        scope.spans.append(span)
        count += 1
    if batch:
        yield batch
