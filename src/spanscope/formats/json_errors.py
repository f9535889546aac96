"""Turning msgspec's JSON errors into the places users need: shared by every JSON reader.

``split_path`` gives the JSON path of a value of the wrong type (``$.data[0].spans[3].traceID``);
``syntax_error`` gives the line and column of broken or truncated JSON; ``utf8_error`` those of
the first byte that is not UTF-8. Each returns ``(place, message)`` for an ``InputError``.
"""

from __future__ import annotations

import re

import msgspec

_BYTE = re.compile(r"\(byte (\d+)\)")
_AT_PATH = re.compile(r" - at `(\$[^`]*)`$")


def split_path(exc: msgspec.ValidationError, prefix: str = "$") -> tuple[str, str]:
    """(JSON path, message) of a msgspec validation error; the path is relative to ``prefix``."""
    text = str(exc)
    match = _AT_PATH.search(text)
    if match is None:
        return prefix, text
    return prefix + match.group(1)[1:], text[: match.start()]


def syntax_error(exc: msgspec.DecodeError, data: bytes, first_line: int = 1) -> tuple[str, str]:
    """(line and column, message) of a JSON syntax error."""
    text = str(exc)
    match = _BYTE.search(text)
    if match is not None:
        offset = int(match.group(1))
        message = "not valid JSON: " + _BYTE.sub("", text).replace("JSON is malformed: ", "")
    else:
        offset = len(data.rstrip())
        message = "not valid JSON: the input ends early (truncated?)"
    return line_column(data, offset, first_line), message.strip()


def utf8_error(data: bytes, first_line: int = 1) -> tuple[str, str]:
    """(line and column, message) of the first byte that is not UTF-8."""
    try:
        data.decode("utf-8")
        offset = 0
    except UnicodeDecodeError as exc:
        offset = exc.start
    return line_column(data, offset, first_line), "not valid UTF-8 text"


def line_column(data: bytes, offset: int, first_line: int) -> str:
    line = data.count(b"\n", 0, offset)
    start = data.rfind(b"\n", 0, offset) + 1
    column = len(data[start:offset].decode("utf-8", "replace")) + 1
    return f"line {first_line + line}, column {column}"
