"""``TraceQuery`` to the SQL condition on one span of ``otel_traces`` (Jaeger's search semantics,
documented on ``TraceQuery``).

Values are inlined as SQL literals (text quoted and escaped, numbers as integers) rather than
bound as parameters: DuckDB prunes row groups by their min/max statistics only for constants it
sees at planning time, and prepared parameters cannot appear inside the list lambdas that search
event and link attributes.

The same conditions serve the ClickHouse store through a ``Dialect``: how a text is quoted
(ClickHouse reads backslash escapes, DuckDB does not), how an attribute is looked up (DuckDB's
JSON columns, ClickHouse's maps), how an array of attribute sets is searched, and how a time in
nanoseconds is written. The Jaeger semantics live once, here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from spanscope.model import SpanKind
from spanscope.store.base import TraceQuery
from spanscope.store.codec import MAX_TIME_NS
from spanscope.store.failure_sql import CLICKHOUSE_FAILED, DUCKDB_FAILED
from spanscope.store.schema import SPAN_KINDS


def literal(text: str) -> str:
    """``text`` as a SQL string literal."""
    if "\x00" in text:
        raise ValueError("search text cannot contain NUL characters")
    return "'" + text.replace("'", "''") + "'"


# make_timestamp_ns takes nanoseconds back to the 1670s only; spans before that (their columns
# clipped, the exact span kept in RawSpan) are found by leaving the lower bound out.
MIN_LITERAL_NS = -9_000_000_000_000_000_000  # 1684-10-19


def time_literal(ns: int) -> str:
    """``ns`` since the epoch as a DuckDB timestamp, clamped to what a literal can hold."""
    return f"make_timestamp_ns({max(MIN_LITERAL_NS, min(int(ns), MAX_TIME_NS))})"


def time_between(column: str, start_ns: int, end_ns: int) -> str:
    """``column`` within ``[start_ns, end_ns]``, times before 1684 included."""
    if start_ns <= MIN_LITERAL_NS:
        return f"{column} <= {time_literal(end_ns)}"
    return f"{column} BETWEEN {time_literal(start_ns)} AND {time_literal(end_ns)}"


def _json_pointer(key: str) -> str:
    # A JSON pointer names one key exactly, dots and all ("http.method" is not a path).
    return literal("/" + key.replace("~", "~0").replace("/", "~1"))


@dataclass(frozen=True)
class Dialect:
    text: Callable[[str], str]  # a text as a literal
    attribute: Callable[[str, str], str]  # (column, key) -> the value as text
    any_attribute: Callable[[str, str, str], str]  # (list column, key, literal) -> condition
    time: Callable[[int], str]  # ns since the epoch -> a timestamp


def _duckdb_any(column: str, key: str, text: str) -> str:
    return (
        f'coalesce(list_bool_or(list_transform("{column}", '
        f"a -> json_extract_string(a, {_json_pointer(key)}) = {text})), false)"
    )


DUCKDB = Dialect(
    text=literal,
    attribute=lambda column, key: f"json_extract_string({column}, {_json_pointer(key)})",
    any_attribute=_duckdb_any,
    time=time_literal,
)


def clickhouse_literal(text: str) -> str:
    if "\x00" in text:
        raise ValueError("search text cannot contain NUL characters")
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


CLICKHOUSE = Dialect(
    text=clickhouse_literal,
    attribute=lambda column, key: f'"{column}"[{clickhouse_literal(key)}]',
    any_attribute=lambda column, key, text: (
        f'arrayExists(a -> a[{clickhouse_literal(key)}] = {text}, "{column}")'
    ),
    time=lambda ns: f"fromUnixTimestamp64Nano(toInt64({max(0, min(int(ns), MAX_TIME_NS))}))",
)


def _attribute_match(key: str, value: str, dialect: Dialect) -> str:
    """``key`` has text ``value`` in the span's, resource's, scope's, an event's or a link's
    attributes."""
    text = dialect.text(value)
    direct = " OR ".join(
        f"{dialect.attribute(column, key)} = {text}"
        for column in ("SpanAttributes", "ResourceAttributes", "ScopeAttributes")
    )
    nested = " OR ".join(
        dialect.any_attribute(column, key, text)
        for column in ("Events.Attributes", "Links.Attributes")
    )
    return f"({direct} OR {nested})"


def _tag_condition(key: str, value: str, dialect: Dialect) -> str:
    """One tag, with Jaeger's special keys; the plain attribute match always counts too, so a
    span attribute that happens to be called ``span.kind`` still matches. ``error=true``
    matches a span that failed (``failure_sql``: status ERROR, an ``error`` tag, an HTTP 5xx,
    a gRPC status other than OK, an ``exception`` event), as ``analyze`` counts failures."""
    plain = _attribute_match(key, value, dialect)
    lowered = value.lower()
    quote = dialect.text
    special = None
    if key == "error" and lowered == "true":
        # a span that failed as analyze counts failures, not only one with status ERROR
        special = CLICKHOUSE_FAILED if dialect is CLICKHOUSE else DUCKDB_FAILED
    elif key == "span.kind":
        special = f"lower(SpanKind) = {quote(lowered)}"
    elif key == "span.status":
        special = f"lower(StatusCode) = {quote(lowered)}"
    elif key == "scope.name":
        special = f"ScopeName = {quote(value)}"
    elif key == "scope.version":
        special = f"ScopeVersion = {quote(value)}"
    elif key.startswith("resource.") and len(key) > len("resource."):
        resource_value = dialect.attribute("ResourceAttributes", key[len("resource.") :])
        special = f"{resource_value} = {quote(value)}"
    return f"({special} OR {plain})" if special else plain


def span_conditions(query: TraceQuery, dialect: Dialect = DUCKDB) -> list[str]:
    """The conditions one span must meet for its trace to match ``query`` (AND them)."""
    conditions = []
    quote, time = dialect.text, dialect.time
    if query.service:
        conditions.append(f"ServiceName = {quote(query.service)}")
    if query.operation:
        conditions.append(f"SpanName = {quote(query.operation)}")
    if query.span_kind is not None:
        conditions.append(f"SpanKind = '{SPAN_KINDS[SpanKind(query.span_kind)]}'")
    if query.start_time_min is not None:
        conditions.append(f'"Timestamp" >= {time(query.start_time_min)}')
    if query.start_time_max is not None:
        conditions.append(f'"Timestamp" <= {time(query.start_time_max)}')
    if query.duration_min:
        conditions.append(f"Duration >= {int(query.duration_min)}")
    if query.duration_max:
        conditions.append(f"Duration <= {int(query.duration_max)}")
    for key, value in query.tags.items():
        conditions.append(_tag_condition(key, value, dialect))
    return conditions


def find_trace_ids_sql(query: TraceQuery, table: str, dialect: Dialect = DUCKDB) -> str:
    """Ids of matching traces, the trace with the latest matching span first."""
    conditions = span_conditions(query, dialect)
    where = f"WHERE {' AND '.join(conditions)}" if conditions else ""
    return (
        f"SELECT TraceId FROM {table} {where} GROUP BY TraceId "
        f'ORDER BY max("Timestamp") DESC, TraceId LIMIT {int(query.num_traces)}'
    )
