"""Whether a span failed, as one SQL condition on a row of ``otel_traces``, for the DuckDB and
the ClickHouse store: what the Monitor, Jaeger's metrics API and the search's ``error=true``
count (``DUCKDB_FAILED``, ``CLICKHOUSE_FAILED``).

The definition is ``spanscope.analysis.errors.is_error_span``, the one ``analyze`` uses; these
conditions are it, rule for rule, in SQL. A span failed when any of these holds:

- its status is ERROR (``StatusCode`` 'Error', or the older exporters' 'STATUS_CODE_ERROR');
- its ``error`` attribute is true: the bool or the text "true" (Jaeger and Zipkin tags);
- its HTTP response status is a whole number of 500 or more: ``http.response.status_code``
  when the span has it (a null value counts as absent), else ``http.status_code``;
- its gRPC status (``rpc.grpc.status_code``) is a whole number other than 0;
- it has an event named ``exception``.

A whole number is what ``model.attributes.attribute_int`` reads: an int, an integral float, or
text of ASCII digits; bools never. In DuckDB the attributes are JSON with typed values, so
the rule reads the JSON text of each value: ``500``, ``500.0`` and ``"500"`` are 500, ``"500.0"``
and ``true`` are not numbers. ClickHouse's ``Map(String, String)`` keeps only text, which the
rule reads as the number it spells when it is a number in the forms spanscope and the collector
write (optional minus, digits, optional fraction and exponent: ``500``, ``500.0``, ``1e+20``).

Where the columns cannot tell what the model holds, the SQL and ``is_error_span`` can differ.
Only values no instrumentation writes as a status code do that:
- DuckDB: a non-finite float ``http.response.status_code`` (kept exactly only in ``RawSpan``;
  the column holds null) counts as absent, so ``http.status_code`` is then read;
- ClickHouse: a text status code such as "-1" or "500.0" counts as that number (analyze reads
  text as a number only when it is all ASCII digits), and a null ``http.response.status_code``
  counts as present (it is '' in the map), so ``http.status_code`` is then not read;
- both: a status code of more digits than Python's ``int()`` reads (4,300) is a huge number
  here, so a failure, and no number to ``attribute_int``, so not one.

Cost: the Monitor evaluates this on every span of its window, so the cheap tests come first:
the status and the event names, then the JSON text of the attributes (DuckDB: ``contains``,
``starts_with``, ``ends_with``, memory searches without parsing) answers for a span without
the keys and for the usual values (a gRPC 0, an HTTP 200); another HTTP status is one
``json_extract`` of its key, and only the rest is parsed whole (one ``json_extract`` of the
four keys, bound to ``a`` by a one-element ``list_transform``). ClickHouse reads the map in
one pass (``arrayExists``). Measured in ``benchmarks/MONITOR.md``.
"""

from __future__ import annotations

_NEW_HTTP = "http.response.status_code"
_OLD_HTTP = "http.status_code"
_GRPC = "rpc.grpc.status_code"

# DuckDB ----------------------------------------------------------------------------------------
# The four values as JSON text (strings quoted, null 'null', absent NULL), one parse.
_DUCKDB_VALUES = (
    f"json_extract(SpanAttributes, ['/error', '/{_NEW_HTTP}', '/{_OLD_HTTP}', '/{_GRPC}'])"
    "::VARCHAR[]"
)


def _duckdb_whole(value: str, test: str) -> str:
    """The JSON text ``value`` is a whole number ``n`` with ``n {test}`` (e.g. ``>= 500``): a
    JSON number that is whole, or a string of digits. Bools, null, other strings, lists and
    objects are not numbers (they do not cast)."""
    number = f"TRY_CAST({value} AS DOUBLE)"
    digits = f"TRY_CAST(trim({value}, '\"') AS DOUBLE)"
    return (
        f"CASE WHEN {number} IS NOT NULL THEN {number} {test} AND {number} = floor({number}) "
        f"WHEN starts_with({value}, '\"') AND regexp_full_match({value}, '\"[0-9]+\"') "
        f"THEN {digits} {test} ELSE false END"
    )


def _duckdb_attributes() -> str:
    """The attribute rules on ``a``, the four values' JSON texts (NULL when absent)."""
    error, new, old, grpc = (f"a[{i}]" for i in range(1, 5))
    # The usual values decide first, without regular expressions: no gRPC status or 0, and an
    # HTTP status that is a JSON number under 500 (TRY_CAST rounds, and any number that rounds
    # to under 500 cannot fail: it is under 500 or not whole).
    usual = (
        f"({grpc} IS NULL OR {grpc} = '0') AND (CASE WHEN coalesce({new}, 'null') <> 'null' "
        f"THEN TRY_CAST({new} AS INTEGER) < 500 "
        f"ELSE {old} IS NULL OR {old} = 'null' OR TRY_CAST({old} AS INTEGER) < 500 END)"
    )
    rule = (
        f"CASE WHEN {error} IN ('true', '\"true\"') THEN true WHEN {usual} THEN false "
        # the new HTTP key when it has a value (not null), else the older one
        f"WHEN coalesce({new}, 'null') <> 'null' AND ({_duckdb_whole(new, '>= 500')}) THEN true "
        f"WHEN coalesce({new}, 'null') = 'null' AND {old} IS NOT NULL "
        f"AND ({_duckdb_whole(old, '>= 500')}) THEN true "
        f"WHEN {grpc} IS NULL OR {grpc} = '0' THEN false "
        f"ELSE {_duckdb_whole(grpc, '<> 0')} END"
    )
    return f"coalesce(list_transform([{_DUCKDB_VALUES}], a -> {rule})[1], false)"


