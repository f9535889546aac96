"""Zipkin v1 spans to v2 spans and back, with the semantics of Zipkin's own converters
(``zipkin2.v1.V1SpanConverter`` and ``V2SpanConverter``), written afresh in Python.

v1 -> v2 (``split_v1``): core annotations give kind and times: ``cs``/``cr`` a CLIENT,
``sr``/``ss`` a SERVER, ``ms``/``ws`` a PRODUCER, ``wr``/``mr`` a CONSUMER; the endpoint of a
core annotation is the span's local endpoint (service). A v1 span holding both sides of an RPC
(``cs`` and ``sr``) becomes two v2 spans with the same id: the client (which owns the span's
timestamp and duration) and a ``shared`` server timed by ``sr``/``ss``. A server-only span with
no timestamp is ``shared`` (v1's convention). A span without timestamp/duration takes them from
its core annotations. Annotations and binary annotations go to the v2 span whose service
recorded them. ``ca``/``sa``/``ma`` address annotations become remote endpoints. Binary
annotation values keep their type (``type``: BOOL, I16/I32/I64, DOUBLE, BYTES, STRING; without
``type``, the JSON type of the value). ``lc`` (local component) names the service of a span
whose endpoints carry no service name (the collector does the same).

v2 -> v1 (``join_v1``): ``timestamp``/``duration`` (omitted on shared server spans), core
annotations for the kind at the start and end, other annotations and tags recorded by the local
endpoint, the remote endpoint as an ``sa``/``ca``/``ma`` address annotation, an empty ``lc``
annotation to carry the service of a span that has nothing else to carry it. Booleans, ints and
floats are written with their v1 ``type``. An event named like a core annotation (``cs``...) is
written without an endpoint so it is not taken as one. Unlike Zipkin, only a shared *server*
span loses its timestamp/duration (on other kinds that would lose the times, not just the flag).
"""

from __future__ import annotations

import base64
import binascii
import math
from collections.abc import Callable
from typing import Any, TypeGuard

import msgspec

from spanscope.formats.zipkin_common import Annotation, Endpoint, ZSpan, span_micros, tag_string


class V1Annotation(msgspec.Struct, omit_defaults=True):
    timestamp: int | float | None = None
    value: str | None = None  # required; None (not "") as default so "" is still written
    endpoint: Endpoint | None = None


class V1BinaryAnnotation(msgspec.Struct, omit_defaults=True):
    key: str | None = None  # required; None (not "") as default so "" is still written
    value: Any = None
    type: str | None = None
    endpoint: Endpoint | None = None


class V1Span(msgspec.Struct, omit_defaults=True):
    """One Zipkin v1 span as JSON spells it (zipkin-api.yaml ``Span``)."""

    traceId: str
    id: str
    name: str | None = None
    parentId: str | None = None
    timestamp: int | float | None = None
    duration: int | float | None = None
    debug: bool | None = None
    annotations: list[V1Annotation] | None = None
    binaryAnnotations: list[V1BinaryAnnotation] | None = None


Warn = Callable[[str], None]
_SKIP = object()
_ADDRESS_KEYS = ("ca", "sa", "ma")
CORE_VALUES = frozenset(("cs", "sr", "ss", "cr", "ms", "mr", "ws", "wr"))
_KIND_OF = {"cs": "CLIENT", "cr": "CLIENT", "sr": "SERVER", "ss": "SERVER"}
_KIND_OF |= {"ms": "PRODUCER", "mr": "CONSUMER"}


class _Builder:
    """One v2 span in the making."""

    __slots__ = ("duration", "kind", "local", "notes", "remote", "shared", "tags", "timestamp")

    def __init__(self, local: Endpoint | None = None) -> None:
        self.local = local
        self.kind: str | None = None
        self.timestamp: int | None = None
        self.duration: int | None = None
        self.shared = False
        self.remote: Endpoint | None = None
        self.notes: list[Annotation] = []
        self.tags: dict[str, Any] = {}


def _service(endpoint: Endpoint) -> str | None:
    return endpoint.serviceName or None


