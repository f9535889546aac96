"""The OpenTelemetry JS SDK's own OTLP exporters (HTTP JSON, HTTP protobuf via protobufjs, gRPC
via @grpc/grpc-js; plain and gzip) send two services' spans to a real server: the store holds the
spans the SDK says it sent (ids, names, kinds, nanosecond times, typed attributes, events,
links, status, tracestate, flags, dropped counts), and the Jaeger API shows them."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.server.conftest import RunningServer, stored_trace

from .conftest import run_node_json
from .otlp_sent import held, sent_spans

JAEGER_TYPES = {"bool": "bool", "int": "int64", "float": "float64", "str": "string"}


def endpoint(server: RunningServer, protocol: str) -> str:
    return f"http://{server.grpc}" if protocol == "grpc" else f"{server.http}/v1/traces"


def jaeger_tag(value: object) -> tuple[str, object]:
    """How the Jaeger API shows an attribute value (``typed`` form in): arrays as JSON text."""
    if isinstance(value, list):
        plain = [item[1] if isinstance(item, tuple) else item for item in value]
        return "string", json.dumps(plain, separators=(",", ":"), ensure_ascii=False)
    assert isinstance(value, tuple)
    return JAEGER_TYPES[value[0]], value[1]


@pytest.mark.parametrize(
    ("protocol", "compression"),
    [
        ("http/json", "none"),
        ("http/protobuf", "none"),
        ("grpc", "none"),
        ("http/json", "gzip"),
        ("http/protobuf", "gzip"),
        ("grpc", "gzip"),
    ],
)
def test_store_holds_what_the_js_sdk_sent(
    live_server: RunningServer, protocol: str, compression: str
) -> None:
    request = run_node_json(
        "export_otlp.mjs",
        "--protocol",
        protocol,
        "--endpoint",
        endpoint(live_server, protocol),
        "--compression",
        compression,
    )
    sent = sent_spans(request)
    assert len(sent) == 6 and {s["service_name"] for s in sent.values()} == {
        "frontend",
        "payments",
    }
    stored = {
        span.span_id: held(span)
        for trace_id in {s["trace_id"] for s in sent.values()}
        for span in stored_trace(live_server, str(trace_id))
    }
    assert stored == sent
    # what this SDK sends that a Python peer does not: mixed int/double arrays from one JS
    # number array, null array members, tracestate and remote-parent flags, dropped counts
    charge = next(s for s in stored.values() if s["name"] == "Charge")
    assert charge["trace_state"] == "shop=t61rcWkgMzE,vendor=1"
    assert charge["dropped_attributes_count"] == 1 and charge["status"] == (
        2,
        "card declined: insufficient funds",
    )
    root = next(s for s in stored.values() if s["name"] == "POST /checkout")
    attributes = root["attributes"]
    assert isinstance(attributes, dict)
    assert attributes["list.numbers"] == [("int", 1), ("float", 1.5)]
    assert attributes["list.with.null"] == [("str", "a"), ("NoneType", None), ("str", "b")]


def test_jaeger_api_shows_the_js_spans(live_server: RunningServer) -> None:
    request = run_node_json(
        "export_otlp.mjs", "--protocol", "http/json", "--endpoint", endpoint(live_server, "")
    )
    sent = sent_spans(request)
    services = httpx.get(f"{live_server.ui}/api/services").json()["data"]
    assert sorted(services) == ["frontend", "payments"]
    for trace_id in {s["trace_id"] for s in sent.values()}:
        trace = httpx.get(f"{live_server.ui}/api/traces/{trace_id}").json()["data"][0]
        processes = {key: p["serviceName"] for key, p in trace["processes"].items()}
        for span in trace["spans"]:
            want = sent[span["spanID"]]
            assert span["operationName"] == want["name"]
            assert processes[span["processID"]] == want["service_name"]
            assert span["startTime"] == int(str(want["start_ns"])) // 1000
            duration_ns = int(str(want["end_ns"])) - int(str(want["start_ns"]))
            assert abs(span["duration"] - duration_ns / 1000) <= 1
            parents = [r["spanID"] for r in span["references"] if r["refType"] == "CHILD_OF"]
            assert parents == ([want["parent_span_id"]] if want["parent_span_id"] else [])
            tags = {t["key"]: (t["type"], t["value"]) for t in span["tags"]}
            attributes = want["attributes"]
            assert isinstance(attributes, dict)
            for key, value in attributes.items():
                assert tags[key] == jaeger_tag(value), key
            events = want["events"]
            assert isinstance(events, list)
            assert [log["timestamp"] for log in span["logs"]] == [e[0] // 1000 for e in events]
