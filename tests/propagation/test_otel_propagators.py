"""Our ``TextMapPropagator``s against the upstream OpenTelemetry ones: whatever one injects,
the other extracts to the same span context, in every format (property-based)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from opentelemetry import baggage, trace
from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags, TraceState

from spanscope.propagation import codecs
from spanscope.propagation.otel import SpanscopePropagator, propagator

span_contexts = st.builds(
    lambda trace_id, span_id, sampled: SpanContext(
        trace_id, span_id, is_remote=True, trace_flags=TraceFlags(int(sampled))
    ),
    st.integers(1, 2**128 - 1),
    st.integers(1, 2**64 - 1),
    st.booleans(),
)


def _same(a: SpanContext, b: SpanContext) -> bool:
    return (a.trace_id, a.span_id, a.trace_flags.sampled) == (
        b.trace_id,
        b.span_id,
        b.trace_flags.sampled,
    )


@pytest.mark.parametrize("fmt", codecs.FORMAT_NAMES)
@settings(max_examples=60)
@given(span_context=span_contexts)
def test_ours_and_upstream_understand_each_other(fmt: str, span_context: SpanContext) -> None:
    ours = SpanscopePropagator(fmt)
    upstream = propagator(fmt, prefer_upstream=True, with_baggage=False)
    context = trace.set_span_in_context(NonRecordingSpan(span_context))
    for writer, reader in ((ours, upstream), (upstream, ours)):
        carrier: dict[str, str] = {}
        writer.inject(carrier, context)
        got = trace.get_current_span(reader.extract(carrier)).get_span_context()
        assert got.is_valid and _same(got, span_context), (writer, carrier)


def test_ours_carry_tracestate_random_flag_and_baggage() -> None:
    span_context = SpanContext(
        0x4BF92F3577B34DA6A3CE929D0E0E4736,
        0x00F067AA0BA902B7,
        is_remote=True,
        trace_flags=TraceFlags(0x03),
        trace_state=TraceState([("rojo", "00f067aa0ba902b7")]),
    )
    context = baggage.set_baggage(
        "user", "a b", trace.set_span_in_context(NonRecordingSpan(span_context))
    )
    carrier: dict[str, str] = {}
    SpanscopePropagator("w3c").inject(carrier, context)
    assert carrier == {
        "traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-03",
        "tracestate": "rojo=00f067aa0ba902b7",
        "baggage": "user=a%20b",
    }
    back = SpanscopePropagator("w3c").extract(carrier)
    got = trace.get_current_span(back).get_span_context()
    assert got.trace_flags == 0x03 and got.trace_state.get("rojo") == "00f067aa0ba902b7"
    assert baggage.get_baggage("user", back) == "a b"
    # an invalid header leaves the context alone
    assert SpanscopePropagator("b3").extract({"b3": "nonsense"}) == {}
    with pytest.raises(ValueError, match="unknown format"):
        SpanscopePropagator("zipkin")


def test_our_b3_propagator_reads_both_forms() -> None:
    multi = {"x-b3-traceid": "463ac35c9f6413ad48485a3953bb6124", "x-b3-spanid": "a2fb4a1d1a96d312"}
    got = trace.get_current_span(SpanscopePropagator("b3").extract(multi)).get_span_context()
    assert f"{got.span_id:016x}" == "a2fb4a1d1a96d312"
    both = {**multi, "b3": "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1"}
    got = trace.get_current_span(SpanscopePropagator("b3").extract(both)).get_span_context()
    assert f"{got.span_id:016x}" == "e457b5a2e4d86bd1"  # the single header wins


@pytest.mark.parametrize("parent", ["xyz", "", "00f067aa0ba902b7ff", "-"])
def test_a_malformed_deprecated_jaeger_parent_is_ignored_as_upstream_ignores_it(parent) -> None:
    # We called the header invalid, so the echo probe started a new trace where every
    # OpenTelemetry service (whose Jaeger propagator never reads the field) continued it.
    header = {"uber-trace-id": f"4bf92f3577b34da6a3ce929d0e0e4736:00f067aa0ba902b7:{parent}:1"}
    upstream = propagator("jaeger", prefer_upstream=True, with_baggage=False)
    theirs = trace.get_current_span(upstream.extract(header)).get_span_context()
    ours = trace.get_current_span(SpanscopePropagator("jaeger").extract(header))
    assert theirs.is_valid and _same(ours.get_span_context(), theirs)
    parsed = codecs.extract_all(list(header.items()))["jaeger"]
    assert parsed.ok and parsed.value.parent_span_id == ""
    assert any("parent-span-id" in w and "ignored" in w for w in parsed.warnings)
    # a bad span id still makes the header invalid, for them as for us
    broken = {"uber-trace-id": f"4bf92f3577b34da6a3ce929d0e0e4736:xyz:{parent}:1"}
    assert not trace.get_current_span(upstream.extract(broken)).get_span_context().is_valid
    assert not codecs.extract_all(list(broken.items()))["jaeger"].ok
