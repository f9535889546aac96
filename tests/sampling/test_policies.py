"""Tail-sampling policies: spellings, decisions, and agreement with the OTel SDK's head sampler."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from opentelemetry.sdk.trace.sampling import Decision, TraceIdRatioBased

from spanscope.model import Event, Span, StatusCode
from spanscope.sampling.policies import (
    Attribute,
    Errors,
    Latency,
    PolicySet,
    Probability,
    RateLimit,
    SpanCount,
    parse_policy,
)

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
