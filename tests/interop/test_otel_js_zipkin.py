"""OpenTelemetry JS's own Zipkin exporter, a second JavaScript writer of Zipkin v2 JSON, sends
two services' spans to ``/api/v2/spans``. It writes its own way: timestamps in fractional
microseconds (Zipkin's are integers), every attribute and resource attribute as a string tag,
the status in ``otel.status_code`` and ``error``, dropped counts in ``otel.dropped_*`` tags. The
store holds each posted span as the README's Zipkin mapping reads it."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from spanscope.formats.zipkin_vocabulary import RESOURCE_KEYS
from spanscope.model import Span
from tests.server.conftest import RunningServer, stored_trace

from .conftest import run_node_json

KINDS = {"CLIENT": 3, "SERVER": 2, "PRODUCER": 4, "CONSUMER": 5, None: 0}
STATUS = {"OK": 1, "ERROR": 2}


def micros_as_ns(micros: float) -> int:
    """A Zipkin time in ns, its fraction kept to the nearest ns: the number as JavaScript wrote
    it (``str`` of a float is the same shortest text that reads back as it)."""
    return round(Decimal(str(micros)) * 1000)


def check_span(sent: dict[str, Any], span: Span) -> None:
    assert (span.trace_id, span.parent_span_id) == (sent["traceId"], sent.get("parentId", ""))
    assert (span.name, int(span.kind)) == (sent["name"], KINDS[sent.get("kind")])
    assert span.service_name == sent["localEndpoint"]["serviceName"]
    assert span.start_ns == micros_as_ns(sent["timestamp"])
    assert span.end_ns - span.start_ns == micros_as_ns(sent["duration"])
    tags = dict(sent["tags"])
    status = STATUS.get(tags.pop("otel.status_code", ""), 0)
    assert (int(span.status_code), span.status_message) == (status, tags.get("error", ""))
    dropped = int(tags.pop("otel.dropped_attributes_count", 0))
    assert span.dropped_attributes_count == dropped
    for key, value in tags.items():
        held = span.resource_attributes if key in RESOURCE_KEYS else span.attributes
        assert held[key] == value, key
    annotations = [(micros_as_ns(a["timestamp"]), a["value"]) for a in sent.get("annotations", [])]
    assert [(e.time_ns, e.name) for e in span.events] == annotations


def test_store_holds_what_the_js_zipkin_exporter_sent(live_server: RunningServer) -> None:
    posted = run_node_json(
        "export_zipkin_otel.mjs", "--endpoint", f"{live_server.zipkin}/api/v2/spans"
    )
    assert isinstance(posted, list) and len(posted) == 6
    # what sets this writer apart: fractional microseconds, arrays joined with commas
    assert any(not float(span["timestamp"]).is_integer() for span in posted)
    root = next(span for span in posted if span["name"] == "POST /checkout")
    assert root["tags"]["list.text"] == "a,b,"
    stored: dict[str, Span] = {}
    for trace_id in {span["traceId"] for span in posted}:
        stored.update((span.span_id, span) for span in stored_trace(live_server, trace_id))
    assert stored.keys() == {span["id"] for span in posted}
    for sent in posted:
        check_span(sent, stored[sent["id"]])
