"""Trace formats: one module per format, each reading and writing the one span model.

Every format module defines:

    NAME: str                 # e.g. "otlp-json"
    def read(stream: BinaryIO, source: str, diagnostics: Diagnostics) -> Iterator[Span]
    def write(spans: Iterable[Span], out: BinaryIO) -> None      # where the format is writable

Contract of ``read``: it yields spans as it decodes them (streaming where the format allows, so
memory stays bounded for JSON lines); ``source`` is the display name used in messages. Input it
cannot read any further raises ``spanscope.errors.InputError`` naming ``source`` and the place
(line, byte offset, JSON path or span index); the spans yielded before that stay good. Input it
reads but had to interpret (base64 ids, enum names, a bad timestamp) goes to
``diagnostics.warn``. Ids come out normalised (see ``spanscope.model``), times in nanoseconds.

Contract of ``write``: it consumes ``spans`` once, in order, and writes one complete document
(or JSON lines) to ``out``; it does not close ``out``.
"""

from __future__ import annotations

import importlib
import io
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, BinaryIO

from spanscope.errors import Diagnostics, InputError
from spanscope.formats.detect import UnknownFormat, detect_format
from spanscope.formats.source import display_name, open_source
from spanscope.model import Span
from spanscope.values import Frozen

if TYPE_CHECKING:
    from pathlib import Path


class Format(Frozen):
    """One trace format: its ``name``, the module under ``spanscope.formats`` that reads it,
    how to describe it, the usual file ``extension``, and whether spanscope writes it.
    Immutable (``spanscope.values.Frozen``)."""

    __slots__ = ("description", "extension", "module", "name", "writable")
    __match_args__ = ("name", "module", "description", "extension", "writable")

    name: str
    module: str
    description: str
    extension: str
    writable: bool

    def __init__(
        self, name: str, module: str, description: str, extension: str, writable: bool
    ) -> None:
        set_field = object.__setattr__
        set_field(self, "name", name)
        set_field(self, "module", module)
        set_field(self, "description", description)
        set_field(self, "extension", extension)
        set_field(self, "writable", writable)


FORMATS: dict[str, Format] = {
    f.name: f
    for f in (
        Format(
            "otlp-json",
            "otlp_json",
            "OTLP JSON (one request, an array, or JSON lines)",
            ".json",
            True,
        ),
        Format(
            "otlp-jsonl",
            "otlp_json",
            "OTLP JSON lines, one request per line (collector file exporter)",
            ".jsonl",
            True,
        ),
        Format(
            "otlp-proto",
            "otlp_proto",
            "OTLP protobuf (TracesData / ExportTraceServiceRequest)",
            ".pb",
            True,
        ),
        Format(
            "jaeger-json",
            "jaeger_json",
            "Jaeger UI/API JSON ({data: [...]}) or span arrays",
            ".json",
            True,
        ),
        Format("zipkin-v2", "zipkin_v2", "Zipkin v2 JSON (list of spans)", ".json", True),
        Format(
            "zipkin-v1",
            "zipkin_v1",
            "Zipkin v1 JSON (annotations, binaryAnnotations)",
            ".json",
            True,
        ),
    )
}
FORMAT_NAMES = tuple(FORMATS)
# Short names a user may type on the command line.
ALIASES = {
    "otlp": "otlp-json",
    "jaeger": "jaeger-json",
    "zipkin": "zipkin-v2",
    "proto": "otlp-proto",
}

__all__ = [
    "ALIASES",
    "FORMATS",
    "FORMAT_NAMES",
    "Format",
    "InputError",
    "UnknownFormat",
    "decode_spans",
    "detect_format",
    "encode_spans",
    "read_spans",
    "read_stream",
    "resolve_format",
    "write_spans",
]


def resolve_format(name: str) -> Format:
    """Look a format up by name or alias; raise ValueError listing the choices."""
    key = ALIASES.get(name, name)
    if key not in FORMATS:
        choices = ", ".join([*FORMAT_NAMES, *ALIASES])
        raise ValueError(f"unknown format {name!r}; choose one of: {choices}")
    return FORMATS[key]


def _module(fmt: Format):
    return importlib.import_module(f"spanscope.formats.{fmt.module}")


def read_spans(
    source: str | Path,
    format: str | None = None,
    diagnostics: Diagnostics | None = None,
    on_format: Callable[[str], None] | None = None,
) -> Iterator[Span]:
    """Yield the spans of one input (a path or ``-``), detecting its format from content.

    ``on_format`` is called with the format name once it is known, before the first span (or
    when reading stops before one). OTLP JSON, whichever of its two names ``format`` gives or
    detection found, is named by what its reader finds: ``otlp-jsonl`` for JSON lines, else
    ``otlp-json`` (a first line longer than the head leaves only the reader able to tell).
    """
    diagnostics = diagnostics if diagnostics is not None else Diagnostics()
    name = display_name(source)
    with open_source(source) as (stream, head):
        if format is None:
            try:
                format = detect_format(head)
            except UnknownFormat as exc:
                raise InputError(name, "start of file", f"not a trace file: {exc}") from None
        fmt = resolve_format(format)
        if fmt.module == _OTLP_JSON and on_format is not None:
            yield from _read_otlp_json(stream, name, diagnostics, on_format, fmt.name)
            return
        if on_format is not None:
            on_format(fmt.name)
        yield from _module(fmt).read(stream, name, diagnostics)


_OTLP_JSON = "otlp_json"  # the module reading both otlp-json and otlp-jsonl


def _read_otlp_json(
    stream: BinaryIO,
    source: str,
    diagnostics: Diagnostics,
    on_format: Callable[[str], None],
    named_so_far: str,
) -> Iterator[Span]:
    """The OTLP JSON reader's spans, ``on_format`` told the shape it found; ``named_so_far``
    (detected or given) if it stops before it knows."""
    from spanscope.formats import otlp_json

    named = False

    def on_shape(lines: bool) -> None:
        nonlocal named
        named = True
        on_format("otlp-jsonl" if lines else "otlp-json")

    try:
        yield from otlp_json.read(stream, source, diagnostics, on_shape=on_shape)
    finally:
        if not named:  # stopped before the reader knew (an error in the first line, nothing)
            on_format(named_so_far)


def read_stream(
    stream: BinaryIO, format: str, source: str, diagnostics: Diagnostics | None = None
) -> Iterator[Span]:
    """Yield the spans of an already open binary stream in a known format (e.g. a request
    body a receiver got), with ``source`` naming it in messages."""
    fmt = resolve_format(format)
    diagnostics = diagnostics if diagnostics is not None else Diagnostics()
    yield from _module(fmt).read(stream, source, diagnostics)


def decode_spans(
    data: bytes, format: str, source: str = "<bytes>", diagnostics: Diagnostics | None = None
) -> list[Span]:
    """All spans of an in-memory document in a known format."""
    return list(read_stream(io.BytesIO(data), format, source, diagnostics))


def encode_spans(spans: Iterable[Span], format: str) -> bytes:
    """One document in ``format`` holding ``spans``."""
    out = io.BytesIO()
    write_spans(spans, out, format)
    return out.getvalue()


def write_spans(spans: Iterable[Span], out: BinaryIO, format: str) -> None:
    fmt = resolve_format(format)
    module = _module(fmt)
    if fmt.name == "otlp-jsonl":
        module.write_lines(spans, out)
    else:
        module.write(spans, out)
