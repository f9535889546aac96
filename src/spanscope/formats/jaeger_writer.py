"""Writing Jaeger JSON: the query API export ``{"data": [trace, ...], "total": 0, "limit": 0,
"offset": 0, "errors": null}``, as Jaeger's query service writes it for OTLP input.

Each trace is ``{"traceID", "spans", "processes", "warnings": null}``; processes are numbered
``p1``, ``p2``, ... per trace in order of first use, one per distinct service name and resource.
Trace ids are written as Jaeger prints them: 16 hex digits when the high half is zero, else 32.
Tags follow the OTel Jaeger translator, in its order: ``otel.scope.name``/``otel.scope.version``,
the attributes, ``span.kind``, ``otel.status_code``, ``error=true`` (status ERROR),
``otel.status_description``, ``w3c.tracestate``. The parent is the first reference (CHILD_OF, or
FOLLOWS_FROM for ``follows_from`` spans), then one reference per link.

A span that never ended (``end_ns == 0``) is written without ``duration``, which the reader
takes back as never ended (Jaeger's own readers see 0); one that ends before it starts keeps its
negative duration, so the problem stays visible after a round trip.

Memory: a trace's spans must be written together, so the writer groups every span by trace id
in memory before writing; traces come out in first-seen order, spans in input order. Each trace
is encoded and written on its own line, so only the grouped spans are held, not the output.

What Jaeger JSON cannot hold (a write -> read round trip loses exactly this; the rest is kept):
- times below the microsecond: start and event times are truncated to whole microseconds,
  and so is the duration (end minus start), as Jaeger's query service writes them; the end
  comes back as that start plus that duration;
- scope attributes; the dropped attribute/event/link counts of spans, events and links;
- span flags above the low byte (OTLP's "parent is remote" bits 8 and 9): ``flags`` keeps the
  trace flags byte, as the OTel translator keeps the sampled bit;
- ``shared`` (a Zipkin notion);
- of a link, its trace state, flags and attributes other than ``opentracing.ref_type``; a link
  is written FOLLOWS_FROM unless that attribute is ``child_of``, and comes back with
  ``opentracing.ref_type`` set (``follows_from`` when it had none);
- reference order decides the parent on reading: a link into the same trace on a span without a
  parent comes back as its FOLLOWS_FROM parent when it is the first reference, and a ``child_of``
  link into the same trace comes back as the parent of a span whose parent is FOLLOWS_FROM;
- ``follows_from`` on a span without a parent;
- attribute types Jaeger has no tag type for: lists and maps are written as JSON text, an empty
  value as ``""`` (bytes, int64 beyond 2**53, NaN and infinities are kept);
- an event without a name comes back named ``"log"``, or named by its attribute ``event`` when
  that is a string (the attribute is then gone);
- ``resource_attributes["service.name"]`` when it differs from ``service_name`` (the process's
  ``serviceName`` is ``service_name``, or the resource's ``service.name`` when that is empty);
- attributes named like the tags above that carry fields (``span.kind``, ``error``, ...): the
  field's own tag replaces them, and otherwise they may be read back as that field.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, BinaryIO

import msgspec

from spanscope.formats.jaeger_tags import encode_tag
from spanscope.model import Attributes, Event, Span, SpanKind, StatusCode

_KIND_NAMES = {
    SpanKind.CLIENT: "client",
    SpanKind.SERVER: "server",
    SpanKind.PRODUCER: "producer",
    SpanKind.CONSUMER: "consumer",
    SpanKind.INTERNAL: "internal",
}
_ENCODER = msgspec.json.Encoder()


def jaeger_trace_id(trace_id: str) -> str:
    """A 32-digit trace id as Jaeger prints it: the low half alone when the high half is 0."""
    if len(trace_id) == 32 and trace_id.startswith("0000000000000000"):
        return trace_id[16:]
    return trace_id


def write(spans: Iterable[Span], out: BinaryIO) -> None:
    """Write ``spans`` as one Jaeger API export document (see the module docstring)."""
    traces: dict[str, list[Span]] = {}
    for span in spans:
        group = traces.get(span.trace_id)
        if group is None:
            traces[span.trace_id] = [span]
        else:
            group.append(span)
    processes = _Processes()
    out.write(b'{"data":[')
    for index, (trace_id, trace_spans) in enumerate(traces.items()):
        out.write(b"\n" if index == 0 else b",\n")
        out.write(_ENCODER.encode(_trace(trace_id, trace_spans, processes)))
    out.write(b'],"total":0,"limit":0,"offset":0,"errors":null}\n')


class _Processes:
    """Jaeger processes by (service name, resource attributes). Resource dicts are shared by
    the spans of one resource, so each is encoded once."""

    def __init__(self) -> None:
        self._by_resource: dict[tuple[str, int], tuple[bytes, dict[str, Any]]] = {}

    def of(self, span: Span) -> tuple[bytes, dict[str, Any]]:
        resource = span.resource_attributes
        cache_key = (span.service_name, id(resource))
        found = self._by_resource.get(cache_key)
        if found is None:
            found = self._by_resource[cache_key] = _process(span.service_name, resource)
        return found


def _process(service_name: str, resource: Attributes) -> tuple[bytes, dict[str, Any]]:
    if not service_name:
        named = resource.get("service.name")
        service_name = named if isinstance(named, str) else ""
    tags = [encode_tag(key, value) for key, value in resource.items() if key != "service.name"]
    process = {"serviceName": service_name, "tags": tags}
    return _ENCODER.encode(process), process


def _trace(trace_id: str, spans: list[Span], processes: _Processes) -> dict[str, Any]:
    ids: dict[bytes, str] = {}
    by_id: dict[str, dict[str, Any]] = {}
    written = []
    jaeger_id = jaeger_trace_id(trace_id)
    for span in spans:
        key, process = processes.of(span)
        process_id = ids.get(key)
        if process_id is None:
            process_id = ids[key] = f"p{len(ids) + 1}"
            by_id[process_id] = process
        written.append(_span(span, jaeger_id, process_id))
    return {"traceID": jaeger_id, "spans": written, "processes": by_id, "warnings": None}


def _span(span: Span, trace_id: str, process_id: str) -> dict[str, Any]:
    references = []
    if span.parent_span_id:
        references.append(
            {
                "refType": "FOLLOWS_FROM" if span.follows_from else "CHILD_OF",
                "traceID": trace_id,
                "spanID": span.parent_span_id,
            }
        )
    for link in span.links:
        child_of = link.attributes.get("opentracing.ref_type") == "child_of"
        references.append(
            {
                "refType": "CHILD_OF" if child_of else "FOLLOWS_FROM",
                "traceID": jaeger_trace_id(link.trace_id),
                "spanID": link.span_id,
            }
        )
    written: dict[str, Any] = {"traceID": trace_id, "spanID": span.span_id}
    flags = span.flags & 0xFF  # the trace flags byte; Jaeger's flags: 1 sampled, 2 debug
    if flags:
        written["flags"] = flags
    start_us = span.start_ns // 1000
    written["operationName"] = span.name
    written["references"] = references
    written["startTime"] = start_us
    if span.end_ns:
        written["duration"] = _duration_us(span.end_ns - span.start_ns)
    written["tags"] = _tags(span)
    written["logs"] = [_log(event) for event in span.events]
    written["processID"] = process_id
    written["warnings"] = list(span.warnings) if span.warnings else None
    return written


def _duration_us(duration_ns: int) -> int:
    """A duration in whole microseconds as Jaeger gives it: the nanoseconds truncated toward
    zero (Go's ``Duration / 1000``), not end minus start after truncating each, which reads a
    9,999,877 ns span starting half-way through a microsecond as 10,000 us."""
    return duration_ns // 1000 if duration_ns >= 0 else -(-duration_ns // 1000)


def _tags(span: Span) -> list[dict[str, Any]]:
    fields: list[dict[str, Any]] = []
    if span.kind in _KIND_NAMES:
        fields.append({"key": "span.kind", "type": "string", "value": _KIND_NAMES[span.kind]})
    if span.status_code == StatusCode.OK:
        fields.append({"key": "otel.status_code", "type": "string", "value": "OK"})
    elif span.status_code == StatusCode.ERROR:
        fields.append({"key": "otel.status_code", "type": "string", "value": "ERROR"})
        fields.append({"key": "error", "type": "bool", "value": True})
    if span.status_message:
        fields.append(
            {"key": "otel.status_description", "type": "string", "value": span.status_message}
        )
    if span.trace_state:
        fields.append({"key": "w3c.tracestate", "type": "string", "value": span.trace_state})

    tags: list[dict[str, Any]] = []
    if span.scope_name:
        tags.append({"key": "otel.scope.name", "type": "string", "value": span.scope_name})
    if span.scope_version:
        tags.append({"key": "otel.scope.version", "type": "string", "value": span.scope_version})
    taken = {tag["key"] for tag in tags} | {tag["key"] for tag in fields}
    for key, value in span.attributes.items():
        if key not in taken:
            tags.append(encode_tag(key, value))
    tags.extend(fields)
    return tags


def _log(event: Event) -> dict[str, Any]:
    fields = []
    if event.name:
        fields.append({"key": "event", "type": "string", "value": event.name})
    # An attribute named "event" follows the name's field; the reader takes the first as name.
    fields.extend(encode_tag(key, value) for key, value in event.attributes.items())
    return {"timestamp": event.time_ns // 1000, "fields": fields}


def trace_document(trace_id: str, spans: list[Span]) -> dict[str, Any]:
    """One trace as the Jaeger query API returns it in ``data`` (for servers answering it)."""
    return _trace(trace_id, spans, _Processes())
