"""The optional C decoder for OTLP protobuf, set up for ``otlp_proto.read``.

``native_spans(data)`` returns an iterator of the model spans of a ``TracesData`` (or
``ExportTraceServiceRequest``) decoded by ``spanscope.formats._otlp_native``, or ``None`` when
that decoder is not built, is switched off (``SPANSCOPE_NO_NATIVE=1``), or gives up on this
message. Giving up is how one semantics is kept with two engines: the C decoder first checks the
whole message and declines anything the upb path would reject or warn about, or that it is not
sure to read the same way (see ``module.c``'s header), so the caller then reads it with upb and
errors and warnings are the upb path's (``late_offsets`` gives that path the byte offsets of
spans with times past int64, for its warning). ``counted_native_spans`` is ``native_spans`` with
the number of spans, for a progress bar (``scan`` in place of ``check``: one pass either way).
The markers ``model_span`` takes out (``shared``, FOLLOWS_FROM links) are taken out the same
way, the latter by ``split_follows_from`` itself.
Spans the C decoder yields equal the upb path's, attribute by attribute, and share resource and
scope attribute dicts the same way (cached by their bytes as received, where upb re-serializes
them: the same thing for any encoder that writes equal resources equally).

For the ingest path the same extension also writes a message's spans straight into the store's
Arrow column buffers, without model spans: ``scan`` (check and count, without the GIL) and
``ColumnsBuilder`` (fill, without the GIL); a span it cannot write exactly as
``spanscope.store.columns.encode_batch`` would comes back as a model ``Span`` instead (contract
in ``module.c``; Arrow wrapping in ``spanscope.store.otlp_columns``).

The extension is one module built from the files of ``_otlp_native_src/`` (layout in
``module.c``'s header): the wire format and the OTLP messages' fields are read by code both
halves share (``wire.h``, ``fields.h``); the span decoder (``decode_*``, ``spans_object.c``) and
the column filler (``json_text``, ``fill_columns``, ``columns_object.c``) differ only in what
they make of those fields. Its Python interface is typed in ``_otlp_native.pyi``.

The C decoder is told at import which fields the installed ``opentelemetry-proto`` schema has,
so a field added by a newer schema makes it give up rather than silently skip a field upb reads.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple

from opentelemetry.proto.common.v1 import common_pb2
from opentelemetry.proto.resource.v1 import resource_pb2
from opentelemetry.proto.trace.v1 import trace_pb2

from spanscope.formats.otlp_common import FOLLOWS_FROM_KEY, SHARED_KEY, split_follows_from
from spanscope.model import Event, Link, Span, SpanKind, StatusCode
from spanscope.native_switch import switched_off

try:
    from spanscope.formats import _otlp_native
except ImportError:  # built without a C compiler: the upb path reads everything
    _otlp_native = None  # type: ignore[assignment]


# In the order of the C decoder's message type numbers (M_TRACES ... M_KVLIST).
_MESSAGES = (
    trace_pb2.TracesData,
    trace_pb2.ResourceSpans,
    trace_pb2.ScopeSpans,
    trace_pb2.Span,
    trace_pb2.Span.Event,
    trace_pb2.Span.Link,
    trace_pb2.Status,
    resource_pb2.Resource,
    common_pb2.InstrumentationScope,
    common_pb2.KeyValue,
    common_pb2.AnyValue,
    common_pb2.ArrayValue,
    common_pb2.KeyValueList,
)


def _configure() -> bool:
    if _otlp_native is None:
        return False
    numbers = [[field.number for field in m.DESCRIPTOR.fields] for m in _MESSAGES]
    if any(number >= 64 for fields in numbers for number in fields):
        return False  # the C decoder keeps field sets as 64-bit masks
    try:
        _otlp_native.configure(
            Span,
            Event,
            Link,
            tuple(SpanKind(value) for value in range(6)),
            tuple(StatusCode(value) for value in range(3)),
            SHARED_KEY,
            FOLLOWS_FROM_KEY,
            split_follows_from,
            tuple(sum(1 << number for number in fields) for fields in numbers),
        )
    except (TypeError, ValueError):  # an older build, or a schema without a field we read
        return False
    return True


AVAILABLE = _configure()


def enabled() -> bool:
    """Whether the C decoder is built, configured, and not switched off by the environment."""
    return AVAILABLE and not switched_off()


def native_spans(data: object) -> Iterator[Span] | None:
    """The spans of ``data`` decoded in C, or None: then read it with upb (see module doc)."""
    if type(data) is not bytes or not enabled() or not _otlp_native.check(data):
        return None
    return _otlp_native.Spans(data)


def counted_native_spans(data: object) -> tuple[int, Iterator[Span]] | None:
    """As ``native_spans``, with the number of spans it will give (for a progress bar): ``scan``
    in place of ``check``, the same pass over the message and a count of the spans' headers."""
    if type(data) is not bytes or not enabled():
        return None
    count = _otlp_native.scan(data)
    if count is None:
        return None
    return count, _otlp_native.Spans(data)


def late_offsets(data: bytes) -> dict[tuple[int, int, int], int]:
    """Byte offsets of the spans of ``data`` with a start, end or event time past 2^63-1 ns, by
    (resource, scope, span) index: what the upb path's warning names when it leaves such a span
    out (upb keeps no offsets). Empty when the extension is not built; a span missing from it
    only has no known offset. Asked even when the C decoder is switched off, so that the
    messages are the same either way."""
    if not AVAILABLE or type(data) is not bytes:
        return {}
    return {(ri, si, k): offset for ri, si, k, offset in _otlp_native.late_times(data)}


def scan(data: object) -> int | None:
    """The number of spans of ``data`` when ``ColumnsBuilder.add`` takes it, else None (then read
    it with ``otlp_proto``, which also reports what is wrong with it). Runs without the GIL."""
    if type(data) is not bytes or not enabled():
        return None
    return _otlp_native.scan(data)


class NativeColumns(NamedTuple):
    """What ``ColumnsBuilder.finish`` gives: the store's column buffers of the plain spans (named by
    ``_otlp_native.COLUMN_BUFFERS``; see ``spanscope.store.otlp_columns``), their counts, the
    (service, span name, kind number) operations, and the odd spans as (position, Span)."""

    rows: int
    events: int
    links: int
    resources: int
    scopes: int
    ranges: int
    buffers: dict[str, object]
    operations: list[tuple[str, str, int]]
    odd: list[tuple[int, Span]]


class ColumnsBuilder:
    """The store's columns of messages ``scan`` took, added one by one (``add``: filled in C
    without the GIL), then taken once (``finish``). One thread at a time; after ``add`` raised
    (a message ``scan`` did not take, or no memory) it is unusable."""

    def __init__(self) -> None:
        self._columns = _otlp_native.Columns()

    def add(self, body: bytes) -> None:
        self._columns.add(body)

    def finish(self) -> NativeColumns:
        rows, events, links, resources, scopes, ranges, buffers, operations, odd = (
            self._columns.finish()
        )
        named: dict[str, object] = dict(zip(_otlp_native.COLUMN_BUFFERS, buffers, strict=True))
        return NativeColumns(rows, events, links, resources, scopes, ranges, named, operations, odd)
