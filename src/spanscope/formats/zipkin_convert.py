"""Zipkin v2 spans (``ZSpan``) to the span model, the way the OpenTelemetry Collector's
zipkin translator (``pkg/translator/zipkin/zipkinv2``) maps them (``zipkin_encode`` goes back).

Reading (``ZipkinReader.convert``):
- ``localEndpoint.serviceName`` is the service (resource ``service.name``); tags named like
  resource semantic conventions (``host.name``, ``service.version``...) go to the resource too,
  as the collector does.
- Endpoints become span attributes under the current semantic conventions, as the collector
  emits them by default since v0.147 (its ``EmitV1NetworkConventions`` gate):
  local ip/port -> ``network.local.address``/``network.local.port``; remote service/ip/port ->
  ``service.peer.name``/``network.peer.address``/``network.peer.port``. The writer also
  understands the older ``peer.service``, ``net.peer.ip``/``net.peer.port`` and
  ``net.host.ip``/``net.host.port``. When an endpoint has both ipv4 and ipv6, ipv6 wins
  (as in the collector).
- ``kind`` CLIENT/SERVER/PRODUCER/CONSUMER map to the same SpanKind; no kind is UNSPECIFIED,
  unless a ``span.kind`` tag says otherwise (the collector honours ``internal``; we also honour
  ``client``/``server``/``producer``/``consumer``, which OpenTracing bridges write).
- Status: ``otel.status_code`` (OK/ERROR/UNSET, any case, ``STATUS_CODE_`` prefix allowed) and
  ``otel.status_description``; any ``error`` tag makes the status ERROR. ``error: "true"`` is
  dropped, any other ``error`` value is kept as an attribute (collector) and, when there is no
  ``otel.status_description``, also becomes the status message (ours: Zipkin's convention is
  that the error tag holds the message).
- ``w3c.tracestate`` -> trace state; ``otel.scope.name``/``otel.library.name`` and
  ``.version`` -> scope; ``otlp.link.N`` tags -> links; ``debug: true`` -> attribute
  ``zipkin.debug``; ``otel.dropped_*_count`` (SDK exporters) -> the span's dropped counts;
  annotations -> events, decoding event attributes in the collector's ``name|{json}|dropped``
  and the SDK exporters' ``{"name": {json}}`` encodings. Tag values stay strings (the
  collector parses nothing by default); a non-string JSON value is kept with its type and
  reported.
- Times: microseconds to nanoseconds. A span without ``timestamp`` takes its times from its
  ``cs``/``cr`` (else ``sr``/``ss``) annotations; with none, start and end stay 0. A span
  without ``duration`` ends at its ``cr``/``ss`` annotation if it has one, else it is read as
  never ended (``end_ns == 0``). A timestamp outside 1990..2100 is kept but reported. An
  annotation more than a day away from its span is malformed (e.g. a digit short): it is placed
  at the span's start (cs, sr, ms, wr), end (cr, ss, ws, mr) or else the nearer of the two, its
  original time kept in the event attribute
  ``zipkin.timestamp_us``. Every such interpretation is a warning naming the span.
"""

from __future__ import annotations

from typing import Any

from spanscope.errors import Diagnostics
from spanscope.formats.zipkin_common import (
    ANNOTATION_SLACK_US,
    PLAUSIBLE_MAX_US,
    PLAUSIBLE_MIN_US,
    Annotation,
    Endpoint,
    ZSpan,
    nanos,
    normalize_ip,
    plausible,
    span_id,
    span_nanos,
    span_nanos_rounded,
    tag_string,
    trace_id,
)
from spanscope.formats.zipkin_vocabulary import (
    DEBUG,
    DROPPED_ATTRIBUTES,
    DROPPED_EVENTS,
    DROPPED_KEYS,
    DROPPED_LINKS,
    KINDS,
    LOCAL_ADDRESS,
    LOCAL_PORT,
    ORIGINAL_TIME,
    PEER_ADDRESS,
    PEER_PORT,
    PEER_SERVICE,
    RESOURCE_KEYS,
    STATUS_CODES,
    TAG_KINDS,
    decode_annotation,
    decode_link,
)
from spanscope.model import AttributeValue, Event, Link, Span, SpanKind, StatusCode

