"""A DuckDB store written through the C columns path (``DuckDBStore.open_batch``) answers
every query exactly as one written through the Span path (``decode_spans`` then ``write``):
the same traces span by span, search results, services, operations and dependencies.
(Column-by-column equality of the two encoders is in
``tests/formats/test_otlp_native_columns.py``.)"""

from __future__ import annotations

import pytest
from benchmarks.loadgen import prepare_pool
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans

from spanscope.formats import decode_spans, otlp_native, read_spans
from spanscope.formats import encode_spans as encode_model
from spanscope.model import SpanKind
from spanscope.store import TraceQuery
from spanscope.store.duckdb_store import DuckDBStore

from ..conftest import FIXTURES
from ..formats.test_otlp_proto import _sdk_spans


def _bodies() -> list[bytes]:
    """The ingest benchmark's payload, a real SDK exporter's request, and a protobuf fixture
    with a Jaeger trace re-encoded (doubles, events, links, several services)."""
    jaeger = FIXTURES / "jaeger" / "internal__storage__v2__memory__fixtures__otel_traces_01.json"
    return [
        *prepare_pool(3).bodies,
        encode_spans(_sdk_spans()).SerializeToString(),
        (FIXTURES / "otlp2parquet" / "testdata__trace.pb").read_bytes(),
        encode_model(list(read_spans(jaeger)), "otlp-proto"),
    ]


@pytest.fixture(scope="module")
def stores(tmp_path_factory):
    bodies = _bodies()
    assert all(otlp_native.scan(body) is not None for body in bodies)
    folder = tmp_path_factory.mktemp("stores")
    columns = DuckDBStore(folder / "columns.duckdb")
    spans = DuckDBStore(folder / "spans.duckdb")
    # Two writes each; the first mixes a body with a span list (the spans of the second body),
    # as the pipeline mixes requests the C decoder took with span lists from other receivers.
    first = columns.open_batch()
    first.add_request(bodies[0])
    first.add_spans(decode_spans(bodies[1], "otlp-proto"))
    columns.write(first.finish())
    rest = columns.open_batch()
    for body in bodies[2:]:
        rest.add_request(body)
    columns.write(rest.finish())
    decoded = [span for body in bodies for span in decode_spans(body, "otlp-proto")]
    spans.write(decoded[:1024])
    spans.write(decoded[1024:])
    yield columns, spans, decoded
    columns.close()
    spans.close()


def test_every_trace_comes_back_the_same(stores) -> None:
    columns, spans, decoded = stores
    trace_ids = sorted({span.trace_id for span in decoded})
    assert len(trace_ids) > 100
    for trace_id in trace_ids:
        got = columns.get_trace(trace_id)
        assert got == spans.get_trace(trace_id)
        assert got  # and it is there at all
    assert columns.stats().spans == spans.stats().spans == len(decoded)


def test_searches_services_operations_and_dependencies_are_the_same(stores) -> None:
    columns, spans, decoded = stores
    assert columns.services() == spans.services()
    assert len(columns.services()) > 5
    for service in columns.services():
        assert columns.operations(service) == spans.operations(service)
        assert columns.operations(service, SpanKind.SERVER) == spans.operations(
            service, SpanKind.SERVER
        )
    queries = [
        TraceQuery(num_traces=1000),
        TraceQuery(service="checkout", num_traces=50),
        TraceQuery(service="frontend", operation="GET /api/products/{id}", num_traces=20),
        TraceQuery(tags={"http.response.status_code": "502"}, num_traces=100),
        TraceQuery(tags={"error": "true"}, num_traces=100),
        TraceQuery(tags={"exception.type": "PaymentProviderTimeout"}, num_traces=100),
        TraceQuery(tags={"retry": "true", "ratio": "0.25"}, num_traces=10),
        TraceQuery(tags={"service.namespace": "shop"}, duration_min=10**6, num_traces=100),
        TraceQuery(span_kind=SpanKind.CONSUMER, num_traces=100),
    ]
    for query in queries:
        found = columns.find_traces(query)
        assert found == spans.find_traces(query), query
        assert found or query.tags.get("retry"), query
    first = min(span.start_ns for span in decoded)
    last = max(span.end_ns for span in decoded)
    assert columns.dependencies(last, last - first + 1) == spans.dependencies(
        last, last - first + 1
    )
