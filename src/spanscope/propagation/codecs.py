"""The propagation formats by name, and what works across them: extracting whichever context a
request carries, injecting one context in chosen formats, converting headers between formats,
and reading header text a user pasted.

Format names: ``w3c`` (traceparent + tracestate + baggage), ``b3`` (single header), ``b3multi``
(``X-B3-*``), ``jaeger`` (uber-trace-id + uberctx-*), ``xray`` (X-Amzn-Trace-Id). Formats that
have no baggage of their own (b3, b3multi, xray) travel with the W3C ``baggage`` header, as
OpenTelemetry's default propagators do.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace

from spanscope.propagation import b3, baggage, jaeger, w3c, xray
from spanscope.propagation.context import HEX, Context, Headers, Parsed, valid

_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")


@dataclass(frozen=True, slots=True)
class Codec:
    name: str
    description: str
    headers: tuple[str, ...]  # header names (or prefixes ending in '-') it reads and writes
    extract: Callable[[Headers], Parsed[Context]]
    inject: Callable[[Context], list[tuple[str, str]]]
    own_baggage: bool  # carries baggage in its own headers


def _w3c_extract(headers: Headers) -> Parsed[Context]:
    parsed = w3c.extract(headers)
    if parsed.value is None:
        return parsed
    return _with_w3c_baggage(parsed, headers)


def _with_w3c_baggage(parsed: Parsed[Context], headers: Headers) -> Parsed[Context]:
    assert parsed.value is not None
    found = baggage.extract_entries(headers)
    if not found.present:
        return parsed
    warnings = list(parsed.warnings)
    if found.value is None:
        warnings.append(f"baggage ignored: {found.reason}")
        return valid(parsed.header, parsed.value, warnings)
    warnings += [f"baggage: {w}" for w in found.warnings]
    context = replace(parsed.value, baggage=parsed.value.baggage + found.value)
    return valid(parsed.header, context, warnings)


def _w3c_inject(context: Context) -> list[tuple[str, str]]:
    if not context.has_ids:
        return []
    return w3c.inject(context) + baggage.inject_entries(context.baggage)


def _plus_baggage(
    extract: Callable[[Headers], Parsed[Context]],
) -> Callable[[Headers], Parsed[Context]]:
    def extract_with_baggage(headers: Headers) -> Parsed[Context]:
        parsed = extract(headers)
        return parsed if parsed.value is None else _with_w3c_baggage(parsed, headers)

    return extract_with_baggage


CODECS: dict[str, Codec] = {
    c.name: c
    for c in (
        Codec(
            "w3c",
            "W3C Trace Context (traceparent, tracestate) and W3C baggage",
            ("traceparent", "tracestate", "baggage"),
            _w3c_extract,
            _w3c_inject,
            True,
        ),
        Codec(
            "b3",
            "B3 single header (b3)",
            ("b3",),
            _plus_baggage(b3.extract_single),
            b3.inject_single,
            False,
        ),
        Codec(
            "b3multi",
            "B3 multiple headers (X-B3-TraceId, X-B3-SpanId, ...)",
            tuple(h.lower() for h in b3.MULTI_HEADERS),
            _plus_baggage(b3.extract_multi),
            b3.inject_multi,
            False,
        ),
        Codec(
            "jaeger",
            "Jaeger (uber-trace-id, uberctx-* baggage)",
            ("uber-trace-id", "uberctx-"),
            jaeger.extract,
            jaeger.inject,
            True,
        ),
        Codec(
            "xray",
            "AWS X-Ray (X-Amzn-Trace-Id)",
            ("x-amzn-trace-id",),
            _plus_baggage(xray.extract),
            xray.inject,
            False,
        ),
    )
}
FORMAT_NAMES = tuple(CODECS)
# what a B3 receiver does: read both forms, the single header winning
extract_b3_any = _plus_baggage(b3.extract_any)
# When a request carries several formats that disagree, the first valid one in this order wins.
PRIORITY = ("w3c", "b3", "b3multi", "jaeger", "xray")


def resolve_formats(spec: str | Iterable[str]) -> list[str]:
    """``"all"``, ``"w3c,b3"`` or a list of names -> known names; ValueError naming choices."""
    names = spec.split(",") if isinstance(spec, str) else list(spec)
    out: list[str] = []
    for name in (n.strip().lower() for n in names):
        if name == "all":
            out += [n for n in FORMAT_NAMES if n not in out]
        elif name in CODECS:
            if name not in out:
                out.append(name)
        elif name:
            raise ValueError(f"unknown format {name!r}; choose from {', '.join(FORMAT_NAMES)}, all")
    if not out:
        raise ValueError("no format given")
    return out


def is_context_header(name: str) -> bool:
    """True for any header one of the formats reads (used to show what a hop received)."""
    lowered = name.lower()
    return any(
        lowered == h or (h.endswith("-") and lowered.startswith(h))
        for codec in CODECS.values()
        for h in codec.headers
    )


def extract_all(headers: Headers) -> dict[str, Parsed[Context]]:
    """Every format's reading of ``headers``, including ``absent`` ones."""
    return {name: codec.extract(headers) for name, codec in CODECS.items()}


