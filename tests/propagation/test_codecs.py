"""The codecs' rules and the reasons they give, one rule at a time."""

from __future__ import annotations

import pytest

from spanscope.propagation import b3, baggage, codecs, jaeger, w3c, xray
from spanscope.propagation.context import BaggageEntry, Context

TP = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "version ff is forbidden"),
        ("0-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "version '0'"),
        ("00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01", "uppercase"),
        ("00-00000000000000000000000000000000-00f067aa0ba902b7-01", "trace-id is all zeros"),
        ("00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01", "parent-id is all zeros"),
        ("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b-01", "parent-id '00f067aa0ba902b'"),
        (TP + "-extra", "extra data is only allowed from version 01"),
        ("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0", "at least 55"),
        ("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x", "must be followed by '-'"),
    ],
)
def test_traceparent_reasons(value: str, reason: str) -> None:
    parsed = w3c.parse_traceparent(value)
    assert not parsed.ok
    assert reason in parsed.reason


def test_traceparent_future_version_and_flags() -> None:
    parsed = w3c.parse_traceparent(
        "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-03-whatever"
    )
    assert parsed.ok and parsed.value.sampled and not parsed.value.random  # only "sampled"
    assert "sent on as version 00" in parsed.warnings[0]
    reserved = w3c.parse_traceparent(TP[:-2] + "ff")
    assert reserved.ok and "reserved bits" in reserved.warnings[0]
    # sent on as version 00 with reserved bits cleared
    context = w3c.extract([("traceparent", TP[:-2] + "ff")]).value
    assert w3c.inject(context)[0][1].endswith("-03")


def test_repeated_traceparent_is_invalid() -> None:
    parsed = w3c.parse_traceparent([TP, TP])
    assert not parsed.ok and "2 traceparent headers" in parsed.reason


def test_tracestate_rules() -> None:
    ok = w3c.parse_tracestate(["rojo=00f067aa0ba902b7", "", "congo=t61rcWkgMzE , "])
    assert ok.value == (("rojo", "00f067aa0ba902b7"), ("congo", "t61rcWkgMzE"))
    assert "33 list-members" in w3c.parse_tracestate(",".join(f"k{i}=v" for i in range(33))).reason
    assert "at most 256" in w3c.parse_tracestate("z" * 257 + "=1").reason
    assert "ends with a space" not in w3c.parse_tracestate("a=b ").reason  # trailing OWS
    assert "empty value" in w3c.parse_tracestate("a=").reason
    assert "contains '='" in w3c.parse_tracestate("a=b=c").reason
    assert "must start with" in w3c.parse_tracestate("@a=1").reason
    duplicate = w3c.parse_tracestate("a=1,a=2")
    assert duplicate.value == (("a", "1"),) and "repeated" in duplicate.warnings[0]
    level1 = w3c.parse_tracestate("foo@=1")
    assert level1.ok and "Level 1" in level1.warnings[0]
    assert w3c.parse_tracestate("t@vendor=1").warnings == ()


def test_tracestate_truncation_drops_large_entries_first() -> None:
    members = [(f"k{i}", "v" * 100) for i in range(4)] + [("big", "x" * 200)]
    text = w3c.format_tracestate(members)
    assert len(text) <= 512 and "big=" not in text and text.startswith("k0=")
    many = [(f"k{i:02}", "v" * 20) for i in range(30)]
    kept = w3c.format_tracestate(many).split(",")
    assert kept[0] == "k00=" + "v" * 20 and len(",".join(kept)) <= 512
    assert w3c.parse_tracestate(",".join(f"{k}={v}" for k, v in many)).warnings


def test_bad_tracestate_does_not_spoil_traceparent() -> None:
    parsed = w3c.extract([("traceparent", TP), ("tracestate", "a=b=c")])
    assert parsed.ok and parsed.value.tracestate == ()
    assert parsed.warnings[0].startswith("tracestate ignored")


def test_baggage_rules() -> None:
    parsed = baggage.parse_baggage(["userId=alice, serverNode = DF%2028", "isProduction=false;p=1"])
    assert parsed.value == (
        BaggageEntry("userId", "alice"),
        BaggageEntry("serverNode", "DF 28"),
        BaggageEntry("isProduction", "false", "p=1"),
    )
    assert "no '='" in baggage.parse_baggage("novalue").reason
    assert "percent-encoded" in baggage.parse_baggage('k=a"b').reason
    assert "two hex digits" in baggage.parse_baggage("k=50%").reason
    replaced = baggage.parse_baggage("k=%ff")
    assert replaced.value[0].value == "\ufffd" and "not UTF-8" in replaced.warnings[0]
    assert "not a token" in baggage.parse_baggage("a b=1").reason
    text = baggage.format_baggage([BaggageEntry("k", "ü ,;\\%")])
    assert text == "k=%C3%BC%20%2C%3B%5C%25"
    assert baggage.parse_baggage(text).value[0].value == "ü ,;\\%"
    many = baggage.parse_baggage(",".join(f"k{i}=v" for i in range(65)))
    assert many.ok and "65 members" in many.warnings[0]


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("", "empty"),
        ("80f198ee56343ba864fe8b2a57d3eff7", "1 '-'-separated field;"),
        ("a-e457b5a2e4d86bd1", "'a' has 1 character,"),
        ("80f198ee56343ba8-e457b5a2e4d86bd1-2", "SamplingState '2'"),
        ("80f198ee56343ba864fe8b2a57d3eff-e457b5a2e4d86bd1", "31 characters"),
        ("80F198EE56343BA8-e457b5a2e4d86bd1", "uppercase"),
        ("80f198ee56343ba8-0000000000000000-1", "SpanId is all zeros"),
        ("80f198ee56343ba8-e457b5a2e4d86bd1-1-xyz", "ParentSpanId 'xyz'"),
    ],
)
def test_b3_single_reasons(value: str, reason: str) -> None:
    parsed = b3.parse_single(value)
    assert not parsed.ok and reason in parsed.reason


