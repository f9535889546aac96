"""The ClickHouse backend of the ``Store`` protocol: for when one machine's DuckDB file is not
enough, or a collector already writes traces into ClickHouse.

``open_store("clickhouse://user:pass@host:8123/otel")`` talks to a ClickHouse server over HTTP;
``open_store("chdb:FOLDER")`` runs the same engine in this process (chDB). The tables are the
OpenTelemetry Collector ``clickhouseexporter``'s (``clickhouse_schema``), so spanscope can serve
the Jaeger API and analysis over a table the collector fills, and the collector's own dashboards
read what spanscope writes. Searches use the same Jaeger semantics and SQL builder as the DuckDB
store (``search_sql`` with its ClickHouse dialect), samples by the same keys
(``sample_sql``, computed from ``TraceId``: the exporter's tables have no ``TraceKey``).

How the contract in ``spanscope.store.base`` maps onto ClickHouse:
- ``write`` is one ``INSERT`` (one block: atomic in MergeTree), fsynced on tables spanscope
  created; the materialized view fills the trace-id index in the same insert;
- ``get_trace`` reads the trace's time range from ``otel_traces_trace_id_ts`` first, then only
  the partitions and granules of that range (the collector's Jaeger plugin does the same);
- retention deletes whole traces with synchronous mutations (``ALTER TABLE ... DELETE``); a
  deployment that only needs an age limit is better served by a table ``TTL``;
- read-only opens never create or alter anything; a missing table is a clear error;
- stopping reads: over HTTP the wait for ClickHouse's answer is a socket read, which Ctrl-C
  ends at once, and ``stop_reads()`` (a server that stops) or a ``ReadGroup``'s ``stop()``
  (``reads_in``: a server request whose client went away) from another thread, by shutting
  its connection down; reads are sent with ``cancel_http_readonly_queries_on_client_close``,
  so the server cancels the query when its client goes. chDB cannot be stopped mid-query: its
  engine takes no interrupt, and its streaming cancel waits for the query to end (measured,
  chDB 4.4: 18 s for an 18 s query), so Ctrl-C and a stop wait for the running query; a
  stopped group's reads that have not started are refused, which ends a search between its
  statements (ids, then traces).
"""

from __future__ import annotations

import contextlib
import re
import threading
import time
from collections.abc import Sequence

import msgspec

from spanscope.model import Span, SpanKind, normalize_trace_id
from spanscope.store import clickhouse_schema as schema
from spanscope.store import metrics_sql
from spanscope.store.base import StoreClosedError, StoreError, StoreStats, TraceQuery
from spanscope.store.clickhouse_client import ClickHouseClient, connect
from spanscope.store.read_group import Read, ReadGroup, StoreReads
from spanscope.store.sample_sql import in_time_order, matching_sql
from spanscope.store.schema import SPAN_KINDS
from spanscope.store.search_sql import CLICKHOUSE, clickhouse_literal, find_trace_ids_sql

SCHEMA_VERSION = 1
_DATABASE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_rows = msgspec.json.Decoder(list)


