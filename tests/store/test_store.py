"""The DuckDB store's API: ids, services and operations, dependencies, retention, schema
versions, closing."""

from __future__ import annotations

import concurrent.futures
import random
import threading

import duckdb
import pytest

from spanscope.model import InvalidIdError, Span, SpanKind, StatusCode
from spanscope.store import (
    SchemaVersionError,
    StoreClosedError,
    StoreError,
    TraceQuery,
    open_store,
    schema,
)

DAY = 86400 * 10**9
NOW = 1_800_000_000_000_000_000


def _span(trace: int, span: int, service: str, start: int, parent: int = 0, **extra) -> Span:
    return Span(
        trace_id=f"{trace:032x}",
        span_id=f"{span:016x}",
        parent_span_id=f"{parent:016x}" if parent else "",
        name=extra.pop("name", f"{service}-op"),
        start_ns=start,
        end_ns=start + extra.pop("duration", 1000),
        service_name=service,
        kind=extra.pop("kind", SpanKind.SERVER),
        **extra,
    )


@pytest.fixture
def store(tmp_path):
    with open_store(tmp_path / "traces.duckdb") as opened:
        yield opened


def test_bad_trace_ids_are_refused_clearly(store):
    for bad in ("xyz", "", "0" * 32, "a" * 33):
        with pytest.raises(InvalidIdError, match="trace id"):
            store.get_trace(bad)
    store.write([_span(0xABC, 1, "api", NOW)])
    assert len(store.get_trace("ABC")) == 1  # short and upper-case ids are normalised
    assert store.get_trace("f" * 32) == []


def test_services_operations_and_dependencies(store):
    store.write(
        [
            _span(1, 1, "frontend", NOW, name="GET /"),
            _span(1, 2, "cart", NOW + 10, parent=1, name="get", kind=SpanKind.CLIENT),
            _span(1, 3, "db", NOW + 20, parent=2, name="query", kind=SpanKind.CLIENT),
            _span(1, 4, "cart", NOW + 30, parent=2, name="local", kind=SpanKind.INTERNAL),
            _span(2, 5, "frontend", NOW + 40, name="GET /"),
            _span(2, 6, "cart", NOW + 50, parent=5, name="get", kind=SpanKind.CLIENT),
        ]
    )
    assert store.services() == ["cart", "db", "frontend"]
    assert store.operations("cart") == [("get", SpanKind.CLIENT), ("local", SpanKind.INTERNAL)]
    assert store.operations("cart", SpanKind.INTERNAL) == [("local", SpanKind.INTERNAL)]
    assert store.operations("nope") == []
    assert store.dependencies(NOW + DAY, DAY) == [("cart", "db", 1), ("frontend", "cart", 2)]
    assert ("cart", "cart", 1) in store.dependencies(NOW + DAY, DAY, include_self_calls=True)
    assert store.dependencies(NOW - DAY, DAY) == []
    # Most recent first; the kind condition is on the same span as the others.
    assert store.find_trace_ids(TraceQuery(service="cart")) == [f"{2:032x}", f"{1:032x}"]
    query = TraceQuery(service="cart", span_kind=SpanKind.INTERNAL)
    assert store.find_trace_ids(query) == [f"{1:032x}"]
    assert store.find_trace_ids(TraceQuery(service="cart", num_traces=1)) == [f"{2:032x}"]


def test_retention_by_age_deletes_whole_traces(store):
    old, recent = NOW - 10 * DAY, NOW - DAY
    store.write(
        [
            _span(1, 1, "legacy", old),
            _span(1, 2, "legacy", old + 5),
            _span(2, 3, "api", old),  # a trace that straddles the cutoff stays whole
            _span(2, 4, "api", recent),
            _span(3, 5, "api", recent),
        ]
    )
    assert store.enforce_retention(max_age_ns=7 * DAY, now_ns=NOW) == 2
    assert store.get_trace(f"{1:032x}") == []
    assert len(store.get_trace(f"{2:032x}")) == 2
    assert store.services() == ["api"]  # a service whose last span went is forgotten
    assert store.stats().spans == 3 and store.stats().traces == 2
    assert store.enforce_retention(max_age_ns=7 * DAY, now_ns=NOW) == 0


