"""W3C Trace Context: the ``traceparent`` and ``tracestate`` headers, Level 1 and Level 2.

Rules implemented (https://www.w3.org/TR/trace-context-2/):
- ``traceparent`` = ``version-traceid-parentid-flags``, all lowercase hex; version ``ff`` is
  forbidden; version ``00`` is exactly 55 characters; a higher (future) version is parsed for
  its first four fields when the header is at least 55 characters and the flags are followed by
  the end or a ``-`` (only the sampled flag is used), and is sent on as version ``00``;
  all-zero ids are invalid; repeated ``traceparent`` headers make the context invalid;
  surrounding spaces and tabs are ignored.
- flags: bit 0 sampled, bit 1 (Level 2) random trace id, the rest reserved (ignored on receipt,
  sent as zero).
- ``tracestate``: repeated headers are combined in order; empty and whitespace-only members are
  allowed; keys follow the current grammar ``(lcalpha / DIGIT) 0*255 keychar`` with
  ``@`` allowed anywhere after the first character (keys that the older Level 1 tenant@system
  grammar rejects get a warning); values are up to 256 printable characters without ``,`` and
  ``=``, not ending in a space; more than 32 members, or any malformed member, invalidates the
  whole tracestate (as the W3C test suite expects); a repeated key keeps its first value; a
  tracestate is not read at all when the traceparent is invalid.
- sending: tracestate is truncated to 512 characters the way the spec says (entries over 128
  characters first, then from the right).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from spanscope.propagation.context import (
    Context,
    Headers,
    Parsed,
    absent,
    describe_hex_problem,
    header_values,
    invalid,
    is_lower_hex,
    shown,
    valid,
)

NAME = "w3c"
TRACEPARENT = "traceparent"
TRACESTATE = "tracestate"
HEADERS = (TRACEPARENT, TRACESTATE)

FLAG_SAMPLED = 0x01
FLAG_RANDOM = 0x02
KNOWN_FLAGS = FLAG_SAMPLED | FLAG_RANDOM
MAX_MEMBERS = 32
PROPAGATE_CHARS = 512
LARGE_ENTRY = 128
_OWS = " \t"

_KEY_RE = re.compile(r"[a-z0-9][a-z0-9_\-*/@]{0,255}")
_VALUE_RE = re.compile(r"[\x20-\x2b\x2d-\x3c\x3e-\x7e]{0,255}[\x21-\x2b\x2d-\x3c\x3e-\x7e]")
_LEVEL1_CHARS = r"[a-z0-9_\-*/]"
_LEVEL1_KEY_RE = re.compile(
    rf"[a-z]{_LEVEL1_CHARS}{{0,255}}|[a-z0-9]{_LEVEL1_CHARS}{{0,240}}@[a-z]{_LEVEL1_CHARS}{{0,13}}"
)


@dataclass(frozen=True, slots=True)
class Traceparent:
    version: int
    trace_id: str
    parent_id: str
    flags: int

    @property
    def sampled(self) -> bool:
        return bool(self.flags & FLAG_SAMPLED)

    @property
    def random(self) -> bool:
        return bool(self.flags & FLAG_RANDOM)

    def format(self) -> str:
        return f"{self.version:02x}-{self.trace_id}-{self.parent_id}-{self.flags:02x}"


def _hex_field(what: str, text: str, length: int) -> str:
    """Reason ``text`` is not a valid id field, or "" when it is."""
    if is_lower_hex(text, length) and set(text) != {"0"}:
        return ""
    return describe_hex_problem(what, text, (length,))


def parse_traceparent(values: str | Sequence[str]) -> Parsed[Traceparent]:
    """Parse the ``traceparent`` header value(s) strictly, saying why one is invalid."""
    if isinstance(values, str):
        values = [values]
    if not values:
        return absent(TRACEPARENT)
    if len(values) > 1:
        return invalid(
            TRACEPARENT,
            f"{len(values)} traceparent headers; a request must carry exactly one, "
            "so the context is ambiguous and must be ignored",
        )
    value = values[0].strip(_OWS)
    version_text = value[:2]
    if len(value) < 3 or value[2] != "-" or not is_lower_hex(version_text, 2):
        head = value.split("-", 1)[0]
        return invalid(
            TRACEPARENT,
            f"version {shown(head)} is not 2 lowercase hex digits followed by '-'",
        )
    if version_text == "ff":
        return invalid(TRACEPARENT, "version ff is forbidden")
    version = int(version_text, 16)
    warnings: list[str] = []
    if version == 0:
        parts = value.split("-")
        if len(parts) != 4:
            return invalid(
                TRACEPARENT,
                f"version 00 has exactly 4 '-'-separated fields, found {len(parts)}; "
                "extra data is only allowed from version 01 on",
            )
        _, trace_id, parent_id, flags_text = parts
    else:
        if len(value) < 55:
            return invalid(
                TRACEPARENT,
                f"future version {version_text} header is {len(value)} characters; "
                "at least 55 are needed to read the version-00 fields",
            )
        if len(value) > 55 and value[55] != "-":
            return invalid(
                TRACEPARENT,
                f"future version {version_text}: trace-flags must be followed by '-' or the "
                f"end, found {value[55]!r}",
            )
        trace_id, parent_id, flags_text = value[3:35], value[36:52], value[53:55]
        if value[35] != "-" or value[52] != "-":
            return invalid(
                TRACEPARENT,
                f"future version {version_text}: fields are not at the version-00 positions",
            )
        warnings.append(
            f"version {version_text} is newer than 00: read its trace-id, parent-id and "
            "sampled flag (other flags may mean something else there); sent on as version 00"
        )
    reason = _hex_field("trace-id", trace_id, 32) or _hex_field("parent-id", parent_id, 16)
    if reason:
        return invalid(TRACEPARENT, reason)
    if not is_lower_hex(flags_text, 2):
        return invalid(TRACEPARENT, describe_hex_problem("trace-flags", flags_text, (2,)))
    flags = int(flags_text, 16)
    if version > 0:
        flags &= FLAG_SAMPLED  # the spec: only the sampled bit is defined across versions
    if version == 0 and flags & ~KNOWN_FLAGS:
        warnings.append(
            f"trace-flags {flags_text} set reserved bits; they are ignored and sent as zero"
        )
    return valid(TRACEPARENT, Traceparent(version, trace_id, parent_id, flags), warnings)


def parse_tracestate(values: str | Sequence[str]) -> Parsed[tuple[tuple[str, str], ...]]:
    """Parse (and combine) ``tracestate`` header value(s) into ordered ``(key, value)`` pairs."""
    if isinstance(values, str):
        values = [values]
    if not values:
        return absent(TRACESTATE)
    combined = ",".join(values)
    members: list[tuple[str, str]] = []
    seen: set[str] = set()
    warnings: list[str] = []
    count = 0
    for index, raw in enumerate(combined.split(",")):
        member = raw.strip(_OWS)
        if not member:
            continue  # empty members are allowed (they come from combining empty headers)
        count += 1
        key, eq, value = member.partition("=")
        if not eq:
            return invalid(TRACESTATE, f"member {index + 1} {shown(member)} has no '='")
        if not _KEY_RE.fullmatch(key):
            return invalid(TRACESTATE, f"member {index + 1}: {_key_problem(key)}")
        if not _VALUE_RE.fullmatch(value):
            return invalid(TRACESTATE, f"member {index + 1} ({key}): {_value_problem(value)}")
        if key in seen:
            warnings.append(f"key {shown(key)} repeated; kept the first value")
            continue
        if not _LEVEL1_KEY_RE.fullmatch(key):
            warnings.append(
                f"key {shown(key)} is valid now but not under the Level 1 tenant@system grammar; "
                "older tracers may drop the whole tracestate"
            )
        seen.add(key)
        members.append((key, value))
    if count > MAX_MEMBERS:
        return invalid(TRACESTATE, f"{count} list-members; at most {MAX_MEMBERS} are allowed")
    size = len(format_tracestate(members, limit=None))
    if size > PROPAGATE_CHARS:
        warnings.append(
            f"combined tracestate is {size} characters; vendors need only propagate "
            f"{PROPAGATE_CHARS}, so expect entries to be dropped downstream"
        )
    return valid(TRACESTATE, tuple(members), warnings)


def _key_problem(key: str) -> str:
    if not key:
        return "empty key"
    if len(key) > 256:
        return f"key of {len(key)} characters; at most 256 are allowed"
    if not ("a" <= key[0] <= "z" or "0" <= key[0] <= "9"):
        return f"key {shown(key)} must start with a lowercase letter or a digit"
    bad = next(c for c in key if not re.fullmatch(r"[a-z0-9_\-*/@]", c))
    return f"key {shown(key)} contains {bad!r}; allowed are a-z 0-9 _ - * / @"


def _value_problem(value: str) -> str:
    if not value:
        return "empty value"
    if len(value) > 256:
        return f"value of {len(value)} characters; at most 256 are allowed"
    if value.endswith(" "):
        return "value ends with a space"
    bad = next((c for c in value if c in ",=" or not " " <= c <= "~"), None)
    return f"value {shown(value)} contains {bad!r}; only printable ASCII except ',' and '='"


def format_tracestate(
    members: Sequence[tuple[str, str]], limit: int | None = PROPAGATE_CHARS
) -> str:
    """Serialise members; over ``limit`` characters, drop whole entries as the spec says:
    entries longer than 128 characters first, then from the right."""
    kept = [f"{key}={value}" for key, value in members]
    if limit is not None:
        while kept and len(",".join(kept)) > limit:
            large = [i for i, entry in enumerate(kept) if len(entry) > LARGE_ENTRY]
            kept.pop(large[0] if large else -1)
    return ",".join(kept)


def extract(headers: Headers) -> Parsed[Context]:
    """The context in ``traceparent``/``tracestate``. A bad tracestate does not invalidate the
    traceparent; it is dropped with a warning (the spec: failing to parse tracestate must not
    affect traceparent)."""
    parent = parse_traceparent(header_values(headers, TRACEPARENT))
    if not parent.ok:
        return Parsed(reason=parent.reason, present=parent.present, header=TRACEPARENT)
    tp = parent.value
    assert tp is not None
    warnings = list(parent.warnings)
    state = parse_tracestate(header_values(headers, TRACESTATE))
    members: tuple[tuple[str, str], ...] = ()
    if state.ok:
        members = state.value or ()
        warnings.extend(f"tracestate: {w}" for w in state.warnings)
    elif state.present:
        warnings.append(f"tracestate ignored: {state.reason}")
    context = Context(
        trace_id=tp.trace_id,
        span_id=tp.parent_id,
        sampled=tp.sampled,
        random=tp.random,
        tracestate=members,
    )
    return valid(TRACEPARENT, context, warnings)


def inject(context: Context) -> list[tuple[str, str]]:
    """``traceparent`` (version 00, reserved flags zero) and ``tracestate`` when there is one.
    A context without ids cannot be written in W3C form: nothing is written."""
    if not context.has_ids:
        return []
    flags = (FLAG_SAMPLED if context.sampled or context.debug else 0) | (
        FLAG_RANDOM if context.random else 0
    )
    out = [(TRACEPARENT, Traceparent(0, context.trace_id, context.span_id, flags).format())]
    state = format_tracestate(context.tracestate)
    if state:
        out.append((TRACESTATE, state))
    return out
