"""The DuckDB store's tables, its schema version, and what happens when a store file was written
by another version of spanscope.

``otel_traces`` has the columns of the OpenTelemetry Collector's ClickHouse exporter, in its
order and with its names (``Events.Timestamp`` etc. are ClickHouse's flattened ``Nested``
columns), so the same queries run on a DuckDB file and on a collector-written ClickHouse table.
Types are DuckDB's, with one deliberate difference: attribute columns are ``JSON`` objects with
typed values (``{"http.status_code": 200}``) instead of ``Map(String, String)``. Measured on the
write path, DuckDB inserts a MAP column about four times slower than JSON text, and JSON keeps
the value types the exporter's maps lose. ``json_extract_string(SpanAttributes, '/key')`` gives
the value as text, as the exporter's map would hold it (floats print as JSON numbers, e.g.
``1.0``, where the collector writes ``1``).

spanscope's own columns come after the exporter's: ``ScopeAttributes``, ``Flags`` (span flags)
and ``Links.Flags`` (what OTLP carries and the exporter drops), and ``RawSpan``: the span
msgpack-encoded, only for the rare span the columns cannot hold exactly (bytes or non-finite
float attribute values, FOLLOWS_FROM or Zipkin ``shared`` marks, dropped counts, reader
warnings, an end before the start). Every other span is rebuilt from the columns.

Side tables: ``otel_traces_trace_id_ts`` (as the exporter's: one row per trace per written
batch with the first and last span start, so a trace is found without scanning every span;
plus ``TraceKey``, the id's low 64 bits as an integer, which DuckDB scans several times faster
than the id's text),
``spanscope_operations`` (service, span name, kind) for the service and operation lists, and
``spanscope_meta`` (key/value) with ``schema_version``.

Versions: a store with an older schema is migrated when opened for writing (each step in
``MIGRATIONS``, in one transaction); a read-only open of an older store, or any open of a
newer one, raises ``SchemaVersionError`` saying what to do.
"""

from __future__ import annotations

from collections.abc import Callable

import duckdb

from spanscope.store.base import SchemaVersionError, StoreError

SCHEMA_VERSION = 1
TRACES = "otel_traces"
TRACE_INDEX = "otel_traces_trace_id_ts"
OPERATIONS = "spanscope_operations"
META = "spanscope_meta"

# (name, DuckDB type) in table order; the first 22 are the ClickHouse exporter's.
COLUMNS: tuple[tuple[str, str], ...] = (
    ("Timestamp", "TIMESTAMP_NS"),
    ("TraceId", "VARCHAR"),
    ("SpanId", "VARCHAR"),
    ("ParentSpanId", "VARCHAR"),
    ("TraceState", "VARCHAR"),
    ("SpanName", "VARCHAR"),
    ("SpanKind", "VARCHAR"),
    ("ServiceName", "VARCHAR"),
    ("ResourceAttributes", "JSON"),
    ("ScopeName", "VARCHAR"),
    ("ScopeVersion", "VARCHAR"),
    ("SpanAttributes", "JSON"),
    ("Duration", "UBIGINT"),
    ("StatusCode", "VARCHAR"),
    ("StatusMessage", "VARCHAR"),
    ("Events.Timestamp", "TIMESTAMP_NS[]"),
    ("Events.Name", "VARCHAR[]"),
    ("Events.Attributes", "JSON[]"),
    ("Links.TraceId", "VARCHAR[]"),
    ("Links.SpanId", "VARCHAR[]"),
    ("Links.TraceState", "VARCHAR[]"),
    ("Links.Attributes", "JSON[]"),
    ("ScopeAttributes", "JSON"),
    ("Flags", "UINTEGER"),
    ("Links.Flags", "UINTEGER[]"),
    ("RawSpan", "BLOB"),
)

# The exporter's names for OTLP's enums (pdata's String()).
SPAN_KINDS = ("Unspecified", "Internal", "Server", "Client", "Producer", "Consumer")
STATUS_CODES = ("Unset", "Ok", "Error")


def _column_list() -> str:
    return ",\n    ".join(f'"{name}" {kind}' for name, kind in COLUMNS)


def _create(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"CREATE TABLE {TRACES} (\n    {_column_list()}\n)")
    con.execute(
        f'CREATE TABLE {TRACE_INDEX} (TraceId VARCHAR, Start TIMESTAMP_NS, "End" TIMESTAMP_NS, '
        "TraceKey UBIGINT)"
    )
    con.execute(
        f"CREATE TABLE {OPERATIONS} (ServiceName VARCHAR, SpanName VARCHAR, SpanKind VARCHAR,"
        " PRIMARY KEY (ServiceName, SpanName, SpanKind))"
    )
    con.execute(f"CREATE TABLE {META} (key VARCHAR PRIMARY KEY, value VARCHAR)")
    con.execute(f"INSERT INTO {META} VALUES ('schema_version', ?)", [str(SCHEMA_VERSION)])


# MIGRATIONS[n] turns a version-n store into a version-(n+1) store.
MIGRATIONS: dict[int, Callable[[duckdb.DuckDBPyConnection], None]] = {}


def _tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    rows = con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_catalog = current_database()"
    ).fetchall()
    return {name for (name,) in rows}


def stored_version(con: duckdb.DuckDBPyConnection) -> int | None:
    """The schema version written in the store; None for a file with no spanscope tables."""
    tables = _tables(con)
    if META not in tables:
        if tables:
            raise StoreError(
                f"not a spanscope store: it has tables ({', '.join(sorted(tables))}) but no "
                f"{META}; give a new file name, or the file 'spanscope serve' created"
            )
        return None
    row = con.execute(f"SELECT value FROM {META} WHERE key = 'schema_version'").fetchone()
    if row is None or not row[0].isdecimal():
        raise StoreError(f"damaged spanscope store: {META} has no valid schema_version")
    return int(row[0])


def prepare(con: duckdb.DuckDBPyConnection, source: str, read_only: bool) -> int:
    """Create the tables in a new store, migrate an older one, refuse a newer one; return the
    schema version now in the file."""
    version = stored_version(con)
    if version is None:
        if read_only:
            raise StoreError(f"{source}: empty database, not a spanscope store")
        con.execute("BEGIN TRANSACTION")
        _create(con)
        con.execute("COMMIT")
        return SCHEMA_VERSION
    if version > SCHEMA_VERSION:
        raise SchemaVersionError(
            f"{source}: written by a newer spanscope (store schema {version}; this version "
            f"reads schema {SCHEMA_VERSION} and older). Upgrade spanscope to open it."
        )
    if version < SCHEMA_VERSION:
        missing = [step for step in range(version, SCHEMA_VERSION) if step not in MIGRATIONS]
        if missing:
            raise SchemaVersionError(
                f"{source}: store schema {version} is too old to migrate to schema "
                f"{SCHEMA_VERSION}. Export its traces with the spanscope version that wrote it "
                "(spanscope query --json), then start a new store."
            )
        if read_only:
            raise SchemaVersionError(
                f"{source}: store schema {version} needs migrating to schema "
                f"{SCHEMA_VERSION}; open it once for writing (e.g. 'spanscope serve --db "
                f"{source}') and query again."
            )
        con.execute("BEGIN TRANSACTION")
        for step in range(version, SCHEMA_VERSION):
            MIGRATIONS[step](con)
        con.execute(
            f"UPDATE {META} SET value = ? WHERE key = 'schema_version'", [str(SCHEMA_VERSION)]
        )
        con.execute("COMMIT")
    return SCHEMA_VERSION
