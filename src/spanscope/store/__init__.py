"""Trace storage: the ``Store`` protocol (``spanscope.store.base``) and its backends: DuckDB in
a file (the default) and ClickHouse (``clickhouse://`` server or ``chdb:`` in process).

Use::

    from spanscope.store import open_store, TraceQuery

    with open_store("traces.duckdb") as store:          # creates the file if missing
        store.write(spans)                              # durable when it returns
        spans = store.get_trace("4bf92f3577b34da6a3ce929d0e0e4736")
        traces = store.find_traces(TraceQuery(service="checkout", duration_min=500_000_000))
        store.enforce_retention(max_age_ns=7 * 86400 * 10**9, max_bytes=5 * 10**9)

A writer that receives batches on several threads can call ``store.prepare(spans)`` there (it
builds the batch's Arrow table) and hand the result to ``store.write``: encoding then overlaps
the writer's time inside DuckDB; ``store.open_batch()`` builds one write's batch as requests
arrive.
``open_store(path, compact=True)`` keeps DuckDB's FSST text compression: files about half the
size, writes slower.

``open_store(path, read_only=True)`` opens an existing store for queries only; it raises
``StoreLockedError`` while another process has the file open for writing. When that process is
``spanscope serve``, ``server_store.serving_url(path)`` names its address, and
``open_store(url)`` reads the same store through it. The contract (what is
durable, sorted, thread-safe) is in ``spanscope.store.base``; the table layout in
``spanscope.store.schema``.
"""

from __future__ import annotations

import os

from spanscope.store.base import (
    DEFAULT_NUM_TRACES,
    SchemaVersionError,
    Store,
    StoreClosedError,
    StoreError,
    StoreLockedError,
    StoreStats,
    TraceQuery,
)

__all__ = [
    "DEFAULT_NUM_TRACES",
    "DuckDBStore",
    "SchemaVersionError",
    "Store",
    "StoreClosedError",
    "StoreError",
    "StoreLockedError",
    "StoreStats",
    "TraceQuery",
    "open_store",
]


CLICKHOUSE_SCHEMES = ("clickhouse://", "clickhouses://", "chdb:")
# a running spanscope server's store, read through its API (spanscope.store.server_store)
URL_SCHEMES = ("http://", "https://")


def open_store(path: str | os.PathLike, read_only: bool = False, compact: bool = False):
    """Open (or create) the DuckDB store at ``path``; see ``DuckDBStore`` (``compact``: smaller
    files, slower writes). A ``clickhouse://user:pass@host:8123/database`` URL opens the
    ClickHouse store on that server instead, ``chdb:FOLDER`` ClickHouse in this process (see
    ``spanscope.store.clickhouse_store``), and ``http://host:16686`` the store of the spanscope
    server answering there, read-only (``spanscope.store.server_store``)."""
    if isinstance(path, str) and path.startswith(URL_SCHEMES):
        from spanscope.store.server_store import ServerStore

        return ServerStore(path)
    if isinstance(path, str) and path.startswith(CLICKHOUSE_SCHEMES):
        from spanscope.store.clickhouse_store import open_clickhouse

        return open_clickhouse(path, read_only=read_only)
    from spanscope.store.duckdb_store import DuckDBStore

    return DuckDBStore(path, read_only=read_only, compact=compact)


def __getattr__(name: str):
    # DuckDB is imported only when a store is used, so importing TraceQuery stays cheap.
    if name == "DuckDBStore":
        from spanscope.store.duckdb_store import DuckDBStore

        return DuckDBStore
    raise AttributeError(name)