class ClickHouseStore:
    def __init__(self, client: ClickHouseClient, read_only: bool = False) -> None:
        if not _DATABASE_NAME.match(client.database):
            client.close()
            raise StoreError(f"{client.location}: database names are letters, digits and _")
        self.client = client
        self.read_only = read_only
        self.schema_version = SCHEMA_VERSION
        self._db = client.database
        self._closed = False
        self._write_lock = threading.Lock()
        self._reads = StoreReads(client.location)  # every read, and each thread's group
        try:
            self._prepare()
        except BaseException:
            client.close()
            raise

    # -- plumbing ---------------------------------------------------------------------------

    @property
    def location(self) -> str:
        return self.client.location

    def _sql(self, text: str) -> str:
        return text.replace("{db}", self._db)

    def _rows(self, sql: str) -> list[list]:
        self._check_open()
        read = Read()
        with self._reads.counted(read):
            output = self.client.query(
                f"{self._sql(sql)} FORMAT JSONCompactEachRow {schema.JSON_SETTINGS}", read
            )
        return [_rows.decode(line) for line in output.splitlines() if line]

    def _execute(self, sql: str) -> None:
        self._check_open()
        self.client.query(self._sql(sql))

    def _check_open(self) -> None:
        if self._closed:
            raise StoreClosedError(f"{self.location}: store is closed")

    def _prepare(self) -> None:
        tables = {
            name
            for (name,) in self._rows(
                f"SELECT name FROM system.tables WHERE database = {clickhouse_literal(self._db)}"
            )
        }
        if self.read_only:
            if schema.TRACES not in tables:
                raise StoreError(
                    f"{self.location}: no {schema.TRACES} table: nothing has written traces here"
                )
            return
        self._execute("CREATE DATABASE IF NOT EXISTS {db}")
        self._execute(schema.CREATE_TRACES)
        for name, kind in schema.OWN_COLUMNS:  # a collector-made table gains spanscope's columns
            self._execute(
                f"ALTER TABLE {{db}}.{schema.TRACES} ADD COLUMN IF NOT EXISTS {name} {kind}"
            )
        self._execute(schema.CREATE_TRACE_INDEX)
        self._execute(schema.CREATE_TRACE_INDEX_VIEW)

    def reads_in(self, group: ReadGroup) -> contextlib.AbstractContextManager[None]:
        """The reads this thread makes in the block can be stopped with ``group.stop()``."""
        return self._reads.joining(group)

    def stop_reads(self, wait_s: float = 10.0) -> None:
        """Stop the reads running on any thread now (as far as the transport can: see the
        module docstring), and refuse new ones; writes go on. Returns once no read runs, or
        after ``wait_s``."""
        self._reads.stop(wait_s)

    def __enter__(self) -> ClickHouseStore:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self.client.close()

    # -- writing ----------------------------------------------------------------------------

    def write(self, spans: Sequence[Span]) -> None:
        self._check_open()
        if self.read_only:
            raise StoreError(f"{self.location}: opened read-only")
        if not spans:
            return
        rows = schema.encode_rows(spans)
        with self._write_lock:
            self.client.insert(self._sql(schema.INSERT), schema.ROW_STRUCTURE, rows)

    # -- reading ----------------------------------------------------------------------------

    def _fetch(self, trace_ids: Sequence[str]) -> dict[str, list[Span]]:
        if not trace_ids:
            return {}
        ids = ", ".join(map(clickhouse_literal, trace_ids))
        ((start, end),) = self._rows(
            f"SELECT toUnixTimestamp(min(Start)), toUnixTimestamp(max(End)) "
            f"FROM {{db}}.{schema.TRACE_INDEX} WHERE TraceId IN ({ids})"
        )
        time_filter = ""
        if end:  # the index holds whole seconds: widen to the end of the last one
            time = CLICKHOUSE.time
            time_filter = (
                f"AND Timestamp >= {time(int(start) * 10**9)} "
                f"AND Timestamp < {time((int(end) + 1) * 10**9)} "
            )
        found: dict[str, list[Span]] = {}
        for row in self._rows(
            f"SELECT {schema.SELECT_SPAN} FROM {{db}}.{schema.TRACES} "
            f"WHERE TraceId IN ({ids}) {time_filter}"
        ):
            found.setdefault(row[0], []).append(schema.span_from_row(row))
        for spans in found.values():
            spans.sort(key=lambda span: (span.start_ns, span.span_id))
        return found

    def get_trace(self, trace_id: str) -> list[Span]:
        trace_id = normalize_trace_id(trace_id)
        return self._fetch([trace_id]).get(trace_id, [])

    def find_trace_ids(self, query: TraceQuery) -> list[str]:
        sql = find_trace_ids_sql(query, f"{self._db}.{schema.TRACES}", CLICKHOUSE)
        return [trace_id for (trace_id,) in self._rows(sql)]

    def find_traces(self, query: TraceQuery) -> list[list[Span]]:
        return self.get_traces(self.find_trace_ids(query))

    def sample_trace_ids(self, query: TraceQuery) -> tuple[list[str], int]:
        # One scan of the window grouped by trace: the exporter's trace index holds whole
        # seconds, too coarse to say which traces have a span in the window.
        rows = self._rows(matching_sql(query, f"{self._db}.{schema.TRACES}", CLICKHOUSE))
        firsts = {trace_id: int(first) for trace_id, _, first in rows}
        return in_time_order(list(firsts), firsts), int(rows[0][1]) if rows else 0

    def get_traces(self, trace_ids: Sequence[str]) -> list[list[Span]]:
        # (one read of the time range that holds them all)
        ids = list(dict.fromkeys(normalize_trace_id(trace_id) for trace_id in trace_ids))
        found = self._fetch(ids)
        return [found[trace_id] for trace_id in ids if trace_id in found]

    def services(self) -> list[str]:
        rows = self._rows(
            f"SELECT DISTINCT ServiceName FROM {{db}}.{schema.TRACES} "
            "WHERE ServiceName != '' ORDER BY ServiceName"
        )
        return [name for (name,) in rows]

    def operations(
        self, service: str, span_kind: SpanKind | None = None
    ) -> list[tuple[str, SpanKind]]:
        condition = f"ServiceName = {clickhouse_literal(service)}"
        if span_kind is not None:
            condition += f" AND SpanKind = '{SPAN_KINDS[SpanKind(span_kind)]}'"
        rows = self._rows(
            f"SELECT DISTINCT SpanName, SpanKind FROM {{db}}.{schema.TRACES} WHERE {condition}"
        )
        return sorted((name, schema.kind_from_text(kind)) for name, kind in rows)

    def dependencies(
        self, end_ns: int, lookback_ns: int, include_self_calls: bool = False
    ) -> list[tuple[str, str, int]]:
        time = CLICKHOUSE.time
        low, high = end_ns - lookback_ns, end_ns
        sql = (
            f"SELECT p.ServiceName, c.ServiceName, count() FROM {{db}}.{schema.TRACES} AS c "
            f"INNER JOIN (SELECT TraceId, SpanId, ServiceName FROM {{db}}.{schema.TRACES} "
            f"WHERE Timestamp BETWEEN {time(low - lookback_ns)} AND {time(high)}) AS p "
            "ON c.TraceId = p.TraceId AND c.ParentSpanId = p.SpanId "
            f"WHERE c.Timestamp BETWEEN {time(low)} AND {time(high)} AND c.ParentSpanId != ''"
            + ("" if include_self_calls else " AND p.ServiceName != c.ServiceName")
            + " GROUP BY p.ServiceName, c.ServiceName ORDER BY 1, 2"
        )
        return [(parent, child, int(count)) for parent, child, count in self._rows(sql)]

    def metrics_series(self, query: metrics_sql.MetricsQuery) -> list[metrics_sql.MetricsSeries]:
        table = f"{self._db}.{schema.TRACES}"
        rows = self._rows(metrics_sql.series_sql(query, table, CLICKHOUSE))
        return metrics_sql.series_from_rows(query, rows)

    def metrics_summary(self, query: metrics_sql.MetricsQuery) -> list[metrics_sql.MetricsSummary]:
        table = f"{self._db}.{schema.TRACES}"
        rows = self._rows(metrics_sql.summary_sql(query, table, CLICKHOUSE))
        return metrics_sql.summary_from_rows(query, rows)

    def metrics_summary_and_series(
        self, query: metrics_sql.MetricsQuery
    ) -> tuple[list[metrics_sql.MetricsSummary], list[metrics_sql.MetricsSeries]]:
        table = f"{self._db}.{schema.TRACES}"
        rows = self._rows(metrics_sql.summary_and_series_sql(query, table, CLICKHOUSE))
        return metrics_sql.summary_and_series_from_rows(query, rows)

    # -- size and retention -----------------------------------------------------------------

    def _bytes(self) -> int:
        """Bytes on disk of the active parts of both tables (what size retention compares)."""
        tables = f"('{schema.TRACES}', '{schema.TRACE_INDEX}')"
        ((on_disk,),) = self._rows(
            "SELECT sum(bytes_on_disk) FROM system.parts WHERE active AND "
            f"database = {clickhouse_literal(self._db)} AND table IN {tables}"
        )
        return int(on_disk or 0)

    def stats(self) -> StoreStats:
        ((spans, oldest, newest),) = self._rows(
            "SELECT count(), min(toUnixTimestamp64Nano(Timestamp)), "
            f"max(toUnixTimestamp64Nano(Timestamp)) FROM {{db}}.{schema.TRACES}"
        )
        ((traces,),) = self._rows(f"SELECT uniqExact(TraceId) FROM {{db}}.{schema.TRACE_INDEX}")
        on_disk = self._bytes()
        if not spans:
            oldest = newest = None
        return StoreStats(
            int(spans), int(traces), oldest, newest, on_disk, on_disk, self.schema_version
        )

    def enforce_retention(
        self,
        max_age_ns: int | None = None,
        max_bytes: int | None = None,
        now_ns: int | None = None,
    ) -> int:
        """Delete whole traces whose last span started before ``now - max_age``, then the traces
        that ended longest ago until the tables fit in 90% of ``max_bytes``."""
        self._check_open()
        if self.read_only:
            raise StoreError(f"{self.location}: opened read-only")
        now_ns = time.time_ns() if now_ns is None else now_ns
        deleted = 0
        with self._write_lock:
            if max_age_ns is not None:
                deleted += self._delete_ended_before(now_ns - max_age_ns)
            if max_bytes is not None:
                used = self._bytes()
                if used > max_bytes:
                    fraction = min(1.0, (used - 0.9 * max_bytes) / used)
                    ((cutoff,),) = self._rows(
                        "SELECT quantileExact(" + f"{fraction:.6f})(last) FROM (SELECT "
                        "max(toUnixTimestamp64Nano(Timestamp)) AS last FROM "
                        f"{{db}}.{schema.TRACES} GROUP BY TraceId)"
                    )
                    if cutoff is not None:
                        deleted += self._delete_ended_before(int(cutoff) + 1)
        return deleted

    def _delete_ended_before(self, cutoff_ns: int) -> int:
        doomed = (
            f"SELECT TraceId FROM {{db}}.{schema.TRACES} GROUP BY TraceId "
            f"HAVING max(Timestamp) < {CLICKHOUSE.time(cutoff_ns)}"
        )
        ((count,),) = self._rows(
            f"SELECT count() FROM {{db}}.{schema.TRACES} WHERE TraceId IN ({doomed})"
        )
        if int(count):
            sync = "SETTINGS mutations_sync = 2"
            index = f"ALTER TABLE {{db}}.{schema.TRACE_INDEX} DELETE WHERE TraceId IN ({doomed})"
            self._execute(f"{index} {sync}")
            self._execute(
                f"ALTER TABLE {{db}}.{schema.TRACES} DELETE WHERE TraceId IN ({doomed}) {sync}"
            )
        return int(count)


def open_clickhouse(url: str, read_only: bool = False) -> ClickHouseStore:
    """The store at ``url``; ``read_only``: only an existing one (a ``chdb:`` folder that is
    not there is "no such store", as a DuckDB path is, and is not made)."""
    return ClickHouseStore(connect(url, create=not read_only), read_only=read_only)
