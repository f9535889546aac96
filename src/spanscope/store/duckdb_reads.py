"""The DuckDB store's reads: SQL on a cursor that ``DuckDBStore`` hands out (one a read, made
stoppable there), for each read of the ``Store`` protocol.

How they are fast:
- a trace is found through ``otel_traces_trace_id_ts`` (small: one row per trace per batch),
  and its spans are read with its time range as a condition, so DuckDB reads only the row
  groups of that time (spans arrive roughly in time order; ``fetch``);
- searches put their time window on ``Timestamp`` for the same row group pruning, and read
  from the newest data back only until they have found enough traces (``search``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import duckdb

from spanscope.model import Span, SpanKind
from spanscope.store import codec
from spanscope.store.base import StoreError, TraceQuery
from spanscope.store.schema import OPERATIONS, SPAN_KINDS, TRACE_INDEX, TRACES
from spanscope.store.search_sql import find_trace_ids_sql, literal, time_between

# The first (newest) time window a search reads; each next one is 4x longer.
_FIRST_WINDOW_NS = 10**9
# Traces this close in time are read by one scan (at 100k spans/s, under one row group).
_MERGE_GAP_NS = 100_000_000
# Traces fetched per statement by find_traces (their time ranges merged into UNION ALL
# branches). Each statement costs milliseconds whatever its size: 10,000 recent traces of the
# 10M-span store took 36 s in chunks of 32 and 8 s in chunks of 1,024 (analyze --db).
_FETCH_CHUNK = 1024
_TIMESTAMP = '"Timestamp"'

Cursor = duckdb.DuckDBPyConnection


def one_row(con: Cursor, sql: str) -> tuple[Any, ...]:
    """The row of a statement that always gives one (an aggregate, a DELETE's count)."""
    row = con.execute(sql).fetchone()
    if row is None:
        raise StoreError(f"no row from: {sql}")
    return row


def _clusters(ranges: dict[str, tuple[int, int]]) -> list[tuple[int, int, list[str]]]:
    """Traces whose time ranges overlap or nearly touch, read by one scan each: the newest
    traces of a search usually sit close together."""
    clusters: list[tuple[int, int, list[str]]] = []
    for trace_id, (start, end) in sorted(ranges.items(), key=lambda item: item[1]):
        if clusters and start <= clusters[-1][1] + _MERGE_GAP_NS:
            first, last, ids = clusters[-1]
            ids.append(trace_id)
            clusters[-1] = (first, max(last, end), ids)
        else:
            clusters.append((start, end, [trace_id]))
    return clusters


def _trace_ranges(cursor: Cursor, trace_ids: Sequence[str]) -> dict[str, tuple[int, int]]:
    ids = ", ".join(literal(trace_id) for trace_id in trace_ids)
    keys = ", ".join(str(codec.trace_key(trace_id)) for trace_id in trace_ids)
    rows = cursor.execute(
        f'SELECT TraceId, epoch_ns(min(Start)), epoch_ns(max("End")) FROM {TRACE_INDEX} '
        f"WHERE TraceKey IN ({keys}) AND TraceId IN ({ids}) GROUP BY TraceId"
    ).fetchall()
    return {trace_id: (start, end) for trace_id, start, end in rows}


def fetch(cursor: Cursor, trace_ids: Sequence[str]) -> dict[str, list[Span]]:
    """The spans of each trace (ids from the store or validated), sorted."""
    found: dict[str, list[Span]] = {}
    decoder = codec.RowDecoder()
    for begin in range(0, len(trace_ids), _FETCH_CHUNK):
        ranges = _trace_ranges(cursor, trace_ids[begin : begin + _FETCH_CHUNK])
        if not ranges:
            continue
        branches = [
            f"SELECT {codec.SELECT_SPAN} FROM {TRACES} WHERE "
            f"{time_between(_TIMESTAMP, start, end)} "
            f"AND TraceId IN ({', '.join(map(literal, ids))})"
            for start, end, ids in _clusters(ranges)
        ]
        for row in cursor.execute(" UNION ALL ".join(branches)).fetchall():
            found.setdefault(row[0], []).append(decoder.span(row))
    for spans in found.values():
        spans.sort(key=lambda span: (span.start_ns, span.span_id))
    return found


def search(cursor: Cursor, query: TraceQuery) -> list[str]:
    """Search time windows from the newest back, each 4x longer than the one before, and
    stop once enough traces are found: recent matches are found without scanning (or
    grouping) all history, since each window reads only its row groups. Windows are
    disjoint and newest first, so the concatenated answer is in the same order as one
    search over the whole range (by each trace's newest matching span)."""
    oldest, newest = one_row(
        cursor, f'SELECT epoch_ns(min(Start)), epoch_ns(max("End")) FROM {TRACE_INDEX}'
    )
    if oldest is None:
        return []
    low = max(oldest, query.start_time_min or 0)
    upper = newest if query.start_time_max is None else min(newest, query.start_time_max)
    found: list[str] = []
    seen: set[str] = set()
    window = _FIRST_WINDOW_NS
    while upper >= low and len(found) < query.num_traces:
        lower = max(low, upper - window + 1)
        part = dataclasses.replace(query, start_time_min=lower, start_time_max=upper)
        # LIMIT num_traces suffices: at most len(found) of the rows are traces seen already.
        for (trace_id,) in cursor.execute(find_trace_ids_sql(part, TRACES)).fetchall():
            if trace_id not in seen:
                seen.add(trace_id)
                found.append(trace_id)
        upper = lower - 1
        window *= 4
    return found[: query.num_traces]


def services(cursor: Cursor) -> list[str]:
    rows = cursor.execute(
        f"SELECT DISTINCT ServiceName FROM {OPERATIONS} WHERE ServiceName <> '' ORDER BY 1"
    ).fetchall()
    return [name for (name,) in rows]


def operations(
    cursor: Cursor, service: str, span_kind: SpanKind | None
) -> list[tuple[str, SpanKind]]:
    condition, params = "ServiceName = ?", [service]
    if span_kind is not None:
        condition += " AND SpanKind = ?"
        params.append(SPAN_KINDS[SpanKind(span_kind)])
    rows = cursor.execute(
        f"SELECT SpanName, SpanKind FROM {OPERATIONS} WHERE {condition}", params
    ).fetchall()
    return sorted((name, codec.kind_from_column(kind)) for name, kind in rows)


def dependencies(
    cursor: Cursor, end_ns: int, lookback_ns: int, include_self_calls: bool
) -> list[tuple[str, str, int]]:
    low, high = end_ns - lookback_ns, end_ns
    # A parent starts before its child; one lookback of slack keeps the join small.
    sql = (
        f"SELECT p.ServiceName, c.ServiceName, count(*) FROM {TRACES} c JOIN {TRACES} p "
        "ON c.TraceId = p.TraceId AND c.ParentSpanId = p.SpanId "
        f"WHERE {time_between('c.' + _TIMESTAMP, low, high)} "
        f"AND {time_between('p.' + _TIMESTAMP, low - lookback_ns, high)} "
        "AND c.ParentSpanId <> ''"
        + ("" if include_self_calls else " AND p.ServiceName <> c.ServiceName")
        + " GROUP BY ALL ORDER BY 1, 2"
    )
    return [tuple(row) for row in cursor.execute(sql).fetchall()]
