"""The embedded trace store: one DuckDB file (schema in ``spanscope.store.schema``).

``DuckDBStore(path)`` opens or creates a store for writing (one process at a time: DuckDB
locks the file); ``DuckDBStore(path, read_only=True)`` opens it for queries only and fails with
``StoreLockedError`` while a writer (e.g. ``spanscope serve``) has it open. Inside one process,
``write`` goes through one connection (call it from one thread; a lock guards against misuse)
and every query runs on a fresh cursor, so queries from other threads run beside writes and see
whole batches only. Ctrl-C stops a query of the main thread at once
(``spanscope.store.interrupt``), ``stop_reads()`` those of every thread, for a server that
stops, and ``reads_in(group)`` lets a caller stop a thread's reads (``store.read_group``).

This module is the store's object: its connection, cursors and locks, and the ``Store``
protocol's methods, each a call into the module of its concern:
- ``duckdb_open``: attaching the file (the lock, the row group size), tuning a writer;
- ``duckdb_writes``: a batch in one transaction (a batch goes to DuckDB as Arrow C streams read
  in C++ without the GIL, with its trace ranges and new operations: one WAL sync a batch;
  ``prepare`` and ``open_batch`` build the next batch on other threads meanwhile);
- ``duckdb_reads``: traces by their time range, searches from the newest window back, samples
  spread over a window;
- ``duckdb_retention``: stats, sizes, deleting by age and size.

Durability: DuckDB syncs its write-ahead log when a transaction commits, so a batch is on disk
when ``write`` returns.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import duckdb

from spanscope.model import Span, SpanKind, normalize_trace_id
from spanscope.store import (
    columns,
    duckdb_open,
    duckdb_reads,
    duckdb_retention,
    duckdb_writes,
    metrics_sql,
    otlp_columns,
)
from spanscope.store.base import StoreClosedError, StoreError, StoreStats, TraceQuery
from spanscope.store.interrupt import interruptible
from spanscope.store.read_group import ReadGroup, StoreReads
from spanscope.store.schema import TRACES, prepare


class DuckDBStore:
    """A trace store in one DuckDB file. Implements ``spanscope.store.Store``."""

    def __init__(
        self, path: str | os.PathLike, read_only: bool = False, compact: bool = False
    ) -> None:
        """``compact=True`` compresses text with FSST as well: files about half the size with
        attribute-heavy spans, writes about half as fast (see
        ``duckdb_open.configure_writer``)."""
        self.path = str(path)
        self.read_only = read_only
        self._write_lock = threading.Lock()
        self._cursor_lock = threading.Lock()  # the connection hands out one cursor at a time
        self._reads = StoreReads(self.path)  # every read, and each thread's group
        if read_only and not Path(self.path).exists():
            raise StoreError(f"{self.path}: no such store")
        self._con = duckdb_open.connect(self.path, read_only)
        try:
            self.schema_version = prepare(self._con, self.path, read_only)
            if not read_only:
                duckdb_open.configure_writer(self._con, compact)
                self._operations = duckdb_open.load_operations(self._con)
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
            with self._reads.counted(cursor):
                try:
                    cursor.execute(f"USE {duckdb_open.DB}")
                    cursor.execute("SET enable_progress_bar = false")
                    # Ctrl-C on the main thread stops the query at once (store.interrupt).
                    with interruptible(cursor.interrupt):
                        yield cursor
                except duckdb.Error as exc:
                    raise StoreError(f"{self.path}: query failed: {exc}") from exc
        finally:
            cursor.close()

    def reads_in(self, group: ReadGroup) -> contextlib.AbstractContextManager[None]:
        """The reads this thread makes in the block can be stopped with ``group.stop()``."""
        return self._reads.joining(group)

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
            duckdb_writes.write_batch(self._con, self.path, batch, new_operations)
            self._operations |= new_operations

    # -- reading -------------------------------------------------------------------------

    def get_trace(self, trace_id: str) -> list[Span]:
        trace_id = normalize_trace_id(trace_id)  # raises InvalidIdError on a bad id
        with self._reader() as cursor:
            return duckdb_reads.fetch(cursor, [trace_id]).get(trace_id, [])

    def find_trace_ids(self, query: TraceQuery) -> list[str]:
        with self._reader() as cursor:
            return duckdb_reads.search(cursor, query)

    def find_traces(self, query: TraceQuery) -> list[list[Span]]:
        with self._reader() as cursor:
            ids = duckdb_reads.search(cursor, query)
            found = duckdb_reads.fetch(cursor, ids)
        return [found[trace_id] for trace_id in ids if trace_id in found]

    def sample_trace_ids(self, query: TraceQuery) -> tuple[list[str], int]:
        with self._reader() as cursor:
            return duckdb_reads.sample(cursor, query)

    def get_traces(self, trace_ids: Sequence[str]) -> list[list[Span]]:
        ids = list(dict.fromkeys(normalize_trace_id(trace_id) for trace_id in trace_ids))
        with self._reader() as cursor:
            found = duckdb_reads.fetch(cursor, ids)
        return [found[trace_id] for trace_id in ids if trace_id in found]

    def services(self) -> list[str]:
        with self._reader() as cursor:
            return duckdb_reads.services(cursor)

    def operations(
        self, service: str, span_kind: SpanKind | None = None
    ) -> list[tuple[str, SpanKind]]:
        with self._reader() as cursor:
            return duckdb_reads.operations(cursor, service, span_kind)

    def dependencies(
        self, end_ns: int, lookback_ns: int, include_self_calls: bool = False
    ) -> list[tuple[str, str, int]]:
        with self._reader() as cursor:
            return duckdb_reads.dependencies(cursor, end_ns, lookback_ns, include_self_calls)

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

    def stats(self) -> StoreStats:
        with self._reader() as cursor:
            return duckdb_retention.stats(cursor, self.path, self.schema_version)

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
                cutoff = now_ns - max_age_ns
                deleted += duckdb_retention.delete_ended_before(self._con, self.path, cutoff)
            if max_bytes is not None:
                deleted += duckdb_retention.shrink_to(self._con, self.path, max_bytes)
            if deleted:
                duckdb_retention.refresh_operations(self._con)
                self._operations = duckdb_open.load_operations(self._con)
        return deleted