def test_retention_by_size_deletes_the_oldest_traces(store):
    for batch in range(20):
        store.write(
            [
                _span(
                    batch * 1000 + trace,
                    batch * 100_000 + trace * 10 + i,
                    "api",
                    NOW + batch * 10**9 + trace * 1000 + i,
                    attributes={"pad": "x" * 200 + str(i)},
                )
                for trace in range(200)
                for i in range(10)
            ]
        )
    before = store.stats()
    limit = before.used_bytes // 2
    deleted = store.enforce_retention(max_bytes=limit)
    after = store.stats()
    assert deleted > 0 and after.spans == before.spans - deleted
    assert after.used_bytes <= limit
    assert after.oldest_ns > before.oldest_ns and after.newest_ns == before.newest_ns
    assert store.get_trace(f"{19 * 1000 + 199:032x}")  # the newest trace is still there


def test_close_is_safe_twice_and_final(tmp_path):
    store = open_store(tmp_path / "traces.duckdb")
    store.close()
    store.close()
    with pytest.raises(StoreClosedError):
        store.write([_span(1, 1, "api", NOW)])
    with pytest.raises(StoreClosedError):
        store.services()


def test_read_only_store_refuses_writes(tmp_path):
    path = tmp_path / "traces.duckdb"
    with open_store(path) as store:
        store.write([_span(1, 1, "api", NOW)])
    with open_store(path, read_only=True) as reader:
        assert reader.services() == ["api"]
        with pytest.raises(StoreError, match="read-only"):
            reader.write([_span(2, 2, "api", NOW)])
    with pytest.raises(StoreError, match="no such store"):
        open_store(tmp_path / "missing.duckdb", read_only=True)


def _set_version(path, version: int) -> None:
    con = duckdb.connect(str(path))
    con.execute("UPDATE spanscope_meta SET value = ? WHERE key = 'schema_version'", [str(version)])
    con.close()


def test_newer_schema_is_refused_with_advice(tmp_path):
    path = tmp_path / "traces.duckdb"
    open_store(path).close()
    _set_version(path, schema.SCHEMA_VERSION + 1)
    with pytest.raises(SchemaVersionError, match=r"newer spanscope.*Upgrade spanscope"):
        open_store(path)


def test_older_schema_is_migrated_or_refused_with_advice(tmp_path, monkeypatch):
    path = tmp_path / "traces.duckdb"
    with open_store(path) as store:
        store.write([_span(1, 1, "api", NOW)])
    _set_version(path, 0)
    with pytest.raises(SchemaVersionError, match="too old to migrate"):
        open_store(path)

    def add_note_column(con) -> None:  # a real step: changes the file's tables
        con.execute("ALTER TABLE spanscope_meta ADD COLUMN note VARCHAR")

    monkeypatch.setitem(schema.MIGRATIONS, 0, add_note_column)
    with pytest.raises(SchemaVersionError, match="open it once for writing"):
        open_store(path, read_only=True)
    with open_store(path) as store:
        assert store.schema_version == schema.SCHEMA_VERSION
        assert len(store.get_trace(f"{1:032x}")) == 1
    con = duckdb.connect(str(path), read_only=True)
    assert "note" in [row[0] for row in con.execute("DESCRIBE spanscope_meta").fetchall()]
    con.close()


def test_a_foreign_duckdb_file_is_not_taken_for_a_store(tmp_path):
    path = tmp_path / "other.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE invoices (id INTEGER)")
    con.close()
    with pytest.raises(StoreError, match="not a spanscope store"):
        open_store(path)


def test_jaeger_special_tag_keys(store):
    store.write(
        [
            _span(
                1, 1, "api", NOW, status_code=StatusCode.ERROR, scope_name="lib", scope_version="2"
            ),
            _span(2, 2, "api", NOW + 1, kind=SpanKind.CLIENT, resource_attributes={"zone": "eu"}),
            _span(3, 3, "api", NOW + 2, attributes={"span.kind": "odd"}),
        ]
    )

    def ids(**tags) -> list[int]:
        return sorted(int(t, 16) for t in store.find_trace_ids(TraceQuery(tags=tags)))

    assert ids(error="true") == [1]
    assert ids(**{"span.kind": "client"}) == [2]
    assert ids(**{"span.kind": "odd"}) == [3]  # an attribute of that name still matches
    assert ids(**{"scope.name": "lib", "scope.version": "2"}) == [1]
    assert ids(**{"resource.zone": "eu"}) == [2]
    assert ids(zone="eu") == [2]
    assert ids(zone="us") == []


