"""Property-based round trips for every codec: what a format can carry comes back unchanged,
and no input, however mangled, makes a parser raise."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from spanscope.propagation import b3, baggage, codecs, jaeger, w3c, xray
from spanscope.propagation.context import BaggageEntry, Context

HEXCHARS = "0123456789abcdef"
trace_ids = st.text(HEXCHARS, min_size=32, max_size=32).filter(lambda s: set(s) != {"0"})
span_ids = st.text(HEXCHARS, min_size=16, max_size=16).filter(lambda s: set(s) != {"0"})
KEYCHARS = "abcdefghijklmnopqrstuvwxyz0123456789_-*/@"
ts_keys = st.builds(
    lambda first, rest: first + rest,
    st.sampled_from("abcdefghijklmnopqrstuvwxyz0123456789"),
    st.text(KEYCHARS, max_size=20),
)
ts_values = st.text(
    st.characters(min_codepoint=0x20, max_codepoint=0x7E, exclude_characters=",="),
    min_size=1,
    max_size=30,
).filter(lambda v: not v.endswith(" ") and not v.startswith(" "))
tracestates = st.lists(st.tuples(ts_keys, ts_values), max_size=14, unique_by=lambda m: m[0])
TOKEN = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
baggage_entries = st.lists(
    st.builds(BaggageEntry, st.text(TOKEN, min_size=1, max_size=12), st.text(max_size=20)),
    max_size=6,
    unique_by=lambda e: e.key,
)
contexts = st.builds(
    Context,
    trace_id=trace_ids,
    span_id=span_ids,
    parent_span_id=st.one_of(st.just(""), span_ids),
    sampled=st.one_of(st.none(), st.booleans()),
    debug=st.booleans(),
    random=st.booleans(),
    tracestate=tracestates.map(tuple),
    baggage=baggage_entries.map(tuple),
)


def carried(fmt: str, context: Context) -> Context:
    """``context`` reduced to what format ``fmt`` can carry."""
    sampled = True if context.debug else context.sampled
    if fmt == "w3c":
        return Context(
            context.trace_id,
            context.span_id,
            sampled=bool(sampled),
            random=context.random,
            # over 512 characters, whole entries are dropped on the way out
            tracestate=w3c.parse_tracestate(w3c.format_tracestate(context.tracestate)).value or (),
            baggage=context.baggage,
        )
    if fmt in ("b3", "b3multi"):
        keeps_parent = fmt == "b3multi" or sampled is not None
        return Context(
            context.trace_id,
            context.span_id,
            context.parent_span_id if keeps_parent else "",
            sampled=sampled,
            debug=context.debug,
            baggage=context.baggage,
        )
    if fmt == "jaeger":
        lowered = tuple(replace(e, key=e.key.lower()) for e in context.baggage)
        return Context(
            context.trace_id,
            context.span_id,
            context.parent_span_id,
            sampled=bool(sampled),
            debug=context.debug,
            baggage=lowered,
        )
    return Context(context.trace_id, context.span_id, sampled=sampled, baggage=context.baggage)


@settings(max_examples=200)
@given(contexts, st.sampled_from(codecs.FORMAT_NAMES))
def test_inject_then_extract_gives_back_what_the_format_carries(context, fmt) -> None:
    if fmt == "jaeger":  # header names are case-free, so jaeger baggage keys must differ in case
        keys = [e.key.lower() for e in context.baggage]
        context = replace(context, baggage=context.baggage if len(set(keys)) == len(keys) else ())
    headers = codecs.inject(context, [fmt])
    parsed = codecs.CODECS[fmt].extract(headers)
    assert parsed.ok, parsed.reason
    assert parsed.value == carried(fmt, context)


@given(contexts)
def test_traceparent_format_parse(context) -> None:
    value = w3c.inject(context)[0][1]
    parsed = w3c.parse_traceparent(value)
    assert parsed.ok and parsed.value.format() == value and not parsed.warnings


@given(tracestates)
def test_tracestate_round_trip(members) -> None:
    text = w3c.format_tracestate(members, limit=None)
    parsed = w3c.parse_tracestate(text)
    assert parsed.ok and list(parsed.value) == list(members)


@given(baggage_entries)
def test_baggage_round_trip(entries) -> None:
    parsed = baggage.parse_baggage(baggage.format_baggage(entries))
    assert parsed.ok and list(parsed.value) == list(entries)


@given(contexts)
def test_b3_single_and_multi_agree(context) -> None:
    single = b3.parse_single(b3.format_single(context))
    multi = b3.parse_multi(b3.inject_multi(context))
    assert single.ok and multi.ok
    assert single.value.trace_id == multi.value.trace_id
    assert single.value.sampling == multi.value.sampling


@given(trace_ids, span_ids, st.one_of(st.none(), st.booleans()))
def test_xray_ids_convert_both_ways(trace_id, span_id, sampled) -> None:
    context = Context(trace_id, span_id, sampled=sampled)
    parsed = xray.parse_xray(xray.format_xray(context))
    assert parsed.ok and parsed.value.to_context() == context
    assert xray.trace_id_to_root(trace_id).replace("-", "")[1:] == trace_id


@given(st.integers(1, 2**64 - 1), st.integers(1, 2**64 - 1), st.integers(0, 255))
def test_jaeger_short_ids_pad(trace_number, span_number, flags) -> None:
    parsed = jaeger.parse_uber_trace_id(f"{trace_number:x}:{span_number:x}:0:{flags:x}")
    assert parsed.ok
    context = parsed.value.to_context()
    assert int(context.trace_id, 16) == trace_number and len(context.trace_id) == 32
    assert int(context.span_id, 16) == span_number and len(context.span_id) == 16


mangled = st.one_of(
    st.text(max_size=80),
    st.text("0123456789abcdefABCDEF-:;=,% \t@xX", max_size=80),
)


@settings(max_examples=150)
@given(mangled, st.sampled_from(codecs.FORMAT_NAMES))
def test_parsers_never_raise(text, fmt) -> None:
    for name in (
        "traceparent",
        "tracestate",
        "baggage",
        "b3",
        "x-b3-traceid",
        "x-b3-sampled",
        "uber-trace-id",
        "uberctx-k",
        "x-amzn-trace-id",
    ):
        parsed = codecs.CODECS[fmt].extract([(name, text), ("x-b3-spanid", text)])
        assert parsed.ok or not parsed.present or parsed.reason
    codecs.parse_header_text(text)
