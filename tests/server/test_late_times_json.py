"""OTLP/HTTP JSON requests with spans whose times are past 2^63-1 ns: the rest of the request is
stored and the answer is OTLP's partial success in JSON (``rejectedSpans``, and the reader's
warning as ``errorMessage``); a request with nothing else is refused as a permanent error (400,
a ``google.rpc.Status`` in JSON). The OpenTelemetry SDK has no OTLP/HTTP JSON exporter (its
HTTP exporter sends protobuf), so the requests are the SDK's own spans in OTLP JSON, posted with
httpx to a real server on loopback, as a JSON exporter (the collector's, a browser's) sends."""

from __future__ import annotations

import json

import httpx
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.trace import ReadableSpan

from .conftest import RunningServer
from .test_late_times import _ids, _spans, _stored_ids

LATE = 2**63 + 5


def _json_body(spans: list[ReadableSpan]) -> bytes:
    """The SDK's request for ``spans`` in OTLP JSON as the spec writes it: hex ids, 64-bit
    integers as strings (the SDK's own encoder, then its fields renamed and re-encoded)."""
    request = encode_spans(spans)
    return json.dumps(
        {
            "resourceSpans": [
                {
                    "resource": {
                        "attributes": [
                            {"key": kv.key, "value": {"stringValue": kv.value.string_value}}
                            for kv in rs.resource.attributes
                            if kv.value.HasField("string_value")
                        ]
                    },
                    "scopeSpans": [
                        {
                            "scope": {"name": ss.scope.name},
                            "spans": [
                                {
                                    "traceId": s.trace_id.hex(),
                                    "spanId": s.span_id.hex(),
                                    "parentSpanId": s.parent_span_id.hex(),
                                    "name": s.name,
                                    "kind": s.kind,
                                    "startTimeUnixNano": str(s.start_time_unix_nano),
                                    "endTimeUnixNano": str(s.end_time_unix_nano),
                                }
                                for s in ss.spans
                            ],
                        }
                        for ss in rs.scope_spans
                    ],
                }
                for rs in request.resource_spans
            ]
        }
    ).encode()


def _post(server: RunningServer, body: bytes) -> httpx.Response:
    return httpx.post(
        f"{server.http}/v1/traces", content=body, headers={"Content-Type": "application/json"}
    )


def _check_message(message: str, index: int, span_id: str) -> None:
    assert message.startswith(
        f"otlp_http request: line 1, $.resourceSpans[0].scopeSpans[0].spans[{index}]: "
        f"span {span_id} "
    ), message
    assert "startTimeUnixNano 9223372036854775813 is past 2^63-1 ns" in message
    assert message.count("the span is left out") == 1


def test_json_answers_partial_success_and_stores_the_rest(live_server: RunningServer) -> None:
    spans = _spans([False, True, True, False])
    trace_id, ids = _ids(spans)
    response = _post(live_server, _json_body(spans))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    partial = response.json()["partialSuccess"]
    assert partial["rejectedSpans"] == "2"  # an int64: a string in OTLP JSON
    _check_message(partial["errorMessage"], 1, ids[1])
    assert partial["errorMessage"].endswith(" (and 1 more spans with times past int64)")
    assert _stored_ids(live_server, trace_id) == sorted([ids[0], ids[3]])
    # A clean request still gets a plain success: an empty ExportTraceServiceResponse.
    clean = _spans([False, False])
    response = _post(live_server, _json_body(clean))
    assert response.status_code == 200 and response.json() == {}
    assert _stored_ids(live_server, _ids(clean)[0]) == sorted(_ids(clean)[1])


def test_json_refuses_a_request_of_late_spans_only(live_server: RunningServer) -> None:
    spans = _spans([True, True])
    trace_id, ids = _ids(spans)
    response = _post(live_server, _json_body(spans))
    assert response.status_code == 400
    status = response.json()
    assert status["code"] == 3  # INVALID_ARGUMENT: permanent, an exporter does not retry
    _check_message(status["message"], 0, ids[0])
    metrics = httpx.get(f"{live_server.ui}/metrics").text
    assert 'spanscope_bad_requests_total{receiver="otlp_http"} 1' in metrics
    assert _stored_ids(live_server, trace_id) == []


def test_json_times_that_are_not_a_fixed64_still_refuse_the_request(
    live_server: RunningServer,
) -> None:
    for value, words in (("-1", "Expected `int` >= 0"), (str(2**64), "past 2^64-1")):
        spans = _spans([False, False])
        trace_id, _ = _ids(spans)
        body = json.loads(_json_body(spans))
        body["resourceSpans"][0]["scopeSpans"][0]["spans"][1]["endTimeUnixNano"] = value
        response = _post(live_server, json.dumps(body).encode())
        assert response.status_code == 400
        message = response.json()["message"]
        assert "$.resourceSpans[0].scopeSpans[0].spans[1].endTimeUnixNano" in message
        assert words in message
        assert _stored_ids(live_server, trace_id) == []
