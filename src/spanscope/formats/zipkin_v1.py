"""Zipkin v1 JSON (``POST /api/v1/spans``, zipkin-api.yaml): read and write.

Reading: a JSON list of v1 spans, a list of such lists (batches, as the collector's test data
has them), or one span object. Each v1 span becomes one or two model spans the way Zipkin's
``V1SpanConverter`` splits it (``zipkin_v1_convert``): core annotations give kind, times and
service; a span carrying both client and server sides (``cs`` + ``sr``) becomes a client span
and a ``shared`` server span with the same id (assembly later gives the server a new id under
the client); binary annotations become typed attributes; ``ca``/``sa``/``ma`` become remote
endpoints; ``lc`` names the service when nothing else does. From there on the mapping to the
model is Zipkin v2's (``zipkin_convert``): endpoints, status tags, links, events. The document is
decoded whole with ``msgspec``. Invalid ids (``parentId: "BADID"``) raise ``InputError`` naming
the source and the JSON path (``$[1].parentId``, ``$[2][0].id`` in batches).

Writing: one JSON list of v1 spans, the way Zipkin's ``V2SpanConverter`` writes them: core
annotations for the kind (``cs``/``cr``, ``sr``/``ss``, ``ms``/``ws``, ``wr``/``mr``), the other
annotations, tags as binary annotations recorded by the local endpoint, the remote endpoint as an
address annotation, no timestamp/duration on a shared server span.

A write -> read round trip keeps what Zipkin v2 keeps (see ``zipkin_v2``) and, unlike v2, the
type of boolean, integer and float attributes (written with v1's ``type`` field: BOOL, I64,
DOUBLE). It loses, beyond what v2 loses: ``shared`` on anything but a server span, the remote
service name of a server span whose client has the same service name (Zipkin drops it to avoid
a loopback link), the type of attributes named ``ca``, ``sa`` or ``ma`` (written as strings,
else they would be read as address annotations), the kind of a span that has no start time
(the kind rides on its core annotations), and the remote endpoint of a client span without a
start time.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, BinaryIO

import msgspec

from spanscope.errors import Diagnostics
from spanscope.formats.source import document_share
from spanscope.formats.zipkin_common import decode_document, write_json_list
from spanscope.formats.zipkin_convert import ZipkinReader
from spanscope.formats.zipkin_encode import to_zipkin
from spanscope.formats.zipkin_v1_convert import V1Span, join_v1, split_v1
from spanscope.model import Span

NAME = "zipkin-v1"


class _V1SpanIn(V1Span, omit_defaults=True):
    """A v1 span as read: also notices v2 fields, which a v1 reader would silently drop."""

    localEndpoint: Any = None
    remoteEndpoint: Any = None
    tags: Any = None
    kind: Any = None


_DECODER = msgspec.json.Decoder(list[_V1SpanIn | list[_V1SpanIn]] | _V1SpanIn)


def read(stream: BinaryIO, source: str, diagnostics: Diagnostics) -> Iterator[Span]:
    """Yield the spans of a Zipkin v1 JSON document (see the module docstring)."""
    document = decode_document(_DECODER, stream.read(), source)
    reader = ZipkinReader(source, diagnostics)
    if isinstance(document, _V1SpanIn):
        yield from _convert(reader, document, "$")
        return
    share = document_share()
    for index, item in enumerate(document):
        if share is not None and not index & 1023:  # a span each: a call per 1024 of them
            share(index, len(document))
        if isinstance(item, list):
            for inner, span in enumerate(item):
                yield from _convert(reader, span, f"$[{index}][{inner}]")
        else:
            yield from _convert(reader, item, f"$[{index}]")


def _convert(reader: ZipkinReader, span: _V1SpanIn, place: str) -> Iterator[Span]:
    def warn(message: str) -> None:
        reader.diagnostics.warn(reader.source, place, f"span {span.id}: {message}")

    extra = [
        name
        for name in ("localEndpoint", "remoteEndpoint", "tags", "kind")
        if getattr(span, name) is not None
    ]
    if extra:
        warn(f"Zipkin v2 fields {extra} ignored in a v1 document; read the file as zipkin-v2")
    for zspan in split_v1(span, warn):
        yield reader.convert(zspan, place, check_tags=False)


def write(spans: Iterable[Span], out: BinaryIO) -> None:
    """Write ``spans`` as one JSON list of Zipkin v1 spans."""
    write_json_list((join_v1(to_zipkin(span, typed=True)) for span in spans), out)
