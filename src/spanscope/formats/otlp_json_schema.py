"""The OTLP JSON mapping as typed ``msgspec`` structs, and turning its values and errors into ours.

Decoding into these structs (not into dicts) is the hot path of ``otlp_json``. Field names are
the camelCase of the OTLP JSON mapping (``rename="camel"``); ``decode_snake_case`` handles the
proto field names that proto3 JSON also allows. ``strict=False`` reads 64-bit integers given as
JSON strings, as the mapping writes them, and "NaN"/"Infinity" doubles; an ``intValue`` past
int64 is read as a double (``any_value`` says why). The structs opt out of the cyclic GC: they
form trees, and tracking millions of them made large documents slow.

Times: a fixed64, never negative, and read as the model keeps them, up to 2^63-1 ns (the year
2262). The decoders above check that bound in C, for nothing. A span past it is left out, not
the whole input (``otlp_late_times``): when a decoder refuses a value past the bound, the reader
decodes the same bytes again with the ``LATE_*`` decoders, whose ``Late*`` structs take any
time that is not negative, and takes the spans past 2^63-1 out of what they give (the cost of
that falls on the inputs that have such a span, never on the others).

msgspec's errors become places through ``spanscope.formats.json_errors``.
"""

from __future__ import annotations

from typing import Annotated

import msgspec

from spanscope.model import Attributes, AttributeValue

# A time in nanoseconds: proto fixed64, so never negative; capped at the model's 64-bit signed
# integers (the year 2262, as the Jaeger reader). A time past that was once read, and later
# broke printing a date 3 million years from now.
_Fixed64 = Annotated[int, msgspec.Meta(ge=0, le=2**63 - 1)]
# Any time that is not negative, for the LATE_* decoders (msgspec checks no bound past int64:
# the reader checks 2^64-1 itself).
_LateTime = Annotated[int, msgspec.Meta(ge=0)]


class AnyValue(msgspec.Struct, rename="camel", gc=False):
    string_value: str | None = None
    int_value: int | None = None  # a JSON string or number; strict=False turns both into int
    bool_value: bool | None = None
    double_value: float | None = None  # also "NaN", "Infinity", "-Infinity"
    array_value: ArrayValue | None = None
    kvlist_value: KeyValueList | None = None
    bytes_value: bytes | None = None  # base64, decoded by msgspec


class ArrayValue(msgspec.Struct, gc=False):
    values: list[AnyValue] = []


class KeyValue(msgspec.Struct, gc=False):
    key: str = ""
    value: AnyValue = msgspec.field(default_factory=AnyValue)


class KeyValueList(msgspec.Struct, gc=False):
    values: list[KeyValue] = []


class Resource(msgspec.Struct, rename="camel", gc=False):
    attributes: list[KeyValue] = []


class Scope(msgspec.Struct, rename="camel", gc=False):
    name: str = ""
    version: str = ""
    attributes: list[KeyValue] = []


class Status(msgspec.Struct, rename="camel", gc=False):
    code: int | str = 0
    message: str = ""


class Event(msgspec.Struct, rename="camel", gc=False):
    time_unix_nano: _Fixed64 = 0
    name: str = ""
    attributes: list[KeyValue] = []
    dropped_attributes_count: int = 0


class Link(msgspec.Struct, rename="camel", gc=False):
    trace_id: str = ""
    span_id: str = ""
    trace_state: str = ""
    attributes: list[KeyValue] = []
    dropped_attributes_count: int = 0
    flags: int = 0


class Span(msgspec.Struct, rename="camel", gc=False):
    trace_id: str = ""
    span_id: str = ""
    trace_state: str = ""
    parent_span_id: str = ""
    flags: int = 0
    name: str = ""
    kind: int | str = 0
    start_time_unix_nano: _Fixed64 = 0
    end_time_unix_nano: _Fixed64 = 0
    attributes: list[KeyValue] = []
    dropped_attributes_count: int = 0
    events: list[Event] = []
    dropped_events_count: int = 0
    links: list[Link] = []
    dropped_links_count: int = 0
    status: Status | None = None


class ScopeSpans(msgspec.Struct, rename="camel", gc=False):
    # Raw: the same scope repeats across requests; its bytes key a cache of the converted scope.
    scope: msgspec.Raw = msgspec.Raw(b"")
    instrumentation_library: msgspec.Raw = msgspec.Raw(b"")  # before OTLP 0.15
    spans: list[Span] = []


class ResourceSpans(msgspec.Struct, rename="camel", gc=False):
    resource: msgspec.Raw = msgspec.Raw(b"")
    scope_spans: list[ScopeSpans] = []
    instrumentation_library_spans: list[ScopeSpans] = []