_CORE = ("cs", "sr", "cr", "ss")
_SCOPE_KEYS = frozenset(
    ("otel.scope.name", "otel.library.name", "otel.scope.version", "otel.library.version")
)
_OPENING = ("cs", "sr", "ms", "wr")  # a malformed one of these belongs at the span's start
_CLOSING = ("cr", "ss", "ws", "mr")  # and these at its end


class ZipkinReader:
    """Converts the ``ZSpan``s of one input; shares resource dicts between spans of a service."""

    def __init__(self, source: str, diagnostics: Diagnostics) -> None:
        self.source = source
        self.diagnostics = diagnostics
        self._resources: dict[Any, dict[str, AttributeValue]] = {}

    def convert(self, z: ZSpan, place: str, check_tags: bool = True) -> Span:
        """The model span of ``z``, found at ``place``. ``check_tags`` looks for (and
        reports) tag values that are not strings; off when the decoder already made sure, or
        when typed values are expected (converted v1 spans)."""
        notes: list[str] = []
        source = self.source
        tid, ids_ok = trace_id(z.traceId, source, place)
        sid, sid_ok = span_id(z.id, source, place)
        parent = ""
        if z.parentId:
            parent, parent_ok = span_id(z.parentId, source, place, "parentId")
            sid_ok = sid_ok and parent_ok
            if parent == sid:
                notes.append("parentId equals id; read as a root span")
                parent = ""
        if not (ids_ok and sid_ok):
            notes.append("ids not written as 16/32 lowercase hex digits; zero-padded/lowercased")
        # the decoded tags are ours to take apart: special tags are popped, the rest stays
        tags: dict[str, Any] = z.tags if z.tags is not None else {}
        if check_tags and tags:
            _check_tags(tags, notes)
        kind = KINDS.get(z.kind) if z.kind else None
        if kind is None:
            kind = self._kind(z.kind, tags, notes)
        status_code, status_message = StatusCode.UNSET, ""
        trace_state = scope_name = scope_version = ""
        links: list[Link] = []
        dropped = (0, 0, 0)
        if tags:
            if "otel.status_code" in tags or "error" in tags:
                status_code, status_message = _status(tags, notes)
            if "w3c.tracestate" in tags:
                trace_state = tag_string(tags.pop("w3c.tracestate"))
            if not _SCOPE_KEYS.isdisjoint(tags):
                scope_name = _pop_first(tags, "otel.scope.name", "otel.library.name")
                scope_version = _pop_first(tags, "otel.scope.version", "otel.library.version")
            if "otlp.link.0" in tags:
                links = _links(tags, notes)
            if not DROPPED_KEYS.isdisjoint(tags):
                dropped = _dropped(tags)
        local = z.localEndpoint
        service = (local.serviceName or "") if local is not None else ""
        resource = self._resource(service, tags)
        attributes: dict[str, AttributeValue] = tags
        if local is not None:
            self._endpoint(local, LOCAL_ADDRESS, LOCAL_PORT, attributes, notes)
        remote = z.remoteEndpoint
        if remote is not None:
            if remote.serviceName:
                attributes[PEER_SERVICE] = remote.serviceName
            self._endpoint(remote, PEER_ADDRESS, PEER_PORT, attributes, notes)
        if z.debug:
            attributes[DEBUG] = True
        start_ns, end_ns = _times(z, notes)
        events = _events(z.annotations, start_ns, end_ns, notes) if z.annotations else []
        span = Span(
            trace_id=tid,
            span_id=sid,
            name=z.name or "",
            start_ns=start_ns,
            end_ns=end_ns,
            parent_span_id=parent,
            kind=kind,
            service_name=service,
            status_code=status_code,
            status_message=status_message,
            attributes=attributes,
            resource_attributes=resource,
            scope_name=scope_name,
            scope_version=scope_version,
            events=events,
            links=links,
            trace_state=trace_state,
            shared=bool(z.shared),
            dropped_attributes_count=dropped[0],
            dropped_events_count=dropped[1],
            dropped_links_count=dropped[2],
        )
        if notes:
            span.warnings = notes
            label = f"span {sid} ({span.name!r})"
            for note in notes:
                self.diagnostics.warn(self.source, place, f"{label}: {note}")
        return span

    @staticmethod
    def _kind(kind: str | None, tags: dict[str, Any], notes: list[str]) -> SpanKind:
        if kind:
            found = KINDS.get(kind) or KINDS.get(kind.upper())
            if found is None:
                notes.append(f"unknown kind {kind!r}; read as unspecified")
                return SpanKind.UNSPECIFIED
            return found
        if "span.kind" in tags:
            value = tags.pop("span.kind")
            return TAG_KINDS.get(tag_string(value).lower(), SpanKind.UNSPECIFIED)
        return SpanKind.UNSPECIFIED

    def _resource(self, service: str, tags: dict[str, Any]) -> dict[str, AttributeValue]:
        if not service:
            return {}  # the collector moves nothing to a resource without a service name
        moved: tuple = ()
        keys = RESOURCE_KEYS.intersection(tags)
        if keys:
            tags.pop("service.name", None)  # the endpoint names the service
            moved = tuple((key, tags.pop(key)) for key in sorted(keys) if key != "service.name")
        cache_key = (service, moved)
        try:
            return self._resources[cache_key]
        except KeyError:
            pass
        except TypeError:  # an unhashable (list) value: no sharing for this one
            return {"service.name": service, **dict(moved)}
        resource: dict[str, AttributeValue] = {"service.name": service, **dict(moved)}
        self._resources[cache_key] = resource
        return resource

    @staticmethod
    def _endpoint(
        endpoint: Endpoint, address_key: str, port_key: str, attributes: dict, notes: list[str]
    ) -> None:
        for raw in (endpoint.ipv4, endpoint.ipv6):  # ipv6 second: it wins, as in the collector
            if raw:
                address = normalize_ip(raw)
                if address is None:
                    notes.append(f"endpoint address {raw!r} is not an IP address; kept as is")
                    address = raw
                attributes[address_key] = address
        if endpoint.port is not None and endpoint.port > 0:
            attributes[port_key] = endpoint.port


