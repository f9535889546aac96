"""AWS X-Ray propagation: the ``X-Amzn-Trace-Id`` header.

``Root=1-{8 hex time}-{24 hex};Parent={16 hex};Sampled={0|1|?}`` plus fields we read but do
not interpret (``Self``, ``Lineage``, custom keys), ``;``-separated, in any order. Only root
version 1 exists. The W3C trace id is the time part followed by the 24-hex part (as the
OpenTelemetry X-Ray propagator maps it), and back. ``Sampled=?`` asks the receiver to decide:
it maps to "defer". A header without ``Root`` (an ALB ``Self=`` alone) carries no trace.

X-Ray itself rejects traces whose time part is not within the last 30 days, so converting an
arbitrary W3C trace id to X-Ray gives a valid header the X-Ray service may still drop:
``time_part_warning`` says so.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

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

HEADER = "X-Amzn-Trace-Id"
_SAMPLED = {"1": True, "0": False, "?": None}
_MAX_AGE_S = 30 * 24 * 3600


@dataclass(frozen=True, slots=True)
class XRayHeader:
    root: str  # "1-5759e988-bd862e3fe1be46a994272793" or "" when absent
    parent: str  # 16 hex or ""
    sampled: bool | None
    fields: dict[str, str] = field(default_factory=dict)  # every key=value, as received

    @property
    def trace_id(self) -> str:
        return root_to_trace_id(self.root) if self.root else ""

    def to_context(self) -> Context:
        return Context(trace_id=self.trace_id, span_id=self.parent, sampled=self.sampled)


def root_to_trace_id(root: str) -> str:
    """``1-5759e988-bd862e3fe1be46a994272793`` -> ``5759e988bd862e3fe1be46a994272793``."""
    _, time_part, unique = root.split("-")
    return time_part + unique


def trace_id_to_root(trace_id: str) -> str:
    return f"1-{trace_id[:8]}-{trace_id[8:]}"


def time_part_warning(trace_id: str, now: float | None = None) -> str:
    """A warning when X-Ray would reject ``trace_id`` as a root (time part not recent)."""
    seconds = int(trace_id[:8], 16)
    now = time.time() if now is None else now
    if now - _MAX_AGE_S <= seconds <= now + 300:
        return ""
    return (
        f"the first 8 hex digits of trace id {trace_id} are not a recent epoch time; "
        "X-Ray drops such traces (generate ids with an X-Ray id generator)"
    )


def _root_problem(root: str) -> str:
    parts = root.split("-")
    if len(parts) != 3:
        return f"Root {shown(root)} is not 1-<8 hex>-<24 hex>"
    version, time_part, unique = parts
    if version != "1":
        return f"Root version {shown(version)} is not 1 (the only version)"
    if not is_lower_hex(time_part, 8):
        return "Root " + describe_hex_problem("time part", time_part, (8,))
    if not is_lower_hex(unique, 24):
        return "Root " + describe_hex_problem("unique part", unique, (24,))
    if set(time_part + unique) == {"0"}:
        return "Root is all zeros"
    return ""


def parse_xray(values: str | list[str]) -> Parsed[XRayHeader]:
    """Parse an ``X-Amzn-Trace-Id`` value strictly, saying why it is invalid."""
    first = first_value(values, HEADER)
    if first is None:
        return absent(HEADER)
    text, warnings = first
    fields: dict[str, str] = {}
    for index, raw in enumerate(text.split(";")):
        item = raw.strip(" \t")
        if not item:
            continue
        key, eq, value = item.partition("=")
        key, value = key.strip(" \t"), value.strip(" \t")
        if not eq or not key:
            return invalid(HEADER, f"field {index + 1} {shown(item)} is not Key=Value")
        if key in fields:
            warnings.append(f"{key} repeated; used the first")
            continue
        fields[key] = value
    root, parent = fields.get("Root", ""), fields.get("Parent", "")
    for key in fields:
        if key.lower() in ("root", "parent", "sampled") and key not in _SAMPLED_KEYS:
            warnings.append(f"key {shown(key)} is not spelled {key.capitalize()!r}; it is ignored")
    if "Root" in fields and (reason := _root_problem(root)):
        return invalid(HEADER, reason)
    if parent and not (is_lower_hex(parent, 16) and set(parent) != {"0"}):
        return invalid(HEADER, "Parent " + describe_hex_problem("id", parent, (16,)))
    if "Parent" in fields and not parent:
        return invalid(HEADER, "Parent is empty")
    sampled_text = fields.get("Sampled")
    if sampled_text is not None and sampled_text not in _SAMPLED:
        return invalid(HEADER, f"Sampled {shown(sampled_text)} is not 1, 0 or ?")
    if not root:
        if parent:
            return invalid(HEADER, "Parent without Root: the trace id is missing")
        warnings.append("no Root: the header carries no trace")
    sampled = _SAMPLED[sampled_text] if sampled_text is not None else None
    return valid(HEADER, XRayHeader(root, parent, sampled, fields), warnings)


_SAMPLED_KEYS = ("Root", "Parent", "Sampled")


def extract(headers: Headers) -> Parsed[Context]:
    parsed = parse_xray(header_values(headers, HEADER))
    if parsed.value is None:
        return Parsed(reason=parsed.reason, present=parsed.present, header=HEADER)
    return valid(HEADER, parsed.value.to_context(), parsed.warnings)


def format_xray(context: Context) -> str:
    parts = [f"Root={trace_id_to_root(context.trace_id)}"]
    if context.span_id:
        parts.append(f"Parent={context.span_id}")
    sampled = context.sampled or context.debug
    parts.append(
        "Sampled=?"
        if context.sampled is None and not context.debug
        else f"Sampled={int(bool(sampled))}"
    )
    return ";".join(parts)


def inject(context: Context) -> list[tuple[str, str]]:
    if not context.trace_id:
        return []
    return [(HEADER, format_xray(context))]
