"""zipkin-js (its HTTP server and client instrumentation, a local span, a producer and a
consumer) sends Zipkin v2 JSON with zipkin-transport-http to ``/api/v2/spans``, and v1 JSON (the
transport's default) to ``/api/v1/spans``, with 128-bit and 64-bit (its default) trace ids:
the store holds the spans it sent: ids (the server half of a shared span kept beside its client
half), names, kinds, µs timestamps, tags, annotations, local and remote endpoints."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from spanscope.model import Span
from tests.server.conftest import RunningServer, stored_trace

from .conftest import run_node_json
from .otlp_sent import held as held_fields
from .otlp_sent import typed

KINDS = {"CLIENT": 3, "SERVER": 2, "PRODUCER": 4, "CONSUMER": 5, None: 0}


def expected(span: dict[str, Any]) -> dict[str, object]:
    """What a Zipkin v2 span says, in the terms of the mapping spanscope documents (README,
    "What converting keeps"): endpoints as network.* and service.peer.name attributes, an
    ``error`` tag makes the status ERROR with the tag as its message."""
    tags = dict(span.get("tags") or {})
    local, remote = span.get("localEndpoint") or {}, span.get("remoteEndpoint") or {}
    attributes: dict[str, object] = dict(tags)
    for key, value in (
        ("network.local.address", local.get("ipv4")),
        ("network.local.port", local.get("port")),
        ("service.peer.name", remote.get("serviceName")),
        ("network.peer.address", remote.get("ipv4")),
        ("network.peer.port", remote.get("port")),
    ):
        if value is not None:
            attributes[key] = value
    start_us = span["timestamp"]
    return {
        "trace_id": span["traceId"].rjust(32, "0"),
        "span_id": span["id"],
        "parent_span_id": span.get("parentId", ""),
        "name": span["name"],
        "kind": KINDS[span.get("kind")],
        "start_ns": start_us * 1000,
        "end_ns": (start_us + span["duration"]) * 1000,
        "service_name": local["serviceName"],
        "shared": bool(span.get("shared")),
        "attributes": typed(attributes),
        "status": (2, tags["error"]) if "error" in tags else (0, ""),
        "events": [
            (a["timestamp"] * 1000, a["value"], {}, 0) for a in span.get("annotations") or []
        ],
    }


# What Zipkin carries of what spanscope holds (``otlp_sent.held``), and the shared flag.
COMPARED = (
    "trace_id",
    "span_id",
    "parent_span_id",
    "name",
    "kind",
    "start_ns",
    "end_ns",
    "service_name",
    "attributes",
    "status",
    "events",
)


def held(span: Span) -> dict[str, object]:
    fields = held_fields(span)
    return {**{name: fields[name] for name in COMPARED}, "shared": span.shared}


def by_key(spans: list[dict[str, object]]) -> dict[tuple[object, object], dict[str, object]]:
    """Spans by (id, shared): a shared span's server half has its client half's id."""
    return {(s["span_id"], s["shared"]): s for s in spans}


@pytest.mark.parametrize(("encoding", "bits"), [("v2", "128"), ("v1", "128"), ("v2", "64")])
def test_store_holds_what_zipkin_js_sent(
    live_server: RunningServer, encoding: str, bits: str
) -> None:
    answer = run_node_json(
        "send_zipkin.mjs",
        "--encoding",
        encoding,
        "--trace-id-bits",
        bits,
        "--endpoint",
        f"{live_server.zipkin}/api/{encoding}/spans",
    )
    assert isinstance(answer, dict)
    # v1 is compared with zipkin-js's own v2 encoding of the same spans
    body = answer["v2"]
    assert len(body) == 6
    if encoding == "v2":
        assert answer["sent"] == body
    (sent_id,) = {span["traceId"] for span in body}
    assert len(sent_id) == int(bits) // 4
    trace_id = sent_id.rjust(32, "0")  # the model's ids are 128-bit, left-padded
    spans = stored_trace(live_server, trace_id)
    assert spans
    stored = by_key([held(span) for span in spans])
    assert stored == by_key([expected(span) for span in body])
    kinds = sorted(str(s["kind"]) for s in stored.values())
    assert kinds == ["0", "2", "2", "3", "4", "5"]  # local, 2 servers, client, producer, consumer
    shared = [s for s in stored.values() if s["shared"]]
    assert len(shared) == 1 and shared[0]["service_name"] == "inventory-js"
    services = httpx.get(f"{live_server.ui}/api/services").json()["data"]
    assert sorted(services) == ["inventory-js", "web-js"]
    # the Jaeger API finds the trace by the id as zipkin-js wrote it (16 or 32 digits)
    jaeger = httpx.get(f"{live_server.ui}/api/traces/{sent_id}")
    assert jaeger.status_code == 200 and len(jaeger.json()["data"][0]["spans"]) == 6
