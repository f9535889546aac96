"""Attribute values as OpenTelemetry defines them (``AnyValue``), as plain Python values.

An ``AttributeValue`` is str, bool, int, float, bytes, a list of values, or a dict of values
(``kvlist``); ``None`` stands for an empty ``AnyValue``. ``Attributes`` maps keys to such values.
Plain values keep the model small and make JSON output trivial.

Type checkers see that precise recursive union. At runtime both names are plain aliases
(``Any`` and ``dict[str, Any]``) so that msgspec can resolve the model's annotations and decode a
``Span`` with ``type=Span``: it cannot resolve the string alias, and its unions may not hold both
str and bytes. Decoding therefore does not check attribute values, and JSON gives bytes back as
base64 strings (msgpack keeps them as bytes).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeAlias

if TYPE_CHECKING:
    AttributeValue: TypeAlias = (
        "str | bool | int | float | bytes | list[AttributeValue] | dict[str, AttributeValue] | None"
    )
    Attributes: TypeAlias = "dict[str, AttributeValue]"
else:
    AttributeValue = Any
    Attributes = dict[str, Any]
