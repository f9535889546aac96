"""The DuckDB store's reads: SQL on a cursor that ``DuckDBStore`` hands out (one a read, made
stoppable there), for each read of the ``Store`` protocol.

How they are fast:
- a trace is found through ``otel_traces_trace_id_ts`` (small: one row per trace per batch),
  and its spans are read with its time range as a condition, so DuckDB reads only the row
  groups of that time (spans arrive roughly in time order; ``fetch``);
- searches put their time window on ``Timestamp`` for the same row group pruning, and read
  from the newest data back only until they have found enough traces (``search``);
- a spread sample (``sample``, SQL in ``sample_sql``) of a search with no condition but its
  window reads the trace index alone, and the spans only of the few traces that cross the
  window's edges; with conditions, it is one scan of the window grouped by trace.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import duckdb

from spanscope.model import Span, SpanKind
from spanscope.store import codec
from spanscope.store.base import StoreError, TraceQuery
from spanscope.store.sample_sql import (
    edge_sql,
    in_time_order,
    index_sql,
    matching_sql,
    window_only,
)
from spanscope.store.schema import OPERATIONS, SPAN_KINDS, TRACE_INDEX, TRACES
from spanscope.store.search_sql import (
    MIN_LITERAL_NS,
    find_trace_ids_sql,
    literal,
    time_between,
)

# The first (newest) time window a search reads; each next one is 4x longer.
_FIRST_WINDOW_NS = 10**9
# Traces this close in time are read by one scan (at 100k spans/s, under one row group).
_MERGE_GAP_NS = 100_000_000
# Traces fetched per statement by find_traces (their time ranges merged into UNION ALL
# branches). Each statement costs milliseconds whatever its size: 10,000 recent traces of the
# 10M-span store took 36 s in chunks of 32 and 8 s in chunks of 1,024 (analyze --db).
_FETCH_CHUNK = 1024
# A statement's traces far apart in time (clusters) are read by their own scans up to
# _MERGE_FROM of them, and beyond by at most _MOST_SCANS: a scan reads a row group at least, so
# the many spread-out traces of a sample took 9.6 s for 10,000 of a 2M-span store, 2.7 s
# merged into 4 (the newest 10,000: 2.0 s); but merged, a few scattered ids read the gaps
# between them. Measured on that store, random ids, one scan each against merged: 30 ids
# 26 / 55 ms, 100 ids 72 / 89 ms, 300 ids 212 / 127 ms, 1,000 ids 808 / 285 ms.
_MERGE_FROM = 150
_MOST_SCANS = 4
_TIMESTAMP = '"Timestamp"'
# Traces crossing a window's edges that a sample by the trace index checks against their spans
# (a few per second of traces in flight at each edge); more, and one scan of the window is as
# quick.
_MOST_EDGE_TRACES = 10_000

Cursor = duckdb.DuckDBPyConnection


def one_row(con: Cursor, sql: str) -> tuple[Any, ...]:
    """The row of a statement that always gives one (an aggregate, a DELETE's count)."""
    row = con.execute(sql).fetchone()
    if row is None:
        raise StoreError(f"no row from: {sql}")
    return row


def _clusters(ranges: dict[str, tuple[int, int]]) -> list[tuple[int, int, list[str]]]:
    """Traces whose time ranges overlap or nearly touch, read by one scan each: the newest
    traces of a search usually sit close together. More than ``_MERGE_FROM`` of them (the
    spread-out traces of a sample) are merged into ``_MOST_SCANS``, the nearest first,
    keeping the widest gaps apart."""
    clusters: list[tuple[int, int, list[str]]] = []
    for trace_id, (start, end) in sorted(ranges.items(), key=lambda item: item[1]):
        if clusters and start <= clusters[-1][1] + _MERGE_GAP_NS:
            first, last, ids = clusters[-1]
            ids.append(trace_id)
            clusters[-1] = (first, max(last, end), ids)
        else:
            clusters.append((start, end, [trace_id]))
    if len(clusters) <= _MERGE_FROM:
        return clusters
    most = _MOST_SCANS
    gaps = sorted(range(1, len(clusters)), key=lambda i: clusters[i][0] - clusters[i - 1][1])
    apart = set(gaps[len(gaps) - (most - 1) :]) if most > 1 else set()
    merged: list[tuple[int, int, list[str]]] = []
    for index, (start, end, ids) in enumerate(clusters):
        if merged and index not in apart:
            first, last, held = merged[-1]
            merged[-1] = (first, max(last, end), held + ids)
        else:
            merged.append((start, end, list(ids)))
    return merged


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


def sample(cursor: Cursor, query: TraceQuery) -> tuple[list[str], int]:
    """The ids of the ``num_traces`` matching traces with the smallest sample keys, oldest
    first, and how many traces match in all (``Store.sample_trace_ids``)."""
    if window_only(query):
        edges = cursor.execute(edge_sql(query, TRACE_INDEX, _MOST_EDGE_TRACES + 1)).fetchall()
        if len(edges) <= _MOST_EDGE_TRACES:
            rows = cursor.execute(index_sql(query, TRACE_INDEX)).fetchall()
            firsts = {trace_id: first for trace_id, _, first in rows}
            crossing = _with_spans_in_window(cursor, query, edges)
            firsts.update((trace_id, first) for trace_id, first, _ in edges if trace_id in crossing)
            chosen = sorted(firsts, key=lambda trace_id: (codec.sample_key(trace_id), trace_id))
            inside = rows[0][1] if rows else 0
            return in_time_order(chosen[: query.num_traces], firsts), inside + len(crossing)
    rows = cursor.execute(matching_sql(query, TRACES)).fetchall()
    firsts = {trace_id: first for trace_id, _, first in rows}
    return in_time_order(list(firsts), firsts), rows[0][1] if rows else 0


def _with_spans_in_window(
    cursor: Cursor, query: TraceQuery, edges: list[tuple[str, int, int]]
) -> set[str]:
    """Those of ``edges`` (``edge_sql``'s rows) with a span that starts in the window: each read
    in the part of the window its index rows cover, close ones by one scan."""
    low = MIN_LITERAL_NS if query.start_time_min is None else query.start_time_min
    high = codec.MAX_TIME_NS if query.start_time_max is None else query.start_time_max
    ranges = {trace_id: (max(low, first), min(high, last)) for trace_id, first, last in edges}
    found: set[str] = set()
    clusters = _clusters(ranges)
    for begin in range(0, len(clusters), _FETCH_CHUNK):
        branches = [
            f"SELECT DISTINCT TraceId FROM {TRACES} WHERE "
            f"{time_between(_TIMESTAMP, start, end)} "
            f"AND TraceId IN ({', '.join(map(literal, ids))})"
            for start, end, ids in clusters[begin : begin + _FETCH_CHUNK]
        ]
        found.update(row[0] for row in cursor.execute(" UNION ".join(branches)).fetchall())
    return found


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
