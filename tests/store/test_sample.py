"""``Store.sample_trace_ids``: of the traces a search matches, those with the smallest sample keys
(``codec.sample_key``), and how many match, on every engine: a DuckDB file (by its trace index
for a window alone, by a scan with conditions), ClickHouse (chDB) and a running server's store
read over HTTP. The expected answer is computed here from the spans written."""

from __future__ import annotations

from collections.abc import Iterator

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spanscope.model import Span, SpanKind
from spanscope.store import Store, TraceQuery, duckdb_reads, open_store
from spanscope.store.clickhouse_store import ClickHouseStore
from spanscope.store.codec import sample_key, trace_key
from spanscope.store.duckdb_store import DuckDBStore
from spanscope.store.sample_sql import sample_key_sql
from spanscope.store.search_sql import CLICKHOUSE
from spanscope.synthetic import generate_spans
from tests.server.conftest import RunningServer, post_spans, start_server, stop_server

from .clickhouse_engine import clickhouse_url

T0 = 1_764_150_000_000_000_000
S = 10**9
MS = 10**6
SHOP = list(generate_spans(300, seed=11, start_ns=T0))  # about 7 s of traces
EDGE_LOW, EDGE_HIGH = T0 + 60 * S, T0 + 70 * S  # a window the traces below cross


def _span(trace_id: str, span: int, start: int) -> Span:
    return Span(
        trace_id=trace_id,
        span_id=f"{span:016x}",
        name="edge",
        start_ns=start,
        end_ns=start + MS,
        service_name="edge",
        kind=SpanKind.SERVER,
    )


# Traces that cross the edges of [EDGE_LOW, EDGE_HIGH], each written in one batch: the trace
# index holds one row for each that overlaps the window without lying inside it.
EDGES = [
    _span("e1" * 16, 1, EDGE_LOW - S),  # spans before and after, none inside: no match
    _span("e1" * 16, 2, EDGE_HIGH + S),
    _span("e2" * 16, 1, EDGE_LOW - S),  # before and just inside: a match
    _span("e2" * 16, 2, EDGE_LOW + MS),
    _span("e3" * 16, 1, EDGE_HIGH),  # at the upper edge (inclusive) and after: a match
    _span("e3" * 16, 2, EDGE_HIGH + S),
    _span("e4" * 16, 1, EDGE_LOW + 2 * S),  # wholly inside
    _span("e5" * 16, 1, EDGE_LOW - 2 * S),  # wholly before
]
SPANS = SHOP + EDGES


def _write(store: Store) -> None:
    # Batches of 500 spans: a trace's spans often land in two batches (two index rows).
    for first in range(0, len(SHOP), 500):
        store.write(SHOP[first : first + 500])
    for first in range(0, len(EDGES), 2):
        store.write(EDGES[first : first + 2])


@pytest.fixture(scope="module")
def duckdb_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    with open_store(tmp_path_factory.mktemp("sample") / "traces.duckdb") as store:
        _write(store)
        yield store


@pytest.fixture(scope="module")
def clickhouse_store() -> Iterator[Store]:
    with open_store(clickhouse_url()) as store:
        _write(store)
        yield store


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    running, thread = start_server(tmp_path_factory.mktemp("served") / "traces.duckdb")
    post_spans(running, SHOP)
    for first in range(0, len(EDGES), 2):
        post_spans(running, EDGES[first : first + 2])
    yield running
    stop_server(running, thread)


@pytest.fixture(scope="module")
def remote_store(served: RunningServer) -> Iterator[Store]:
    with open_store(served.ui, read_only=True) as store:
        yield store


ENGINES = ["duckdb_store", "clickhouse_store", "remote_store"]


def _matches(span: Span, query: TraceQuery) -> bool:
    """Whether ``span`` meets every condition of ``query`` (the conditions used here)."""
    duration = span.end_ns - span.start_ns
    return (
        (query.service is None or span.service_name == query.service)
        and (query.operation is None or span.name == query.operation)
        and (query.start_time_min is None or span.start_ns >= query.start_time_min)
        and (query.start_time_max is None or span.start_ns <= query.start_time_max)
        and (query.duration_min is None or duration >= query.duration_min)
        and (query.duration_max is None or duration <= query.duration_max)
        and all(str(span.attributes.get(key)) == value for key, value in query.tags.items())
    )


def _expected(query: TraceQuery) -> tuple[list[str], int]:
    """The bottom-k of the matching traces by (sample key, id), and how many match."""
    matching = {span.trace_id for span in SPANS if _matches(span, query)}
    ordered = sorted(matching, key=lambda trace_id: (sample_key(trace_id), trace_id))
    return ordered[: query.num_traces], len(matching)


