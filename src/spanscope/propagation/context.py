"""The format-neutral trace context every codec reads into and writes from, and the result type
every parser returns.

Contract:
- ids are lowercase hex: ``trace_id`` 32 characters (64-bit ids from B3/Jaeger are left-padded),
  ``span_id``/``parent_span_id`` 16 characters; ``""`` means absent. A context with no ids carries
  only a sampling decision (B3 ``b3: 0``, ``X-B3-Sampled: 1`` alone).
- ``sampled`` is ``True``/``False`` or ``None`` for "defer the decision" (B3 absent sampling,
  X-Ray ``Sampled=?``); ``debug`` implies sampled.
- Parsers never raise on bad input: they return a ``Parsed`` with ``reason`` saying why the header
  is invalid, or ``present=False`` when the header is absent.
- Headers are a sequence of ``(name, value)`` pairs in wire order; names compare
  case-insensitively, and repeated headers are kept as separate pairs.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any, Generic, TypeVar

from spanscope.units import count

T = TypeVar("T")

Headers = Sequence[tuple[str, str]]

HEX = frozenset("0123456789abcdef")
ZERO_TRACE_ID = "0" * 32
ZERO_SPAN_ID = "0" * 16


@dataclass(frozen=True, slots=True)
class BaggageEntry:
    """One baggage member: ``value`` is decoded; ``properties`` is the raw text after the first
    ``;`` (W3C baggage metadata), kept as received because no format interprets it."""

    key: str
    value: str
    properties: str = ""


@dataclass(frozen=True, slots=True)
class Context:
    """A trace context independent of the header format it came in."""

    trace_id: str = ""
    span_id: str = ""
    parent_span_id: str = ""
    sampled: bool | None = None
    debug: bool = False
    random: bool = False  # W3C Level 2 random-trace-id flag
    tracestate: tuple[tuple[str, str], ...] = ()
    baggage: tuple[BaggageEntry, ...] = ()

    @property
    def has_ids(self) -> bool:
        return bool(self.trace_id and self.span_id)

    def child(self, span_id: str | None = None) -> Context:
        """The context a hop sends on: same trace, flags, tracestate and baggage, a fresh span
        id, and the received span id as parent. A context without ids (a bare sampling
        decision) is passed on unchanged, as B3 proxies do; a trace id without a span id (an X-Ray
        root from a load balancer) gets a span id and no parent."""
        if not self.trace_id:
            return self
        return replace(self, span_id=span_id or new_span_id(), parent_span_id=self.span_id or "")

    def to_dict(self) -> dict[str, object]:
        return {
            "trace_id": self.trace_id or None,
            "span_id": self.span_id or None,
            "parent_span_id": self.parent_span_id or None,
            "sampled": self.sampled,
            "debug": self.debug,
            "random": self.random,
            "tracestate": [list(member) for member in self.tracestate],
            "baggage": [
                {
                    "key": e.key,
                    "value": e.value,
                    **({"properties": e.properties} if e.properties else {}),
                }
                for e in self.baggage
            ],
        }


@dataclass(frozen=True, slots=True)
class Parsed(Generic[T]):
    """What parsing one header (or header family) gave.

    ``value`` is set when the header is valid; otherwise ``reason`` says why it is not, naming
    the field and the offending text. ``warnings`` are things a receiver accepted but a user
    should know (a duplicate tracestate key dropped, a 64-bit id padded, a lenient value)."""

    value: T | None = None
    reason: str = ""
    warnings: tuple[str, ...] = ()
    present: bool = True
    header: str = ""

    @property
    def ok(self) -> bool:
        return self.value is not None

    def status(self) -> str:
        """``"valid"``, ``"invalid"`` or ``"absent"``."""
        if not self.present:
            return "absent"
        return "valid" if self.ok else "invalid"


def parsed_to_dict(parsed: Parsed[Context]) -> dict[str, object]:
    """A parse result as JSON-ready data: its status, and the reason, warnings and context
    where there are any (what ``spanscope propagation`` and the echo server print)."""
    out: dict[str, object] = {"status": parsed.status()}
    if parsed.reason:
        out["reason"] = parsed.reason
    if parsed.warnings:
        out["warnings"] = list(parsed.warnings)
    if parsed.value is not None:
        out["context"] = parsed.value.to_dict()
    return out


def absent(header: str) -> Parsed[Any]:
    return Parsed(present=False, header=header, reason="")


def invalid(header: str, reason: str, warnings: Iterable[str] = ()) -> Parsed[Any]:
    return Parsed(reason=reason, header=header, warnings=tuple(warnings))


def valid(header: str, value: T, warnings: Iterable[str] = ()) -> Parsed[T]:
    return Parsed(value=value, header=header, warnings=tuple(warnings))


def header_values(headers: Headers, name: str) -> list[str]:
    """All values of header ``name`` (case-insensitive), in wire order."""
    lowered = name.lower()
    return [value for key, value in headers if key.lower() == lowered]


def first_value(values: str | Sequence[str], label: str) -> tuple[str, list[str]] | None:
    """The first of a header's values (a receiver uses the first of repeated headers) and the
    warnings so far: one if the header was repeated. None when the header is absent."""
    if isinstance(values, str):
        return values, []
    if not values:
        return None
    if len(values) > 1:
        return values[0], [f"{len(values)} {label} headers; used the first"]
    return values[0], []


def is_lower_hex(text: str, length: int | None = None) -> bool:
    return bool(text) and (length is None or len(text) == length) and HEX.issuperset(text)


def shown(text: str, limit: int = 60) -> str:
    """``repr(text)`` for a reason, cut to its first ``limit`` characters (with its length) when
    longer, so a hostile header of kilobytes still gives a one-line reason."""
    if len(text) <= limit:
        return repr(text)
    return f"{text[:limit]!r}... ({len(text)} characters)"


def describe_hex_problem(what: str, text: str, lengths: tuple[int, ...]) -> str:
    """Say precisely why ``text`` is not a valid ``what`` of one of ``lengths`` hex digits."""
    expected = " or ".join(str(n) for n in lengths)
    if len(text) not in lengths:
        size = count(len(text), "character")
        return f"{what} {shown(text)} has {size}, expected {expected} lowercase hex"
    bad = next((c for c in text if c not in HEX), None)
    if bad is not None:
        kind = "uppercase hex" if bad in "ABCDEF" else "not hex"
        return f"{what} {shown(text)} contains {bad!r} ({kind}); expected lowercase hex"
    if set(text) == {"0"}:
        return f"{what} is all zeros, which means 'invalid'"
    return f"{what} {shown(text)} is invalid"


def new_trace_id() -> str:
    """A 128-bit trace id whose first 4 bytes are the current epoch second and the other 12
    random. That is valid everywhere: W3C (the right-most 7 bytes are random, so the Level 2
    random flag may be set), B3, Jaeger, and X-Ray, which rejects roots whose time part is not
    recent."""
    return f"{int(time.time()) & 0xFFFFFFFF:08x}{secrets.token_hex(12)}"


def new_span_id() -> str:
    while True:
        span_id = secrets.token_hex(8)
        if span_id != ZERO_SPAN_ID:
            return span_id


def new_context(sampled: bool = True) -> Context:
    """A fresh root context as a tester or a trace-starting hop would make it."""
    return Context(trace_id=new_trace_id(), span_id=new_span_id(), sampled=sampled, random=True)
