"""Pieces the Zipkin v1 and v2 JSON formats share: the v2 span structure, decoding with clear
errors, ids, timestamps, endpoints and tag values.

Both readers meet at ``ZSpan``, Zipkin's v2 span as its JSON spells it: the v2 reader decodes it
directly and the v1 reader converts v1 spans into it (``zipkin_v1``), and ``zipkin_convert``
turns it into the span model. Writers go the other way and both end in ``write_json_list``.
Units are Zipkin's: epoch microseconds (``nanos`` reads them into the model's nanoseconds).

``decode_document`` raises ``InputError`` for anything ``msgspec`` refuses, naming the source and
the place: a JSON path (``$[3].traceId``) for a value of the wrong type, a byte offset for
malformed JSON, "end of input" for a truncated document.
"""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Iterable
from decimal import Decimal
from functools import lru_cache
from typing import Any, BinaryIO

import msgspec

from spanscope.errors import InputError
from spanscope.formats.json_errors import split_path, syntax_error
from spanscope.model import InvalidIdError, normalize_span_id, normalize_trace_id
from spanscope.model.attributes import attribute_text

# Epoch microseconds outside these bounds (1990-01-01 .. 2100-01-01) are not plausible trace
# times: usually a digit lost or added, or milliseconds/nanoseconds written as microseconds.
PLAUSIBLE_MIN_US = 631_152_000_000_000
PLAUSIBLE_MAX_US = 4_102_444_800_000_000
# An annotation further than this from its span is taken as malformed, not as clock skew.
ANNOTATION_SLACK_US = 86_400_000_000


class Endpoint(msgspec.Struct, omit_defaults=True):
    """The network context of a node: who recorded a span, or the other side of an RPC."""

    serviceName: str | None = None
    ipv4: str | None = None
    ipv6: str | None = None
    port: int | None = None


class Annotation(msgspec.Struct, omit_defaults=True):
    """A v2 annotation; ``timestamp`` is required by the spec but checked, not assumed."""

    timestamp: int | float | None = None
    value: str | None = None  # required; None (not "") as default so "" is still written


class ZSpan(msgspec.Struct, omit_defaults=True):
    """One Zipkin v2 span as JSON spells it (zipkin2-api.yaml ``Span``)."""

    traceId: str
    id: str
    parentId: str | None = None
    kind: str | None = None
    name: str | None = None
    timestamp: int | float | None = None
    duration: int | float | None = None
    debug: bool | None = None
    shared: bool | None = None
    localEndpoint: Endpoint | None = None
    remoteEndpoint: Endpoint | None = None
    annotations: list[Annotation] | None = None
    # The spec says strings; numbers and booleans occur in the wild and are kept (with a warning).
    tags: dict[str, Any] | None = None


class StrictZSpan(ZSpan, omit_defaults=True):
    """``ZSpan`` whose tags are all strings, as the spec has them: decoding into it first lets
    ``msgspec`` check the tags in C; only documents it refuses are decoded leniently."""

    tags: dict[str, str] | None = None


def decode_document(decoder: msgspec.json.Decoder, data: bytes, source: str) -> Any:
    """Decode ``data`` with ``decoder``; every failure becomes an ``InputError``."""
    if not data.strip():
        raise InputError(source, "start of file", "the input is empty")
    try:
        return decoder.decode(data)
    except msgspec.ValidationError as exc:
        place, message = split_path(exc)
        if b'"trace_id"' in data and b'"traceId"' not in data:
            message += (
                " - this looks like a Zipkin Thrift or protobuf structure written as JSON "
                "(snake_case fields such as trace_id), not a trace format spanscope reads; "
                "Zipkin JSON uses traceId, id, parentId"
            )
        elif message.startswith(("Expected `array | object`", "Expected `object | array`")):
            got = message.rpartition(", ")[2]
            message = (
                "expected a JSON list of Zipkin spans (or one span object)"
                if place == "$"
                else "expected a Zipkin span (a JSON object) or a list of spans"
            ) + f", {got}"
        raise InputError(source, place, f"not a valid Zipkin span: {message}") from None
    except msgspec.DecodeError as exc:
        raise InputError(source, *syntax_error(exc, data)) from None
    except UnicodeDecodeError:
        raise InputError(source, "document", "invalid UTF-8 in a string value") from None
    except (RecursionError, ValueError, OverflowError) as exc:
        raise InputError(source, "document", f"cannot decode JSON: {exc}") from None