class _Split:
    """The state of converting one v1 span (Zipkin's ``V1SpanConverter``)."""

    def __init__(self, source: V1Span, warn: Warn) -> None:
        self.source = source
        self.warn = warn
        self.first = _Builder()
        self.others: list[_Builder] = []
        self.core: dict[str, tuple[int, Endpoint]] = {}
        self.ts = span_micros(source.timestamp) or 0
        self.dur = span_micros(source.duration) or 0

    def builders(self) -> list[_Builder]:
        return [self.first, *self.others]

    def for_endpoint(self, endpoint: Endpoint | None) -> _Builder:
        if endpoint is None:
            return self.first  # data without an endpoint goes to the first span
        for builder in self.builders():
            if builder.local is None:
                builder.local = endpoint
                return builder
            if _service(builder.local) == _service(endpoint):
                return builder
        return self.fork(endpoint)

    def fork(self, endpoint: Endpoint) -> _Builder:
        builder = _Builder(endpoint)
        self.others.append(builder)
        return builder

    def two_sides(
        self, sender: Endpoint, receiver: Endpoint, sender_kind: str, receiver_kind: str
    ) -> tuple[_Builder, _Builder]:
        """The builders of the two sides of one v1 span (client and server, producer and
        consumer), the receiving side ``shared``. Sides in one service need a span each (the
        receiver's a fork, both kinds set); sides in two services each have their endpoint's."""
        first = self.for_endpoint(sender)
        if _service(sender) == _service(receiver):
            first.kind = sender_kind
            second = self.fork(receiver)
            second.kind = receiver_kind
        else:
            second = self.for_endpoint(receiver)
        second.shared = True
        return first, second

    def time_from(self, begin: tuple[int, Endpoint], end: tuple[int, Endpoint] | None) -> None:
        builder = self.for_endpoint(begin[1])
        if self.ts and self.dur:
            builder.timestamp, builder.duration = self.ts, self.dur
        else:
            builder.timestamp = begin[0]
            if end is not None:
                builder.duration = end[0] - begin[0]

    def ends_at_duration(self, end: tuple[int, Endpoint] | None) -> TypeGuard[tuple[int, Endpoint]]:
        return end is not None and bool(self.ts and self.dur) and self.ts + self.dur == end[0]

    def annotations(self) -> None:
        core = self.core
        for annotation in self.source.annotations or ():
            builder = self.for_endpoint(annotation.endpoint)
            value = annotation.value or ""
            us = span_micros(annotation.timestamp)
            # core annotations need an endpoint; without one they are plain annotations
            if value in CORE_VALUES and annotation.endpoint is not None and us is not None:
                if value in _KIND_OF:
                    builder.kind = _KIND_OF[value]
                core[value] = (us, annotation.endpoint)
            else:
                builder.notes.append(Annotation(annotation.timestamp, value))
        cs, sr, ss, cr = (core.get(v) for v in ("cs", "sr", "ss", "cr"))
        if cs is None and self.ends_at_duration(cr):
            cs = core["cs"] = (self.ts, cr[1])
        if sr is None and self.ends_at_duration(ss):
            sr = core["sr"] = (self.ts, ss[1])
        if cs is not None and sr is not None:
            # both sides in one span: the client owns the span's times, the server is shared
            self.time_from(cs, cr)
            client, server = self.two_sides(cs[1], sr[1], "CLIENT", "SERVER")
            server.timestamp = sr[0]
            if ss is not None:
                server.duration = ss[0] - sr[0]
            if cr is None and not self.dur:
                client.duration = None
        elif cs is not None and cr is not None:
            self.time_from(cs, cr)
        elif sr is not None and ss is not None:
            self.time_from(sr, ss)
        else:
            self.incomplete(cs, sr, ss, cr)
        if cs is None and sr is not None and (not self.ts or (ss is not None and not self.dur)):
            self.for_endpoint(sr[1]).shared = True  # v1: no timestamp on a server span = shared
        self.messaging()

    def incomplete(self, cs, sr, ss, cr) -> None:
        for builder in self.builders():
            if builder.kind == "CLIENT":
                if cs is not None:
                    builder.timestamp = cs[0]
                if cr is not None:
                    builder.notes.append(Annotation(cr[0], "cr"))
            elif builder.kind == "SERVER":
                if sr is not None:
                    builder.timestamp = sr[0]
                if ss is not None:
                    builder.notes.append(Annotation(ss[0], "ss"))
        if self.ts:
            self.first.timestamp, self.first.duration = self.ts, self.dur or None

    def messaging(self) -> None:
        ms, mr, ws, wr = (self.core.get(v) for v in ("ms", "mr", "ws", "wr"))
        if ms is not None and mr is not None:
            producer, consumer = self.two_sides(ms[1], mr[1], "PRODUCER", "CONSUMER")
            if wr is not None:
                consumer.timestamp, consumer.duration = wr[0], mr[0] - wr[0]
            else:
                consumer.timestamp = mr[0]
            producer.timestamp = ms[0]
            producer.duration = ws[0] - ms[0] if ws is not None else None
        elif ms is not None:
            self.time_from(ms, ws)
        elif mr is not None:
            if wr is not None:
                self.time_from(wr, mr)
            else:
                self.time_from(mr, None)
        else:
            for point, name in ((ws, "ws"), (wr, "wr")):
                if point is not None:
                    self.for_endpoint(point[1]).notes.append(Annotation(point[0], name))

    def binary_annotations(self) -> None:
        addresses: dict[str, Endpoint] = {}
        for binary in self.source.binaryAnnotations or ():
            if binary.key in _ADDRESS_KEYS and (
                binary.value is None
                or type(binary.value) is bool
                or (binary.type or "").upper() == "BOOL"
            ):
                if binary.endpoint is not None:
                    addresses[binary.key] = binary.endpoint
                continue
            value = _typed_value(binary, self.warn)
            if value is _SKIP:
                continue
            builder = self.for_endpoint(binary.endpoint)
            if binary.key == "lc" and value == "":
                continue  # a marker that only carries the endpoint
            builder.tags[binary.key or ""] = value
        self.remotes(addresses.get("ca"), addresses.get("sa"), addresses.get("ma"))

    def remotes(self, ca: Endpoint | None, sa: Endpoint | None, ma: Endpoint | None) -> None:
        core = self.core
        if not any(v in core for v in ("cs", "cr", "ss", "sr")) and (ca or sa):
            if ca is not None and sa is not None:
                self.for_endpoint(ca).remote = sa
            elif sa is not None:
                self.for_endpoint(None).remote = sa  # "sa" alone: a remote, not a client
            else:
                server = self.for_endpoint(None)
                server.kind, server.remote = "SERVER", ca
            return
        server_side = core.get("sr") or core.get("ss")
        if ca is not None and server_side is not None and ca != server_side[1]:
            if _service(ca) == _service(server_side[1]):
                ca = Endpoint(None, ca.ipv4, ca.ipv6, ca.port)  # no loopback link to itself
            self.for_endpoint(server_side[1]).remote = ca
        if sa is not None:
            client = core.get("cs") or core.get("cr")
            if client is not None:
                self.for_endpoint(client[1]).remote = sa
        if ma is not None:
            for side in ("ms", "mr"):
                if side in core:
                    self.for_endpoint(core[side][1]).remote = ma

    def finish(self) -> list[ZSpan]:
        source = self.source
        out = []
        for builder in self.builders():
            local = builder.local
            component = builder.tags.get("lc")
            if type(component) is str and component and (local is None or not local.serviceName):
                local = Endpoint(component, *(() if local is None else _address(local)))
            out.append(
                ZSpan(
                    traceId=source.traceId,
                    id=source.id,
                    parentId=source.parentId,
                    kind=builder.kind,
                    name=source.name,
                    timestamp=builder.timestamp,
                    duration=builder.duration,
                    debug=source.debug,
                    shared=builder.shared or None,
                    localEndpoint=local,
                    remoteEndpoint=builder.remote,
                    annotations=builder.notes or None,
                    tags=builder.tags or None,
                )
            )
        return out


