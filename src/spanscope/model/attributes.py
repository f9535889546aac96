"""Attribute values as OpenTelemetry defines them (``AnyValue``), as plain Python values.

str, bool, int, float, bytes, a list of values, or a dict of values (``kvlist``). ``None`` stands
for an empty ``AnyValue``. Plain values keep the model small and make JSON output trivial.
"""

from __future__ import annotations

from typing import TypeAlias

AttributeValue: TypeAlias = (
    "str | bool | int | float | bytes | list[AttributeValue] | dict[str, AttributeValue] | None"
)
Attributes: TypeAlias = "dict[str, AttributeValue]"
