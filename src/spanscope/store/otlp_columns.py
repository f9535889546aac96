"""OTLP protobuf requests straight to the store's columns, without model spans.

Contract: ``encode_requests(bodies)`` (or ``BatchBuilder.add_request``, the same one body at a
time) takes request bodies that
``spanscope.formats.otlp_native.scan`` accepted and returns the ``columns.ColumnBatch`` that
``columns.encode_batch`` returns for their spans (``decode_spans`` of each body, in order),
except for the order of the rows: the spans the C decoder writes itself come first, in order,
then its "odd" spans (markers, dropped counts, double or bytes values, repeated keys...), which
it hands back as model spans and which ``encode_batch`` encodes, RawSpan included. Every
column value, the trace ranges and the operations are the same; the table is ``schema.COLUMNS``
with the same Arrow types, so it merges with ``encode_batch``'s tables (``columns.merge``).

Why: building a model ``Span`` (and its dicts) per span and taking it apart again for the
columns cost about 7 us of GIL-holding CPU a span on the ingest path; the C decoder fills the
Arrow buffers for a whole batch of requests without the GIL (``otlp_native.ColumnsBuilder``),
and this module wraps them with a fixed number of zero-copy pyarrow calls per batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, cast

import pyarrow as pa

from spanscope.formats.otlp_native import ColumnsBuilder, NativeColumns
from spanscope.model import Span, SpanKind
from spanscope.store.columns import (
    TEXT,
    TIME,
    ColumnBatch,
    encode_batch,
    json_array,
    kind_array,
    list_array,
    merge,
    ranges_table,
    shared_json_array,
    spans_table,
    status_array,
)

if TYPE_CHECKING:
    from typing_extensions import Buffer

_KINDS = tuple(SpanKind)


class BatchBuilder:
    """One write's batch, built as its requests arrive: ``add_request`` fills the columns of a
    body (in C, without the GIL), ``add_spans`` encodes model spans (``encode_batch``), and
    ``finish``, called once, gives all of it as one ``ColumnBatch`` (the bodies' rows first).
    One thread at a time. ``add_spans`` either adds every span or raises having added none;
    after ``add_request`` raised (a bug, or no memory) the builder is unusable: encode what was
    added again another way."""

    def __init__(self) -> None:
        self._native: ColumnsBuilder | None = None  # made by the first body: C may be missing
        self._parts: list[ColumnBatch] = []

    def add_request(self, body: bytes) -> None:
        if self._native is None:
            self._native = ColumnsBuilder()
        self._native.add(body)

    def add_spans(self, spans: Sequence[Span]) -> None:
        self._parts.append(encode_batch(spans))

    def finish(self) -> ColumnBatch:
        parts = self._parts
        if self._native is not None:
            parts = [_batch(self._native.finish()), *parts]
        return merge(parts) if parts else encode_batch([])


def encode_requests(bodies: Sequence[bytes]) -> ColumnBatch:
    """The store's columns for the spans of ``bodies`` (see the module docstring)."""
    builder = BatchBuilder()
    for body in bodies:
        builder.add_request(body)
    return builder.finish()


def _batch(native: NativeColumns) -> ColumnBatch:
    # The C decoder's buffer objects (NativeColumns types them as object) wrapped, not copied.
    buffers = {name: pa.py_buffer(cast("Buffer", buf)) for name, buf in native.buffers.items()}
    rows = native.rows

    def fixed(name: str, arrow_type: pa.DataType, size: int = rows) -> pa.Array:
        return pa.Array.from_buffers(arrow_type, size, [None, buffers[name]])

    def text(name: str, size: int = rows) -> pa.Array:
        return pa.Array.from_buffers(TEXT, size, [None, buffers[name + "_offsets"], buffers[name]])

    def listed(offsets: str, values: pa.Array) -> pa.Array:
        return list_array(fixed(offsets, pa.int32(), rows + 1), values)

    def shared(indices: str, texts: str, size: int) -> pa.Array:
        return shared_json_array(fixed(indices, pa.int32()), text(texts, size))

    events, links = native.events, native.links
    arrays = [
        fixed("start", TIME),
        text("trace"),
        text("span"),
        text("parent"),
        text("state"),
        text("name"),
        kind_array(fixed("kind", pa.int8())),
        text("service"),
        shared("resource", "resource_json", native.resources),
        text("scope_name"),
        text("scope_version"),
        json_array(text("attributes")),
        fixed("duration", pa.uint64()),
        status_array(fixed("status", pa.int8())),
        text("message"),
        listed("events", fixed("event_time", TIME, events)),
        listed("events", text("event_name", events)),
        listed("events", json_array(text("event_attributes", events))),
        listed("links", text("link_trace", links)),
        listed("links", text("link_span", links)),
        listed("links", text("link_state", links)),
        listed("links", json_array(text("link_attributes", links))),
        shared("scope", "scope_json", native.scopes),
        fixed("flags", pa.uint32()),
        listed("links", fixed("link_flags", pa.uint32(), links)),
        pa.nulls(rows, pa.binary()),
    ]
    ranges = native.ranges
    batch = ColumnBatch(
        rows,
        spans_table(arrays),
        ranges_table(
            text("range_trace", ranges),
            fixed("range_start", TIME, ranges),
            fixed("range_end", TIME, ranges),
            fixed("range_key", pa.uint64(), ranges),
        ),
        frozenset((service, name, _KINDS[kind]) for service, name, kind in native.operations),
    )
    if not native.odd:
        return batch
    odd = encode_batch([span for _, span in native.odd])
    return merge([batch, odd]) if rows else odd
