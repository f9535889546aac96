"""B3 propagation (https://github.com/openzipkin/b3-propagation): the single ``b3`` header and
the ``X-B3-*`` multi-header form.

Rules implemented: trace ids are 16 or 32 lowercase hex (64-bit ids are left-padded to 128 bits
in the neutral context), span and parent ids 16; all-zero ids are invalid. Sampling state is
defer (absent), deny ``0``, accept ``1`` or debug ``d`` (single) / ``X-B3-Flags: 1`` (multi);
debug implies accept. A sampling state may travel without ids (``b3: 0``). Multi-header: the
first value of a repeated header wins; ``true``/``false`` in ``X-B3-Sampled`` are accepted
leniently with a warning; an empty value or nonsense (``X-B3-ParentSpanId: -``) is malformed.
When both forms are present, the single header takes precedence (``extract_any``).
"""

from __future__ import annotations

from dataclasses import dataclass

from spanscope.propagation.context import (
    Context,
    Headers,
    Parsed,
    absent,
    describe_hex_problem,
    first_value,
    header_values,
    invalid,
    is_lower_hex,
    shown,
    valid,
)
from spanscope.units import plural

SINGLE = "b3"
TRACE_ID = "X-B3-TraceId"
SPAN_ID = "X-B3-SpanId"
PARENT_SPAN_ID = "X-B3-ParentSpanId"
SAMPLED = "X-B3-Sampled"
FLAGS = "X-B3-Flags"
MULTI_HEADERS = (TRACE_ID, SPAN_ID, PARENT_SPAN_ID, SAMPLED, FLAGS)
_STATES = {"0": "deny", "1": "accept", "d": "debug"}


@dataclass(frozen=True, slots=True)
class B3:
    """The B3 fields as sent. ``sampling`` is ``"defer"``, ``"deny"``, ``"accept"`` or
    ``"debug"``; ids are as received (a 64-bit trace id stays 16 characters here)."""

    trace_id: str = ""
    span_id: str = ""
    parent_span_id: str = ""
    sampling: str = "defer"

    def to_context(self) -> Context:
        return Context(
            trace_id=self.trace_id.rjust(32, "0") if self.trace_id else "",
            span_id=self.span_id,
            parent_span_id=self.parent_span_id,
            sampled=None if self.sampling == "defer" else self.sampling != "deny",
            debug=self.sampling == "debug",
        )


def _trace_id_problem(text: str) -> str:
    if is_lower_hex(text) and len(text) in (16, 32) and set(text) != {"0"}:
        return ""
    return describe_hex_problem("TraceId", text, (16, 32))


def _span_id_problem(what: str, text: str) -> str:
    if is_lower_hex(text, 16) and set(text) != {"0"}:
        return ""
    return describe_hex_problem(what, text, (16,))


def _sampling(context: Context) -> str:
    if context.debug:
        return "debug"
    if context.sampled is None:
        return "defer"
    return "accept" if context.sampled else "deny"


def parse_single(value: str | list[str]) -> Parsed[B3]:
    """Parse the single ``b3`` header: ``{TraceId}-{SpanId}[-{SamplingState}[-{ParentSpanId}]]``
    or a bare sampling state."""
    first = first_value(value, "b3")
    if first is None:
        return absent(SINGLE)
    text, warnings = first
    text = text.strip(" \t")
    if not text:
        return invalid(SINGLE, "b3 header is empty")
    if text in _STATES:
        return valid(SINGLE, B3(sampling=_STATES[text]), warnings)
    parts = text.split("-")
    if len(parts) < 2 or len(parts) > 4:
        return invalid(
            SINGLE,
            f"{len(parts)} '-'-separated {plural(len(parts), 'field')}; expected "
            "TraceId-SpanId with optional "
            "SamplingState and ParentSpanId, or a bare sampling state (0, 1, d)",
        )
    reason = _trace_id_problem(parts[0]) or _span_id_problem("SpanId", parts[1])
    if reason:
        return invalid(SINGLE, reason)
    sampling = "defer"
    if len(parts) >= 3:
        if parts[2] not in _STATES:
            return invalid(
                SINGLE,
                f"SamplingState {shown(parts[2])} is not one of 0 (deny), 1 (accept), d (debug)",
            )
        sampling = _STATES[parts[2]]
    parent = ""
    if len(parts) == 4:
        reason = _span_id_problem("ParentSpanId", parts[3])
        if reason:
            return invalid(SINGLE, reason)
        parent = parts[3]
    return valid(SINGLE, B3(parts[0], parts[1], parent, sampling), warnings)


