"""Spans with a time past 2^63-1 ns: what the OTLP readers (protobuf and JSON) do with them.

OTLP times are fixed64, up to 2^64-1 ns; the model, and every store, keeps nanoseconds up to
2^63-1 (the year 2262). Both OTLP readers leave a span with a start, end or event time past
that out, with a warning (``leave_out``) naming the source, the span's place in the format's
own terms (protobuf: resource/scope/span index and byte offset; JSON: the JSON path, after the
line for JSON lines), its ids and name, and the field; then they read the rest: one bad clock
loses one span, not the file. ``Rejections`` counts the spans left out of one request, which a
receiver answers as OTLP's partial success (``DecodedRequest``: ``rejected_spans`` and the first
one's warning), or as a permanent error when nothing else was in it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from spanscope.errors import Diagnostics
from spanscope.formats.otlp_common import INT64_MAX
from spanscope.model import Span

LATEST = INT64_MAX  # the latest time, in ns since the epoch, the model keeps
_NAME_SHOWN = 60  # characters of a span's name a warning shows


@dataclass(slots=True)
class Rejections:
    """The spans a read left out (a time past int64): how many, and the first one's warning."""

    count: int = 0
    first: str = ""

    def summary(self) -> str:
        """The first warning, and how many more spans were left out (empty: none)."""
        if self.count > 1:
            return f"{self.first} (and {self.count - 1:,} more spans with times past int64)"
        return self.first


class DecodedRequest(NamedTuple):
    """What a reader's ``decode_request`` gives: the spans read, and how many were left out and
    why (the first one's warning, and how many more), as OTLP's partial success says it."""

    spans: list[Span]
    rejected: int
    message: str


def decoded_request(spans: list[Span], rejections: Rejections) -> DecodedRequest:
    return DecodedRequest(spans, rejections.count, rejections.summary())


def leave_out(
    diagnostics: Diagnostics,
    rejections: Rejections,
    source: str,
    place: str,
    span: tuple[str, str, str],
    field_name: str,
    value: int,
) -> None:
    """Warn that ``span`` (span id, name, trace id) is left out for ``field_name`` = ``value``,
    past 2^63-1 ns, and count it in ``rejections``."""
    span_id, name, trace_id = span
    if len(name) > _NAME_SHOWN:
        name = name[:_NAME_SHOWN] + "..."
    message = (
        f"span {span_id} ({name!r}) of trace {trace_id}: {field_name} {value} is past "
        f"2^63-1 ns (the year 2262), the latest time spanscope keeps; the span is left out"
    )
    diagnostics.warn(source, place, message)
    rejections.count += 1
    if rejections.count == 1:
        rejections.first = f"{source}: {place}: {message}"
