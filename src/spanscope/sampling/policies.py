"""Tail-sampling policies: which whole traces to keep.

A policy looks at every span of one trace (in any order, not assembled) and says keep or not:
``errors`` (``analysis.errors.is_error_span``: status ERROR, HTTP >= 500, gRPC not OK, an
``exception`` event, ``error=true``), a latency band (first start to last end), a probability
chosen by trace id exactly as the OTel SDK's ``TraceIdRatioBased`` head sampler chooses
(lowest 64 bits of the id below ratio x 2^64: head and tail sampling at the same ratio keep the
same traces), a service, an attribute (present, one of some values, or a number compared;
numbers written as text count, as Zipkin keeps every value as text), a status, a span count,
a rate of spans per second (first come first kept), every trace, and all of several
(``AllOf``). How people write them, and the set a sampler applies (keep and drop policies), are
in ``spanscope.sampling.spelling``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from spanscope.analysis.errors import is_error_span
from spanscope.model import Span, StatusCode

_UINT64 = 1 << 64


class Policy(Protocol):
    @property
    def name(self) -> str: ...

    def matches(self, spans: Sequence[Span], now_ns: int) -> bool: ...


@dataclass(frozen=True)
class Always:
    name: str = "all"

    def matches(self, spans: Sequence[Span], now_ns: int) -> bool:
        return True


@dataclass(frozen=True)
class Errors:
    name: str = "errors"

    def matches(self, spans: Sequence[Span], now_ns: int) -> bool:
        return any(is_error_span(span) for span in spans)


@dataclass(frozen=True)
class Latency:
    """The trace lasted at least ``threshold_ns`` and, with ``at_most_ns``, at most that (the
    Collector's ``upper_threshold_ms``, spelled ``latency>=500ms & latency<=2s``)."""

    threshold_ns: int
    name: str = ""
    at_most_ns: int | None = None

    def matches(self, spans: Sequence[Span], now_ns: int) -> bool:
        start = min(span.start_ns for span in spans)
        end = max(max(span.end_ns, span.start_ns) for span in spans)
        duration = end - start
        return duration >= self.threshold_ns and (
            self.at_most_ns is None or duration <= self.at_most_ns
        )


@dataclass(frozen=True)
class Probability:
    """Keeps a trace when the low 64 bits of its id fall below ``ratio`` x 2^64: the rule of the
    OTel SDK's ``TraceIdRatioBased`` sampler, so the choice is the same in every process."""

    ratio: float
    name: str = ""

    def matches(self, spans: Sequence[Span], now_ns: int) -> bool:
        bound = round(self.ratio * _UINT64)
        try:
            low = int(spans[0].trace_id[-16:], 16)
        except ValueError:
            return False
        return low < bound


@dataclass(frozen=True)
class Service:
    service: str
    name: str = ""

    def matches(self, spans: Sequence[Span], now_ns: int) -> bool:
        return any(span.service_name == self.service for span in spans)


@dataclass(frozen=True)
class Attribute:
    key: str
    values: frozenset[str] | None = None  # None: present with any value
    name: str = ""

    def matches(self, spans: Sequence[Span], now_ns: int) -> bool:
        key, values = self.key, self.values
        for span in spans:
            for attributes in (span.attributes, span.resource_attributes):
                if key in attributes and (values is None or _text(attributes[key]) in values):
                    return True
        return False


# The comparisons a numeric attribute policy may make, by operator (``attribute:KEY>=N``).
COMPARISONS = {
    ">=": lambda a, b: a >= b,
    ">": lambda a, b: a > b,
    "<=": lambda a, b: a <= b,
    "<": lambda a, b: a < b,
}


@dataclass(frozen=True)
class NumericAttribute:
    """A span (or its resource) has a number under ``key`` that compares true with ``bound``:
    the Collector's ``numeric_attribute``, one side at a time (``&`` makes a range)."""

    key: str
    operator: str
    bound: float
    name: str = ""

    def matches(self, spans: Sequence[Span], now_ns: int) -> bool:
        key, compare, bound = self.key, COMPARISONS[self.operator], self.bound
        for span in spans:
            for attributes in (span.attributes, span.resource_attributes):
                if key in attributes:
                    number = _number(attributes[key])
                    if number is not None and compare(number, bound):
                        return True
        return False


@dataclass(frozen=True)
class Status:
    """A span whose status is one of ``codes``: the Collector's ``status_code`` (span status
    only; ``errors`` also counts HTTP 5xx, gRPC codes and exception events)."""

    codes: frozenset[StatusCode]
    name: str = ""

    def matches(self, spans: Sequence[Span], now_ns: int) -> bool:
        return any(span.status_code in self.codes for span in spans)


@dataclass(frozen=True)
class AllOf:
    """Every one of ``policies`` matches: the Collector's ``and``. Stateful ones (``rate``)
    are asked last, so they spend their budget only on traces the others keep."""

    policies: tuple[Policy, ...]
    name: str = ""

    def matches(self, spans: Sequence[Span], now_ns: int) -> bool:
        return all(policy.matches(spans, now_ns) for policy in self.policies)


@dataclass(frozen=True)
class SpanCount:
    """At least ``minimum`` spans and, with ``maximum``, at most that (the Collector's
    ``span_count`` with ``min_spans`` and ``max_spans``)."""

    minimum: int
    name: str = ""
    maximum: int | None = None

    def matches(self, spans: Sequence[Span], now_ns: int) -> bool:
        return len(spans) >= self.minimum and (self.maximum is None or len(spans) <= self.maximum)


@dataclass
class RateLimit:
    """At most ``spans_per_second`` spans kept per second of ``now_ns``, whole traces only (a
    trace that would overrun the second's budget is not kept). Stateful: one per sampler."""

    spans_per_second: int
    name: str = ""
    _second: int = field(default=-1, repr=False)
    _used: int = field(default=0, repr=False)

    def matches(self, spans: Sequence[Span], now_ns: int) -> bool:
        second = now_ns // 1_000_000_000
        if second != self._second:
            self._second, self._used = second, 0
        if self._used + len(spans) > self.spans_per_second:
            return False
        self._used += len(spans)
        return True


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _number(value: object) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return value
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None
