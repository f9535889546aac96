"""Jaeger JSON decoded into typed ``msgspec`` structs, in two flavours.

``jaeger_json`` decodes a document with the *checked* flavour first: every tag is one of the
five typed tag structs (``StringTag`` ... ``BinaryTag``, told apart by the tag's ``type``), so
``msgspec`` itself checks that each value has its declared type (int64 in range, binary valid
base64) and ``SpanReader`` can take tag values as they come, with no per-tag conversion. A
document where any tag does not fit (a missing or unknown type, numbers or booleans written as
strings, hex binary, ``null`` values: all of which Jaeger's UI accepts) fails that decode and is
decoded again with the *lenient* flavour (``Tag``, any value), whose values ``jaeger_tags``
converts one by one. Both flavours give the same model spans for a document both accept.

All structs are ``gc=False``: decoded JSON holds no reference cycles, and a data set holds
millions of them, which the cyclic garbage collector would otherwise walk again and again.
"""

from __future__ import annotations

from functools import cached_property
from typing import Annotated, Any, ClassVar, Generic, TypeVar

import msgspec

# Microsecond times that fit in int64 nanoseconds; durations may be negative (our writer keeps a
# span that ends before it starts visible that way).
_Micros = Annotated[int, msgspec.Meta(ge=0, le=(2**63 - 1) // 1000)]
_Duration = Annotated[int, msgspec.Meta(ge=-(2**63 // 1000), le=(2**63 - 1) // 1000)]
_Flags = Annotated[int, msgspec.Meta(ge=0, le=2**32 - 1)]
_Int64 = Annotated[int, msgspec.Meta(ge=-(1 << 63), le=(1 << 63) - 1)]

T = TypeVar("T")  # the tag struct of a flavour


class Tag(msgspec.Struct, gc=False):
    """A tag as written, of any type (the lenient flavour)."""

    key: str = ""
    type: str | None = None
    value: Any = None


class StringTag(msgspec.Struct, tag_field="type", tag="string", gc=False):
    key: str
    value: str
    type: ClassVar[str] = "string"


class Int64Tag(msgspec.Struct, tag_field="type", tag="int64", gc=False):
    key: str
    value: _Int64
    type: ClassVar[str] = "int64"


class Float64Tag(msgspec.Struct, tag_field="type", tag="float64", gc=False):
    key: str
    value: float  # a JSON integer is taken as a float, as the lenient reading does
    type: ClassVar[str] = "float64"


class BoolTag(msgspec.Struct, tag_field="type", tag="bool", gc=False):
    key: str
    value: bool
    type: ClassVar[str] = "bool"


class BinaryTag(msgspec.Struct, tag_field="type", tag="binary", gc=False):
    key: str
    value: bytes  # base64, padded, standard alphabet: what base64.b64decode(validate=True) takes
    type: ClassVar[str] = "binary"


TypedTag = StringTag | Int64Tag | Float64Tag | BoolTag | BinaryTag


class Log(msgspec.Struct, Generic[T], gc=False):
    timestamp: _Micros = 0
    fields: list[T] | None = None


class Ref(msgspec.Struct, gc=False):
    refType: str = "CHILD_OF"
    traceID: str = ""
    spanID: str = ""


class Process(msgspec.Struct, Generic[T], gc=False):
    serviceName: str = ""
    tags: list[T] | None = None


class RawSpan(msgspec.Struct, Generic[T], gc=False):
    traceID: str = ""
    spanID: str = ""
    parentSpanID: str = ""
    flags: _Flags = 0
    operationName: str = ""
    references: list[Ref] | None = None
    startTime: _Micros = 0
    duration: _Duration | None = None
    tags: list[T] | None = None
    logs: list[Log[T]] | None = None
    processID: str = ""
    process: Process[T] | None = None
    warnings: list[str] | None = None


class RawTrace(msgspec.Struct, Generic[T], gc=False):
    traceID: str = ""
    spans: list[RawSpan[T]] | None = None
    processes: dict[str, Process[T]] | None = None
    warnings: list[str] | None = None


class Document(RawSpan[T], Generic[T], gc=False):
    """Any top-level object: an export (``data``), a trace (``spans``) or one span."""

    data: list[RawTrace[T]] | RawTrace[T] | None = None
    spans: list[RawSpan[T]] | None = None
    processes: dict[str, Process[T]] | None = None
    errors: Any = None


class Probe(msgspec.Struct, gc=False):
    """Enough of an array's first element to tell traces from spans."""

    spans: Any = None


class Decoders:
    """The decoders of one flavour: a top-level value, an array of traces, of spans. Each is
    made on first use: making them costs milliseconds of start-up (msgspec works out the
    generic types), and most runs need one or two."""

    def __init__(self, tag: Any, typed: bool) -> None:
        self.typed = typed
        self._tag = tag

    @cached_property
    def top(self) -> msgspec.json.Decoder:
        return msgspec.json.Decoder(Document[self._tag] | list[msgspec.Raw])  # type: ignore[name-defined]

    @cached_property
    def traces(self) -> msgspec.json.Decoder:
        return msgspec.json.Decoder(list[RawTrace[self._tag]])  # type: ignore[name-defined]

    @cached_property
    def spans(self) -> msgspec.json.Decoder:
        return msgspec.json.Decoder(list[RawSpan[self._tag]])  # type: ignore[name-defined]


CHECKED = Decoders(TypedTag, typed=True)
LENIENT = Decoders(Tag, typed=False)
PROBE = msgspec.json.Decoder(Probe)