_HEX = frozenset("0123456789abcdef")
_ZERO16 = "0" * 16


def trace_id(value: str, source: str, place: str) -> tuple[str, bool]:
    """Normalised trace id and whether it was written in the canonical form (16/32 lowercase);
    an invalid one raises ``InputError`` at ``{place}.traceId``."""
    size = len(value)
    if (size == 16 or size == 32) and _HEX.issuperset(value) and value.strip("0"):
        return (value if size == 32 else _ZERO16 + value), True
    try:
        return normalize_trace_id(value), False
    except InvalidIdError as exc:
        message = f"{exc}; Zipkin ids are 16 or 32 hex digits"
        raise InputError(source, f"{place}.traceId", message) from None


def span_id(value: str, source: str, place: str, field: str = "id") -> tuple[str, bool]:
    """Like ``trace_id`` for span ids (16 hex digits) in ``field`` of the span at ``place``."""
    if len(value) == 16 and _HEX.issuperset(value) and value != _ZERO16:
        return value, True
    try:
        return normalize_span_id(value), False
    except InvalidIdError as exc:
        message = f"{exc}; Zipkin span ids are 16 hex digits"
        raise InputError(source, f"{place}.{field}", message) from None


# The largest time in microseconds whose nanoseconds fit the model's 64-bit integers (as
# Jaeger's reader allows); beyond it a time is garbage (no date can even be printed for it).
MAX_US = (2**63 - 1) // 1000


def micros(value: int | float | None) -> int | None:
    """A Zipkin time or duration as integer microseconds; None when absent, zero or negative
    (Zipkin treats 0 as "unset")."""
    if value is None:
        return None
    if type(value) is not int:
        if not math.isfinite(value):
            return None
        value = round(value)
    return value if value > 0 else None


def span_micros(value: int | float | None) -> int | None:
    """``micros`` for what becomes a span's start, end or duration: also None past ``MAX_US``.
    (An annotation that far off is placed inside its span instead, its time kept aside.)"""
    us = micros(value)
    return us if us is None or us <= MAX_US else None


def exact(value: float) -> Decimal:
    """A float time as the number its writer printed: its shortest decimal text, which is what
    a JSON writer gives (OpenTelemetry JS writes ``1700000000123456.8``). Multiplied in binary,
    a time near 1.7e15 µs is off by up to 0.25 µs."""
    return Decimal(repr(value))


def nanos(value: int | float | None) -> int | None:
    """A Zipkin time or duration in nanoseconds: microseconds times 1000, a fraction kept to the
    nearest nanosecond; None when absent, zero or negative (as ``micros``), or not finite."""
    if type(value) is int:
        return value * 1000 if value > 0 else None
    if value is None or not math.isfinite(value):
        return None
    ns = round(exact(value) * 1000)
    return ns if ns > 0 else None


def span_nanos(value: int | float | None) -> int | None:
    """``nanos`` for what becomes a span's start, end or duration: also None past ``MAX_US``."""
    ns = nanos(value)
    return ns if ns is None or ns <= MAX_US * 1000 else None


def span_nanos_rounded(value: int | float | None) -> tuple[int | None, bool]:
    """``span_nanos``, and whether digits below the nanosecond were rounded off."""
    if type(value) is not float or not math.isfinite(value):
        return span_nanos(value), False
    scaled = exact(value) * 1000
    ns = round(scaled)
    if not 0 < ns <= MAX_US * 1000:
        return None, False
    return ns, scaled != ns


def plausible(us: int) -> bool:
    return PLAUSIBLE_MIN_US <= us <= PLAUSIBLE_MAX_US


@lru_cache(maxsize=4096)
def normalize_ip(text: str) -> str | None:
    """The canonical text of an IP address (as Go's ``net.IP.String`` prints it for IPv6, which
    is what the collector emits), or None if ``text`` is not one."""
    try:
        address = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    return str(address)


# Tags are text: values as ``model.attributes.attribute_text`` renders them.
tag_string = attribute_text

_LIST_ENCODER = msgspec.json.Encoder()


def write_json_list(items: Iterable[Any], out: BinaryIO) -> None:
    """Write ``items`` as one JSON list, encoding them one at a time (memory stays bounded)."""
    encode = _LIST_ENCODER.encode
    out.write(b"[")
    first = True
    for item in items:
        if not first:
            out.write(b",")
        first = False
        out.write(encode(item))
    out.write(b"]")