_DUCKDB_EXCEPTION = "list_contains(\"Events.Name\", 'exception')"


def _duckdb_json_int_under_500(key: str) -> str:
    # A JSON number that rounds to an int under 500 cannot fail: under 500 or not whole.
    return f"TRY_CAST(json_extract(SpanAttributes, '/{key}')::VARCHAR AS INTEGER) < 500"


# The attribute rules decided from the JSON text where that is sound, parsed where needed.
# The text is msgspec's (the native OTLP path writes the same): no spaces, a key written
# "key":, a quote inside a key or value escaped (\"). So a key of ours is always found by
# key": (its absence is certain), and ,"key": or {"key": at the start is that key and no other
# (a key can end in "key, but its quote is escaped). A key can appear twice only in a nested
# object, which starts {" (a '{"' inside a text is escaped): without one after the first
# character, the key found is the span's; and the last member, before the final }, is always
# the span's own.
_DUCKDB_ATTRIBUTES = (
    f"CASE WHEN contains(SpanAttributes, 'error\":') THEN {_duckdb_attributes()} "
    "WHEN NOT contains(SpanAttributes, 'status_code\":') THEN false "
    # The usual spans first: a gRPC 0 as the last attribute (set when the call ends) and no
    # HTTP status;
    f"WHEN ends_with(SpanAttributes, ',\"{_GRPC}\":0}}') "
    "AND NOT contains(SpanAttributes, '\"http.') THEN false "
    f"WHEN contains(substr(SpanAttributes, 2), '{{\"') THEN {_duckdb_attributes()} "
    # a gRPC status starting with 0 (0, or not whole) anywhere, and no HTTP status;
    f"WHEN (contains(SpanAttributes, ',\"{_GRPC}\":0') "
    f"OR starts_with(SpanAttributes, '{{\"{_GRPC}\":0')) "
    "AND NOT contains(SpanAttributes, '\"http.') THEN false "
    # an HTTP 200 (the newer key decides when present), and no gRPC status;
    f"WHEN (contains(SpanAttributes, ',\"{_NEW_HTTP}\":200,') "
    f"OR contains(SpanAttributes, ',\"{_NEW_HTTP}\":200}}') "
    f"OR starts_with(SpanAttributes, '{{\"{_NEW_HTTP}\":200,') "
    f"OR SpanAttributes = '{{\"{_NEW_HTTP}\":200}}') "
    f"AND NOT contains(SpanAttributes, '\"{_GRPC}\":') THEN false "
    # another HTTP status that is a JSON number under 500, and no gRPC status.
    f"WHEN NOT contains(SpanAttributes, '\"{_GRPC}\":') AND (CASE WHEN "
    f"contains(SpanAttributes, '\"{_NEW_HTTP}\":') THEN {_duckdb_json_int_under_500(_NEW_HTTP)} "
    f"ELSE {_duckdb_json_int_under_500(_OLD_HTTP)} END) THEN false "
    f"ELSE {_duckdb_attributes()} END"
)

DUCKDB_FAILED = (
    "(CASE WHEN StatusCode IN ('Error', 'STATUS_CODE_ERROR') "
    f"OR {_DUCKDB_EXCEPTION} THEN true ELSE {_DUCKDB_ATTRIBUTES} END)"
)

# ClickHouse ------------------------------------------------------------------------------------
# A number as spanscope (Python's repr, ints in decimal) or the collector writes it as text.
_CLICKHOUSE_NUMBER = r"^-?[0-9]+(\\.[0-9]+)?([eE][-+]?[0-9]+)?$"


def _clickhouse_whole(value: str, test: str) -> str:
    """The text ``value`` is a whole number ``n`` with ``n {test}``."""
    number = f"toFloat64OrZero({value})"
    return (
        f"(match({value}, '{_CLICKHOUSE_NUMBER}') AND {number} {test} "
        f"AND {number} = floor({number}))"
    )


# One pass over the map's keys and values (a lookup by key searches the keys each time).
_CLICKHOUSE_ATTRIBUTES = (
    "arrayExists((k, v) -> (k = 'error' AND v = 'true') "
    f"OR (k = '{_NEW_HTTP}' AND {_clickhouse_whole('v', '>= 500')}) "
    f"OR (k = '{_GRPC}' AND v != '0' AND {_clickhouse_whole('v', '!= 0')}), "
    "SpanAttributes.keys, SpanAttributes.values) "
    # The older HTTP key counts only when the newer one is absent.
    f"OR (NOT has(SpanAttributes.keys, '{_NEW_HTTP}') AND arrayExists((k, v) -> "
    f"k = '{_OLD_HTTP}' AND {_clickhouse_whole('v', '>= 500')}, "
    "SpanAttributes.keys, SpanAttributes.values))"
)

CLICKHOUSE_FAILED = (
    "(lower(StatusCode) IN ('error', 'status_code_error') "
    f"OR has(`Events.Name`, 'exception') OR {_CLICKHOUSE_ATTRIBUTES})"
)
