"""W3C Baggage: the ``baggage`` header (https://www.w3.org/TR/baggage/).

Grammar: ``list-member *( OWS "," OWS list-member )``; a member is ``key OWS "=" OWS value``
followed by optional ``;``-separated properties. Keys are RFC 9110 tokens; values are
baggage-octets (printable ASCII without space, ``"``, ``,``, ``;`` and ``\\``) and are
percent-decoded as UTF-8 (invalid UTF-8 becomes U+FFFD, with a warning). Repeated headers are
combined in order. Limits: a sender must propagate all members while there are at most 64 of
them in at most 8192 bytes; past that we warn (members may be dropped downstream). Any
malformed member makes the header invalid, with the member named in the reason.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from urllib.parse import quote, unquote

from spanscope.propagation.context import (
    BaggageEntry,
    Headers,
    Parsed,
    absent,
    header_values,
    invalid,
    shown,
    valid,
)

HEADER = "baggage"
MAX_MEMBERS = 64
MAX_BYTES = 8192
_OWS = " \t"
_TOKEN_RE = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_VALUE_RE = re.compile(r"[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]*")
_PERCENT_RE = re.compile(r"%(?![0-9A-Fa-f]{2})")
# what percent-encoding must leave alone: the baggage-octets except '%' itself
_SAFE = "!#$&'()*+-./:<>?@[]^_`{|}~"


def parse_baggage(values: str | Sequence[str]) -> Parsed[tuple[BaggageEntry, ...]]:
    """Parse (and combine) ``baggage`` header value(s); values come out percent-decoded."""
    if isinstance(values, str):
        values = [values]
    if not values:
        return absent(HEADER)
    combined = ",".join(values)
    entries: list[BaggageEntry] = []
    warnings: list[str] = []
    for index, raw in enumerate(combined.split(",")):
        member = raw.strip(_OWS)
        if not member:
            warnings.append(f"member {index + 1} is empty")
            continue
        head, _, properties = member.partition(";")
        key, eq, value = head.partition("=")
        key, value = key.strip(_OWS), value.strip(_OWS)
        where = f"member {index + 1} {shown(member)}"
        if not eq:
            return invalid(HEADER, f"{where} has no '='")
        if not _TOKEN_RE.fullmatch(key):
            return invalid(HEADER, f"{where}: key {shown(key)} is not a token")
        if not _VALUE_RE.fullmatch(value):
            bad = next(c for c in value if not _VALUE_RE.fullmatch(c))
            return invalid(
                HEADER, f"{where}: value contains {bad!r}, which must be percent-encoded"
            )
        if _PERCENT_RE.search(value):
            return invalid(HEADER, f"{where}: '%' not followed by two hex digits")
        try:
            decoded = unquote(value, errors="strict")
        except UnicodeDecodeError:
            # the spec: invalid UTF-8 is replaced by U+FFFD, not a reason to drop the member
            decoded = unquote(value, errors="replace")
            warnings.append(f"{where}: percent-encoded bytes are not UTF-8; replaced by U+FFFD")
        reason = _property_problem(properties)
        if reason:
            return invalid(HEADER, f"{where}: {reason}")
        entries.append(BaggageEntry(key, decoded, properties.strip(_OWS)))
    if len(entries) > MAX_MEMBERS:
        warnings.append(
            f"{len(entries)} members; only {MAX_MEMBERS} must be propagated, expect drops"
        )
    if len(combined.encode()) > MAX_BYTES:
        warnings.append(
            f"{len(combined.encode())} bytes; only {MAX_BYTES} must be propagated, expect drops"
        )
    return valid(HEADER, tuple(entries), warnings)


def _property_problem(properties: str) -> str:
    if not properties:
        return ""
    for prop in properties.split(";"):
        prop_key, eq, prop_value = prop.partition("=")
        prop_key, prop_value = prop_key.strip(_OWS), prop_value.strip(_OWS)
        if not _TOKEN_RE.fullmatch(prop_key):
            return f"property key {shown(prop_key)} is not a token"
        if eq and not _VALUE_RE.fullmatch(prop_value):
            return f"property value {shown(prop_value)} has characters that must be percent-encoded"
    return ""


def format_baggage(entries: Sequence[BaggageEntry]) -> str:
    """Serialise entries, percent-encoding values (UTF-8) where the grammar requires it."""
    parts = []
    for entry in entries:
        text = f"{entry.key}={quote(entry.value, safe=_SAFE)}"
        if entry.properties:
            text += f";{entry.properties}"
        parts.append(text)
    return ",".join(parts)


def extract_entries(headers: Headers) -> Parsed[tuple[BaggageEntry, ...]]:
    return parse_baggage(header_values(headers, HEADER))


def inject_entries(entries: Sequence[BaggageEntry]) -> list[tuple[str, str]]:
    return [(HEADER, format_baggage(entries))] if entries else []
