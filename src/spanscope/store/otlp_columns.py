"""OTLP protobuf requests straight to the store's columns, without model spans.

Contract: ``encode_requests(bodies)`` (or ``RequestColumns``, the same one body at a time) takes
request bodies that
``spanscope.formats.otlp_native.scan`` accepted and returns the ``columns.ColumnBatch`` that
``columns.encode_batch`` returns for their spans (``decode_spans`` of each body, in order),
except for the order of the rows: the spans the C decoder writes itself come first, in order,
then its "odd" spans (markers, dropped counts, double or bytes values, repeated keys...), which
it hands back as model spans and which ``encode_batch`` encodes, RawSpan included. Every
column value, the trace ranges and the operations are the same; the table is ``schema.COLUMNS``
with the same Arrow types, so it merges with ``encode_batch``'s tables (``columns.merge``).

Why: building a model ``Span`` (and its dicts) per span and taking it apart again for the
columns cost about 7 us of GIL-holding CPU a span on the ingest path; the C decoder fills the
Arrow buffers for a whole batch of requests without the GIL (``otlp_native.native_columns``),
and this module wraps them with a fixed number of zero-copy pyarrow calls per batch.
"""

from __future__ import annotations

from collections.abc import Sequence

import pyarrow as pa

from spanscope.formats.otlp_native import ColumnsBuilder, NativeColumns
from spanscope.model import SpanKind
from spanscope.store.columns import ColumnBatch, encode_batch, merge
from spanscope.store.schema import COLUMNS, SPAN_KINDS, STATUS_CODES

_TIME = pa.timestamp("ns")
_TEXT = pa.string()
_JSON = pa.json_()
_KIND_NAMES = pa.array(SPAN_KINDS, _TEXT)
_STATUS_NAMES = pa.array(STATUS_CODES, _TEXT)
_NAMES = [name for name, _ in COLUMNS]
_RANGE_NAMES = ["TraceId", "Start", "End", "TraceKey"]
_KINDS = tuple(SpanKind)


class RequestColumns:
    """``encode_requests`` one request at a time: ``add`` fills the columns of a body (in C,
    without the GIL) as it arrives, ``finish`` wraps them all as one batch. One thread at a
    time; after ``add`` raised (a bug, or no memory) it is unusable: encode those bodies again
    another way."""

    def __init__(self) -> None:
        self._builder = ColumnsBuilder()

    def add(self, body: bytes) -> None:
        self._builder.add(body)

    def finish(self) -> ColumnBatch:
        return _batch(self._builder.finish())


def encode_requests(bodies: Sequence[bytes]) -> ColumnBatch:
    """The store's columns for the spans of ``bodies`` (see the module docstring)."""
    builder = RequestColumns()
    for body in bodies:
        builder.add(body)
    return builder.finish()


def _batch(native: NativeColumns) -> ColumnBatch:
    buffers = {name: pa.py_buffer(buffer) for name, buffer in native.buffers.items()}
    rows = native.rows

    def fixed(name: str, arrow_type: pa.DataType, size: int = rows) -> pa.Array:
        return pa.Array.from_buffers(arrow_type, size, [None, buffers[name]])

    def text(name: str, size: int = rows, arrow_type: pa.DataType = _TEXT) -> pa.Array:
        array = pa.Array.from_buffers(
            _TEXT, size, [None, buffers[name + "_offsets"], buffers[name]]
        )
        return array if arrow_type is _TEXT else pa.ExtensionArray.from_storage(_JSON, array)

    def listed(offsets: str, values: pa.Array) -> pa.Array:
        return pa.ListArray.from_arrays(fixed(offsets, pa.int32(), rows + 1), values)

    def shared(indices: str, texts: str, size: int) -> pa.Array:
        return pa.DictionaryArray.from_arrays(fixed(indices, pa.int32()), text(texts, size, _JSON))

    events, links = native.events, native.links
    arrays = [
        fixed("start", _TIME),
        text("trace"),
        text("span"),
        text("parent"),
        text("state"),
        text("name"),
        pa.DictionaryArray.from_arrays(fixed("kind", pa.int8()), _KIND_NAMES),
        text("service"),
        shared("resource", "resource_json", native.resources),
        text("scope_name"),
        text("scope_version"),
        text("attributes", rows, _JSON),
        fixed("duration", pa.uint64()),
        pa.DictionaryArray.from_arrays(fixed("status", pa.int8()), _STATUS_NAMES),
        text("message"),
        listed("events", fixed("event_time", _TIME, events)),
        listed("events", text("event_name", events)),
        listed("events", text("event_attributes", events, _JSON)),
        listed("links", text("link_trace", links)),
        listed("links", text("link_span", links)),
        listed("links", text("link_state", links)),
        listed("links", text("link_attributes", links, _JSON)),
        shared("scope", "scope_json", native.scopes),
        fixed("flags", pa.uint32()),
        listed("links", fixed("link_flags", pa.uint32(), links)),
        pa.nulls(rows, pa.binary()),
    ]
    ranges = native.ranges
    batch = ColumnBatch(
        rows,
        pa.Table.from_arrays(arrays, names=_NAMES),
        pa.Table.from_arrays(
            [
                text("range_trace", ranges),
                fixed("range_start", _TIME, ranges),
                fixed("range_end", _TIME, ranges),
                fixed("range_key", pa.uint64(), ranges),
            ],
            names=_RANGE_NAMES,
        ),
        frozenset((service, name, _KINDS[kind]) for service, name, kind in native.operations),
    )
    if not native.odd:
        return batch
    odd = encode_batch([span for _, span in native.odd])
    return merge([batch, odd]) if rows else odd
