"""Span, its kind and status, events and links.

A ``Span`` is a mutable ``msgspec.Struct``: small, fast to build in the readers' hot loops,
encodable to JSON and msgpack as it is, and decodable with ``type=Span``. Assembly may adjust
``start_ns``/``end_ns`` (clock skew) and ``span_id``/``parent_span_id`` (duplicate ids, parent
loops); it records each change in ``warnings``.
"""

from __future__ import annotations

from enum import IntEnum

import msgspec

from spanscope.model.attributes import Attributes


class SpanKind(IntEnum):
    """OTLP ``Span.SpanKind`` values."""

    UNSPECIFIED = 0
    INTERNAL = 1
    SERVER = 2
    CLIENT = 3
    PRODUCER = 4
    CONSUMER = 5


class StatusCode(IntEnum):
    """OTLP ``Status.StatusCode`` values."""

    UNSET = 0
    OK = 1
    ERROR = 2


class Event(msgspec.Struct, omit_defaults=True, gc=False):
    """A timestamped annotation on a span (Jaeger log, Zipkin annotation)."""

    time_ns: int
    name: str
    attributes: Attributes = {}
    dropped_attributes_count: int = 0


class Link(msgspec.Struct, omit_defaults=True, gc=False):
    """A reference from a span to another span, possibly in another trace."""

    trace_id: str
    span_id: str
    trace_state: str = ""
    attributes: Attributes = {}
    flags: int = 0
    dropped_attributes_count: int = 0


class Span(msgspec.Struct, omit_defaults=True, gc=False):
    """One timed operation.

    ``follows_from`` is true when the parent relation is Jaeger's FOLLOWS_FROM (or a
    producer/consumer hand-off): the parent does not wait for this span, so it never blocks the
    parent on the critical path. ``shared`` marks a Zipkin server span that shared its id with the
    client span. ``warnings`` holds what readers and assembly noticed about this span.
    """

    trace_id: str
    span_id: str
    name: str
    start_ns: int
    end_ns: int
    parent_span_id: str = ""
    kind: SpanKind = SpanKind.UNSPECIFIED
    service_name: str = ""
    status_code: StatusCode = StatusCode.UNSET
    status_message: str = ""
    attributes: Attributes = {}
    resource_attributes: Attributes = {}
    scope_name: str = ""
    scope_version: str = ""
    scope_attributes: Attributes = {}
    events: list[Event] = []
    links: list[Link] = []
    trace_state: str = ""
    flags: int = 0
    follows_from: bool = False
    shared: bool = False
    dropped_attributes_count: int = 0
    dropped_events_count: int = 0
    dropped_links_count: int = 0
    warnings: list[str] = []

    @property
    def duration_ns(self) -> int:
        """End minus start, never negative; 0 for a span that never ended."""
        if self.end_ns <= self.start_ns:
            return 0
        return self.end_ns - self.start_ns

    @property
    def is_unclosed(self) -> bool:
        return self.end_ns == 0

    @property
    def is_error(self) -> bool:
        """Status ERROR. Analysis widens this (HTTP >= 500, gRPC codes, exception events)."""
        return self.status_code == StatusCode.ERROR
