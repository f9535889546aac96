"""The embedded trace store: one DuckDB file (schema in ``spanscope.store.schema``).

``DuckDBStore(path)`` opens or creates a store for writing (one process at a time: DuckDB
locks the file); ``DuckDBStore(path, read_only=True)`` opens it for queries only and fails with
``StoreLockedError`` while a writer (e.g. ``spanscope serve``) has it open. Inside one process,
``write`` goes through one connection (call it from one thread; a lock guards against misuse)
and every query runs on a fresh cursor, so queries from other threads run beside writes and see
whole batches only. Ctrl-C stops a query of the main thread at once
(``spanscope.store.interrupt``), and ``stop_reads()`` those of every thread, for a server that
stops.

How it is fast:
- a batch goes to DuckDB as an Arrow table (``spanscope.store.columns``) that DuckDB reads
  through its C stream, in C++ and without the GIL, straight into ``otel_traces``; its
  per-trace time ranges and any new (service, operation) pairs are computed in Python and
  written in the SAME transaction, sent as one ``execute``: one WAL sync per batch. ``prepare``
  (the Python part) can run on another thread while a write is inside DuckDB, and
  ``open_batch`` builds the next write's batch from what arrives meanwhile;
- a writing process runs DuckDB on one thread: the other core does the Python work (measured:
  less CPU a span than with DuckDB's second worker);
- a trace is found through ``otel_traces_trace_id_ts`` (small: one row per trace per batch),
  and its spans are read with its time range as a condition, so DuckDB reads only the row
  groups of that time (spans arrive roughly in time order);
- searches put their time window on ``Timestamp`` for the same row group pruning, and read
  from the newest data back only until they have found enough traces (``_search``).

Durability: DuckDB syncs its write-ahead log when a transaction commits, so a batch is on disk
when ``write`` returns.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import duckdb

from spanscope.model import Span, SpanKind, normalize_trace_id
from spanscope.store import codec, columns, metrics_sql, otlp_columns
from spanscope.store.base import (
    StoreClosedError,
    StoreError,
    StoreLockedError,
    StoreStats,
    TraceQuery,
)
from spanscope.store.interrupt import interruptible
from spanscope.store.read_group import ReadGroup, ReadsStoppedError, counted  # noqa: F401
from spanscope.store.schema import OPERATIONS, SPAN_KINDS, TRACE_INDEX, TRACES, prepare
from spanscope.store.search_sql import find_trace_ids_sql, literal, time_between, time_literal

_CHECKPOINT_THRESHOLD = "128MB"
_DB = "spanscope_store"
# Smaller row groups than DuckDB's 122,880 rows: a trace's spans are found by the row groups'
# time ranges, so each lookup reads 8x less; and a big batch fills whole row groups, which
# DuckDB writes straight to the file instead of the write-ahead log. Tried and dropped: 2,048
# rows, so that serve's 2k-8k-span writes go straight to the file too: 20% less DuckDB CPU a
# span and no checkpoint stalls, but each such write took fresh blocks for every column, held
# in memory until the next checkpoint (serve's RSS swung between 1 and 4+ GiB at 70k spans/s).
_ROW_GROUP_SIZE = 16384
# The first (newest) time window a search reads; each next one is 4x longer.
_FIRST_WINDOW_NS = 10**9
# Traces this close in time are read by one scan (at 100k spans/s, under one row group).
_MERGE_GAP_NS = 100_000_000
# Traces fetched per statement by find_traces (their time ranges merged into UNION ALL
# branches). Each statement costs milliseconds whatever its size: 10,000 recent traces of the
# 10M-span store took 36 s in chunks of 32 and 8 s in chunks of 1,024 (analyze --db).
_FETCH_CHUNK = 1024


def _one_row(con: duckdb.DuckDBPyConnection, sql: str) -> tuple[Any, ...]:
    """The row of a statement that always gives one (an aggregate, a DELETE's count)."""
    row = con.execute(sql).fetchone()
    if row is None:
        raise StoreError(f"no row from: {sql}")
    return row


def _lock_message(path: str, error: Exception) -> str:
    return (
        f"{path} is open for writing in another process ({error}). DuckDB allows one writer "
        "and no readers beside it: stop that process (e.g. 'spanscope serve'), or query the "
        "running server's API instead."
    )


_TIMESTAMP = '"Timestamp"'


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


class DuckDBStore:
    """A trace store in one DuckDB file. Implements ``spanscope.store.Store``."""

    def __init__(
        self, path: str | os.PathLike, read_only: bool = False, compact: bool = False
    ) -> None:
        """``compact=True`` compresses text with FSST as well: files about half the size with
        attribute-heavy spans, writes about half as fast (see ``_configure_writer``)."""
        self.path = str(path)
        self.read_only = read_only
        self._write_lock = threading.Lock()
        self._cursor_lock = threading.Lock()  # the connection hands out one cursor at a time
        self._reads = ReadGroup()  # every read: stop_reads stops them all
        self._thread = threading.local()  # .group: the ReadGroup of this thread's reads
        if read_only and not Path(self.path).exists():
            raise StoreError(f"{self.path}: no such store")
        # No progress bar: DuckDB would draw it on our stdout during long statements.
        self._con = duckdb.connect(":memory:")
        self._con.execute("SET enable_progress_bar = false")
        try:
            options = "READ_ONLY" if read_only else f"ROW_GROUP_SIZE {_ROW_GROUP_SIZE}"
            self._con.execute(f"ATTACH {literal(self.path)} AS {_DB} ({options})")
            self._con.execute(f"USE {_DB}")
        except duckdb.IOException as exc:
            self._con.close()
            if "lock" in str(exc).lower():
                raise StoreLockedError(_lock_message(self.path, exc)) from None
            raise StoreError(f"{self.path}: cannot open store: {exc}") from None
        except duckdb.Error as exc:
            self._con.close()
            raise StoreError(f"{self.path}: cannot open store: {exc}") from None
        try:
            self.schema_version = prepare(self._con, self.path, read_only)
            if not read_only:
                self._configure_writer(compact)
                self._operations = self._load_operations()
        except BaseException:
            self._con.close()
            raise
        self._closed = False

    # -- plumbing ------------------------------------------------------------------------

    def _check_open(self) -> None:
        if self._closed:
            raise StoreClosedError(f"{self.path}: store is closed")

    @contextlib.contextmanager
    def _reader(self) -> Iterator[duckdb.DuckDBPyConnection]:
        self._check_open()
        with self._cursor_lock:
            cursor = self._con.cursor()
        try:
            with counted(cursor, self._reads, getattr(self._thread, "group", None), self.path):
                try:
                    cursor.execute(f"USE {_DB}")
                    cursor.execute("SET enable_progress_bar = false")
                    # Ctrl-C on the main thread stops the query at once (store.interrupt).
                    with interruptible(cursor.interrupt):
                        yield cursor
                except duckdb.Error as exc:
                    raise StoreError(f"{self.path}: query failed: {exc}") from exc
        finally:
            cursor.close()

    @contextlib.contextmanager
    def reads_in(self, group: ReadGroup) -> Iterator[None]:
        """The reads this thread makes in the block can be stopped with ``group.stop()``."""
        self._thread.group = group
        try:
            yield
        finally:
            self._thread.group = None

    def stop_reads(self, wait_s: float = 10.0) -> None:
        """Stop the queries running on any thread now, and refuse new ones; writes go on. For a
        server that stops: its searches would hold its shutdown for as long as they run (a
        tag search of millions of spans, many seconds), and it drains its writes after.
        Returns once no read runs, or after ``wait_s``: DuckDB forgets an interrupt that comes
        between two statements of a read, so each read is interrupted until it has ended."""
        self._reads.stop(wait_s)

    def close(self) -> None:
        if getattr(self, "_closed", True):
            return
        self._closed = True
        with self._write_lock:
            self._con.close()

    def __enter__(self) -> DuckDBStore:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def _configure_writer(self, compact: bool) -> None:
        # Fewer, larger checkpoints: each one re-compresses whole row groups.
        self._con.execute(f"SET checkpoint_threshold = '{_CHECKPOINT_THRESHOLD}'")
        if not compact:
            # FSST string compression is more than half of an insert's cost (measured: 3.8 vs
            # 5.7-11.8 us a span); without it the unique-text columns (attributes JSON, ids)
            # are stored plain, dictionary compression still applies to the rest.
            self._con.execute("SET disabled_compression_methods = 'fsst'")
        # One DuckDB thread in a writing process: there, Python (receiving, decoding, encoding
        # the next batch) keeps the other core busy, and a second DuckDB worker only adds
        # hand-off costs (measured: 5.6 vs 8 us of CPU a span for 2k-span inserts, and 22 vs
        # 31 us a span for the whole server under load). Queries in this process run on one
        # thread too; read-only opens keep DuckDB's default.
        self._con.execute("SET threads = 1")

    def _load_operations(self) -> set[tuple[str, str, SpanKind]]:
        rows = self._con.execute(f"SELECT * FROM {OPERATIONS}").fetchall()
        return {(service, name, codec.kind_from_column(kind)) for service, name, kind in rows}

    # -- writing -------------------------------------------------------------------------

    @staticmethod
    def prepare(spans: Sequence[Span]) -> columns.ColumnBatch:
        """Encode ``spans`` for ``write`` ahead of time, on any thread (the Python part of a
        write; the rest runs in DuckDB without the GIL, so the two overlap)."""
        return columns.encode_batch(spans)

    @staticmethod
    def open_batch() -> otlp_columns.BatchBuilder:
        """A batch for one ``write``, built as requests arrive, on any thread: OTLP protobuf
        bodies that ``otlp_native.scan`` took are filled into its columns without model spans
        (``add_request``: in C, without the GIL), model spans encoded as ``prepare`` does
        (``add_spans``); ``finish`` gives the ``prepare``d batch of all of them (see
        ``spanscope.store.otlp_columns``)."""
        return otlp_columns.BatchBuilder()

    def write(self, spans: Sequence[Span] | columns.ColumnBatch) -> None:
        """Store ``spans`` (or a ``prepare``d batch) in one transaction; durable when this
        returns."""
        self._check_open()
        if self.read_only:
            raise StoreError(f"{self.path}: opened read-only")
        batch = spans if isinstance(spans, columns.ColumnBatch) else columns.encode_batch(spans)
        if not batch.size:
            return
        with self._write_lock:
            self._check_open()
            new_operations = batch.operations - self._operations
            # DuckDB finds these Arrow streams by their variable names (a replacement scan)
            # and reads them in place. Raw C stream capsules, not the tables: DuckDB then pulls
            # the batches in C++, where for a table it would build a pyarrow dataset scanner,
            # Python calls that wait for the GIL and hand each batch over through pyarrow's
            # thread pool (both slow on a busy machine). One execute() for the whole
            # transaction: each statement and call has a fixed cost of about a millisecond.
            spanscope_batch_spans = batch.spans.__arrow_c_stream__()  # noqa: F841
            spanscope_batch_ranges = batch.ranges.__arrow_c_stream__()  # noqa: F841
            statements = [
                "BEGIN TRANSACTION",
                f"INSERT INTO {TRACES} SELECT * FROM spanscope_batch_spans",
                f"INSERT INTO {TRACE_INDEX} SELECT * FROM spanscope_batch_ranges",
            ]
            if new_operations:
                operations = columns.operations_table(new_operations)
                spanscope_batch_operations = operations.__arrow_c_stream__()  # noqa: F841
                statements.append(
                    f"INSERT OR IGNORE INTO {OPERATIONS} SELECT * FROM spanscope_batch_operations"
                )
            statements.append("COMMIT")
            with self._rolled_back_on_error("write"):
                self._con.execute(";\n".join(statements))
            self._operations |= new_operations

    @contextlib.contextmanager
    def _rolled_back_on_error(self, what: str) -> Iterator[None]:
        """Roll the open transaction back on any error; DuckDB's become ``StoreError``."""
        try:
            yield
        except BaseException as exc:
            with contextlib.suppress(duckdb.Error):
                self._con.execute("ROLLBACK")
            if isinstance(exc, duckdb.Error):
                raise StoreError(f"{self.path}: {what} failed: {exc}") from exc
            raise

    # -- reading -------------------------------------------------------------------------

    def _trace_ranges(
        self, cursor: duckdb.DuckDBPyConnection, trace_ids: Sequence[str]
    ) -> dict[str, tuple[int, int]]:
        ids = ", ".join(literal(trace_id) for trace_id in trace_ids)
        keys = ", ".join(str(codec.trace_key(trace_id)) for trace_id in trace_ids)
        rows = cursor.execute(
            f'SELECT TraceId, epoch_ns(min(Start)), epoch_ns(max("End")) FROM {TRACE_INDEX} '
            f"WHERE TraceKey IN ({keys}) AND TraceId IN ({ids}) GROUP BY TraceId"
        ).fetchall()
        return {trace_id: (start, end) for trace_id, start, end in rows}

    def _fetch(
        self, cursor: duckdb.DuckDBPyConnection, trace_ids: Sequence[str]
    ) -> dict[str, list[Span]]:
        """The spans of each trace (ids from the store or validated), sorted."""
        found: dict[str, list[Span]] = {}
        decoder = codec.RowDecoder()
        for begin in range(0, len(trace_ids), _FETCH_CHUNK):
            ranges = self._trace_ranges(cursor, trace_ids[begin : begin + _FETCH_CHUNK])
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

    def get_trace(self, trace_id: str) -> list[Span]:
        trace_id = normalize_trace_id(trace_id)  # raises InvalidIdError on a bad id
        with self._reader() as cursor:
            return self._fetch(cursor, [trace_id]).get(trace_id, [])

    def _search(self, cursor: duckdb.DuckDBPyConnection, query: TraceQuery) -> list[str]:
        """Search time windows from the newest back, each 4x longer than the one before, and
        stop once enough traces are found: recent matches are found without scanning (or
        grouping) all history, since each window reads only its row groups. Windows are
        disjoint and newest first, so the concatenated answer is in the same order as one
        search over the whole range (by each trace's newest matching span)."""
        oldest, newest = _one_row(
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

    def find_trace_ids(self, query: TraceQuery) -> list[str]:
        with self._reader() as cursor:
            return self._search(cursor, query)

    def find_traces(self, query: TraceQuery) -> list[list[Span]]:
        with self._reader() as cursor:
            ids = self._search(cursor, query)
            found = self._fetch(cursor, ids)
        return [found[trace_id] for trace_id in ids if trace_id in found]

    def get_traces(self, trace_ids: Sequence[str]) -> list[list[Span]]:
        ids = list(dict.fromkeys(normalize_trace_id(trace_id) for trace_id in trace_ids))
        with self._reader() as cursor:
            found = self._fetch(cursor, ids)
        return [found[trace_id] for trace_id in ids if trace_id in found]

    def services(self) -> list[str]:
        with self._reader() as cursor:
            rows = cursor.execute(
                f"SELECT DISTINCT ServiceName FROM {OPERATIONS} WHERE ServiceName <> '' ORDER BY 1"
            ).fetchall()
        return [name for (name,) in rows]

    def operations(
        self, service: str, span_kind: SpanKind | None = None
    ) -> list[tuple[str, SpanKind]]:
        condition, params = "ServiceName = ?", [service]
        if span_kind is not None:
            condition += " AND SpanKind = ?"
            params.append(SPAN_KINDS[SpanKind(span_kind)])
        with self._reader() as cursor:
            rows = cursor.execute(
                f"SELECT SpanName, SpanKind FROM {OPERATIONS} WHERE {condition}", params
            ).fetchall()
        return sorted((name, codec.kind_from_column(kind)) for name, kind in rows)

    def dependencies(
        self, end_ns: int, lookback_ns: int, include_self_calls: bool = False
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
        with self._reader() as cursor:
            return [tuple(row) for row in cursor.execute(sql).fetchall()]

    def metrics_series(self, query: metrics_sql.MetricsQuery) -> list[metrics_sql.MetricsSeries]:
        with self._reader() as cursor:
            rows = cursor.execute(metrics_sql.series_sql(query, TRACES)).fetchall()
        return metrics_sql.series_from_rows(query, rows)

    def metrics_summary(self, query: metrics_sql.MetricsQuery) -> list[metrics_sql.MetricsSummary]:
        with self._reader() as cursor:
            rows = cursor.execute(metrics_sql.summary_sql(query, TRACES)).fetchall()
        return metrics_sql.summary_from_rows(query, rows)

    def metrics_summary_and_series(
        self, query: metrics_sql.MetricsQuery
    ) -> tuple[list[metrics_sql.MetricsSummary], list[metrics_sql.MetricsSeries]]:
        with self._reader() as cursor:
            rows = cursor.execute(metrics_sql.summary_and_series_sql(query, TRACES)).fetchall()
        return metrics_sql.summary_and_series_from_rows(query, rows)

    # -- size and retention --------------------------------------------------------------

    def _sizes(self, cursor: duckdb.DuckDBPyConnection) -> tuple[int, int]:
        """(bytes on disk, bytes in use) of the file plus its write-ahead log."""
        block_size, used_blocks = _one_row(
            cursor,
            "SELECT block_size, used_blocks FROM pragma_database_size() "
            "WHERE database_name = current_database()",
        )
        wal = self.path + ".wal"
        wal_bytes = os.path.getsize(wal) if os.path.exists(wal) else 0
        file_bytes = os.path.getsize(self.path) if os.path.exists(self.path) else 0
        return file_bytes + wal_bytes, used_blocks * block_size + wal_bytes

    def stats(self) -> StoreStats:
        with self._reader() as cursor:
            spans, oldest, newest = _one_row(
                cursor,
                f'SELECT count(*), epoch_ns(min("Timestamp")), epoch_ns(max("Timestamp")) '
                f"FROM {TRACES}",
            )
            (traces,) = _one_row(cursor, f"SELECT count(DISTINCT TraceId) FROM {TRACE_INDEX}")
            file_bytes, used_bytes = self._sizes(cursor)
        return StoreStats(
            spans, traces, oldest, newest, file_bytes, used_bytes, self.schema_version
        )

    def enforce_retention(
        self,
        max_age_ns: int | None = None,
        max_bytes: int | None = None,
        now_ns: int | None = None,
    ) -> int:
        """Delete whole traces by age, then by size; return how many spans went.

        Age: traces whose newest span started before ``now_ns - max_age_ns``. Size: the traces
        that ended longest ago, until the data in use is at most 90% of ``max_bytes`` (the
        margin keeps every call from deleting a little); the deleted space is reused by later
        writes, the file itself does not shrink. Call it periodically from the writer's side.
        """
        self._check_open()
        if self.read_only:
            raise StoreError(f"{self.path}: opened read-only")
        now_ns = time.time_ns() if now_ns is None else now_ns
        deleted = 0
        with self._write_lock:
            self._check_open()
            if max_age_ns is not None:
                deleted += self._delete_ended_before(now_ns - max_age_ns)
            if max_bytes is not None:
                deleted += self._shrink_to(max_bytes)
            if deleted:
                self._refresh_operations()
                self._operations = self._load_operations()
        return deleted

    def _delete_ended_before(self, cutoff_ns: int) -> int:
        con = self._con
        cutoff = time_literal(cutoff_ns)
        with self._rolled_back_on_error("retention"):
            con.execute("BEGIN TRANSACTION")
            con.execute(
                f"CREATE OR REPLACE TEMP TABLE spanscope_doomed AS SELECT TraceId FROM "
                f'{TRACE_INDEX} GROUP BY TraceId HAVING max("End") < {cutoff}'
            )
            (count,) = _one_row(
                con,
                f'DELETE FROM {TRACES} WHERE "Timestamp" < {cutoff} '
                "AND TraceId IN (SELECT TraceId FROM spanscope_doomed)",
            )
            con.execute(
                f"DELETE FROM {TRACE_INDEX} WHERE TraceId IN (SELECT TraceId FROM spanscope_doomed)"
            )
            con.execute("DROP TABLE spanscope_doomed")
            con.execute("COMMIT")
        if count:
            # Frees the deleted row groups' blocks so the size measure (and later writes) see it.
            with contextlib.suppress(duckdb.Error):
                con.execute(f"CHECKPOINT {_DB}")
        return count

    def _shrink_to(self, max_bytes: int) -> int:
        deleted = 0
        previous = None
        for _ in range(8):  # each round re-measures; sizes move in whole blocks
            _, used = self._sizes(self._con)
            if used <= max_bytes or (previous is not None and used >= previous):
                # Done, or the freed space does not show yet (the checkpoint that frees it
                # waits for running queries): measure again on the next call, delete no more.
                break
            previous = used
            fraction = min(1.0, (used - 0.9 * max_bytes) / used)
            (cutoff,) = _one_row(
                self._con,
                f'SELECT epoch_ns(quantile_disc(last, {fraction:.6f})) FROM (SELECT max("End") '
                f"AS last FROM {TRACE_INDEX} GROUP BY TraceId)",
            )
            if cutoff is None:
                break
            removed = self._delete_ended_before(cutoff + 1)
            deleted += removed
            if not removed:
                break
        return deleted

    def _refresh_operations(self) -> None:
        # Services and operations whose last span went stay out of the lists.
        self._con.execute(
            f"DELETE FROM {OPERATIONS} o WHERE NOT EXISTS (SELECT 1 FROM {TRACES} t WHERE "
            "t.ServiceName = o.ServiceName AND t.SpanName = o.SpanName AND "
            "t.SpanKind = o.SpanKind)"
        )