def _address(endpoint: Endpoint) -> tuple:
    return endpoint.ipv4, endpoint.ipv6, endpoint.port


def split_v1(source: V1Span, warn: Warn) -> list[ZSpan]:
    """The v2 spans of one v1 span (one, or two for a span with both sides of an RPC)."""
    split = _Split(source, warn)
    split.annotations()
    split.binary_annotations()
    return split.finish()


def _typed_value(binary: V1BinaryAnnotation, warn: Warn) -> Any:
    kind = (binary.type or "STRING").upper()
    value = binary.value
    if value is None:
        warn(f"binary annotation {binary.key!r} has no value; skipped")
        return _SKIP
    try:
        if kind == "STRING":
            return value if type(value) in (str, bool, int, float) else tag_string(value)
        if kind == "BOOL":
            if type(value) is bool:
                return value
            if type(value) is str and value.lower() in ("true", "false"):
                return value.lower() == "true"
        elif kind in ("I16", "I32", "I64"):
            if type(value) is int:
                return value
            if type(value) is str:
                return int(value)
            if type(value) is float and value.is_integer():
                return int(value)
        elif kind == "DOUBLE":
            if type(value) in (int, float):
                return float(value)
            if type(value) is str:
                return float(value)
        elif kind == "BYTES" and type(value) is str:
            return base64.b64decode(value, validate=True)
        else:
            warn(f"binary annotation {binary.key!r} has unknown type {binary.type!r}; kept")
            return value if type(value) in (str, bool, int, float) else tag_string(value)
    except (ValueError, binascii.Error):
        pass
    warn(f"binary annotation {binary.key!r}: {value!r} is not a valid {kind}; kept as written")
    return value if type(value) in (str, bool, int, float) else tag_string(value)