MIDDLE = (T0 + 2 * S, T0 + 4 * S)
QUERIES = {
    "everything, cut": TraceQuery(num_traces=40),
    "everything fits": TraceQuery(num_traces=10_000),
    "a window, cut": TraceQuery(start_time_min=MIDDLE[0], start_time_max=MIDDLE[1], num_traces=25),
    "a window from its start": TraceQuery(start_time_min=MIDDLE[0], num_traces=30),
    "a window up to its end": TraceQuery(start_time_max=MIDDLE[1], num_traces=30),
    "edges": TraceQuery(start_time_min=EDGE_LOW, start_time_max=EDGE_HIGH, num_traces=10),
    "a service": TraceQuery(service="inventory", num_traces=30),
    "an operation": TraceQuery(service="inventory", operation="SELECT shop.stock", num_traces=20),
    "a tag": TraceQuery(tags={"db.collection.name": "stock"}, num_traces=20),
    "a duration": TraceQuery(service="checkout", duration_min=20 * MS, num_traces=10),
    "a service in a window": TraceQuery(
        service="payment", start_time_min=MIDDLE[0], start_time_max=MIDDLE[1], num_traces=5
    ),
    "a service, all fit": TraceQuery(service="payment", num_traces=10_000),
    "nothing": TraceQuery(service="nobody", num_traces=10),
}


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("name", list(QUERIES))
def test_a_sample_is_the_bottom_k_by_sample_key(
    engine: str, name: str, request: pytest.FixtureRequest
) -> None:
    store: Store = request.getfixturevalue(engine)
    query = QUERIES[name]
    ids, matched = store.sample_trace_ids(query)
    wanted, wanted_matched = _expected(query)
    assert matched == wanted_matched
    assert sorted(ids) == sorted(wanted)
    assert len(ids) == min(query.num_traces, wanted_matched)


def test_the_cases_are_what_their_names_say() -> None:
    """A cut case matches more traces than it reads, a fitting one all it matches, and the edge
    window the three traces with a span in it."""
    for name in ("everything, cut", "a window, cut", "a service", "a tag", "a duration"):
        assert _expected(QUERIES[name])[1] > QUERIES[name].num_traces, name
    for name in ("everything fits", "a service, all fit"):
        assert 0 < _expected(QUERIES[name])[1] <= QUERIES[name].num_traces, name
    assert _expected(QUERIES["edges"]) == (sorted(["e2" * 16, "e3" * 16, "e4" * 16]), 3)


def test_a_sample_comes_oldest_first(duckdb_store: Store) -> None:
    """Pages of a sample are read from one stretch of time each: the ids come by start."""
    ids, _ = duckdb_store.sample_trace_ids(QUERIES["everything, cut"])
    firsts = {span.trace_id: span.start_ns for span in reversed(sorted(SPANS, key=_start))}
    assert [firsts[trace_id] for trace_id in ids] == sorted(firsts[trace_id] for trace_id in ids)


def _start(span: Span) -> int:
    return span.start_ns


def test_a_cut_sample_spans_the_window_where_a_search_gives_its_newest(
    duckdb_store: Store,
) -> None:
    query = TraceQuery(service="frontend", num_traces=30)
    starts = {}
    for span in SHOP:
        starts[span.trace_id] = min(span.start_ns, starts.get(span.trace_id, span.start_ns))
    newest = [starts[trace_id] for trace_id in duckdb_store.find_trace_ids(query)]
    sampled = [starts[trace_id] for trace_id in duckdb_store.sample_trace_ids(query)[0]]
    first, last = min(starts.values()), max(starts.values())
    third = (last - first) // 3
    assert min(newest) > last - third  # the newest 30 of 300: the last seconds
    assert min(sampled) < first + third and max(sampled) > last - third


def test_the_engines_sample_the_same_traces(
    duckdb_store: Store, clickhouse_store: Store, remote_store: Store
) -> None:
    for query in QUERIES.values():
        answers = [store.sample_trace_ids(query) for store in (duckdb_store, clickhouse_store)]
        answers.append(remote_store.sample_trace_ids(query))
        assert len({(frozenset(ids), matched) for ids, matched in answers}) == 1, query


