"""OpenTelemetry ``TextMapPropagator``s for every format, built on our strict codecs, and a
chooser that prefers the well-kept upstream propagators when they are installed.

What exists upstream (checked for opentelemetry-python 1.45): the SDK/API ship W3C trace
context and W3C baggage; ``opentelemetry-propagator-b3`` and ``-jaeger`` (same release train
as the SDK) give B3 single/multi and Jaeger; ``opentelemetry-propagator-aws-xray`` gives X-Ray.
``propagator(name)`` returns those when importable and ours otherwise (or with
``prefer_upstream=False``). Ours differ in being strict (an invalid header is ignored, as the
upstream ones do, but the reason is logged) and in covering every format without extras.

Contract: ``extract`` never raises; an absent or invalid header leaves the context as it was.
``inject`` writes nothing when the current span context is invalid.
"""

from __future__ import annotations

import logging

from opentelemetry import baggage as otel_baggage
from opentelemetry import trace as otel_trace
from opentelemetry.context import Context as OtelContext
from opentelemetry.propagators.composite import CompositePropagator
from opentelemetry.propagators.textmap import (
    CarrierT,
    Getter,
    Setter,
    TextMapPropagator,
    default_getter,
    default_setter,
)
from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags, TraceState

from spanscope.propagation import codecs
from spanscope.propagation.context import BaggageEntry, Context

logger = logging.getLogger(__name__)
_RANDOM_FLAG = 0x02


class SpanscopePropagator(TextMapPropagator):
    """A ``TextMapPropagator`` for one of our formats (``codecs.FORMAT_NAMES``)."""

    def __init__(self, format: str) -> None:
        if format not in codecs.CODECS:
            raise ValueError(f"unknown format {format!r}; choose from {codecs.FORMAT_NAMES}")
        self.codec = codecs.CODECS[format]
        # a B3 receiver reads both B3 forms, the single header taking precedence
        self._extract = codecs.extract_b3_any if format == "b3" else self.codec.extract

    def extract(
        self,
        carrier: CarrierT,
        context: OtelContext | None = None,
        getter: Getter[CarrierT] = default_getter,
    ) -> OtelContext:
        context = context if context is not None else OtelContext()
        headers = [
            (key, value) for key in getter.keys(carrier) for value in getter.get(carrier, key) or []
        ]
        parsed = self._extract(headers)
        if parsed.value is None:
            if parsed.present:
                logger.debug("ignored %s context: %s", self.codec.name, parsed.reason)
            return context
        found = parsed.value
        for entry in found.baggage:
            context = otel_baggage.set_baggage(entry.key, entry.value, context)
        if not found.has_ids:
            return context
        flags = (TraceFlags.SAMPLED if found.sampled or found.debug else 0) | (
            _RANDOM_FLAG if found.random else 0
        )
        span_context = SpanContext(
            trace_id=int(found.trace_id, 16),
            span_id=int(found.span_id, 16),
            is_remote=True,
            trace_flags=TraceFlags(flags),
            trace_state=TraceState(list(found.tracestate)),
        )
        return otel_trace.set_span_in_context(NonRecordingSpan(span_context), context)

    def inject(
        self,
        carrier: CarrierT,
        context: OtelContext | None = None,
        setter: Setter[CarrierT] = default_setter,
    ) -> None:
        span_context = otel_trace.get_current_span(context).get_span_context()
        entries = tuple(
            BaggageEntry(str(k), str(v)) for k, v in otel_baggage.get_all(context).items()
        )
        if not span_context.is_valid:
            if entries and self.codec.own_baggage and self.codec.name == "jaeger":
                for name, value in self.codec.inject(Context(baggage=entries)):
                    setter.set(carrier, name, value)
            return
        ours = Context(
            trace_id=f"{span_context.trace_id:032x}",
            span_id=f"{span_context.span_id:016x}",
            sampled=span_context.trace_flags.sampled,
            random=bool(span_context.trace_flags & _RANDOM_FLAG),
            tracestate=tuple(span_context.trace_state.items()),
            baggage=entries if self.codec.own_baggage else (),
        )
        for name, value in self.codec.inject(ours):
            setter.set(carrier, name, value)

    @property
    def fields(self) -> set[str]:
        return {h for h in self.codec.headers if not h.endswith("-")}


def _upstream(name: str) -> TextMapPropagator | None:
    try:
        if name == "w3c":
            from opentelemetry.baggage.propagation import W3CBaggagePropagator
            from opentelemetry.trace.propagation.tracecontext import (
                TraceContextTextMapPropagator,
            )

            return CompositePropagator([TraceContextTextMapPropagator(), W3CBaggagePropagator()])
        if name in ("b3", "b3multi"):
            from opentelemetry.propagators.b3 import B3MultiFormat, B3SingleFormat

            return B3SingleFormat() if name == "b3" else B3MultiFormat()
        if name == "jaeger":
            from opentelemetry.propagators.jaeger import JaegerPropagator

            return JaegerPropagator()
        if name == "xray":
            from opentelemetry.propagators.aws import AwsXRayPropagator

            return AwsXRayPropagator()
    except ImportError:
        return None
    return None


def propagator(
    name: str, prefer_upstream: bool = True, with_baggage: bool = True
) -> TextMapPropagator:
    """A propagator for format ``name``. Formats without baggage of their own get the W3C
    baggage propagator alongside when ``with_baggage`` (OpenTelemetry's usual
    ``OTEL_PROPAGATORS=b3,baggage``)."""
    chosen: TextMapPropagator | None = _upstream(name) if prefer_upstream else None
    if chosen is None:
        chosen = SpanscopePropagator(name)
    if with_baggage and not codecs.CODECS[name].own_baggage:
        from opentelemetry.baggage.propagation import W3CBaggagePropagator

        chosen = CompositePropagator([chosen, W3CBaggagePropagator()])
    return chosen