def parse_multi(headers: Headers) -> Parsed[B3]:
    """Parse the ``X-B3-*`` headers (any case). Present but partial ids (a TraceId without a
    SpanId) are invalid; a lone ParentSpanId is read but gives no context ids."""
    found = {name: header_values(headers, name) for name in MULTI_HEADERS}
    if not any(found.values()):
        return absent("x-b3-*")
    warnings = [f"{name} repeated; used the first value" for name, v in found.items() if len(v) > 1]
    first = {name: (v[0].strip(" \t") if v else None) for name, v in found.items()}
    trace_id, span_id, parent = first[TRACE_ID], first[SPAN_ID], first[PARENT_SPAN_ID]
    if trace_id is not None and (reason := _trace_id_problem(trace_id)):
        return invalid(TRACE_ID, f"{TRACE_ID}: {reason}")
    if span_id is not None and (reason := _span_id_problem("SpanId", span_id)):
        return invalid(SPAN_ID, f"{SPAN_ID}: {reason}")
    if parent is not None and (reason := _span_id_problem("ParentSpanId", parent)):
        return invalid(PARENT_SPAN_ID, f"{PARENT_SPAN_ID}: {reason}")
    if (trace_id is None) != (span_id is None):
        have, missing = (TRACE_ID, SPAN_ID) if span_id is None else (SPAN_ID, TRACE_ID)
        return invalid(have, f"{have} without {missing}: both are needed for a context")
    if parent is not None and trace_id is None:
        warnings.append(f"{PARENT_SPAN_ID} without {TRACE_ID}/{SPAN_ID} carries no context")
    sampling = "defer"
    sampled = first[SAMPLED]
    if sampled is not None:
        if sampled in ("0", "1"):
            sampling = _STATES[sampled]
        elif sampled.lower() in ("true", "false"):
            sampling = "accept" if sampled.lower() == "true" else "deny"
            warnings.append(f"{SAMPLED}: {shown(sampled)} is legacy; send 1 or 0")
        elif not sampled:
            return invalid(SAMPLED, f"{SAMPLED} is empty (malformed); omit it to defer")
        else:
            return invalid(SAMPLED, f"{SAMPLED} {shown(sampled)} is not 1 (accept) or 0 (deny)")
    flags = first[FLAGS]
    if flags is not None:
        if flags == "1":
            if sampled is not None:
                warnings.append(f"{FLAGS}: 1 (debug) implies accept; do not also send {SAMPLED}")
            sampling = "debug"
        else:
            warnings.append(f"{FLAGS} {shown(flags)} ignored: only 1 (debug) has a meaning")
    return valid(SINGLE, B3(trace_id or "", span_id or "", parent or "", sampling), warnings)


def extract_single(headers: Headers) -> Parsed[Context]:
    return _to_context(parse_single(header_values(headers, SINGLE)))


def extract_multi(headers: Headers) -> Parsed[Context]:
    return _to_context(parse_multi(headers))


def extract_any(headers: Headers) -> Parsed[Context]:
    """As a B3 receiver does: the single header wins over the multi-header form."""
    single = extract_single(headers)
    return single if single.present else extract_multi(headers)


def _to_context(parsed: Parsed[B3]) -> Parsed[Context]:
    if parsed.value is None:
        return Parsed(reason=parsed.reason, present=parsed.present, header=parsed.header)
    return valid(parsed.header, parsed.value.to_context(), parsed.warnings)


def format_single(context: Context) -> str:
    """The ``b3`` value: ids with sampling state and parent when known, or a bare state."""
    state = {"deny": "0", "accept": "1", "debug": "d"}.get(_sampling(context), "")
    if not context.has_ids:
        return state
    fields = [context.trace_id, context.span_id]
    if state:
        fields.append(state)
        if context.parent_span_id:
            fields.append(context.parent_span_id)
    return "-".join(fields)


def inject_single(context: Context) -> list[tuple[str, str]]:
    value = format_single(context)
    return [(SINGLE, value)] if value else []


def inject_multi(context: Context) -> list[tuple[str, str]]:
    """The ``x-b3-*`` headers, lowercase as the spec prefers for case-sensitive carriers."""
    out: list[tuple[str, str]] = []
    if context.has_ids:
        out += [(TRACE_ID.lower(), context.trace_id), (SPAN_ID.lower(), context.span_id)]
        if context.parent_span_id:
            out.append((PARENT_SPAN_ID.lower(), context.parent_span_id))
    sampling = _sampling(context)
    if sampling == "debug":
        out.append((FLAGS.lower(), "1"))  # debug implies accept: no X-B3-Sampled with it
    elif sampling != "defer":
        out.append((SAMPLED.lower(), "1" if sampling == "accept" else "0"))
    return out
