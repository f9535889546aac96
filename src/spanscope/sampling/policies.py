"""Tail-sampling policies: which whole traces to keep, as people type them.

A policy looks at every span of one trace (in any order, not assembled) and says keep or not.
``PolicySet`` keeps a trace when **any** keep policy matches and **no** drop policy does, as the
OpenTelemetry Collector's ``tail_sampling`` processor does with its ``drop`` policies. The
policies and their spellings (for ``--policy`` / ``--tail-sample``):

=============================  ====================================================================
``errors``                     a span failed (``analysis.errors.is_error_span``: status ERROR,
                               HTTP >= 500, gRPC not OK, an ``exception`` event, ``error=true``)
``latency>=500ms``             the trace lasted at least this long, first start to last end
``probability=10%``            this share of traces, chosen by trace id exactly as the OTel SDK's
                               ``TraceIdRatioBased`` head sampler chooses (lowest 64 bits of the
                               id below ratio x 2^64): head and tail sampling at the same ratio
                               keep the same traces
``service=checkout``           a span of this service
``attribute:KEY``              a span (or its resource) has this attribute
``attribute:KEY=V1|V2``        ... with one of these values (compared as text)
``spans>=100``                 the trace has at least this many spans
``rate=500/s``                 at most this many spans per second, first come first kept
``all``                        every trace
``drop:<policy>``              never keep a trace this policy matches (e.g. health checks)
=============================  ====================================================================

``parse_policy`` raises ``ValueError`` saying what it expected, for the CLI to show as is.
``PolicySet.decide`` returns the name of the first keep policy that matched (``None`` = drop), so
reports can say why a trace was kept.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from spanscope.analysis.errors import is_error_span
from spanscope.model import Span
from spanscope.units import format_duration, parse_duration

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
    threshold_ns: int
    name: str = ""

    def matches(self, spans: Sequence[Span], now_ns: int) -> bool:
        start = min(span.start_ns for span in spans)
        end = max(max(span.end_ns, span.start_ns) for span in spans)
        return end - start >= self.threshold_ns


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


@dataclass(frozen=True)
class SpanCount:
    minimum: int
    name: str = ""

    def matches(self, spans: Sequence[Span], now_ns: int) -> bool:
        return len(spans) >= self.minimum


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


_COMPARISON = re.compile(r"^(latency|spans)\s*(>=|>)\s*(.+)$")
_SPELLINGS = (
    "errors, latency>=500ms, probability=10%, service=NAME, attribute:KEY[=V1|V2], "
    "spans>=N, rate=N/s, all, drop:<policy>"
)


def parse_policy(text: str) -> Policy:
    """One keep policy from its spelling (see the module docstring); ``drop:`` is handled by
    ``PolicySet.parse``. Raises ``ValueError`` naming the accepted spellings."""
    spec = text.strip()
    try:
        return _parse(spec)
    except ValueError as exc:
        detail = str(exc)
        raise ValueError(
            f"invalid sampling policy {text!r}: {detail}"
            if detail
            else f"invalid sampling policy {text!r}; use one of: {_SPELLINGS}"
        ) from None


def _parse(spec: str) -> Policy:
    if spec == "all":
        return Always()
    if spec in ("errors", "error"):
        return Errors()
    if match := _COMPARISON.match(spec):
        what, operator, amount = match.groups()
        if what == "latency":
            threshold = parse_duration(amount.strip())
            threshold += operator == ">"
            return Latency(threshold, name=f"latency>={format_duration(threshold)}")
        if not amount.strip().isdecimal():
            raise ValueError("spans needs a whole number, e.g. spans>=100")
        minimum = int(amount) + (operator == ">")
        return SpanCount(minimum, name=f"spans>={minimum}")
    key, sep, value = spec.partition("=")
    if key == "probability" and sep:
        return _probability(value.strip())
    if key == "service" and sep and value:
        return Service(value, name=spec)
    if key == "rate" and sep:
        number = value.strip().removesuffix("/s")
        if not number.isdecimal() or int(number) <= 0:
            raise ValueError("rate needs spans per second, e.g. rate=500/s")
        return RateLimit(int(number), name=f"rate={int(number)}/s")
    if spec.startswith("attribute:"):
        key, sep, values = spec.removeprefix("attribute:").partition("=")
        if not key:
            raise ValueError("attribute needs a key, e.g. attribute:http.route=/api/pay")
        allowed = frozenset(values.split("|")) if sep else None
        return Attribute(key, allowed, name=spec)
    raise ValueError("")


def _probability(value: str) -> Probability:
    spelled = f"probability={value}"
    try:
        ratio = float(value[:-1]) / 100 if value.endswith("%") else float(value)
    except ValueError:
        ratio = -1.0
    if not 0.0 <= ratio <= 1.0:
        raise ValueError("probability is a share: 10% or 0.1 (0 to 100%)")
    return Probability(ratio, name=spelled)


@dataclass
class PolicySet:
    """Keep policies (any may keep) and drop policies (any drops, winning over keeps)."""

    keep: list[Policy]
    drop: list[Policy] = field(default_factory=list)

    @classmethod
    def parse(cls, specs: Sequence[str]) -> PolicySet:
        keep: list[Policy] = []
        drop: list[Policy] = []
        for spec in specs:
            if spec.strip().startswith("drop:"):
                drop.append(parse_policy(spec.strip().removeprefix("drop:")))
            else:
                keep.append(parse_policy(spec))
        if not keep:
            raise ValueError("give at least one policy that keeps traces (drop: alone keeps none)")
        return cls(keep, drop)

    @property
    def names(self) -> list[str]:
        return [policy.name for policy in self.keep] + [f"drop:{p.name}" for p in self.drop]

    def decide(self, spans: Sequence[Span], now_ns: int) -> str | None:
        """The name of the keep policy that keeps this trace, or ``None`` to drop it."""
        if not spans:
            return None
        for policy in self.drop:
            if policy.matches(spans, now_ns):
                return None
        for policy in self.keep:
            if policy.matches(spans, now_ns):
                return policy.name
        return None