HEX = "0123456789abcdefABCDEF"
# Tails Python's int(x, 16) reads and the SQL keys do not: spaces, signs, prefixes, underscores,
# digits of other scripts. Their keys are 0 everywhere.
NOT_HEX = [" 1", "\t1", "+1", "-1", "0x12", "1_0", "0_1", "\u0661", "\u0669f", "ff\u0663"]
IDS = st.lists(
    st.one_of(
        st.text(HEX, min_size=32, max_size=32),  # W3C
        st.text(HEX, min_size=1, max_size=16),  # a 64-bit Jaeger/Zipkin id, unpadded
        st.text("0123456789abcdefxyz-", min_size=1, max_size=32),  # not hex: key 0
        st.builds(
            lambda head, tail: head + tail, st.text(HEX, max_size=14), st.sampled_from(NOT_HEX)
        ),
        st.text(HEX + " +_x\t\u0661\u0665", min_size=1, max_size=18),
    ),
    min_size=1,
    max_size=20,
)


def test_keys_are_zero_unless_the_tail_is_ascii_hex() -> None:
    for tail in NOT_HEX:
        assert trace_key(tail) == sample_key(tail) == 0, tail
    assert trace_key("0" * 16 + "0123456789abcdef") == 0x0123456789ABCDEF
    assert sample_key("0" * 16 + "0123456789abcdef") == 0xFEDCBA9876543210
    assert sample_key("1") == 1 and sample_key("10") == 1 and sample_key("01") == 0x10


def _sql_text(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(ids=IDS)
def test_the_engines_key_an_id_as_codec_does(clickhouse_store: Store, ids: list[str]) -> None:
    """The SQL sample keys (computed from TraceId: the exporter's tables have no key column)
    are ``codec.sample_key``'s, so every engine samples the same traces."""
    rows = " UNION ALL ".join(
        f"SELECT {i} AS n, {_sql_text(trace_id)} AS TraceId" for i, trace_id in enumerate(ids)
    )
    in_duckdb = duckdb.sql(f"SELECT {sample_key_sql()} FROM ({rows}) ORDER BY n").fetchall()
    assert isinstance(clickhouse_store, ClickHouseStore)  # (its engine, as the store uses it)
    answer = clickhouse_store.client.query(
        f"SELECT {sample_key_sql(CLICKHOUSE)} FROM ({rows}) ORDER BY n FORMAT CSV"
    )
    wanted = [sample_key(trace_id) for trace_id in ids]
    assert [key for (key,) in in_duckdb] == wanted
    assert [int(line) for line in answer.split()] == wanted


class _Recording:
    """A DuckDB cursor that keeps the statements it is given."""

    def __init__(self, cursor: duckdb.DuckDBPyConnection) -> None:
        self.cursor = cursor
        self.statements: list[str] = []

    def execute(self, sql: str) -> duckdb.DuckDBPyConnection:
        self.statements.append(sql)
        return self.cursor.execute(sql)


def test_only_many_scattered_traces_are_merged_into_few_scans(
    duckdb_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A few ids far apart (Jaeger's multi-id fetch, query --trace-id) are read each by its own
    time range: merged, they would read the gaps between them. Many (a spread sample's) are
    read by at most _MOST_SCANS scans a statement, and both reads give the same traces."""
    starts: dict[str, int] = {}
    ends: dict[str, int] = {}
    for span in SHOP:
        starts[span.trace_id] = min(span.start_ns, starts.get(span.trace_id, span.start_ns))
        ends[span.trace_id] = max(span.end_ns, ends.get(span.trace_id, span.end_ns))
    scattered: list[str] = []
    for trace_id in sorted(starts, key=starts.__getitem__):  # a second apart and more
        if not scattered or starts[trace_id] > ends[scattered[-1]] + S:
            scattered.append(trace_id)
    assert duckdb_reads._MOST_SCANS < len(scattered) <= duckdb_reads._MERGE_FROM
    assert isinstance(duckdb_store, DuckDBStore)
    reads = []
    for merge_from, scans in (
        (duckdb_reads._MERGE_FROM, len(scattered)),
        (len(scattered) - 1, duckdb_reads._MOST_SCANS),  # as if they were many
    ):
        monkeypatch.setattr(duckdb_reads, "_MERGE_FROM", merge_from)
        with duckdb_store._reader() as reader:  # (the store's own cursor for a read)
            cursor = _Recording(reader)
            found = duckdb_reads.fetch(cursor, scattered)  # type: ignore[arg-type]
        assert sorted(found) == sorted(scattered)
        (read,) = [sql for sql in cursor.statements if "UNION ALL" in sql]
        assert read.count(" UNION ALL ") + 1 == scans, merge_from
        reads.append(found)
    assert reads[0] == reads[1]
