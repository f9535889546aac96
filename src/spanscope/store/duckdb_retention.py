"""The DuckDB store's size and retention: how big it is, and deleting whole traces by age or
to fit a size.

``stats`` counts spans and traces; ``sizes`` measures the file and its write-ahead log (on
disk, and in use: deleted space is reused by later writes, the file itself does not shrink).
``delete_ended_before`` and ``shrink_to`` run on the store's writing connection, under its
write lock (``DuckDBStore.enforce_retention``), each deletion one transaction;
``refresh_operations`` then drops the services and operations whose last span went.
"""

from __future__ import annotations

import contextlib
import os

import duckdb

from spanscope.store.base import StoreStats
from spanscope.store.duckdb_open import DB
from spanscope.store.duckdb_reads import one_row
from spanscope.store.duckdb_writes import rolled_back_on_error
from spanscope.store.schema import OPERATIONS, TRACE_INDEX, TRACES
from spanscope.store.search_sql import time_literal


def sizes(cursor: duckdb.DuckDBPyConnection, path: str) -> tuple[int, int]:
    """(bytes on disk, bytes in use) of the file ``path`` plus its write-ahead log."""
    block_size, used_blocks = one_row(
        cursor,
        "SELECT block_size, used_blocks FROM pragma_database_size() "
        "WHERE database_name = current_database()",
    )
    wal = path + ".wal"
    wal_bytes = os.path.getsize(wal) if os.path.exists(wal) else 0
    file_bytes = os.path.getsize(path) if os.path.exists(path) else 0
    return file_bytes + wal_bytes, used_blocks * block_size + wal_bytes


def delete_ended_before(con: duckdb.DuckDBPyConnection, path: str, cutoff_ns: int) -> int:
    """Delete the traces whose newest span started before ``cutoff_ns``; their span count."""
    cutoff = time_literal(cutoff_ns)
    with rolled_back_on_error(con, path, "retention"):
        con.execute("BEGIN TRANSACTION")
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE spanscope_doomed AS SELECT TraceId FROM "
            f'{TRACE_INDEX} GROUP BY TraceId HAVING max("End") < {cutoff}'
        )
        (count,) = one_row(
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
            con.execute(f"CHECKPOINT {DB}")
    return count


def shrink_to(con: duckdb.DuckDBPyConnection, path: str, max_bytes: int) -> int:
    """Delete the traces that ended longest ago until the data in use is at most 90% of
    ``max_bytes`` (the margin keeps every call from deleting a little); the spans deleted."""
    deleted = 0
    previous = None
    for _ in range(8):  # each round re-measures; sizes move in whole blocks
        _, used = sizes(con, path)
        if used <= max_bytes or (previous is not None and used >= previous):
            # Done, or the freed space does not show yet (the checkpoint that frees it
            # waits for running queries): measure again on the next call, delete no more.
            break
        previous = used
        fraction = min(1.0, (used - 0.9 * max_bytes) / used)
        (cutoff,) = one_row(
            con,
            f'SELECT epoch_ns(quantile_disc(last, {fraction:.6f})) FROM (SELECT max("End") '
            f"AS last FROM {TRACE_INDEX} GROUP BY TraceId)",
        )
        if cutoff is None:
            break
        removed = delete_ended_before(con, path, cutoff + 1)
        deleted += removed
        if not removed:
            break
    return deleted


def refresh_operations(con: duckdb.DuckDBPyConnection) -> None:
    # Services and operations whose last span went stay out of the lists.
    con.execute(
        f"DELETE FROM {OPERATIONS} o WHERE NOT EXISTS (SELECT 1 FROM {TRACES} t WHERE "
        "t.ServiceName = o.ServiceName AND t.SpanName = o.SpanName AND "
        "t.SpanKind = o.SpanKind)"
    )


def stats(cursor: duckdb.DuckDBPyConnection, path: str, schema_version: int) -> StoreStats:
    spans, oldest, newest = one_row(
        cursor,
        f'SELECT count(*), epoch_ns(min("Timestamp")), epoch_ns(max("Timestamp")) FROM {TRACES}',
    )
    (traces,) = one_row(cursor, f"SELECT count(DISTINCT TraceId) FROM {TRACE_INDEX}")
    file_bytes, used_bytes = sizes(cursor, path)
    return StoreStats(spans, traces, oldest, newest, file_bytes, used_bytes, schema_version)
