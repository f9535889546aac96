"""OTLP protobuf: read and write ``TracesData`` (wire-identical to ``ExportTraceServiceRequest``).

Decoding and encoding use ``opentelemetry-proto``'s generated messages on the upb backend; no
protobuf is written by hand. Protobuf carries no offsets in its errors, so a message it refuses
is walked field by field (``otlp_proto_wire``): the spans of the whole ``resource_spans``
entries before the first one cut short or refused are yielded, then ``InputError`` "not valid
OTLP protobuf" names the source and that entry's byte offset (or the size, if no entry is bad).
Ids of the wrong length or all zeros raise ``InputError`` naming the span; unknown enum values
read as UNSPECIFIED / UNSET with a warning.

Times are fixed64 on the wire, but the model (and OTLP JSON's reader, and every store) keeps
nanoseconds up to 2^63-1, the year 2262. A span with a start, end or event time past that is
left out with a warning naming the source, its resource/scope/span index and byte offset, and
the rest is read (``otlp_late_times``). ``decode_request`` also counts such spans, which the
receivers answer as OTLP's partial success (``rejected_spans``).

Reading is the hot path (target: 400k+ spans/s on two cores). When the optional C decoder
(``otlp_native``) is built, it reads every message it is sure to read exactly as the upb path
(``otlp_proto_upb``, the reference) does; it gives up on anything else (errors, warnings,
markers), and the upb path reads the message instead. ``SPANSCOPE_NO_NATIVE=1`` forces the upb
path. The message is read whole; while a progress bar watches (``source.document_share``), the
share of its spans converted so far is reported, so the bar does not sit at 100% while they are.

``write`` (``otlp_proto_write``) encodes batch by batch and concatenates the encoded
``TracesData`` messages, which protobuf defines as one message holding all the resource spans:
memory stays bounded. ``follows_from`` and ``shared`` are carried as ``otlp_common`` says;
resource and scope ``dropped_attributes_count`` and ``schema_url`` are not in the model and are
lost.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from typing import BinaryIO

from google.protobuf.internal import api_implementation
from google.protobuf.message import DecodeError
from opentelemetry.proto.trace.v1.trace_pb2 import TracesData

from spanscope.errors import Diagnostics, InputError
from spanscope.formats.otlp_common import ReadContext
from spanscope.formats.otlp_late_times import DecodedRequest, Rejections, decoded_request
from spanscope.formats.otlp_native import counted_native_spans, late_offsets, native_spans
from spanscope.formats.otlp_proto_upb import spans as upb_spans
from spanscope.formats.otlp_proto_wire import first_bad_entry
from spanscope.formats.otlp_proto_write import write
from spanscope.formats.source import document_share
from spanscope.model import Span

__all__ = ["NAME", "DecodedRequest", "decode_request", "read", "write"]

NAME = "otlp-proto"
Share = Callable[[int, int], None]  # told (spans converted, spans): see source.document_share
_SHARE_EVERY = 4096  # spans between two reports to a progress bar


def decode_request(
    data: bytes, source: str, diagnostics: Diagnostics | None = None
) -> DecodedRequest:
    """All spans of one ``ExportTraceServiceRequest`` (a receiver's body), with the spans left
    out; raises ``InputError`` as ``read`` does."""
    rejections = Rejections()
    diagnostics = diagnostics if diagnostics is not None else Diagnostics()
    return decoded_request(list(_spans_of(data, source, diagnostics, rejections)), rejections)


def read(stream: BinaryIO, source: str, diagnostics: Diagnostics) -> Iterator[Span]:
    data = stream.read()
    yield from _spans_of(data, source, diagnostics, Rejections(), document_share())


def _spans_of(
    data: bytes,
    source: str,
    diagnostics: Diagnostics,
    rejections: Rejections,
    share: Share | None = None,
) -> Iterator[Span]:
    """The spans of ``data``; ``share`` (a progress bar watches) is told how many of them have
    been converted so far, out of how many."""
    # Not a generator: ``read`` delegates straight to the C decoder's iterator, with no
    # generator in between on the hot path.
    if share is None:
        spans = native_spans(data)
        if spans is not None:
            return spans
        return _read_upb(data, source, diagnostics, rejections)
    counted = counted_native_spans(data)
    if counted is not None:
        return _sharing(counted[1], counted[0], share)
    return _read_upb(data, source, diagnostics, rejections, share)


def _sharing(spans: Iterator[Span], count: int, share: Share) -> Iterator[Span]:
    """``spans`` (``count`` of them, or fewer) with ``share`` told each ``_SHARE_EVERY``-th one
    as it is reached: C iterators chained, no Python frame per span."""

    def pieces() -> Iterator[Iterator[Span]]:
        for done in range(0, count, _SHARE_EVERY):
            share(done, count)
            yield itertools.islice(spans, _SHARE_EVERY)
        yield spans  # whatever is left, should the count be short: never lose a span
        share(count, count)

    return itertools.chain.from_iterable(pieces())


def _read_upb(
    data: bytes,
    source: str,
    diagnostics: Diagnostics,
    rejections: Rejections,
    share: Share | None = None,
) -> Iterator[Span]:
    try:
        message = TracesData.FromString(data)
    except DecodeError:
        yield from _read_what_is_whole(data, source, diagnostics, rejections, share)
        return
    late = late_offsets(data)  # upb keeps no offsets: found now, while the bytes are here
    del data
    context = ReadContext(source, diagnostics)
    if api_implementation.Type() != "upb":
        context.warn_once(
            "backend",
            f"protobuf runs on its {api_implementation.Type()!r} backend, not upb: reading "
            "is many times slower (unset PROTOCOL_BUFFERS_PYTHON_IMPLEMENTATION)",
        )
    spans = upb_spans(message, context, late, rejections)
    if share is not None:
        count = sum(len(ss.spans) for rs in message.resource_spans for ss in rs.scope_spans)
        spans = _sharing(spans, count, share)
    yield from spans


def _read_what_is_whole(
    data: bytes,
    source: str,
    diagnostics: Diagnostics,
    rejections: Rejections,
    share: Share | None,
) -> Iterator[Span]:
    """For a message protobuf refuses: yield the spans of the whole ``resource_spans`` entries
    before the first bad one, then raise ``InputError`` at that entry's byte offset.

    A truncated export (a copy cut short, a full disk) is whole but for its last entry, and
    protobuf would refuse all of it without saying where: the contract keeps what was read.
    """
    start, reason = first_bad_entry(data)
    count = 0
    whole = _spans_of(data[:start], source, diagnostics, rejections, share) if start else iter(())
    for count, span in enumerate(whole, 1):  # noqa: B007 - count is kept
        yield span
    where = f"byte {start} of {len(data)}" if reason else f"{len(data)} bytes"
    reason = reason or (
        "truncated, corrupt, or not a TracesData / ExportTraceServiceRequest message; "
        "protobuf does not say where"
    )
    kept = f"; the {count:,} spans before it were read" if count else ""
    raise InputError(source, where, f"not valid OTLP protobuf: {reason}{kept}")