class TracesData(msgspec.Struct, rename="camel", gc=False):
    # Each ResourceSpans is decoded when its turn comes (RESOURCE_SPANS), so a big document
    # never exists as one tree of structs: less memory and less work for the allocator.
    resource_spans: list[msgspec.Raw] = []
    result: TracesData | None = None  # Jaeger api_v3 wraps the request in "result"


class LineData(msgspec.Struct, rename="camel", gc=False):
    # One JSON line is small (an SDK batch): decoded in one go, which spares the second scan
    # that Raw entries cost (~15% of the decode).
    resource_spans: list[ResourceSpans] = []
    result: LineData | None = None


# The same structs with any time that is not negative (see the module doc): subclasses, so the
# reader takes them as the others; only the fields that hold times, or lead to them, differ.
# (A list of the subclass where the base class has a list of the class: mypy's list invariance;
# nothing puts a base-class object into these lists.)
class LateEvent(Event, gc=False):
    time_unix_nano: _LateTime = 0


class LateSpan(Span, gc=False):
    start_time_unix_nano: _LateTime = 0
    end_time_unix_nano: _LateTime = 0
    events: list[LateEvent] = []  # type: ignore[assignment]


class LateScopeSpans(ScopeSpans, gc=False):
    spans: list[LateSpan] = []  # type: ignore[assignment]


class LateResourceSpans(ResourceSpans, gc=False):
    scope_spans: list[LateScopeSpans] = []  # type: ignore[assignment]
    instrumentation_library_spans: list[LateScopeSpans] = []  # type: ignore[assignment]


class LateLineData(LineData, gc=False):
    resource_spans: list[LateResourceSpans] = []  # type: ignore[assignment]
    result: LateLineData | None = None


# strict=False reads 64-bit integers given as JSON strings, as the proto3 JSON mapping writes.
LINE = msgspec.json.Decoder(LineData, strict=False)
DOCUMENT = msgspec.json.Decoder(TracesData | list[TracesData], strict=False)
RESOURCE_SPANS = msgspec.json.Decoder(ResourceSpans, strict=False)
RESOURCE = msgspec.json.Decoder(Resource, strict=False)
SCOPE = msgspec.json.Decoder(Scope, strict=False)
LATE_LINE = msgspec.json.Decoder(LateLineData, strict=False)
LATE_RESOURCE_SPANS = msgspec.json.Decoder(LateResourceSpans, strict=False)


def any_value(value: AnyValue) -> AttributeValue:
    if value.string_value is not None:
        return value.string_value
    if value.int_value is not None:
        # OTLP's intValue is an int64. A JSON writer whose numbers are all doubles (the
        # JavaScript SDK) writes any integral number as an intValue, 2**64 as
        # 18446744073709552000, where the same SDK's protobuf writer sends a number past int64
        # as a double_value: read such an intValue as that double, so an attribute has one type
        # whichever protocol carried it. (Literal bounds: constants, not names looked up.)
        number = value.int_value
        return number if -0x8000000000000000 <= number <= 0x7FFFFFFFFFFFFFFF else float(number)
    if value.bool_value is not None:
        return value.bool_value
    if value.double_value is not None:
        return value.double_value
    if value.array_value is not None:
        return [any_value(item) for item in value.array_value.values]
    if value.kvlist_value is not None:
        return {kv.key: any_value(kv.value) for kv in value.kvlist_value.values}
    if value.bytes_value is not None:
        return value.bytes_value
    return None


# Attribute keys, and most string values (methods, routes, systems, peers), repeat from span to
# span: one string per distinct text instead of one per span saves about 40% of the memory of
# ``analyze``, which holds every span. Bounded (cleared when full), since texts are whatever the
# input says; a cleared cache only stops sharing.
_KEYS: dict[str, str] = {}
_VALUES: dict[str, str] = {}
_SHARED_LIMIT = 1 << 16


def attributes(kvs: list[KeyValue]) -> Attributes:
    # A plain loop is faster here than a comprehension; most values are strings, read inline,
    # everything else goes through any_value.
    keys = _KEYS
    values = _VALUES
    out: Attributes = {}
    for kv in kvs:
        key = kv.key
        key = keys.setdefault(key, key)
        value = kv.value
        string = value.string_value
        out[key] = values.setdefault(string, string) if string is not None else any_value(value)
    if len(values) > _SHARED_LIMIT or len(keys) > _SHARED_LIMIT:
        keys.clear()
        values.clear()
    return out


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def _camel_keys(value):
    if isinstance(value, dict):
        return {_camel(k): _camel_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_camel_keys(v) for v in value]
    return value


def decode_snake_case(data: bytes) -> bytes:
    """proto3 JSON also allows the proto field names; rare enough to convert generically."""
    return msgspec.json.encode(_camel_keys(msgspec.json.decode(data)))
