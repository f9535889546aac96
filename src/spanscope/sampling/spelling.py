"""Tail-sampling policies as people type them, and the set a sampler applies.

The policies themselves are in ``spanscope.sampling.policies``. ``PolicySet`` keeps a trace
when **any** keep policy matches and **no** drop policy does, as the OpenTelemetry Collector's
``tail_sampling`` processor does with its ``drop`` policies. The policies and their spellings
(for ``--policy`` / ``--tail-sample``):

=============================  ====================================================================
``errors``                     a span failed (``analysis.errors.is_error_span``: status ERROR,
                               HTTP >= 500, gRPC not OK, an ``exception`` event, ``error=true``)
``latency>=500ms``             the trace lasted at least this long, first start to last end (also
                               ``>``, ``<=``, ``<``: ``latency>=500ms & latency<=2s`` is a band)
``probability=10%``            this share of traces, chosen by trace id exactly as the OTel SDK's
                               ``TraceIdRatioBased`` head sampler chooses (lowest 64 bits of the
                               id below ratio x 2^64): head and tail sampling at the same ratio
                               keep the same traces
``service=checkout``           a span of this service
``attribute:KEY``              a span (or its resource) has this attribute
``attribute:KEY=V1|V2``        ... with one of these values (compared as text)
``attribute:KEY>=500``         ... with a number at least this (also ``>``, ``<=``, ``<``; numbers
                               written as text count, as Zipkin keeps every value as text)
``status_code=ERROR``          a span with one of these statuses (``ERROR|UNSET|OK``), nothing else
``spans>=100``                 the trace has at least this many spans (also ``>``, ``<=``, ``<``)
``rate=500/s``                 at most this many spans per second, first come first kept
``all``                        every trace
``drop:<policy>``              never keep a trace this policy matches (e.g. health checks)
``P1 & P2``                    every one of these policies matches (the Collector's ``and``)
=============================  ====================================================================

The OpenTelemetry Collector's ``tail_sampling`` type names are accepted as they are known there:
``always_sample``, ``probabilistic=10%``, ``rate_limiting=500``, ``span_count>=N``,
``string_attribute:KEY=V1|V2``, ``numeric_attribute:KEY>=N``, ``status_code=ERROR`` and ``and``
as ``&`` (``latency`` is spelled the same). Its other types (``composite``, ``ottl_condition``,
``trace_state``...) are refused with a message saying so, not taken for something else.

``parse_policy`` raises ``ValueError`` saying what it expected, for the CLI to show as is.
``PolicySet.decide`` returns the name of the first keep policy that matched (``None`` = drop), so
reports can say why a trace was kept.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from spanscope.model import Span, StatusCode
from spanscope.sampling.policies import (
    COMPARISONS,
    AllOf,
    Always,
    Attribute,
    Errors,
    Latency,
    NumericAttribute,
    Policy,
    Probability,
    RateLimit,
    Service,
    SpanCount,
    Status,
)
from spanscope.units import format_duration, parse_duration

_COMPARISON = re.compile(r"^(latency|spans|span_count)\s*(>=|<=|>|<)\s*(.+)$")
_ATTRIBUTE = re.compile(r"^([^=<>]*?)\s*(>=|<=|>|<|=|$)\s*(.*)$", re.DOTALL)
_SPELLINGS = (
    "errors, latency>=500ms, probability=10%, service=NAME, attribute:KEY[=V1|V2], "
    "attribute:KEY>=N, status_code=ERROR, spans>=N, rate=N/s, all, P1 & P2, drop:<policy>"
)
# Collector policy types with no spelling here: refused by name rather than misread.
_UNSUPPORTED = {
    "composite": "give each sub-policy as its own -p (any keeps); rate shares are not offered",
    "ottl_condition": "use attribute:, status_code=, service= or latency>= instead",
    "trace_state": "tracestate is not kept per policy; use attribute: on a span attribute",
    "boolean_attribute": "spell it attribute:KEY=true",
}


def parse_policy(text: str) -> Policy:
    """One keep policy from its spelling (see the module docstring); ``drop:`` is handled by
    ``PolicySet.parse``. Raises ``ValueError`` naming the part that is wrong and what it
    expected."""
    spec = text.strip()
    try:
        parts = [part.strip() for part in spec.split("&")]
        if len(parts) == 1:
            return _parse(spec)
        policies = []
        for part in parts:
            if not part:
                raise ValueError("'&' needs a policy on each side, e.g. service=checkout & errors")
            try:
                policies.append(_parse(part))
            except ValueError as exc:
                raise ValueError(f"in {part!r}: {exc}" if str(exc) else _unknown(part)) from None
        # rate limits last: they count the spans of the traces they say yes to
        policies.sort(key=lambda policy: isinstance(policy, RateLimit))
        return AllOf(tuple(policies), name=" & ".join(parts))
    except ValueError as exc:
        detail = str(exc)
        raise ValueError(
            f"invalid sampling policy {text!r}: {detail}"
            if detail
            else f"invalid sampling policy {text!r}; use one of: {_SPELLINGS}"
        ) from None


def _unknown(part: str) -> str:
    return f"{part!r} is not a policy; use one of: {_SPELLINGS}"


def _parse(spec: str) -> Policy:
    if spec in ("all", "always_sample"):
        return Always(name=spec)
    if spec in ("errors", "error"):
        return Errors()
    if match := _COMPARISON.match(spec):
        what, operator, amount = match.groups()
        if what == "latency":
            bound = parse_duration(amount.strip())
            if operator.startswith("<"):
                name = f"latency{operator}{format_duration(bound)}"
                return Latency(0, name=name, at_most_ns=bound - (operator == "<"))
            bound += operator == ">"
            return Latency(bound, name=f"latency>={format_duration(bound)}")
        if not amount.strip().isdecimal():
            raise ValueError("spans needs a whole number, e.g. spans>=100")
        if operator.startswith("<"):
            maximum = int(amount) - (operator == "<")
            return SpanCount(0, name=f"spans<={maximum}", maximum=maximum)
        minimum = int(amount) + (operator == ">")
        return SpanCount(minimum, name=f"spans>={minimum}")
    kind, colon, rest = spec.partition(":")
    if colon and kind in ("attribute", "string_attribute", "numeric_attribute"):
        return _attribute(kind, rest, spec)
    key, sep, value = spec.partition("=")
    key = key.strip()
    if key in ("probability", "probabilistic") and sep:
        return _probability(value.strip(), spec)
    if key == "service" and sep and value:
        return Service(value, name=spec)
    if key in ("rate", "rate_limiting") and sep:
        number = value.strip().removesuffix("/s")
        if not number.isdecimal() or int(number) <= 0:
            raise ValueError("rate needs spans per second, e.g. rate=500/s")
        return RateLimit(int(number), name=f"rate={int(number)}/s")
    if key in ("status_code", "status") and sep:
        return _status(value, spec)
    if key in ("latency", "spans", "span_count"):
        example = "latency>=500ms" if key == "latency" else "spans>=100"
        raise ValueError(f"{key} takes >=, >, <= or <, e.g. {example}")
    for name in (key, kind.strip()):
        if name == "and":
            raise ValueError("the Collector's 'and' is spelled with '&': service=checkout & errors")
        if name in _UNSUPPORTED:
            raise ValueError(
                f"the Collector's {name!r} policy is not offered: {_UNSUPPORTED[name]}"
            )
    raise ValueError("")


def _attribute(kind: str, rest: str, spec: str) -> Policy:
    match = _ATTRIBUTE.match(rest)
    assert match is not None  # the pattern matches every string
    key, operator, value = match.groups()
    key = key.strip()
    if not key:
        raise ValueError("attribute needs a key, e.g. attribute:http.route=/api/pay")
    if operator in COMPARISONS:
        try:
            bound = float(value)
        except ValueError:
            raise ValueError(
                f"attribute:{key}{operator} needs a number, e.g. attribute:{key}{operator}500"
            ) from None
        return NumericAttribute(key, operator, bound, name=spec)
    if kind == "numeric_attribute":
        raise ValueError(f"numeric_attribute needs a comparison, e.g. {kind}:{key}>=500")
    allowed = frozenset(value.split("|")) if operator == "=" else None
    return Attribute(key, allowed, name=spec)


def _status(value: str, spec: str) -> Status:
    codes = set()
    for code in value.split("|"):
        name = code.strip().upper().removeprefix("STATUS_CODE_")
        if name not in StatusCode.__members__:
            raise ValueError(f"status code {code.strip()!r} is not one of ERROR, UNSET, OK")
        codes.add(StatusCode[name])
    return Status(frozenset(codes), name=spec)


def _probability(value: str, spelled: str) -> Probability:
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
                dropped = spec.strip().removeprefix("drop:")
                if not dropped.strip():
                    raise ValueError(
                        f"invalid sampling policy {spec!r}: drop: needs a policy after it, "
                        "e.g. drop:attribute:http.route=/health"
                    )
                drop.append(parse_policy(dropped))
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
