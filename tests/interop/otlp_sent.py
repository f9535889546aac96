"""What an OTLP/JSON export request says, read independently of spanscope's readers: the test's
own plain reading of the OTLP JSON mapping (hex ids, times as decimal strings, AnyValue by its
one key), so a mistake in our reader cannot hide in both the expectation and the result."""

from __future__ import annotations

from typing import Any

from spanscope.model import Span


def any_value(value: dict[str, Any]) -> object:
    """An AnyValue; an empty one (the SDK's null array member) is None."""
    if "stringValue" in value:
        return value["stringValue"]
    if "boolValue" in value:
        return value["boolValue"]
    if "intValue" in value:
        number = int(value["intValue"])  # a number or, by the spec's int64 rule, a string
        # past int64 it was a JS double, which the SDK's protobuf writer sends as one
        return number if -(2**63) <= number < 2**63 else float(number)
    if "doubleValue" in value:
        return float(value["doubleValue"])
    if "arrayValue" in value:
        return [any_value(v) for v in value["arrayValue"].get("values") or []]
    if "kvlistValue" in value:
        return attributes(value["kvlistValue"].get("values"))
    assert not value, f"an AnyValue this test does not know: {value}"
    return None


def attributes(pairs: list[dict[str, Any]] | None) -> dict[str, object]:
    return {pair["key"]: any_value(pair.get("value") or {}) for pair in pairs or []}


def typed(value: object) -> object:
    """``value`` with its type beside every scalar: 1 and 1.0 (and True) compare different."""
    if isinstance(value, dict):
        return {key: typed(item) for key, item in value.items()}
    if isinstance(value, list):
        return [typed(item) for item in value]
    return (type(value).__name__, value)


def sent_spans(request: dict[str, Any]) -> dict[str, dict[str, object]]:
    """Every span of an ``ExportTraceServiceRequest`` in OTLP JSON, by span id, as the fields
    spanscope's model holds (typed attribute values)."""
    out: dict[str, dict[str, object]] = {}
    for resource_spans in request["resourceSpans"]:
        resource = attributes(resource_spans.get("resource", {}).get("attributes"))
        for scope_spans in resource_spans.get("scopeSpans") or []:
            scope = scope_spans.get("scope") or {}
            for span in scope_spans.get("spans") or []:
                status = span.get("status") or {}
                out[span["spanId"]] = {
                    "trace_id": span["traceId"],
                    "span_id": span["spanId"],
                    "parent_span_id": span.get("parentSpanId") or "",
                    "name": span["name"],
                    "kind": int(span.get("kind") or 0),
                    "start_ns": int(span["startTimeUnixNano"]),
                    "end_ns": int(span["endTimeUnixNano"]),
                    "trace_state": span.get("traceState") or "",
                    "flags": int(span.get("flags") or 0),
                    "status": (int(status.get("code") or 0), status.get("message") or ""),
                    "service_name": resource.get("service.name"),
                    "resource_attributes": typed(resource),
                    "scope": (scope.get("name") or "", scope.get("version") or ""),
                    "attributes": typed(attributes(span.get("attributes"))),
                    "dropped_attributes_count": int(span.get("droppedAttributesCount") or 0),
                    "events": [
                        (
                            int(event["timeUnixNano"]),
                            event["name"],
                            typed(attributes(event.get("attributes"))),
                            int(event.get("droppedAttributesCount") or 0),
                        )
                        for event in span.get("events") or []
                    ],
                    "links": [
                        (
                            link["traceId"],
                            link["spanId"],
                            link.get("traceState") or "",
                            typed(attributes(link.get("attributes"))),
                        )
                        for link in span.get("links") or []
                    ],
                }
    return out


def held(span: Span) -> dict[str, object]:
    """The same fields of a span spanscope holds."""
    return {
        "trace_id": span.trace_id,
        "span_id": span.span_id,
        "parent_span_id": span.parent_span_id,
        "name": span.name,
        "kind": int(span.kind),
        "start_ns": span.start_ns,
        "end_ns": span.end_ns,
        "trace_state": span.trace_state,
        "flags": span.flags,
        "status": (int(span.status_code), span.status_message),
        "service_name": span.service_name,
        "resource_attributes": typed(dict(span.resource_attributes)),
        "scope": (span.scope_name, span.scope_version),
        "attributes": typed(dict(span.attributes)),
        "dropped_attributes_count": span.dropped_attributes_count,
        "events": [
            (e.time_ns, e.name, typed(dict(e.attributes)), e.dropped_attributes_count)
            for e in span.events
        ],
        "links": [
            (link.trace_id, link.span_id, link.trace_state, typed(dict(link.attributes)))
            for link in span.links
        ],
    }
