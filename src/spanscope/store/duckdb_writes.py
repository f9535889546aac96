"""Writing a batch into a DuckDB store: one transaction, sent as one statement text.

A batch (``spanscope.store.columns.ColumnBatch``) goes to DuckDB as Arrow C streams that DuckDB
reads in C++ and without the GIL, straight into ``otel_traces``; its per-trace time ranges and
any new (service, operation) pairs go into their tables in the SAME transaction: one WAL sync a
batch, durable when ``write_batch`` returns. The caller (``DuckDBStore.write``) holds the
store's write lock around it. ``rolled_back_on_error`` is the store's guard for any write
transaction (retention's deletes too).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Set

import duckdb

from spanscope.model import SpanKind
from spanscope.store import columns
from spanscope.store.base import StoreError
from spanscope.store.schema import OPERATIONS, TRACE_INDEX, TRACES


@contextlib.contextmanager
def rolled_back_on_error(con: duckdb.DuckDBPyConnection, path: str, what: str) -> Iterator[None]:
    """Roll the open transaction back on any error; DuckDB's become ``StoreError``."""
    try:
        yield
    except BaseException as exc:
        with contextlib.suppress(duckdb.Error):
            con.execute("ROLLBACK")
        if isinstance(exc, duckdb.Error):
            raise StoreError(f"{path}: {what} failed: {exc}") from exc
        raise


def write_batch(
    con: duckdb.DuckDBPyConnection,
    path: str,
    batch: columns.ColumnBatch,
    new_operations: Set[tuple[str, str, SpanKind]],
) -> None:
    """Store ``batch`` and the ``new_operations`` it brings in one transaction."""
    # DuckDB finds these Arrow streams by their variable names (a replacement scan) and reads
    # them in place. Raw C stream capsules, not the tables: DuckDB then pulls the batches in
    # C++, where for a table it would build a pyarrow dataset scanner, Python calls that wait
    # for the GIL and hand each batch over through pyarrow's thread pool (both slow on a busy
    # machine). One execute() for the whole transaction: each statement and call has a fixed
    # cost of about a millisecond.
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
    with rolled_back_on_error(con, path, "write"):
        con.execute(";\n".join(statements))
