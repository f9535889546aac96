"""Jaeger typed tags (``{"key", "type", "value"}``) to attribute values and back.

Jaeger's five tag types are ``string``, ``bool``, ``int64``, ``float64`` and ``binary``.
Reading is lenient, as Jaeger's own UI is: numbers and booleans may arrive as strings (the
Elasticsearch documents store every value as a string, and Jaeger writes int64 values outside
JavaScript's safe range as strings), binary values are base64 (the API) or hex (Elasticsearch),
and a missing type is taken from the JSON value. A value that does not fit its type is kept as
it was written and reported through ``on_warning``, never dropped.

Writing follows Jaeger's UI converter: int64 values outside +/-(2**53 - 1) are written as
strings, bytes as base64, lists and maps as JSON strings (Jaeger has no such type, the OTel
Jaeger translator does the same), and non-finite floats as the strings ``NaN``/``Infinity``.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable
from typing import Any

import msgspec

from spanscope.model import AttributeValue

_JS_MAX_SAFE_INTEGER = (1 << 53) - 1
_INT64_MIN, _INT64_MAX = -(1 << 63), (1 << 63) - 1
_BOOL_WORDS = {"true": True, "false": False, "1": True, "0": False}
_NON_FINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}

Warn = Callable[[str], None]


def decode_value(
    key: str, kind: str | None, value: Any, warn: Warn, hex_binary: bool = False
) -> AttributeValue:
    """Return the attribute value of one tag. ``kind`` is the tag's ``type``; ``hex_binary``
    says binary values are hex first (Elasticsearch documents), not base64."""
    if kind == "string":
        if type(value) is str:
            return value
        if value is None:
            return ""
        return _as_text(value)
    if kind is None:
        if type(value) is int and not _INT64_MIN <= value <= _INT64_MAX:
            warn(f"tag {key!r} has an integer beyond int64; kept as text")
            return str(value)
        return value
    lowered = kind.lower()
    if lowered == "bool":
        if type(value) is bool:
            return value
        if type(value) is str and value.lower() in _BOOL_WORDS:
            return _BOOL_WORDS[value.lower()]
        if type(value) is int and value in (0, 1):
            return bool(value)
    elif lowered == "int64":
        number = None
        if type(value) is int:
            number = value
        elif type(value) is float and value.is_integer():
            number = int(value)
        elif type(value) is str:
            with contextlib.suppress(ValueError):
                number = int(value.strip())
        if number is not None:
            if _INT64_MIN <= number <= _INT64_MAX:
                return number
            warn(f"tag {key!r} of type 'int64' is beyond int64; kept as text")
            return str(number)
    elif lowered == "float64":
        if type(value) is float:
            return value
        if type(value) is int:
            return float(value)
        if type(value) is str:
            if value in _NON_FINITE:
                return _NON_FINITE[value]
            try:
                return float(value)
            except ValueError:
                pass
    elif lowered == "binary":
        if type(value) is str:
            decoded = _decode_binary(value, hex_binary)
            if decoded is not None:
                return decoded
    elif lowered == "string":
        return value if type(value) is str else _as_text(value)
    else:
        warn(f"tag {key!r} has unknown type {kind!r}; value kept as written")
        return value if _is_scalar(value) else _as_text(value)
    warn(f"tag {key!r} of type {kind!r} has value {_short(value)}; kept as written")
    return value if _is_scalar(value) else _as_text(value)


def _decode_binary(value: str, hex_first: bool) -> bytes | None:
    attempts = (_from_hex, _from_base64) if hex_first else (_from_base64, _from_hex)
    for attempt in attempts:
        decoded = attempt(value)
        if decoded is not None:
            return decoded
    return None


def _from_base64(value: str) -> bytes | None:
    import base64  # here: binary tags are rare, and reading any Jaeger file imports this module
    import binascii

    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return None


def _from_hex(value: str) -> bytes | None:
    try:
        return bytes.fromhex(value)
    except ValueError:
        return None


def _is_scalar(value: Any) -> bool:
    return value is None or type(value) in (str, bool, int, float)


def _as_text(value: Any) -> str:
    if type(value) is str:
        return value
    try:
        return msgspec.json.encode(value).decode()
    except (TypeError, OverflowError, msgspec.EncodeError):
        return repr(value)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def encode_tag(key: str, value: AttributeValue) -> dict[str, Any]:
    """Return the Jaeger tag for one attribute (see the module docstring for the rules)."""
    kind = type(value)
    if kind is str:
        return {"key": key, "type": "string", "value": value}
    if kind is bool:
        return {"key": key, "type": "bool", "value": value}
    if kind is int:
        safe = -_JS_MAX_SAFE_INTEGER <= value <= _JS_MAX_SAFE_INTEGER  # type: ignore[operator]
        written: Any = value if safe else str(value)
        return {"key": key, "type": "int64", "value": written}
    if kind is float:
        if math.isfinite(value):  # type: ignore[arg-type]
            return {"key": key, "type": "float64", "value": value}
        name = "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")  # type: ignore[arg-type, operator]
        return {"key": key, "type": "float64", "value": name}
    if kind is bytes:
        import base64  # (see _from_base64)

        return {"key": key, "type": "binary", "value": base64.b64encode(value).decode()}  # type: ignore[arg-type]
    if value is None:
        return {"key": key, "type": "string", "value": ""}
    return {"key": key, "type": "string", "value": _json_text(value)}


def _json_text(value: AttributeValue) -> str:
    """Lists and maps as JSON text, as the OTel translator's ``AsString`` does; bytes inside
    them as base64, non-finite floats as strings."""
    return msgspec.json.encode(value).decode()  # msgspec writes bytes as base64 itself