def test_b3_64_bit_ids_and_precedence() -> None:
    context = b3.extract_single([("b3", "e457b5a2e4d86bd1-05e3ac9a4f6e3b90-d")]).value
    assert context.trace_id == "0000000000000000e457b5a2e4d86bd1" and context.debug
    headers = [
        ("b3", "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-0"),
        ("X-B3-TraceId", "463ac35c9f6413ad48485a3953bb6124"),
        ("X-B3-SpanId", "a2fb4a1d1a96d312"),
    ]
    assert b3.extract_any(headers).value.trace_id == "80f198ee56343ba864fe8b2a57d3eff7"
    first_wins = b3.parse_multi([("X-B3-Sampled", "1"), ("x-b3-sampled", "0"), ("X-B3-Flags", "2")])
    assert first_wins.value.sampling == "accept"
    assert any("repeated" in w for w in first_wins.warnings)
    assert any("ignored" in w for w in first_wins.warnings)


def test_b3_writers() -> None:
    context = Context("80f198ee56343ba864fe8b2a57d3eff7", "e457b5a2e4d86bd1", "05e3ac9a4f6e3b90")
    assert b3.format_single(context) == "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1"
    assert b3.format_single(Context(sampled=False)) == "0"
    debug = Context("80f198ee56343ba864fe8b2a57d3eff7", "e457b5a2e4d86bd1", debug=True)
    assert ("x-b3-flags", "1") in b3.inject_multi(debug)
    assert not any(name == "x-b3-sampled" for name, _ in b3.inject_multi(debug))


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("abc:def:0", "3 ':'-separated fields;"),
        ("abc", "1 ':'-separated field;"),
        ("0:def:0:1", "trace-id is 0"),
        ("abc:0:0:1", "span-id is 0"),
        ("x:def:0:1", "not hex"),
        ("abc:def:0:100", "one byte"),
        ("1" * 33 + ":def:0:1", "at most 32"),
    ],
)
def test_jaeger_reasons(value: str, reason: str) -> None:
    parsed = jaeger.parse_uber_trace_id(value)
    assert not parsed.ok and reason in parsed.reason


def test_jaeger_flags_and_baggage_round_trip() -> None:
    context = jaeger.extract(
        [("Uber-Trace-Id", "abc:def:0:3"), ("uberctx-User", "a%20b"), ("uberctx-", "x")]
    ).value
    assert context.debug and context.sampled and context.span_id == "0000000000000def"
    assert context.baggage == (BaggageEntry("user", "a b"),)
    assert jaeger.inject(context) == [
        ("uber-trace-id", f"{'abc':0>32}:{'def':0>16}:0:3"),
        ("uberctx-user", "a%20b"),
    ]


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("Root=2-5759e988-bd862e3fe1be46a994272793", "version '2'"),
        ("Root=1-5759e98-bd862e3fe1be46a994272793", "time part"),
        ("Root=1-5759e988-bd862e3fe1be46a99427279", "unique part"),
        ("Root=1-5759e988-bd862e3fe1be46a994272793;Parent=xyz", "Parent"),
        ("Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=2", "Sampled '2'"),
        ("Parent=53995c3f42cd8ad8", "Parent without Root"),
        ("Root", "not Key=Value"),
    ],
)
def test_xray_reasons(value: str, reason: str) -> None:
    parsed = xray.parse_xray(value)
    assert not parsed.ok and reason in parsed.reason


def test_xray_fields_and_time_warning() -> None:
    parsed = xray.parse_xray(
        "Self=1-67891234-12456789abcdef012345678;Root=1-5759e988-bd862e3fe1be46a994272793;"
        "Sampled=?;Lineage=a87bd80c:1"
    )
    assert parsed.ok and parsed.value.sampled is None and "Lineage" in parsed.value.fields
    assert xray.time_part_warning("5759e988bd862e3fe1be46a994272793")
    assert not xray.time_part_warning("5759e988bd862e3fe1be46a994272793", now=0x5759E988 + 60)


def test_convert_and_header_text() -> None:
    headers = codecs.parse_header_text(
        "X-Amzn-Trace-Id: Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;"
        "Sampled=1\nbaggage: k=v"
    )
    converted = codecs.convert(headers, ["w3c"])
    assert converted.header == "xray"  # the format the context was read from
    assert converted.value == [
        ("traceparent", "00-5759e988bd862e3fe1be46a994272793-53995c3f42cd8ad8-01"),
        ("baggage", "k=v"),
    ]
    assert codecs.guess_header("0") == "b3"
    assert codecs.guess_header(TP) == "traceparent"
    assert codecs.guess_header("abc:def:0:1") == "uber-trace-id"
    assert not codecs.convert([("traceparent", "junk")], ["b3"]).ok
    with pytest.raises(ValueError, match="unknown format"):
        codecs.resolve_formats("w3c,zipkin")
    assert codecs.resolve_formats("all") == list(codecs.FORMAT_NAMES)


def test_disagreeing_formats_are_reported() -> None:
    results = codecs.extract_all(
        [("traceparent", TP), ("b3", "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1")]
    )
    assert "b3 trace id" in codecs.disagreements(results)[0]