def _check_tags(tags: dict[str, Any], notes: list[str]) -> None:
    odd = [key for key, value in tags.items() if type(value) is not str]
    if odd:
        for key in odd:
            if tags[key] is None:
                del tags[key]
        notes.append(f"tag values that are not strings kept as JSON gave them: {odd}")


def _dropped(tags: dict[str, Any]) -> tuple[int, int, int]:
    counts = []
    for key in (DROPPED_ATTRIBUTES, DROPPED_EVENTS, DROPPED_LINKS):
        value = tags.get(key)
        text = tag_string(value) if value is not None else ""
        if text.isdecimal():
            del tags[key]
            counts.append(int(text))
        else:
            counts.append(0)  # absent, or not a count: left as an attribute
    return counts[0], counts[1], counts[2]


def _pop_first(tags: dict[str, Any], *keys: str) -> str:
    found = ""
    for key in keys:
        if key in tags:
            value = tag_string(tags.pop(key))
            found = found or value
    return found


def _status(tags: dict[str, Any], notes: list[str]) -> tuple[StatusCode, str]:
    code, message = StatusCode.UNSET, ""
    if "otel.status_code" in tags:
        raw = tags.pop("otel.status_code")
        name = tag_string(raw).strip().upper().removeprefix("STATUS_CODE_")
        if name in STATUS_CODES:
            code = STATUS_CODES[name]
            if "otel.status_description" in tags:
                message = tag_string(tags.pop("otel.status_description"))
        else:
            notes.append(f"unknown otel.status_code {raw!r}; kept as an attribute")
            tags["otel.status_code"] = raw
    if "error" in tags:
        code = StatusCode.ERROR
        value = tags["error"]
        if value is True or value == "true":
            del tags["error"]
        elif not message and value not in ("", False):
            message = tag_string(value)
    return code, message


