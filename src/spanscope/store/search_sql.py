"""``TraceQuery`` to the SQL condition on one span of ``otel_traces`` (Jaeger's search semantics,
documented on ``TraceQuery``).

Values are inlined as SQL literals (text quoted and escaped, numbers as integers) rather than
bound as parameters: DuckDB prunes row groups by their min/max statistics only for constants it
sees at planning time, and prepared parameters cannot appear inside the list lambdas that search
event and link attributes. The same conditions are valid ClickHouse SQL except for the JSON
attribute lookups.
"""

from __future__ import annotations

from spanscope.model import SpanKind
from spanscope.store.base import TraceQuery
from spanscope.store.codec import MAX_TIME_NS
from spanscope.store.schema import SPAN_KINDS


def literal(text: str) -> str:
    """``text`` as a SQL string literal."""
    if "\x00" in text:
        raise ValueError("search text cannot contain NUL characters")
    return "'" + text.replace("'", "''") + "'"


def time_literal(ns: int) -> str:
    return f"make_timestamp_ns({max(0, min(int(ns), MAX_TIME_NS))})"


def _json_pointer(key: str) -> str:
    # A JSON pointer names one key exactly, dots and all ("http.method" is not a path).
    return literal("/" + key.replace("~", "~0").replace("/", "~1"))


def _attribute_match(key: str, value: str) -> str:
    """``key`` has text ``value`` in the span's, resource's, scope's, an event's or a link's
    attributes."""
    pointer, text = _json_pointer(key), literal(value)
    direct = " OR ".join(
        f"json_extract_string({column}, {pointer}) = {text}"
        for column in ("SpanAttributes", "ResourceAttributes", "ScopeAttributes")
    )
    nested = " OR ".join(
        f'coalesce(list_bool_or(list_transform("{column}", '
        f"a -> json_extract_string(a, {pointer}) = {text})), false)"
        for column in ("Events.Attributes", "Links.Attributes")
    )
    return f"({direct} OR {nested})"


def _tag_condition(key: str, value: str) -> str:
    """One tag, with Jaeger's special keys; the plain attribute match always counts too, so a
    span attribute that happens to be called ``span.kind`` still matches."""
    plain = _attribute_match(key, value)
    lowered = value.lower()
    special = None
    if key == "error" and lowered == "true":
        special = "StatusCode = 'Error'"
    elif key == "span.kind":
        special = f"lower(SpanKind) = {literal(lowered)}"
    elif key == "span.status":
        special = f"lower(StatusCode) = {literal(lowered)}"
    elif key == "scope.name":
        special = f"ScopeName = {literal(value)}"
    elif key == "scope.version":
        special = f"ScopeVersion = {literal(value)}"
    elif key.startswith("resource.") and len(key) > len("resource."):
        resource_key = _json_pointer(key[len("resource.") :])
        special = f"json_extract_string(ResourceAttributes, {resource_key}) = {literal(value)}"
    return f"({special} OR {plain})" if special else plain


def span_conditions(query: TraceQuery) -> list[str]:
    """The conditions one span must meet for its trace to match ``query`` (AND them)."""
    conditions = []
    if query.service:
        conditions.append(f"ServiceName = {literal(query.service)}")
    if query.operation:
        conditions.append(f"SpanName = {literal(query.operation)}")
    if query.span_kind is not None:
        conditions.append(f"SpanKind = '{SPAN_KINDS[SpanKind(query.span_kind)]}'")
    if query.start_time_min is not None:
        conditions.append(f'"Timestamp" >= {time_literal(query.start_time_min)}')
    if query.start_time_max is not None:
        conditions.append(f'"Timestamp" <= {time_literal(query.start_time_max)}')
    if query.duration_min:
        conditions.append(f"Duration >= {int(query.duration_min)}")
    if query.duration_max:
        conditions.append(f"Duration <= {int(query.duration_max)}")
    for key, value in query.tags.items():
        conditions.append(_tag_condition(key, value))
    return conditions


def find_trace_ids_sql(query: TraceQuery, table: str) -> str:
    """Ids of matching traces, the trace with the latest matching span first."""
    conditions = span_conditions(query)
    where = f"WHERE {' AND '.join(conditions)}" if conditions else ""
    return (
        f"SELECT TraceId FROM {table} {where} GROUP BY TraceId "
        f'ORDER BY max("Timestamp") DESC, TraceId LIMIT {int(query.num_traces)}'
    )
