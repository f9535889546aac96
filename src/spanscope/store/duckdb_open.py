"""Opening a DuckDB store file: the connection, the lock, and how a writing process tunes it.

``connect(path, read_only)`` gives an in-memory DuckDB connection with the store file attached
as ``DB`` and in use (read-only, or for writing with the store's row group size), or raises
``StoreLockedError`` (another process writes it: DuckDB lets one process open a file it
writes) or ``StoreError``. ``configure_writer`` sets what a writing connection runs with;
``load_operations`` reads the (service, operation, kind) list that writes keep up to date.
The schema itself is ``spanscope.store.schema``'s.
"""

from __future__ import annotations

import duckdb

from spanscope.model import SpanKind
from spanscope.store import codec
from spanscope.store.base import StoreError, StoreLockedError
from spanscope.store.schema import OPERATIONS
from spanscope.store.search_sql import literal

DB = "spanscope_store"  # the name the store file is attached under
_CHECKPOINT_THRESHOLD = "128MB"
# Smaller row groups than DuckDB's 122,880 rows: a trace's spans are found by the row groups'
# time ranges, so each lookup reads 8x less; and a big batch fills whole row groups, which
# DuckDB writes straight to the file instead of the write-ahead log. Tried and dropped: 2,048
# rows, so that serve's 2k-8k-span writes go straight to the file too: 20% less DuckDB CPU a
# span and no checkpoint stalls, but each such write took fresh blocks for every column, held
# in memory until the next checkpoint (serve's RSS swung between 1 and 4+ GiB at 70k spans/s).
ROW_GROUP_SIZE = 16384


def _lock_message(path: str, error: Exception) -> str:
    return (
        f"{path} is open for writing in another process ({error}). DuckDB allows one writer "
        "and no readers beside it: stop that process (e.g. 'spanscope serve'), or query the "
        "running server's API instead."
    )


def connect(path: str, read_only: bool) -> duckdb.DuckDBPyConnection:
    """A connection with the store file ``path`` attached as ``DB`` and in use."""
    # No progress bar: DuckDB would draw it on our stdout during long statements.
    con = duckdb.connect(":memory:")
    con.execute("SET enable_progress_bar = false")
    try:
        options = "READ_ONLY" if read_only else f"ROW_GROUP_SIZE {ROW_GROUP_SIZE}"
        con.execute(f"ATTACH {literal(path)} AS {DB} ({options})")
        con.execute(f"USE {DB}")
    except duckdb.IOException as exc:
        con.close()
        if "lock" in str(exc).lower():
            raise StoreLockedError(_lock_message(path, exc)) from None
        raise StoreError(f"{path}: cannot open store: {exc}") from None
    except duckdb.Error as exc:
        con.close()
        raise StoreError(f"{path}: cannot open store: {exc}") from None
    return con


def configure_writer(con: duckdb.DuckDBPyConnection, compact: bool) -> None:
    """What a writing process's connection runs with (``compact``: see ``DuckDBStore``)."""
    # Fewer, larger checkpoints: each one re-compresses whole row groups.
    con.execute(f"SET checkpoint_threshold = '{_CHECKPOINT_THRESHOLD}'")
    if not compact:
        # FSST string compression is more than half of an insert's cost (measured: 3.8 vs
        # 5.7-11.8 us a span); without it the unique-text columns (attributes JSON, ids)
        # are stored plain, dictionary compression still applies to the rest.
        con.execute("SET disabled_compression_methods = 'fsst'")
    # One DuckDB thread in a writing process: there, Python (receiving, decoding, encoding
    # the next batch) keeps the other core busy, and a second DuckDB worker only adds
    # hand-off costs (measured: 5.6 vs 8 us of CPU a span for 2k-span inserts, and 22 vs
    # 31 us a span for the whole server under load). Queries in this process run on one
    # thread too; read-only opens keep DuckDB's default.
    con.execute("SET threads = 1")


def load_operations(con: duckdb.DuckDBPyConnection) -> set[tuple[str, str, SpanKind]]:
    rows = con.execute(f"SELECT * FROM {OPERATIONS}").fetchall()
    return {(service, name, codec.kind_from_column(kind)) for service, name, kind in rows}