def _links(tags: dict[str, Any], notes: list[str]) -> list[Link]:
    # numbered from 0 without gaps, as the collector writes (and reads) them
    links: list[Link] = []
    index = 0
    while (key := f"otlp.link.{index}") in tags:
        link = decode_link(tags[key])
        if link is None:
            notes.append(f"tag {key} is not a link the collector wrote; kept as an attribute")
        else:
            del tags[key]
            links.append(link)
        index += 1
    return links


def _core_times(annotations: list[Annotation] | None) -> dict[str, int]:
    core: dict[str, int] = {}
    for annotation in annotations or ():
        if annotation.value in _CORE and annotation.value not in core:
            ns = span_nanos(annotation.timestamp)
            if ns is not None:
                core[annotation.value] = ns
    return core


def _us(ns: int) -> str:
    """Nanoseconds as the microseconds Zipkin writes, a fraction only when there is one."""
    return f"{ns // 1000}" if ns % 1000 == 0 else f"{ns // 1000}.{ns % 1000:03}"


def _times(z: ZSpan, notes: list[str]) -> tuple[int, int]:
    """Start and end in nanoseconds; 0 for unknown."""
    start, duration = z.timestamp, z.duration
    if (
        type(start) is int
        and type(duration) is int
        and PLAUSIBLE_MIN_US <= start <= PLAUSIBLE_MAX_US
        and duration > 0
    ):
        return start * 1000, (start + duration) * 1000  # the common case, kept cheap
    start, start_rounded = span_nanos_rounded(start)
    duration, duration_rounded = span_nanos_rounded(duration)
    if z.timestamp is not None and start is None:
        notes.append(f"timestamp {z.timestamp!r} is not a positive number of µs in range; ignored")
    if z.duration not in (None, 0) and duration is None:
        notes.append(f"duration {z.duration!r} is not a positive number of µs in range; ignored")
    if start_rounded or duration_rounded:
        notes.append("fractions of a nanosecond rounded")
    end: int | None = None
    if start is None:
        core = _core_times(z.annotations)
        pair = ("cs", "cr") if "cs" in core else ("sr", "ss") if "sr" in core else None
        if pair is None:
            notes.append("no timestamp and no cs/sr annotation: start and end unknown (0)")
            return 0, 0
        start = core[pair[0]]
        end = core.get(pair[1])
        how = f"{pair[0]}/{pair[1]} annotations" if end is not None else f"{pair[0]} annotation"
        notes.append(f"no timestamp; times taken from the {how}")
        if end is None and duration is not None:
            end = start + duration
    elif duration is not None:
        end = start + duration
    else:
        core = _core_times(z.annotations)
        for closing in ("cr", "ss"):
            if core.get(closing, 0) > start:
                end = core[closing]
                notes.append(f"no duration; end taken from the {closing} annotation")
                break
        else:
            notes.append("no duration: read as a span that never ended")
    if not plausible(start // 1000):
        notes.append(
            f"timestamp {_us(start)} µs is not a plausible epoch time (1990..2100); kept as is"
        )
    if end is not None and end < start:
        notes.append(f"end {_us(end)} µs is before start {_us(start)} µs; read as never ended")
        end = None
    return start, end or 0


def _events(annotations: list[Annotation], start: int, end: int, notes: list[str]) -> list[Event]:
    """The annotations as events; ``start`` and ``end`` are the span's, in nanoseconds."""
    events = []
    check = start and plausible(start // 1000)
    last = end or start
    slack = ANNOTATION_SLACK_US * 1000
    for annotation in annotations:
        ns = nanos(annotation.timestamp)
        name, attributes, dropped = decode_annotation(annotation.value or "")
        if ns is None:
            notes.append(f"annotation {name!r} has no valid timestamp; dropped")
            continue
        if check and (ns < start - slack or ns > last + slack):
            if name in _OPENING:
                placed = start
            elif name in _CLOSING:
                placed = last
            else:
                placed = start if ns < start else last
            notes.append(
                f"annotation {name!r} at {_us(ns)} µs is more than a day outside the span "
                f"(malformed); placed at {_us(placed)} µs, original kept in {ORIGINAL_TIME}"
            )
            attributes = {**attributes, ORIGINAL_TIME: (ns + 500) // 1000}
            ns = placed
        events.append(Event(ns, name, attributes, dropped))
    return events