def test_queries_beside_a_writer_see_whole_batches(store):
    batches, size = 30, 200
    done = threading.Event()

    def write() -> None:
        for batch in range(batches):
            store.write(
                [_span(batch + 1, batch * size + i + 1, "api", NOW + i) for i in range(size)]
            )
        done.set()

    writer = threading.Thread(target=write)
    writer.start()
    seen = set()
    while not done.is_set():
        count = store.stats().spans
        assert count % size == 0, f"saw {count} spans: a batch half written"
        seen.add(count)
        found = store.find_trace_ids(TraceQuery(service="api", num_traces=1000))
        for trace_id in found[:3]:
            assert len(store.get_trace(trace_id)) == size
    writer.join()
    assert store.stats().spans == batches * size


def test_search_over_spread_out_times_is_ordered_like_one_big_search(store):
    """The search reads time windows newest first; the answer must equal a brute-force one."""
    rng = random.Random(7)
    spans = []
    for trace in range(1, 120):
        for index in range(rng.randint(1, 4)):
            service = rng.choice(["api", "db"])
            start = NOW - rng.randint(0, 10 * DAY)
            spans.append(_span(trace, trace * 10 + index, service, start))
    store.write(spans)
    for limit, low in ((5, None), (40, None), (200, None), (10, NOW - 3 * DAY)):
        newest: dict[str, int] = {}
        for span in spans:
            if span.service_name == "api" and (low is None or span.start_ns >= low):
                newest[span.trace_id] = max(newest.get(span.trace_id, 0), span.start_ns)
        expected = sorted(newest, key=lambda trace_id: (-newest[trace_id], trace_id))[:limit]
        query = TraceQuery(service="api", num_traces=limit, start_time_min=low)
        assert store.find_trace_ids(query) == expected


def test_compact_store_keeps_every_field(tmp_path):
    span = _span(1, 1, "api", NOW, attributes={"http.url": "https://example.com/a?b=c", "n": 1.5})
    with open_store(tmp_path / "compact.duckdb", compact=True) as store:
        store.write([span])
        assert store.get_trace(span.trace_id) == [span]


def test_batches_prepared_on_another_thread(store):
    spans = [
        _span(1, i + 1, "api", NOW + i, attributes={"i": i, "b": b"x" if i % 2 else "x"})
        for i in range(10)
    ]
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        prepared = pool.submit(store.prepare, spans).result()
    store.write(prepared)
    assert store.get_trace(spans[0].trace_id) == spans
    assert store.operations("api") == [("api-op", SpanKind.SERVER)]
    store.write(store.prepare([]))  # an empty batch is a no-op
    assert store.stats().spans == 10


def test_spans_before_1970_and_before_1684_are_found_by_trace_id(store):
    # A clock reset to zero and a garbage timestamp: the columns hold what they can (the
    # exact span is kept beside them) and the trace still comes back whole, exactly.
    trace = "0af7651916cd43dd8448eb211c80319c"
    spans = [
        Span(trace, "b7ad6b7169203331", "before 1970", -5 * 10**9, -4 * 10**9, service_name="a"),
        Span(
            trace,
            "b7ad6b7169203332",
            "now",
            1_764_150_000 * 10**9,
            1_764_150_001 * 10**9,
            parent_span_id="b7ad6b7169203331",
            service_name="a",
        ),
        Span(
            trace,
            "b7ad6b7169203333",
            "garbage",
            -(2**63) + 5,
            -(2**63) + 10,
            parent_span_id="b7ad6b7169203331",
            service_name="a",
        ),
    ]
    store.write(spans)
    assert store.get_trace(trace) == sorted(spans, key=lambda s: (s.start_ns, s.span_id))


def test_calls_before_1684_are_dependencies_too(store):
    # The same window as trace lookups (time_between): a garbage clock far before 1970 must
    # not hide a call from the dependency answer when the window reaches back to it.
    trace = "0af7651916cd43dd8448eb211c80319d"
    early = -(2**63) + 10**17  # 1680: a timestamp DuckDB holds but no literal can name
    store.write(
        [
            Span(trace, "b7ad6b7169203331", "p", early, early + 10**9, service_name="a"),
            Span(
                trace,
                "b7ad6b7169203332",
                "c",
                early + 10,
                early + 10**8,
                parent_span_id="b7ad6b7169203331",
                service_name="b",
            ),
        ]
    )
    assert store.dependencies(early + 10**10, 10**11) == [("a", "b", 1)]
    assert store.dependencies(0, 2**63 - 1) == [("a", "b", 1)]  # every call up to 1970
