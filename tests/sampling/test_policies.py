"""Tail-sampling policies: spellings, decisions, and agreement with the OTel SDK's head sampler."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from opentelemetry.sdk.trace.sampling import Decision, TraceIdRatioBased

from spanscope.formats import read_spans
from spanscope.model import Event, Span, StatusCode
from spanscope.sampling.policies import (
    AllOf,
    Attribute,
    Errors,
    Latency,
    NumericAttribute,
    Probability,
    RateLimit,
    Service,
    SpanCount,
    Status,
)
from spanscope.sampling.simulate import simulate
from spanscope.sampling.spelling import PolicySet, parse_policy
from spanscope.synthetic import generate_spans

from ..conftest import FIXTURES

MS = 1_000_000


def span(trace_id: str = "a" * 32, span_id: str = "1" * 16, start=0, end=10 * MS, **kw) -> Span:
    return Span(trace_id, span_id, kw.pop("name", "op"), start, end, **kw)


def test_spellings_parse_to_the_policies_they_name():
    assert parse_policy("errors") == Errors()
    assert parse_policy("latency>=500ms") == Latency(500 * MS, name="latency>=500ms")
    assert parse_policy("latency>1s").threshold_ns == 1_000_000_001
    assert parse_policy("probability=10%").ratio == pytest.approx(0.1)
    assert parse_policy("probability=0.25").ratio == 0.25
    assert parse_policy("spans>=100") == SpanCount(100, name="spans>=100")
    assert parse_policy("attribute:http.route=/a|/b") == Attribute(
        "http.route", frozenset({"/a", "/b"}), name="attribute:http.route=/a|/b"
    )
    assert parse_policy("attribute:db.system").values is None
    spaced = parse_policy("attribute: http.route = /a")  # spaces around the key are not in it
    assert (spaced.key, spaced.values) == ("http.route", frozenset({"/a"}))
    assert isinstance(parse_policy("rate=500/s"), RateLimit)


@pytest.mark.parametrize(
    ("spec", "says"),
    [
        ("bogus", "use one of"),
        ("latency>=fast", "invalid duration"),
        ("probability=150%", "probability is a share"),
        ("rate=-3/s", "rate needs spans per second"),
        ("spans>=many", "whole number"),
        ("attribute:", "attribute needs a key"),
    ],
)
def test_bad_spellings_say_what_was_expected(spec, says):
    with pytest.raises(ValueError, match="invalid sampling policy") as caught:
        parse_policy(spec)
    assert says in str(caught.value)


def test_errors_policy_uses_the_analysis_rules():
    ok = [span(), span(span_id="2" * 16)]
    assert not Errors().matches(ok, 0)
    assert Errors().matches([*ok, span(status_code=StatusCode.ERROR)], 0)
    assert Errors().matches([span(attributes={"http.response.status_code": 503})], 0)
    assert Errors().matches([span(events=[Event(1, "exception")])], 0)


def test_latency_is_first_start_to_last_end_of_the_whole_trace():
    spans = [span(start=0, end=100 * MS), span(start=350 * MS, end=500 * MS)]
    assert parse_policy("latency>=500ms").matches(spans, 0)
    assert not parse_policy("latency>500ms").matches(spans, 0)


def test_attribute_policy_looks_at_span_and_resource_attributes():
    policy = parse_policy("attribute:tenant=gold|platinum")
    assert policy.matches([span(resource_attributes={"tenant": "gold"})], 0)
    assert policy.matches([span(attributes={"tenant": "platinum"})], 0)
    assert not policy.matches([span(attributes={"tenant": "silver"})], 0)
    assert parse_policy("attribute:retry=true").matches([span(attributes={"retry": True})], 0)


def test_rate_limit_keeps_whole_traces_within_each_seconds_budget():
    policy = parse_policy("rate=5/s")
    three = [span()] * 3
    assert policy.matches(three, 0)
    assert not policy.matches(three, 500 * MS)  # 6 > 5 in the same second
    assert policy.matches([span()] * 2, 900 * MS)
    assert policy.matches(three, 1_000 * MS)  # a new second, a new budget


@given(st.binary(min_size=16, max_size=16), st.floats(min_value=0.0, max_value=1.0))
def test_probability_keeps_exactly_what_the_sdk_head_sampler_samples(raw, ratio):
    trace_id = int.from_bytes(raw, "big")
    sdk = TraceIdRatioBased(ratio).should_sample(None, trace_id, "op").decision
    ours = Probability(ratio).matches([span(trace_id=raw.hex())], 0)
    assert ours == (sdk == Decision.RECORD_AND_SAMPLE)


def test_any_keep_policy_keeps_and_any_drop_policy_vetoes():
    policies = PolicySet.parse(["errors", "service=checkout", "drop:attribute:http.route=/health"])
    failed = [span(status_code=StatusCode.ERROR, service_name="frontend")]
    assert policies.decide(failed, 0) == "errors"
    assert policies.decide([span(service_name="checkout")], 0) == "service=checkout"
    assert policies.decide([span(service_name="frontend")], 0) is None
    health = [span(service_name="checkout", attributes={"http.route": "/health"})]
    assert policies.decide(health, 0) is None
    assert policies.names == ["errors", "service=checkout", "drop:attribute:http.route=/health"]


def test_a_set_of_only_drop_policies_is_refused():
    with pytest.raises(ValueError, match="at least one policy that keeps"):
        PolicySet.parse(["drop:errors"])


ZIPKIN_403 = FIXTURES / "zipkin/benchmarks__src__test__resources__zipkin2-chinese.json"


def test_numeric_attribute_comparisons_read_numbers_and_numbers_kept_as_text():
    # 'attribute:KEY>=500' was read as the key 'KEY>' with the value '500': it kept nothing.
    policy = parse_policy("attribute:http.response.status_code>=500")
    assert policy == NumericAttribute("http.response.status_code", ">=", 500.0, name=policy.name)
    assert policy.matches([span(attributes={"http.response.status_code": 503})], 0)
    assert policy.matches([span(attributes={"http.response.status_code": "500"})], 0)  # Zipkin
    assert not policy.matches([span(attributes={"http.response.status_code": 404})], 0)
    assert not policy.matches([span(attributes={"http.response.status_code": "n/a"})], 0)
    assert not parse_policy("attribute:retries>0").matches([span(attributes={"retries": True})], 0)
    assert parse_policy("attribute:queue.depth<10").matches(
        [span(attributes={"queue.depth": 9.5})], 0
    )
    assert parse_policy("attribute:x<=2").matches([span(resource_attributes={"x": 2})], 0)


def test_a_numeric_attribute_policy_on_a_real_zipkin_file():
    spans = list(read_spans(ZIPKIN_403))
    assert [s.attributes["http.status_code"] for s in spans if "http.status_code" in s.attributes]
    assert simulate(spans, PolicySet.parse(["attribute:http.status_code>=400"])).traces_kept == 1
    assert simulate(spans, PolicySet.parse(["attribute:http.status_code>=500"])).traces_kept == 0


def test_the_collectors_policy_names_mean_what_they_mean_there():
    same = {
        "always_sample": "all",
        "probabilistic=10%": "probability=10%",
        "rate_limiting=500": "rate=500/s",
        "span_count>=20": "spans>=20",
        "string_attribute:http.route=/a|/b": "attribute:http.route=/a|/b",
        "numeric_attribute:http.response.status_code>=500": "attribute:http.response.status_code>=500",
    }
    spans = list(generate_spans(300, seed=11))
    for collector, ours in same.items():
        theirs = simulate(spans, PolicySet.parse([collector]))
        assert theirs.kept_spans == simulate(spans, PolicySet.parse([ours])).kept_spans, collector
    # status_code looks at span status only, as the Collector's does
    status = parse_policy("status_code=ERROR|unset")
    assert status == Status(frozenset({StatusCode.ERROR, StatusCode.UNSET}), name=status.name)
    assert not status.matches([span(status_code=StatusCode.OK)], 0)
    errors = PolicySet.parse(["status_code=ERROR"])
    by_hand = {s.trace_id for s in spans if s.status_code == StatusCode.ERROR}
    assert {s.trace_id for s in simulate(spans, errors).kept_spans} == by_hand != set()


def test_and_keeps_a_trace_only_when_every_part_matches():
    spans = list(generate_spans(300, seed=5))
    policy = parse_policy("service=checkout & latency>=200ms")
    assert isinstance(policy, AllOf) and policy.name == "service=checkout & latency>=200ms"
    traces: dict[str, list[Span]] = {}
    for s in spans:
        traces.setdefault(s.trace_id, []).append(s)
    by_hand = {
        trace_id
        for trace_id, group in traces.items()
        if any(s.service_name == "checkout" for s in group)
        and max(s.end_ns for s in group) - min(s.start_ns for s in group) >= 200 * MS
    }
    kept = simulate(spans, PolicySet.parse([policy.name])).kept_spans
    assert {s.trace_id for s in kept} == by_hand != set()
    # a rate limit inside '&' spends its budget only on the traces the other parts keep
    limited = parse_policy("rate=3/s & service=nowhere")
    assert [type(p) for p in limited.policies] == [Service, RateLimit]
    assert not limited.matches([span()], 0) and limited.policies[1].matches([span()] * 3, 0)
    drop = PolicySet.parse(["all", "drop:service=checkout & latency>=200ms"])
    assert {s.trace_id for s in simulate(spans, drop).kept_spans} == set(traces) - by_hand


@pytest.mark.parametrize(
    ("spec", "says"),
    [
        ("attribute:http.status_code>=fast", "attribute:http.status_code>= needs a number"),
        ("numeric_attribute:http.status_code", "numeric_attribute needs a comparison"),
        ("status_code=BROKEN", "status code 'BROKEN' is not one of ERROR, UNSET, OK"),
        ("latency=500ms", "latency takes >=, >, <= or <, e.g. latency>=500ms"),
        ("service=checkout & bogus", "'bogus' is not a policy"),
        ("service=checkout & latency>=soon", "in 'latency>=soon': invalid duration 'soon'"),
        ("errors &", "'&' needs a policy on each side"),
        ("and", "spelled with '&'"),
        ("composite", "the Collector's 'composite' policy is not offered"),
        ("ottl_condition:span.name == 'x'", "the Collector's 'ottl_condition' policy"),
    ],
)
def test_bad_policy_text_names_the_part_that_is_wrong(spec, says):
    with pytest.raises(ValueError, match="invalid sampling policy") as caught:
        parse_policy(spec)
    assert says in str(caught.value)


def test_drop_without_a_policy_says_so():
    with pytest.raises(ValueError, match="drop: needs a policy after it"):
        PolicySet.parse(["errors", "drop: "])


def test_upper_bounds_on_latency_and_span_count_as_the_collector_has_them():
    # The Collector's latency policy with upper_threshold_ms keeps threshold < d <= upper;
    # span_count keeps min_spans <= n <= max_spans.
    spans = list(generate_spans(300, seed=9))
    traces: dict[str, list[Span]] = {}
    for s in spans:
        traces.setdefault(s.trace_id, []).append(s)

    def duration(group: list[Span]) -> int:
        return max(s.end_ns for s in group) - min(s.start_ns for s in group)

    band = PolicySet.parse(["latency>100ms & latency<=1s"])
    by_hand = {t for t, g in traces.items() if 100 * MS < duration(g) <= 1_000 * MS}
    assert {s.trace_id for s in simulate(spans, band).kept_spans} == by_hand != set()
    below = parse_policy("latency<1s")
    assert below.name == "latency<1s" and below.matches([span(start=0, end=999_999_999)], 0)
    assert not below.matches([span(start=0, end=1_000 * MS)], 0)
    small = PolicySet.parse(["span_count>=3 & spans<=6"])
    by_hand = {t for t, g in traces.items() if 3 <= len(g) <= 6}
    assert {s.trace_id for s in simulate(spans, small).kept_spans} == by_hand != set()
    assert parse_policy("spans<5") == SpanCount(0, name="spans<=4", maximum=4)
