"""The span model to Zipkin v2 spans (``ZSpan``), the way the OpenTelemetry Collector's zipkin
exporter (``zipkinv2.FromTranslator``) maps them, so that ``zipkin_convert`` reads them back.

- ids: trace ids with a zero high half are written as 16 hex digits, as Zipkin does.
- times: ``timestamp = start_ns // 1000``, ``duration = end_ns // 1000 - timestamp``, at least
  1 µs for a span that has any length (Zipkin rounds durations of less than one up); no
  ``timestamp`` for a span that starts within the first microsecond of the epoch (Zipkin reads 0
  as "unset"), no ``duration`` for a span that never ended or ends
  before it starts.
- service: ``service_name`` (else resource ``service.name``) -> ``localEndpoint.serviceName``;
  ``network.local.*``/``net.host.*`` -> ``localEndpoint``; ``service.peer.name``/``peer.service``,
  ``network.peer.*``/``net.peer.*`` -> ``remoteEndpoint`` (an address that is not an IP stays a
  tag). Other resource attributes become tags (as the collector writes them).
- kind -> ``kind``; INTERNAL -> no kind plus tag ``span.kind: internal`` (collector).
- status ERROR -> tag ``error: "true"`` (unless an ``error`` attribute holds a message) and
  ``otel.status_code: ERROR``; OK -> ``otel.status_code: OK``; the message ->
  ``otel.status_description``. An ``error`` attribute on a span that is not ERROR is dropped:
  Zipkin would read any ``error`` tag as a failure.
- trace state -> ``w3c.tracestate``; scope -> ``otel.scope.name``/``otel.scope.version``;
  links -> ``otlp.link.N`` tags; events -> annotations, ``name|{json attributes}|dropped`` when
  the event has attributes (the collector's encoding), identical ones once (Zipkin keeps
  annotations unique); attribute ``zipkin.debug`` -> ``debug``; the span's dropped counts ->
  ``otel.dropped_*_count`` tags (as the SDK exporters write them).
- attribute values become strings (``typed=False``): booleans lower-case, bytes base64, lists
  and maps as JSON. With ``typed=True`` (the v1 writer, which can say the type) booleans, ints
  and floats keep their type.
"""

from __future__ import annotations

from typing import Any

from spanscope.formats.zipkin_common import Annotation, Endpoint, ZSpan, normalize_ip
from spanscope.formats.zipkin_common import tag_string as _string
from spanscope.formats.zipkin_vocabulary import (
    DEBUG,
    DROPPED_ATTRIBUTES,
    DROPPED_EVENTS,
    DROPPED_LINKS,
    KIND_NAMES,
    LOCAL_ADDRESS_KEYS,
    LOCAL_PORT_KEYS,
    PEER_ADDRESS_KEYS,
    PEER_PORT_KEYS,
    PEER_SERVICE_KEYS,
    STATUS_NAMES,
    encode_annotation,
    encode_link,
)
from spanscope.model import AttributeValue, Span, SpanKind, StatusCode

_ZERO_HIGH = "0" * 16


def _typed(value: AttributeValue) -> Any:
    if type(value) in (str, bool, int, float):
        return value
    return _string(value)


def _pop_address(attributes: dict[str, AttributeValue], keys: tuple[str, ...]) -> str | None:
    for key in keys:
        value = attributes.get(key)
        if type(value) is str:
            address = normalize_ip(value)
            if address is not None:
                del attributes[key]
                return address
    return None


def _pop_port(attributes: dict[str, AttributeValue], keys: tuple[str, ...]) -> int | None:
    for key in keys:
        value = attributes.get(key)
        if type(value) is str and value.isdecimal():
            value = int(value)
        if type(value) is int and 0 < value < 65536:
            del attributes[key]
            return value
    return None


def _pop_service(attributes: dict[str, AttributeValue], keys: tuple[str, ...]) -> str | None:
    found = None
    for key in keys:
        value = attributes.get(key)
        if type(value) is str and value:
            del attributes[key]
            found = found or value
    return found


def _endpoint(service: str | None, address: str | None, port: int | None) -> Endpoint | None:
    if not service and address is None and port is None:
        return None
    endpoint = Endpoint(serviceName=service or None, port=port)
    if address is not None:
        if ":" in address:
            endpoint.ipv6 = address
        else:
            endpoint.ipv4 = address
    return endpoint


def _annotations(span: Span) -> list[Annotation]:
    # Zipkin keeps annotations unique (the API schema says so): identical ones are written once
    seen: set[tuple[int, str]] = set()
    annotations = []
    for event in span.events:
        key = (event.time_ns // 1000, encode_annotation(event))
        if key not in seen:
            seen.add(key)
            annotations.append(Annotation(timestamp=key[0], value=key[1]))
    return annotations


def to_zipkin(span: Span, typed: bool = False) -> ZSpan:
    """The Zipkin v2 span for ``span``; see the module docstring for what maps where."""
    convert = _typed if typed else _string
    attributes = dict(span.attributes)
    service = span.service_name or _string(span.resource_attributes.get("service.name") or "")
    tags: dict[str, Any] = {
        key: convert(value)
        for key, value in span.resource_attributes.items()
        if key != "service.name"
    }
    debug = attributes.get(DEBUG) is True
    if debug:
        del attributes[DEBUG]
    local = _endpoint(
        service,
        _pop_address(attributes, LOCAL_ADDRESS_KEYS),
        _pop_port(attributes, LOCAL_PORT_KEYS),
    )
    remote = _endpoint(
        _pop_service(attributes, PEER_SERVICE_KEYS),
        _pop_address(attributes, PEER_ADDRESS_KEYS),
        _pop_port(attributes, PEER_PORT_KEYS),
    )
    for key, value in attributes.items():
        tags[key] = convert(value)
    kind = KIND_NAMES.get(span.kind)
    if span.kind == SpanKind.INTERNAL:
        tags["span.kind"] = "internal"
    if span.status_code == StatusCode.ERROR:
        if "error" not in tags or tags["error"] in ("", False, "false"):
            tags["error"] = "true"
    else:
        tags.pop("error", None)
    if span.status_code in STATUS_NAMES:
        tags["otel.status_code"] = STATUS_NAMES[span.status_code]
        if span.status_message:
            tags["otel.status_description"] = span.status_message
    if span.trace_state:
        tags["w3c.tracestate"] = span.trace_state
    if span.scope_name:
        tags["otel.scope.name"] = span.scope_name
    if span.scope_version:
        tags["otel.scope.version"] = span.scope_version
    for index, link in enumerate(span.links):
        tags[f"otlp.link.{index}"] = encode_link(link)
    for key, count in (
        (DROPPED_ATTRIBUTES, span.dropped_attributes_count),
        (DROPPED_EVENTS, span.dropped_events_count),
        (DROPPED_LINKS, span.dropped_links_count),
    ):
        if count:
            tags[key] = convert(count)
    trace = span.trace_id
    if trace.startswith(_ZERO_HIGH):
        trace = trace[16:]
    start_us = span.start_ns // 1000
    duration = None
    if start_us > 0 and span.end_ns > span.start_ns:
        duration = max(span.end_ns // 1000 - start_us, 1)
    return ZSpan(
        traceId=trace,
        id=span.span_id,
        parentId=span.parent_span_id or None,
        kind=kind,
        name=span.name,
        timestamp=start_us if start_us > 0 else None,
        duration=duration,
        debug=True if debug else None,
        shared=True if span.shared else None,
        localEndpoint=local,
        remoteEndpoint=remote,
        annotations=_annotations(span) or None,
        tags=tags or None,
    )
