"""Jaeger native propagation: ``uber-trace-id`` and ``uberctx-{key}`` baggage.

``uber-trace-id: {trace-id}:{span-id}:{parent-span-id}:{flags}``; the value may arrive
URL-encoded (``%3A`` for ``:``). Trace ids are 64 or 128 bit hex and receivers accept shorter
strings, left-padding with zeros; span ids likewise up to 64 bit; ``0`` is invalid for both.
The parent id is deprecated (``0`` means none): a malformed one is dropped with a warning, not
held against the header, since OpenTelemetry's Jaeger propagators (Python, JS, Rust...) never
read it and so continue such a trace. Flags are one byte as one or two hex digits:
``0x01`` sampled, ``0x02`` debug, ``0x08`` firehose. Baggage values are URL-encoded.
Header names are case-insensitive; uppercase hex digits are accepted with a warning.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote, unquote

from spanscope.propagation.context import (
    HEX,
    BaggageEntry,
    Context,
    Headers,
    Parsed,
    absent,
    first_value,
    header_values,
    invalid,
    shown,
    valid,
)
from spanscope.units import plural

HEADER = "uber-trace-id"
BAGGAGE_PREFIX = "uberctx-"
FLAG_SAMPLED = 0x01
FLAG_DEBUG = 0x02
FLAG_FIREHOSE = 0x08


@dataclass(frozen=True, slots=True)
class UberTraceId:
    trace_id: str  # as sent, lowercased, not padded
    span_id: str
    parent_span_id: str  # "" when 0
    flags: int

    def to_context(self, baggage: tuple[BaggageEntry, ...] = ()) -> Context:
        return Context(
            trace_id=self.trace_id.rjust(32, "0"),
            span_id=self.span_id.rjust(16, "0"),
            parent_span_id=self.parent_span_id.rjust(16, "0") if self.parent_span_id else "",
            sampled=bool(self.flags & (FLAG_SAMPLED | FLAG_DEBUG)),
            debug=bool(self.flags & FLAG_DEBUG),
            baggage=baggage,
        )


def _id_problem(what: str, text: str, max_digits: int, warnings: list[str]) -> str:
    if not text:
        return f"{what} is empty"
    if len(text) > max_digits:
        return f"{what} {shown(text)} has {len(text)} hex digits; at most {max_digits} allowed"
    lowered = text.lower()
    bad = next((c for c in lowered if c not in HEX), None)
    if bad is not None:
        return f"{what} {shown(text)} contains {bad!r}, which is not hex"
    if lowered != text:
        warnings.append(f"{what} {shown(text)} uses uppercase hex")
    return ""


def parse_uber_trace_id(values: str | list[str]) -> Parsed[UberTraceId]:
    """Parse an ``uber-trace-id`` value (URL-encoded or not), saying why one is invalid."""
    first = first_value(values, HEADER)
    if first is None:
        return absent(HEADER)
    text, warnings = first
    text = text.strip(" \t")
    if "%" in text:
        text = unquote(text)
        warnings.append("value was URL-encoded; decoded it")
    parts = text.split(":")
    if len(parts) != 4:
        return invalid(
            HEADER,
            f"{len(parts)} ':'-separated {plural(len(parts), 'field')}; expected "
            "trace-id:span-id:parent-id:flags",
        )
    trace_id, span_id, parent, flags_text = parts
    reason = _id_problem("trace-id", trace_id, 32, warnings) or _id_problem(
        "span-id", span_id, 16, warnings
    )
    if reason:
        return invalid(HEADER, reason)
    if parent_problem := _id_problem("parent-span-id", parent, 16, warnings):
        warnings.append(
            f"{parent_problem}; ignored: the field is deprecated and OpenTelemetry's Jaeger "
            "propagators do not read it (older Jaeger clients may reject the header; send 0)"
        )
        parent = "0"
    if int(trace_id, 16) == 0:
        return invalid(HEADER, "trace-id is 0, which is invalid")
    if int(span_id, 16) == 0:
        return invalid(HEADER, "span-id is 0, which is invalid")
    if not flags_text or len(flags_text) > 2 or not HEX.issuperset(flags_text.lower()):
        return invalid(HEADER, f"flags {shown(flags_text)} is not one byte as 1 or 2 hex digits")
    flags = int(flags_text, 16)
    if flags & ~(FLAG_SAMPLED | FLAG_DEBUG | FLAG_FIREHOSE):
        warnings.append(f"flags 0x{flags:02x} set bits with no defined meaning")
    parent = "" if int(parent, 16) == 0 else parent.lower()
    return valid(HEADER, UberTraceId(trace_id.lower(), span_id.lower(), parent, flags), warnings)


def parse_baggage(headers: Headers) -> tuple[BaggageEntry, ...]:
    """``uberctx-{key}`` headers as baggage; keys lowercased (HTTP names are case-free),
    values URL-decoded."""
    entries = []
    for name, value in headers:
        if name.lower().startswith(BAGGAGE_PREFIX) and len(name) > len(BAGGAGE_PREFIX):
            entries.append(BaggageEntry(name[len(BAGGAGE_PREFIX) :].lower(), unquote(value)))
    return tuple(entries)


def extract(headers: Headers) -> Parsed[Context]:
    parsed = parse_uber_trace_id(header_values(headers, HEADER))
    if parsed.value is None:
        return Parsed(reason=parsed.reason, present=parsed.present, header=HEADER)
    return valid(HEADER, parsed.value.to_context(parse_baggage(headers)), parsed.warnings)


def format_uber_trace_id(context: Context) -> str:
    flags = (FLAG_SAMPLED if context.sampled or context.debug else 0) | (
        FLAG_DEBUG if context.debug else 0
    )
    parent = context.parent_span_id or "0"
    return f"{context.trace_id}:{context.span_id}:{parent}:{flags:x}"


def inject(context: Context) -> list[tuple[str, str]]:
    out = [(HEADER, format_uber_trace_id(context))] if context.has_ids else []
    out += [(BAGGAGE_PREFIX + e.key, quote(e.value, safe="")) for e in context.baggage]
    return out
