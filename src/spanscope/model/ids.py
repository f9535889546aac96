"""Trace and span ids: validation and normalisation to lowercase hex.

Trace ids are 32 hex characters, span ids 16. Shorter ids (64-bit trace ids from Zipkin and
Jaeger, ids written without leading zeros) are left-padded, as the OpenTelemetry Zipkin and Jaeger
translators do. An all-zero id is invalid (W3C trace context, OTLP).

``id_text`` is an id as a person pasted it, cleaned the one way every command reads it: reports
and pages show ids cut short ("8e8bdfe2a873…"), so blanks and a trailing ellipsis are dropped
and case ignored.
"""

from __future__ import annotations

_HEX = frozenset("0123456789abcdef")


class InvalidIdError(ValueError):
    """An id that is not hex, too long, or all zeros."""


def _normalize(value: str, width: int, what: str) -> str:
    lowered = value.lower()
    if not lowered or len(lowered) > width or not _HEX.issuperset(lowered):
        raise InvalidIdError(f"invalid {what} {value!r}: expected up to {width} hex digits")
    if len(lowered) < width:
        lowered = lowered.rjust(width, "0")
    if lowered.count("0") == width:
        raise InvalidIdError(f"invalid {what} {value!r}: all zeros")
    return lowered


def id_text(text: str) -> str:
    """A pasted id as ids are spelt: blanks and a trailing ellipsis dropped, lower case."""
    return text.strip().rstrip("…").rstrip(".").strip().lower()


def id_starts_with(trace_id: str, start: str) -> bool:
    """Whether ``trace_id`` starts with ``start`` (an ``id_text``) as ids are shown: leading
    zeros are ignored on both sides, since Jaeger shows a trace id without them (its 64-bit
    halves printed as numbers), and a 64-bit id from Zipkin or Jaeger is padded here with 16."""
    if trace_id.startswith(start):
        return True
    short = start.lstrip("0")
    return bool(short) and trace_id.lstrip("0").startswith(short)


def normalize_trace_id(value: str) -> str:
    """Return ``value`` as 32 lowercase hex digits; raise InvalidIdError if it is not an id."""
    if len(value) == 32 and value.islower() and _HEX.issuperset(value) and value != "0" * 32:
        return value  # the common case, kept cheap for the readers' hot loops
    return _normalize(value, 32, "trace id")


def normalize_span_id(value: str) -> str:
    """Return ``value`` as 16 lowercase hex digits; raise InvalidIdError if it is not an id."""
    if len(value) == 16 and value.islower() and _HEX.issuperset(value) and value != "0" * 16:
        return value
    return _normalize(value, 16, "span id")


def is_valid_trace_id(value: str) -> bool:
    return len(value) == 32 and _HEX.issuperset(value) and value != "0" * 32


def is_valid_span_id(value: str) -> bool:
    return len(value) == 16 and _HEX.issuperset(value) and value != "0" * 16