_BEGIN_END = {
    "CLIENT": ("sa", "cs", "cr"),
    "SERVER": ("ca", "sr", "ss"),
    "PRODUCER": ("ma", "ms", "ws"),
    "CONSUMER": ("ma", "wr", "mr"),
}
_V1_TYPES = {bool: "BOOL", int: "I64", float: "DOUBLE"}


def _binary(key: str, value: Any, endpoint: Endpoint | None) -> V1BinaryAnnotation:
    if key in _ADDRESS_KEYS:
        value = tag_string(value)  # a typed "ca"/"sa"/"ma" would be read as an address
    kind = _V1_TYPES.get(type(value))
    if kind == "DOUBLE" and not math.isfinite(value):
        value = tag_string(value)
    return V1BinaryAnnotation(key=key, value=value, type=kind, endpoint=endpoint)


def _named(endpoint: Endpoint | None) -> Endpoint | None:
    if endpoint is None or endpoint.serviceName is not None:
        return endpoint
    return Endpoint("", endpoint.ipv4, endpoint.ipv6, endpoint.port)


def join_v1(z: ZSpan) -> V1Span:
    """The v1 span of one v2 span (Zipkin's ``V2SpanConverter``)."""
    # v1 endpoints require serviceName ("" when unknown)
    local = _named(z.localEndpoint)
    remote = _named(z.remoteEndpoint)
    address_key, begin, end = _BEGIN_END.get(z.kind or "", (None, None, None))
    ts, dur = z.timestamp, z.duration
    if z.kind == "CONSUMER" and not dur:
        begin, end = "mr", None
    # core annotations need an endpoint, even an anonymous one, to carry the kind
    core_endpoint = local if local is not None else Endpoint(serviceName="")
    annotations: list[V1Annotation] = []
    if begin and ts:
        annotations.append(V1Annotation(ts, begin, core_endpoint))
    for note in z.annotations or ():
        # an event named like a core annotation is written without endpoint: not taken as one
        endpoint = None if note.value in CORE_VALUES else local
        annotations.append(V1Annotation(note.timestamp, note.value, endpoint))
    if end and ts and dur:
        annotations.append(V1Annotation(ts + dur, end, core_endpoint))
    binaries = [_binary(key, value, local) for key, value in (z.tags or {}).items()]
    if remote is not None:
        binaries.append(V1BinaryAnnotation(address_key or "sa", True, "BOOL", endpoint=remote))
    carried = z.tags or any(note.endpoint is not None for note in annotations)
    if local is not None and not carried:
        binaries.append(V1BinaryAnnotation("lc", "", endpoint=local))
    # v1 says "shared" by leaving the times of a server span to its sr/ss annotations; on any
    # other span that would lose the times, so only server spans get it
    shared = bool(z.shared) and z.kind == "SERVER" and bool(ts)
    return V1Span(
        traceId=z.traceId,
        id=z.id,
        name=z.name or "",
        parentId=z.parentId,
        timestamp=None if shared else ts,
        duration=None if shared else dur,
        debug=z.debug,
        annotations=annotations or None,
        binaryAnnotations=binaries or None,
    )
