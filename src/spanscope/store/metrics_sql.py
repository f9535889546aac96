"""RED metrics from stored spans: requests, errors and latency over time, per service (and per
operation), for the Monitor page and Jaeger's metrics API (``/api/metrics/*``).

Contract (both stores give the same answers for the same spans):

- a ``MetricsQuery`` selects the spans that START in ``[start_ns, end_ns)`` (half open), of one
  span kind (default SERVER; a tuple: any of those; ``None``: every kind), of the given
  services (empty: all);
- ``metrics_series`` cuts the window into buckets of ``step_ns`` from ``start_ns`` (bucket ``i``
  is ``[start_ns + i*step_ns, start_ns + (i+1)*step_ns)``, the last one cut at ``end_ns``) and
  gives, per service (and operation when ``group_by_operation``) and per bucket that has spans:
  calls, errors and the p50/p75/p95/p99 duration in ns. Buckets without spans are left out;
- ``metrics_summary`` gives the same figures over the whole window, plus the summed duration
  and ``impact``: the row's share of the summed duration of all returned rows, i.e. calls x
  average latency normalised, the ranking of Jaeger's SPM operation table;
- ``metrics_summary_and_series`` gives both, exactly as the two calls would, from one scan of
  the window (``GROUPING SETS``; what the Monitor page asks for).

An error is a span that failed as ``analyze`` counts failures (``analysis.errors.is_error_span``:
status ERROR, an ``error`` tag, an HTTP status of 500 or more, a gRPC status other than OK, an
``exception`` event), in SQL by ``failure_sql``, the definition the search's ``error=true``
uses too (``search_sql``). Quantiles are exact with linear interpolation between the
two nearest durations (Hyndman-Fan type 7: DuckDB's ``quantile_cont``, ClickHouse's
``quantilesExactInclusive``), so both engines give the same value; results are rounded to
whole nanoseconds, half to even, the way the exact value rounds (``_ns``).

The SQL names ``"Timestamp"`` with constant bounds so both engines prune: DuckDB skips row
groups by their min/max, ClickHouse partitions and granules (see ``duckdb_store``).
"""

from __future__ import annotations

from dataclasses import dataclass

from spanscope.model import SpanKind
from spanscope.store.failure_sql import CLICKHOUSE_FAILED, DUCKDB_FAILED
from spanscope.store.schema import SPAN_KINDS
from spanscope.store.search_sql import CLICKHOUSE, DUCKDB, Dialect

QUANTILES = (0.5, 0.75, 0.95, 0.99)
# A guard against a step so small that one query would return millions of rows.
MAX_BUCKETS = 20_000