def first_valid(results: dict[str, Parsed[Context]]) -> tuple[str, Context] | None:
    """The context to use: the first valid one in ``PRIORITY`` order, preferring one with a
    trace id over a bare sampling decision (``b3: 0`` beside an ``uber-trace-id``)."""
    valid_ones = [
        (n, context)
        for n in PRIORITY
        if n in results and (context := results[n].value) is not None  # i.e. results[n].ok
    ]
    with_ids = [(n, c) for n, c in valid_ones if c.trace_id]
    chosen = with_ids or valid_ones
    return chosen[0] if chosen else None


def disagreements(results: dict[str, Parsed[Context]]) -> list[str]:
    """Formats whose valid contexts name different traces or spans (a hop that updates one
    format and passes another through untouched)."""
    found = [(n, p.value) for n, p in results.items() if p.value is not None and p.value.trace_id]
    notes = []
    for name, context in found[1:]:
        first_name, first = found[0]
        if context.trace_id != first.trace_id:
            notes.append(f"{name} trace id {context.trace_id} differs from {first_name}'s")
        elif context.span_id and first.span_id and context.span_id != first.span_id:
            notes.append(f"{name} parent span id {context.span_id} differs from {first_name}'s")
    return notes


def inject(context: Context, formats: Sequence[str]) -> list[tuple[str, str]]:
    """Headers carrying ``context`` in each of ``formats``; baggage goes in the W3C
    ``baggage`` header when none of the formats carries baggage itself."""
    out: list[tuple[str, str]] = []
    for name in formats:
        out += CODECS[name].inject(context)
    if context.baggage and not any(CODECS[n].own_baggage for n in formats):
        out += baggage.inject_entries(context.baggage)
    return out


def convert(headers: Headers, to: Sequence[str]) -> Parsed[list[tuple[str, str]]]:
    """Read the context ``headers`` carry (first valid format by priority) and write it in the
    ``to`` formats. Invalid when no format gives a valid context."""
    results = extract_all(headers)
    found = first_valid(results)
    if found is None:
        reasons = [f"{n}: {p.reason}" for n, p in results.items() if p.present]
        return Parsed(reason="; ".join(reasons) or "no trace context headers", header="")
    name, context = found
    warnings = list(results[name].warnings)
    if "xray" in to and context.trace_id:
        note = xray.time_part_warning(context.trace_id)
        if note:
            warnings.append(note)
    if not context.has_ids:
        lost = [n for n in to if n not in ("b3", "b3multi")]
        if lost:
            warnings.append(f"{name} carried no ids, so {', '.join(lost)} cannot express it")
    return valid(name, inject(context, to), warnings)


def parse_header_text(text: str) -> list[tuple[str, str]]:
    """Headers from text a user pasted: ``Name: value`` lines (or ``Name=value`` for
    ``--header`` style), or a bare value whose format is guessed from its shape."""
    headers: list[tuple[str, str]] = []
    for line in text.splitlines():
        if not line.strip():
            continue
        name, sep, value = line.partition(":")
        name = name.strip()
        # "abc:def:0:1" is a bare uber-trace-id, not a header named "abc"
        named = sep and _TOKEN.fullmatch(name) and not HEX.issuperset(name.lower())
        if named or (sep and is_context_header(name)):
            headers.append((name, value.strip(" \t")))
        else:
            headers.append((guess_header(line.strip()), line.strip()))
    return headers


def guess_header(value: str) -> str:
    """The header a bare value most likely belongs to, by its shape; ``""`` when it looks like
    none of them."""
    if value.startswith(("Root=", "Self=", "Parent=")) or "Root=1-" in value:
        return "X-Amzn-Trace-Id"
    if value.count(":") == 3 or "%3A" in value.upper():
        return "uber-trace-id"
    parts = value.split("-")
    if len(parts) >= 4 and len(parts[0]) == 2:
        return "traceparent"
    if value in ("0", "1", "d") or (2 <= len(parts) <= 4 and len(parts[0]) in (16, 32)):
        return "b3"
    if "=" in value:
        return "tracestate" if "," in value or ";" not in value else "baggage"
    return ""
