"""Attribute values as OpenTelemetry defines them (``AnyValue``), as plain Python values.

An ``AttributeValue`` is str, bool, int, float, bytes, a list of values, or a dict of values
(``kvlist``); ``None`` stands for an empty ``AnyValue``. ``Attributes`` maps keys to such values.
Plain values keep the model small and make JSON output trivial.

Type checkers see that precise recursive union. At runtime both names are plain aliases
(``Any`` and ``dict[str, Any]``) so that msgspec can resolve the model's annotations and decode a
``Span`` with ``type=Span``: it cannot resolve the string alias, and its unions may not hold both
str and bytes. Decoding therefore does not check attribute values, and JSON gives bytes back as
base64 strings (msgpack keeps them as bytes).

``attribute_text`` is a value as text, the one rendering wherever a format or store keeps values
only as text (Zipkin tags, ClickHouse's attribute maps): booleans lower-case, bytes base64, lists
and maps JSON, floats as Python prints them. ``attribute_int`` is a value as a whole number
where conventions want one (status codes), as exporters write it: an int, a string of ASCII
digits or an integral float; booleans and anything else (digits of other scripts, signs,
spaces) are not numbers (None).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, TypeAlias

import msgspec

if TYPE_CHECKING:
    AttributeValue: TypeAlias = (
        "str | bool | int | float | bytes | list[AttributeValue] | dict[str, AttributeValue] | None"
    )
    Attributes: TypeAlias = "dict[str, AttributeValue]"
else:
    AttributeValue = Any
    Attributes = dict[str, Any]


def attribute_text(value: AttributeValue) -> str:
    """``value`` as text, the way the collector's ``AsString`` writes it (floats as Python's
    ``repr``: ``1.0``, ``NaN``, ``Infinity``)."""
    if type(value) is str:
        return value
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return ""
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        return repr(value)
    if isinstance(value, bytes):
        return _base64(value)
    return msgspec.json.encode(jsonable(value)).decode("utf-8")


def jsonable(value: AttributeValue) -> Any:
    """``value`` with what JSON cannot hold as text: bytes base64, non-finite floats."""
    if isinstance(value, bytes):
        return _base64(value)
    if isinstance(value, float) and not math.isfinite(value):
        return attribute_text(value)
    if isinstance(value, list):
        return [jsonable(item) for item in value]
    if isinstance(value, dict):
        return {key: jsonable(item) for key, item in value.items()}
    return value


def attribute_int(value: object) -> int | None:
    """``value`` as a whole number, or None (see the module docstring)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    # ASCII digits only: str.isdecimal (and int) also read "５００" as 500, which no
    # instrumentation writes and the stores' SQL rule (store.failure_sql) cannot read.
    if isinstance(value, str) and value.isascii() and value.isdigit():
        try:
            return int(value)
        except ValueError:
            # More digits than int() reads (4,300 unless PYTHONINTMAXSTRDIGITS says less):
            # no whole number anyone meant, and a hostile one must not end a read.
            return None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def _base64(value: bytes) -> str:
    import base64  # here: binary values are rare, and every command that reads imports this

    return base64.b64encode(value).decode("ascii")