@dataclass(frozen=True, slots=True)
class MetricsQuery:
    """Which spans and how to cut them; times and ``step_ns`` in nanoseconds."""

    start_ns: int
    end_ns: int
    step_ns: int
    span_kind: SpanKind | tuple[SpanKind, ...] | None = SpanKind.SERVER
    services: tuple[str, ...] = ()
    group_by_operation: bool = False

    def __post_init__(self) -> None:
        if self.end_ns <= self.start_ns:
            raise ValueError(f"the window is empty: end {self.end_ns} <= start {self.start_ns}")
        if self.step_ns <= 0:
            raise ValueError(f"step must be positive, got {self.step_ns}")
        if self.buckets > MAX_BUCKETS:
            raise ValueError(f"{self.buckets} buckets: at most {MAX_BUCKETS} (use a larger step)")
        if isinstance(self.services, str):
            raise ValueError("services must be a tuple of names, not one text")

    @property
    def buckets(self) -> int:
        """How many buckets the window has (the last one may be shorter)."""
        return -(-(self.end_ns - self.start_ns) // self.step_ns)


@dataclass(frozen=True, slots=True)
class MetricsPoint:
    """One bucket of one series: ``bucket`` is its index, ``start_ns`` its start."""

    bucket: int
    start_ns: int
    calls: int
    errors: int
    p50: int
    p75: int
    p95: int
    p99: int


@dataclass(frozen=True, slots=True)
class MetricsSeries:
    """The buckets with spans of one service (``operation`` is None unless grouped by it)."""

    service: str
    operation: str | None
    points: tuple[MetricsPoint, ...]


@dataclass(frozen=True, slots=True)
class MetricsSummary:
    """One service's (or operation's) figures over the whole window."""

    service: str
    operation: str | None
    calls: int
    errors: int
    p50: int
    p75: int
    p95: int
    p99: int
    total_ns: int
    impact: float

    @property
    def error_rate(self) -> float:
        return self.errors / self.calls if self.calls else 0.0

    @property
    def mean_ns(self) -> float:
        return self.total_ns / self.calls if self.calls else 0.0


def _conditions(query: MetricsQuery, dialect: Dialect) -> str:
    time = dialect.time
    conditions = [
        f'"Timestamp" >= {time(query.start_ns)}',
        f'"Timestamp" < {time(query.end_ns)}',
    ]
    if isinstance(query.span_kind, tuple):
        kinds = ", ".join(f"'{SPAN_KINDS[SpanKind(kind)]}'" for kind in query.span_kind)
        conditions.append(f"SpanKind IN ({kinds})")
    elif query.span_kind is not None:
        conditions.append(f"SpanKind = '{SPAN_KINDS[SpanKind(query.span_kind)]}'")
    if query.services:
        names = ", ".join(dialect.text(name) for name in query.services)
        conditions.append(f"ServiceName IN ({names})")
    return " AND ".join(conditions)


def _aggregates(dialect: Dialect) -> str:
    levels = ", ".join(str(q) for q in QUANTILES)
    if dialect is CLICKHOUSE:
        return (
            f"count(), countIf({CLICKHOUSE_FAILED}), "
            f"quantilesExactInclusive({levels})(Duration), sum(Duration)"
        )
    return (
        f"count(*), count(*) FILTER (WHERE {DUCKDB_FAILED}), "
        f"quantile_cont(Duration::DOUBLE, [{levels}]), sum(Duration)"
    )


def _group_columns(query: MetricsQuery) -> str:
    return "ServiceName, SpanName" if query.group_by_operation else "ServiceName, ''"


def _bucket(query: MetricsQuery, dialect: Dialect) -> str:
    if dialect is CLICKHOUSE:
        return (
            f"intDiv(toUnixTimestamp64Nano(Timestamp) - {int(query.start_ns)}, "
            f"{int(query.step_ns)})"
        )
    return f'(epoch_ns("Timestamp") - {int(query.start_ns)}) // {int(query.step_ns)}'


def series_sql(query: MetricsQuery, table: str, dialect: Dialect = DUCKDB) -> str:
    """Rows (service, operation or '', bucket, calls, errors, [quantiles], summed ns), sorted."""
    return (
        f"SELECT {_group_columns(query)} AS op, {_bucket(query, dialect)} AS bucket, "
        f"{_aggregates(dialect)} FROM {table} WHERE {_conditions(query, dialect)} "
        "GROUP BY ServiceName, op, bucket ORDER BY ServiceName, op, bucket"
    )


def summary_sql(query: MetricsQuery, table: str, dialect: Dialect = DUCKDB) -> str:
    """Rows (service, operation or '', calls, errors, [quantiles], summed ns), sorted."""
    return (
        f"SELECT {_group_columns(query)} AS op, {_aggregates(dialect)} "
        f"FROM {table} WHERE {_conditions(query, dialect)} "
        "GROUP BY ServiceName, op ORDER BY ServiceName, op"
    )


def summary_and_series_sql(query: MetricsQuery, table: str, dialect: Dialect = DUCKDB) -> str:
    """``summary_sql``'s and ``series_sql``'s rows from one scan: rows (service, operation or
    '', bucket, calls, errors, [quantiles], summed ns, whole), ``whole`` 1 on a summary row
    (its bucket is NULL in DuckDB, 0 in ClickHouse) and 0 on a series row; sorted, each
    service's summary row first.

    One ``GROUP BY GROUPING SETS``: the scan and filter are shared, each grouping set keeps its
    own exact quantile state (a window quantile cannot be merged from bucket quantiles).
    ``GROUPING()`` is the standard one in both engines (1 where the column is rolled up;
    ClickHouse since 22.9, where ``force_grouping_standard_compatibility`` became the default)."""
    return (
        f"SELECT {_group_columns(query)} AS op, {_bucket(query, dialect)} AS bucket, "
        f"{_aggregates(dialect)}, grouping(bucket) AS whole "
        f"FROM {table} WHERE {_conditions(query, dialect)} "
        "GROUP BY GROUPING SETS ((ServiceName, op, bucket), (ServiceName, op)) "
        "ORDER BY ServiceName, op, whole DESC, bucket"
    )


def _ns(value: float | None) -> int:
    """A quantile to the nanosecond. The engines interpolate in doubles, each in its own order
    of operations: a value that is exactly x.5 ns comes out x.5 from one and x.49999999997
    from the other. Rounding to a thousandth first makes such a tie the same tie in both,
    then half to even, as the exact value rounds (for quantiles under about 10^12 ns, where a
    double's error is far below a thousandth)."""
    return 0 if value is None else round(round(float(value), 3))


def series_from_rows(query: MetricsQuery, rows: list) -> list[MetricsSeries]:
    """``series_sql``'s rows as one ``MetricsSeries`` per service (and operation)."""
    found: list[MetricsSeries] = []
    points: list[MetricsPoint] = []
    key: tuple[str, str] | None = None
    for service, operation, bucket, calls, errors, quantiles, _total in rows:
        if (service, operation) != key:
            if key is not None:
                found.append(_series(key, query, points))
            key, points = (service, operation), []
        bucket = int(bucket)
        points.append(
            MetricsPoint(
                bucket,
                query.start_ns + bucket * query.step_ns,
                int(calls),
                int(errors),
                *(_ns(value) for value in quantiles),
            )
        )
    if key is not None:
        found.append(_series(key, query, points))
    return found


def _series(key: tuple[str, str], query: MetricsQuery, points: list) -> MetricsSeries:
    service, operation = key
    return MetricsSeries(service, operation if query.group_by_operation else None, tuple(points))


def summary_and_series_from_rows(
    query: MetricsQuery, rows: list
) -> tuple[list[MetricsSummary], list[MetricsSeries]]:
    """``summary_and_series_sql``'s rows as ``summary_from_rows`` and ``series_from_rows``
    give them."""
    summary: list = []
    series: list = []
    for row in rows:
        (summary if row[-1] else series).append(row)
    return (
        summary_from_rows(query, [(*row[:2], *row[3:-1]) for row in summary]),
        series_from_rows(query, [row[:-1] for row in series]),
    )


def summary_from_rows(query: MetricsQuery, rows: list) -> list[MetricsSummary]:
    """``summary_sql``'s rows as ``MetricsSummary``s, ``impact`` filled in."""
    grand_total = sum(int(row[-1] or 0) for row in rows)
    return [_summary(query, row, grand_total) for row in rows]


def _summary(query: MetricsQuery, row: tuple, grand_total: int) -> MetricsSummary:
    service, operation, calls, errors, quantiles, total = row
    p50, p75, p95, p99 = (_ns(value) for value in quantiles)
    return MetricsSummary(
        service,
        operation if query.group_by_operation else None,
        int(calls),
        int(errors),
        p50,
        p75,
        p95,
        p99,
        total_ns=int(total or 0),
        impact=int(total or 0) / grand_total if grand_total else 0.0,
    )
