"""Format detection by the first format key in the content (``formats.detect``)."""

from __future__ import annotations

import json

import pytest

from spanscope.formats import detect_format
from spanscope.formats.detect import UnknownFormat


def _jaeger_with_tag(key: str) -> bytes:
    span = {
        "traceID": "0af7651916cd43dd8448eb211c80319c",
        "spanID": "b7ad6b7169203331",
        "operationName": "op",
        "startTime": 1,
        "duration": 2,
        "tags": [{"key": key, "type": "string", "value": "x"}],
        "processID": "p1",
    }
    return json.dumps({"data": [{"traceID": span["traceID"], "spans": [span]}]}).encode()


@pytest.mark.parametrize("key", ["resourceSpans", "resource_spans", "traceId", "trace_id"])
def test_a_format_key_inside_a_jaeger_trace_does_not_change_its_format(key: str) -> None:
    assert detect_format(_jaeger_with_tag(key)) == "jaeger-json"


def test_the_first_key_decides_for_otlp_and_jaeger() -> None:
    otlp = b'{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"ab","name":"traceID"}]}]}]}'
    assert detect_format(otlp) == "otlp-json"
    assert detect_format(b' \n[{"traceID": "ab", "spans": []}]') == "jaeger-json"


def test_zipkin_and_the_rest_look_at_the_whole_head() -> None:
    zipkin = b'[{"traceId":"ab","id":"cd","name":"x","localEndpoint":{"serviceName":"s"}}]'
    assert detect_format(zipkin) == "zipkin-v2"
    # Jaeger's domain model as protobuf JSON: camelCase ids but Jaeger's operationName.
    domain = b'{"spans":[{"traceId":"AAAA","spanId":"BBBB","operationName":"op"}]}'
    assert detect_format(domain) == "jaeger-json"
    with pytest.raises(UnknownFormat, match="snake_case"):
        detect_format(b'{"trace_id": 1, "span_id": 2}')
    with pytest.raises(UnknownFormat, match="empty"):
        detect_format(b"  \n ")


def test_a_saved_analysis_report_points_to_diff() -> None:
    # It was taken for "a Zipkin or Jaeger Thrift/proto structure written as JSON": a user who
    # gave analyze its own report was sent to look for another export.
    from spanscope.analysis import analyze
    from spanscope.assembly import assemble
    from spanscope.report import encode_report
    from spanscope.synthetic import generate_spans

    saved = encode_report(analyze(assemble(generate_spans(20, seed=2))))
    with pytest.raises(UnknownFormat, match=r"analysis report .* 'spanscope diff REPORT"):
        detect_format(saved)
