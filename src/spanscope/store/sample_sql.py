"""The SQL of a spread sample (``Store.sample_trace_ids``), in both dialects of ``search_sql``.

A sample is the matching traces whose sample keys (``codec.sample_key``: an id's last 16 hex
digits read backwards) are smallest, ties by id. W3C Trace Context makes an id's right-most
bytes random, and 64-bit Jaeger/Zipkin ids are random, so the smallest keys are traces spread
over the whole window, not its newest minutes, and the same ones on every engine and every
time; reversed, they are not the traces ratio samplers (which compare the low 64 bits) all
keep.

Two ways to find them:
- ``matching_sql``: one scan of the spans the conditions allow (the window's row groups),
  grouped by trace, with the number of matching traces beside each id;
- for a search with no condition but its time window, the DuckDB store's trace index
  (``otel_traces_trace_id_ts``: one row per trace per batch; its ``TraceKey`` is the low 64
  bits, for lookups, so the sample key is computed from ``TraceId``) answers without
  reading spans: a trace with an index row inside the window has a span in it (the row's first
  start), one whose rows only overlap the window may not, and is looked up
  (``index_sql``; ``duckdb_reads.sample`` checks those against the spans).
"""

from __future__ import annotations

from spanscope.store.base import TraceQuery
from spanscope.store.search_sql import CLICKHOUSE, DUCKDB, Dialect, span_conditions

# The keys of a trace id column, as ``codec.trace_key`` and ``codec.sample_key`` compute them: 0
# unless its last 16 characters are ASCII hex digits.
_DUCKDB_KEY = (
    "CASE WHEN regexp_full_match({tail}, '[0-9a-fA-F]+') "
    "THEN try_cast('0x' || {tail} AS UBIGINT) ELSE 0 END"
)
_CLICKHOUSE_KEY = (
    "if(match({tail}, '^[0-9a-fA-F]+$'), "
    "reinterpretAsUInt64(reverse(unhex(leftPad({tail}, 16, '0')))), "
    "toUInt64(0))"
)


def _key_sql(tail: str, dialect: Dialect) -> str:
    """The key of the hex digits ``tail`` (SQL text of at most 16 characters)."""
    return (_CLICKHOUSE_KEY if dialect is CLICKHOUSE else _DUCKDB_KEY).format(tail=tail)


def sample_key_sql(dialect: Dialect = DUCKDB) -> str:
    """The sample key of the row's ``TraceId`` in SQL, equal to ``codec.sample_key``."""
    return _key_sql("reverse(right(TraceId, 16))", dialect)


def window_only(query: TraceQuery) -> bool:
    """Whether ``query`` asks nothing of a span but when it starts (the trace index answers)."""
    return not (
        query.service
        or query.operation
        or query.span_kind is not None
        or query.duration_min
        or query.duration_max
        or query.tags
    )


def matching_sql(query: TraceQuery, table: str, dialect: Dialect = DUCKDB) -> str:
    """``(TraceId, matched, first)`` of the ``num_traces`` matching traces with the smallest
    sample keys (ties by id), smallest first; ``matched`` is the number of matching traces in
    all, on every row, ``first`` the start of the trace's first matching span (ns)."""
    conditions = span_conditions(query, dialect)
    where = f"WHERE {' AND '.join(conditions)}" if conditions else ""
    count = "count()" if dialect is CLICKHOUSE else "count(*)"
    first = (
        'toUnixTimestamp64Nano(min("Timestamp"))'
        if dialect is CLICKHOUSE
        else 'epoch_ns(min("Timestamp"))'
    )
    return (
        f"SELECT TraceId, {count} OVER () AS matched, first FROM "
        f"(SELECT TraceId, {first} AS first FROM {table} {where} GROUP BY TraceId) AS matching "
        f"ORDER BY {sample_key_sql(dialect)}, TraceId LIMIT {int(query.num_traces)}"
    )


def _index_rows(query: TraceQuery, index: str) -> str:
    """Each trace with an index row that overlaps the window: whether a row lies
    inside the window, and (for one that does not) the part of the window its rows cover."""
    time = DUCKDB.time
    low = None if query.start_time_min is None else time(query.start_time_min)
    high = None if query.start_time_max is None else time(query.start_time_max)
    overlaps = [f'"End" >= {low}' if low else "", f"Start <= {high}" if high else ""]
    inside = [f"Start >= {low}" if low else "", f'"End" <= {high}' if high else ""]
    where = " AND ".join(part for part in overlaps if part) or "true"
    is_inside = " AND ".join(part for part in inside if part) or "true"
    return (
        f"SELECT TraceId, bool_or({is_inside}) AS inside, "
        f'epoch_ns(min(Start)) AS first, epoch_ns(max("End")) AS last '
        f"FROM {index} WHERE {where} GROUP BY TraceId"
    )


def index_sql(query: TraceQuery, index: str) -> str:
    """For a ``window_only`` query, from the DuckDB store's trace index: ``(TraceId, matched,
    first)`` of the ``num_traces`` traces with an index row inside the window with the
    smallest sample keys, ``matched`` the number of such traces in all, ``first`` the first
    start of its rows that overlap the window (ns)."""
    return (
        f"SELECT TraceId, count(*) OVER (), first FROM ({_index_rows(query, index)}) "
        f"WHERE inside ORDER BY {sample_key_sql()}, TraceId LIMIT {int(query.num_traces)}"
    )


def edge_sql(query: TraceQuery, index: str, most: int) -> str:
    """For a ``window_only`` query: ``(TraceId, first, last)`` of the traces whose index rows
    overlap the window but none lies inside it (they cross its edges), with the first and last
    span start their rows cover; at most ``most`` of them (more say: scan instead)."""
    return (
        f"SELECT TraceId, first, last FROM ({_index_rows(query, index)}) WHERE NOT inside "
        f"LIMIT {int(most)}"
    )


def in_time_order(trace_ids: list[str], firsts: dict[str, int]) -> list[str]:
    """``trace_ids`` by their first start (``firsts``; ties by id), the order a sample is given
    in: it is read a page at a time, and a page of traces close in time is read from few row
    groups."""
    return sorted(trace_ids, key=lambda trace_id: (firsts[trace_id], trace_id))
