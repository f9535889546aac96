"""The ClickHouse store, on the real ClickHouse engine (chDB, in process): the same contract as
the DuckDB store, Jaeger's 25 storage search cases, and tables written by the OTel Collector's
``clickhouseexporter`` read as they are."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings

from spanscope.model import Event, Link, Span, SpanKind, StatusCode
from spanscope.store import StoreClosedError, StoreError, TraceQuery, open_store
from spanscope.store.search_sql import clickhouse_literal
from spanscope.synthetic import generate_spans
from tests.formats.strategies import span_lists

from .clickhouse_engine import clickhouse_url
from .test_jaeger_queries import CASES, _fixture
from .test_jaeger_queries import test_search_returns_exactly_the_expected_traces as jaeger_case

S = 1_000_000_000


@pytest.fixture(scope="module")
def shared():
    with open_store(clickhouse_url()) as opened:
        yield opened


@pytest.fixture
def store():
    with open_store(clickhouse_url()) as opened:
        yield opened


def _key(span: Span):
    return (span.start_ns, span.span_id)


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(spans=span_lists(max_size=6))
def test_every_field_survives(shared, spans):
    shared.write(spans)
    for trace_id in {span.trace_id for span in spans}:
        got = shared.get_trace(trace_id)
        for span in spans:
            if span.trace_id == trace_id:
                assert span in got, span
        assert got == sorted(got, key=_key)


@pytest.fixture(scope="module")
def jaeger_store():
    names = sorted({name for case in CASES for name in case["ExpectedFixtures"]})
    with open_store(clickhouse_url()) as opened:
        for name in names:
            opened.write(_fixture(name))
        yield opened


@pytest.mark.parametrize("case", CASES, ids=[case["Caption"] for case in CASES])
def test_jaeger_search_cases(jaeger_store, case):
    jaeger_case(jaeger_store, case)


def test_lists_dependencies_and_stats_match_the_data(store):
    spans = list(generate_spans(60, seed=11))
    store.write(spans)
    assert store.services() == sorted({s.service_name for s in spans})
    expected_ops = sorted({(s.name, s.kind) for s in spans if s.service_name == "checkout"})
    assert store.operations("checkout") == expected_ops
    assert store.operations("checkout", SpanKind.SERVER) == [
        op for op in expected_ops if op[1] == SpanKind.SERVER
    ]
    by_id = {(s.trace_id, s.span_id): s for s in spans}
    edges: dict[tuple[str, str], int] = {}
    for s in spans:
        parent = by_id.get((s.trace_id, s.parent_span_id))
        if parent and parent.service_name != s.service_name:
            key = (parent.service_name, s.service_name)
            edges[key] = edges.get(key, 0) + 1
    end = max(s.start_ns for s in spans) + S
    assert store.dependencies(end, 3600 * S) == sorted((p, c, n) for (p, c), n in edges.items())
    stats = store.stats()
    assert stats.spans == len(spans)
    assert stats.traces == 60
    assert stats.oldest_ns == min(s.start_ns for s in spans)
    assert stats.used_bytes > 0


def test_search_newest_first_with_limit(store):
    spans = list(generate_spans(30, seed=5))
    store.write(spans)
    ids = store.find_trace_ids(TraceQuery(service="frontend", num_traces=5))
    newest = {}
    for s in spans:
        if s.service_name == "frontend":
            newest[s.trace_id] = max(newest.get(s.trace_id, 0), s.start_ns)
    assert ids == sorted(newest, key=lambda t: (-newest[t], t))[:5]
    # get_traces: the traces of the ids in their order, one read, as get_trace gives each
    asked = ["0" * 31 + "1", *reversed(ids), ids[0].upper()]
    found = store.get_traces(asked)
    assert found == [store.get_trace(trace_id) for trace_id in reversed(ids)]
    assert store.find_traces(TraceQuery(service="frontend", num_traces=5)) == store.get_traces(ids)


def test_retention_deletes_whole_traces_by_age(store):
    spans = list(generate_spans(40, seed=2))
    store.write(spans)
    ends = {}
    for s in spans:
        ends[s.trace_id] = max(ends.get(s.trace_id, 0), s.start_ns)
    cutoff = sorted(ends.values())[19] + 1  # the 20 traces whose last span started first
    deleted = store.enforce_retention(max_age_ns=S, now_ns=cutoff + S)
    gone = {t for t, last in ends.items() if last < cutoff}
    assert deleted == sum(1 for s in spans if s.trace_id in gone)
    assert store.stats().traces == 40 - len(gone)
    assert all(store.get_trace(t) == [] for t in gone)
    kept = next(t for t in ends if t not in gone)
    assert len(store.get_trace(kept)) == sum(1 for s in spans if s.trace_id == kept)


def test_collector_written_rows_are_read_as_the_collector_wrote_them(store):
    """Rows inserted the way the collector's exporter inserts them (its columns only, values as
    text, its enum names) come back as spans rebuilt from the columns."""
    store.client.query(
        f"INSERT INTO {store.client.database}.otel_traces (Timestamp, TraceId, SpanId, "
        "ParentSpanId, TraceState, SpanName, SpanKind, ServiceName, ResourceAttributes, "
        "ScopeName, ScopeVersion, SpanAttributes, Duration, StatusCode, StatusMessage, "
        "`Events.Timestamp`, `Events.Name`, `Events.Attributes`, `Links.TraceId`, "
        "`Links.SpanId`, `Links.TraceState`, `Links.Attributes`) VALUES ("
        "fromUnixTimestamp64Nano(toInt64(1764150000000000500)), "
        "'5b8efff798038103d269b633813fc60c', 'eee19b7ec3c1b174', '', '', 'GET /api', "
        "'Server', 'frontend', {'service.name': 'frontend'}, 'lib', '1.0', "
        "{'http.status_code': '500', 'retry': 'true'}, 2500, 'Error', 'boom', "
        "[fromUnixTimestamp64Nano(toInt64(1764150000000001000))], ['exception'], "
        "[{'exception.type': 'Timeout'}], ['5b8efff798038103d269b633813fc60c'], "
        "['eee19b7ec3c1b175'], [''], [{}])"
    )
    (span,) = store.get_trace("5b8efff798038103d269b633813fc60c")
    assert span == Span(
        "5b8efff798038103d269b633813fc60c",
        "eee19b7ec3c1b174",
        "GET /api",
        1764150000000000500,
        1764150000000003000,
        kind=SpanKind.SERVER,
        service_name="frontend",
        status_code=StatusCode.ERROR,
        status_message="boom",
        attributes={"http.status_code": "500", "retry": "true"},
        resource_attributes={"service.name": "frontend"},
        scope_name="lib",
        scope_version="1.0",
        events=[Event(1764150000000001000, "exception", {"exception.type": "Timeout"})],
        links=[Link("5b8efff798038103d269b633813fc60c", "eee19b7ec3c1b175")],
    )
    found = store.find_trace_ids(TraceQuery(tags={"http.status_code": "500"}))
    assert found == ["5b8efff798038103d269b633813fc60c"]


def test_a_table_made_by_the_collector_gains_spanscopes_columns():
    database = clickhouse_url().rsplit("=", 1)[1]
    url = clickhouse_url(database)
    with open_store(url) as first:
        # Drop spanscope's own columns: the table is now exactly the collector's.
        for column in ("ScopeAttributes", "Flags", "LinksFlags", "RawSpan"):
            first.client.query(f"ALTER TABLE {database}.otel_traces DROP COLUMN {column}")
    spans = list(generate_spans(3, seed=9))
    with open_store(url) as store:
        store.write(spans)
        trace_id = spans[0].trace_id
        assert store.get_trace(trace_id) == sorted(
            (s for s in spans if s.trace_id == trace_id), key=_key
        )


def test_read_only_open_of_an_empty_database_says_so(store):
    # (``store`` starts the engine: a read opens only a folder that holds ClickHouse data)
    with pytest.raises(StoreError, match="no otel_traces table"):
        open_store(clickhouse_url(), read_only=True)


def test_read_only_store_refuses_writes_and_closed_store_refuses_everything(store):
    store.write(list(generate_spans(1)))
    url = clickhouse_url(store.client.database)
    with open_store(url, read_only=True) as reader:
        assert reader.stats().spans > 0
        with pytest.raises(StoreError, match="read-only"):
            reader.write(list(generate_spans(1)))
    store.close()
    store.close()
    with pytest.raises(StoreClosedError):
        store.services()


def test_bad_urls_and_names_are_clear_errors(store, tmp_path):
    with pytest.raises(StoreError, match="database names"):
        open_store(clickhouse_url("x; DROP TABLE y"))
    # ``store`` keeps this process's engine running on the shared folder: another folder is refused.
    with pytest.raises(StoreError, match="one data folder per process"):
        open_store(f"chdb:{tmp_path / 'other'}")
    with pytest.raises(StoreError, match="cannot reach ClickHouse"):
        open_store("clickhouse://127.0.0.1:1/otel")


def test_hostile_search_text_is_quoted(store):
    store.write(list(generate_spans(2)))
    for text in ("x' OR 1=1 --", "back\\slash", "quote\\'"):
        assert store.find_trace_ids(TraceQuery(service=text)) == []
        assert store.find_trace_ids(TraceQuery(tags={text: text})) == []


@pytest.mark.parametrize(
    ("key", "value", "text"),
    [
        ("flag", True, "true"),
        ("count", 12, "12"),
        ("ratio", 72.5, "72.5"),
        ("blob", b"\x00\x01", "AAE="),
        ("list", [1, "a"], '[1,"a"]'),
    ],
)
def test_typed_values_are_found_by_their_text_in_the_collectors_maps(store, key, value, text):
    span = Span("ab" * 16, "cd" * 8, "op", 10**18, 10**18 + 5, attributes={key: value})
    store.write([span])
    assert store.find_trace_ids(TraceQuery(tags={key: text})) == [span.trace_id]
    ((stored,),) = store._rows(
        f"SELECT SpanAttributes[{clickhouse_literal(key)}] FROM {{db}}.otel_traces"
    )
    assert stored == text
    assert store.get_trace(span.trace_id) == [span]  # the typed value itself comes back
