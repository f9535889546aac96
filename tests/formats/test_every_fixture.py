"""Every third-party fixture is either read as the trace format it is, or rejected clearly.

The catalogue below names every file under tests/fixtures; a new fixture that is not classified
fails ``test_every_fixture_is_classified``. Span counts are cross-checked against an independent
count over the raw JSON, so a reader that silently drops spans fails.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from spanscope.errors import InputError
from spanscope.formats import read_spans
from spanscope.formats.detect import detect_format
from spanscope.formats.source import HEAD_SIZE

from ..conftest import FIXTURES

# Files that are traces, with the format detection must find.
TRACES: dict[str, str] = {
    "jaeger/cmd__anonymizer__app__uiconv__fixtures__trace_success.json": "jaeger-json",
    "jaeger/cmd__collector__app__handler__testdata__zipkin_v1_merged_spans.json": "zipkin-v2",
    "jaeger/cmd__collector__app__handler__testdata__zipkin_v2_01.json": "zipkin-v2",
    "jaeger/cmd__collector__app__handler__testdata__zipkin_v2_02.json": "zipkin-v2",
    "jaeger/cmd__collector__app__handler__testdata__zipkin_v2_03.json": "zipkin-v2",
    "jaeger/cmd__jaeger__internal__extension__jaegerquery__internal__apiv3__snapshots__FindTraces.json": "otlp-json",
    "jaeger/cmd__jaeger__internal__extension__jaegerquery__internal__apiv3__snapshots__GetTrace.json": "otlp-json",
    "jaeger/cmd__jaeger__internal__extension__jaegerquery__internal__fixture__otlp2jaeger-in.json": "otlp-json",
    "jaeger/cmd__jaeger__internal__extension__jaegerquery__internal__fixture__otlp2jaeger-out.json": "jaeger-json",
    "jaeger/internal__uimodel__converter__v1__json__fixtures__ui_01.json": "jaeger-json",
    "jaeger/internal__uimodel__converter__v1__json__fixtures__es_01.json": "jaeger-json",
    "jaeger-ui/packages__jaeger-ui__src__components__TracePage__TraceFlamegraph__testTrace.json": "jaeger-json",
    "jaeger-ui/packages__jaeger-ui__src__components__TracePage__TraceGraph__testTrace.json": "jaeger-json",
    "jaeger-ui/packages__jaeger-ui__src__utils__fixtures__oltp2jaeger-multi-out.json": "jaeger-json",
    "jaeger-ui/packages__jaeger-ui__src__utils__fixtures__otlp2jaeger-in.json": "otlp-json",
    "jaeger-ui/packages__jaeger-ui__src__utils__fixtures__otlp2jaeger-in-error.json": "otlp-json",
    "jaeger-ui/packages__jaeger-ui__src__utils__fixtures__otlp2jaeger-multi-in-combined.json": "otlp-json",
    "jaeger-ui/packages__jaeger-ui__src__utils__fixtures__otlp2jaeger-multi-in.json.txt": "otlp-jsonl",
    "jaeger-ui/packages__jaeger-ui__src__utils__fixtures__otlp2jaeger-out.json": "jaeger-json",
    "opentelemetry-collector/receiver__zipkinreceiver__testdata__sample1.json": "zipkin-v2",
    "opentelemetry-collector/receiver__zipkinreceiver__testdata__sample2.json": "zipkin-v2",
    "opentelemetry-collector/translator__trace__zipkinv1__testdata__zipkin_v1_local_component.json": "zipkin-v1",
    "opentelemetry-collector/translator__trace__zipkinv1__testdata__zipkin_v1_multiple_batches.json": "zipkin-v1",
    "opentelemetry-collector/translator__trace__zipkinv1__testdata__zipkin_v1_single_batch.json": "zipkin-v1",
    "opentelemetry-collector/translator__trace__zipkinv2__testdata__zipkin_v2_notimestamp.json": "zipkin-v1",
    "opentelemetry-collector/translator__trace__zipkinv2__testdata__zipkin_v2_single.json": "zipkin-v2",
    "opentelemetry-collector-contrib/receiver__zipkinreceiver__testdata__sample3.json": "zipkin-v2",
    "opentelemetry-collector-contrib/receiver__zipkinreceiver__testdata__sample4.json": "zipkin-v2",
    "opentelemetry-proto/examples__trace.json": "otlp-json",
    "otlp2parquet/testdata__trace.json": "otlp-json",  # base64 ids and enum names: a warning
    "otlp2parquet/testdata__trace.pb": "otlp-proto",
    "zipkin/benchmarks__src__test__resources__zipkin2-chinese.json": "zipkin-v2",
    "zipkin/benchmarks__src__test__resources__zipkin2-client.json": "zipkin-v2",
    "zipkin/zipkin-lens__testdata__ascend.json": "zipkin-v2",
    "zipkin/zipkin-lens__testdata__envoy.json": "zipkin-v2",
    "zipkin/zipkin-lens__testdata__messaging-kafka.json": "zipkin-v2",
    "zipkin/zipkin-lens__testdata__messaging.json": "zipkin-v2",
    "zipkin/zipkin-lens__testdata__messaging2.json": "zipkin-v2",
    "zipkin/zipkin-lens__testdata__simple-db-p6.json": "zipkin-v2",
    "zipkin/zipkin-lens__testdata__skew.json": "zipkin-v2",
    "zipkin/zipkin-lens__testdata__smartthings-oauth-authorization.json": "zipkin-v2",
}
TRACES.update(
    {
        f"jaeger/internal__storage__{name}": "otlp-json"
        for name in [
            *(
                p.name.removeprefix("internal__storage__")
                for p in (FIXTURES / "jaeger").glob(
                    "internal__storage__integration__fixtures__traces__*"
                )
            ),
            "v2__cassandra__tracestore__fixtures__otel_traces_01.json",
            "v2__elasticsearch__tracestore__fixtures__otel_traces_01.json",
            "v2__memory__fixtures__otel_traces_01.json",
        ]
    }
)
TRACES.update(
    {
        f"jaeger-ui/{p.name}": "jaeger-json"
        for p in (FIXTURES / "jaeger-ui").glob("*TraceStatistics__tableValuesTestTrace__*.json")
    }
)

# Deliberately invalid trace files: an InputError that names the file.
INVALID: set[str] = {
    "opentelemetry-collector/translator__trace__zipkinv1__testdata__zipkin_v1_error_batch.json",
    "otlp2parquet/testdata__invalid__malformed.json",
    "otlp2parquet/testdata__invalid__trace_invalid_base64.json",
    "otlp2parquet/testdata__invalid__trace_invalid_kind.json",
    "otlp2parquet/testdata__invalid__trace_mixed_encoding.json",
}

# Not trace files at all (docs, query cases, header vectors, Thrift/proto structs written as
# JSON, Jaeger's internal domain model): refused with "not a trace file" or a clear InputError.
NOT_TRACES: set[str] = {
    "INDEX.md",
    "b3-propagation/README.md",
    "opentelemetry-proto/examples__README.md",
    "otlp2parquet/testdata__README.md",
    "otlp2parquet/testdata__invalid__README.md",
    "trace-context/test__README.md",
    "trace-context/test__test.py.vectors.extracted.json",
    "propagation-doc-vectors/header_examples_from_docs.json",
    "zipkin/zipkin-lens__testdata__README.md",
    "zipkin-api/zipkin-api.yaml",
    "zipkin-api/zipkin2-api.yaml",
    "jaeger/internal__storage__integration__fixtures__queries.json",
    "jaeger/internal__storage__integration__fixtures__queries_es.json",
    "jaeger/cmd__collector__app__handler__testdata__zipkin_proto_01.json",
    "jaeger/cmd__collector__app__handler__testdata__zipkin_proto_02.json",
    "jaeger/cmd__collector__app__handler__testdata__zipkin_thrift_v1_merged_spans.json",
    "jaeger/cmd__jaeger__internal__extension__jaegerquery__internal__apiv3__snapshots__FindTraceSummaries.json",
    "jaeger/cmd__jaeger__internal__extension__jaegerquery__internal__apiv3__snapshots__GetOperations.json",
    "jaeger/cmd__jaeger__internal__extension__jaegerquery__internal__apiv3__snapshots__GetServices.json",
    "jaeger/model__converter__thrift__zipkin__fixtures__zipkin_01.json",
    "jaeger/model__converter__thrift__zipkin__fixtures__zipkin_02.json",
    "jaeger/model__converter__thrift__zipkin__fixtures__zipkin_03.json",
    "jaeger/internal__uimodel__converter__v1__json__fixtures__domain_01.json",
    "jaeger/internal__uimodel__converter__v1__json__fixtures__domain_es_01.json",
    "jaeger/model__converter__thrift__zipkin__fixtures__domain_01.json",
    "jaeger/model__converter__thrift__zipkin__fixtures__domain_02.json",
    "jaeger/model__converter__thrift__zipkin__fixtures__domain_03.json",
    "jaeger-ui/packages__jaeger-ui__src__components__TracePage__CriticalPath__testCases__ALL.extracted.json",
    "opentelemetry-collector/translator__trace__zipkinv1__testdata__zipkin_v1_thrift_local_component.json",
    "opentelemetry-collector/translator__trace__zipkinv1__testdata__zipkin_v1_thrift_single_batch.json",
}


def _all_fixture_files() -> list[str]:
    return sorted(str(p.relative_to(FIXTURES)) for p in FIXTURES.rglob("*") if p.is_file())


def test_every_fixture_is_classified() -> None:
    known = set(TRACES) | INVALID | NOT_TRACES
    assert set(_all_fixture_files()) - known == set()
    assert known - set(_all_fixture_files()) == set()


def _raw_span_count(path: Path, format_name: str) -> int | None:
    """Count spans in the raw JSON without our readers; None where the count is not simple."""
    if format_name == "otlp-proto" or format_name == "zipkin-v1":
        return None
    text = path.read_text()
    if format_name in ("otlp-json", "otlp-jsonl"):
        lines = text.splitlines() if text.lstrip().startswith("{") and text.count("\n{") else [text]
        total = 0
        for line in lines:
            if not line.strip():
                continue
            doc = json.loads(line)
            docs = doc if isinstance(doc, list) else [doc]
            for request in docs:
                request = request.get("result", request)
                for resource in request.get("resourceSpans", []):
                    for scope in resource.get("scopeSpans", []):
                        total += len(scope.get("spans", []))
        return total
    doc = json.loads(text)
    if format_name == "jaeger-json":
        if isinstance(doc, list):
            return len(doc)
        if "spanID" in doc:  # one Elasticsearch span document
            return 1
        data = doc.get("data", doc)
        traces = data if isinstance(data, list) else [data]
        return sum(len(trace.get("spans", [])) for trace in traces)
    if format_name == "zipkin-v2":
        return len(doc) if isinstance(doc, list) else 1
    return None


@pytest.mark.parametrize("name", sorted(TRACES))
def test_trace_fixture_is_detected_and_read(name: str) -> None:
    path = FIXTURES / name
    assert detect_format(path.read_bytes()[:HEAD_SIZE]) == TRACES[name]
    spans = list(read_spans(path))
    assert spans, f"{name}: no spans read"
    for span in spans:
        assert len(span.trace_id) == 32 and len(span.span_id) == 16
        assert span.parent_span_id == "" or len(span.parent_span_id) == 16
    expected = _raw_span_count(path, TRACES[name])
    if expected is not None:
        assert len(spans) == expected


@pytest.mark.parametrize("name", sorted(INVALID | NOT_TRACES))
def test_other_files_are_refused_with_a_clear_message(name: str) -> None:
    with pytest.raises(InputError) as error:
        list(read_spans(FIXTURES / name))
    message = str(error.value)
    assert str(FIXTURES / name) in message
    assert "Traceback" not in message
