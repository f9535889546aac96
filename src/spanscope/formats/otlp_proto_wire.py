"""Where a protobuf message that protobuf refuses goes wrong, for ``otlp_proto``'s error.

Protobuf says nothing but "error parsing" about a message it refuses. ``first_bad_entry`` walks
the top level of a ``TracesData`` field by field (tags and lengths only, every read bounded) and
gives the byte offset of the first field that is cut short or not protobuf, or of the first
``resource_spans`` entry protobuf refuses on its own, with why. The reader then keeps the spans
of the whole entries before it (a truncated export is whole but for its last entry).
"""

from __future__ import annotations

from google.protobuf.message import DecodeError
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans

# Bytes each fixed-size wire type takes (1: 64-bit, 5: 32-bit).
_FIXED = {1: 8, 5: 4}


def _varint(data: bytes, at: int) -> tuple[int, int] | None:
    """The varint at ``at`` and the offset after it, or None if the data ends inside it."""
    value = shift = 0
    while at < len(data) and shift < 64:
        byte = data[at]
        value |= (byte & 0x7F) << shift
        at += 1
        if byte < 0x80:
            return value, at
        shift += 7
    return None


def first_bad_entry(data: bytes) -> tuple[int, str]:
    """The offset of the first top-level field that is cut short, not protobuf, or a
    ``resource_spans`` entry protobuf refuses, with why; ``(0, "")`` if none is found."""
    at = 0
    while at < len(data):
        tag = _varint(data, at)
        if tag is None:
            return at, "the file ends inside a field's header (truncated?)"
        field, wire_type = tag[0] >> 3, tag[0] & 7
        end = tag[1]
        if wire_type == 0:
            after = _varint(data, end)
            if after is None:
                return at, "the file ends inside a number (truncated?)"
            end = after[1]
        elif wire_type == 2:
            length = _varint(data, end)
            if length is None or length[1] + length[0] > len(data):
                what = "a resource_spans entry" if field == 1 else f"field {field}"
                size = f" of {length[0]:,} bytes" if length else ""
                return at, f"{what}{size} runs past the end of the file (truncated?)"
            end = length[1] + length[0]
            if field == 1:
                try:
                    ResourceSpans.FromString(data[length[1] : end])
                except DecodeError:
                    return at, "this resource_spans entry is corrupt"
        elif wire_type in _FIXED:
            end += _FIXED[wire_type]
            if end > len(data):
                return at, "the file ends inside a number (truncated?)"
        else:
            return at, f"field {field} has wire type {wire_type}, not protobuf here (corrupt?)"
        at = end
    return 0, ""
