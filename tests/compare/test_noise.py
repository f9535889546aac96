"""Percentile moves judged against chance (``spanscope.compare.noise``): two samples of one
shop raise nothing, a real regression still does."""

from __future__ import annotations

import math
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spanscope.analysis.analyze import Analyzer
from spanscope.analysis.results import AnalysisOptions
from spanscope.assembly import assemble
from spanscope.compare import compare
from spanscope.compare.noise import durations_of, quantile_moved, rate_moved, rise_p
from spanscope.synthetic import generate_spans

from .shop_changes import plant_cache_loop, plant_checkout_share

OPTIONS = AnalysisOptions(top=1000)


def analysed(seed: int, next_release: bool = False, traces: int = 2000):
    analyzer = Analyzer(OPTIONS)
    for trace in assemble(generate_spans(traces, seed=seed, next_release=next_release)):
        analyzer.add(trace)
    return analyzer.report(), durations_of(analyzer)


def lognormal(seed: int, n: int, median_ns: float) -> list[int]:
    rng = random.Random(seed)
    return sorted(int(median_ns * math.exp(rng.gauss(0, 0.5))) for _ in range(n))


@settings(max_examples=50, deadline=None)
@given(st.lists(st.integers(1, 10**12), min_size=1, max_size=300), st.sampled_from([50, 95, 99]))
def test_a_sample_against_itself_never_moved(values, quantile):
    values.sort()
    assert not quantile_moved(values, values, quantile)


@pytest.fixture(scope="module")
def base():
    return analysed(1)


@pytest.mark.parametrize("seed", [3, 4, 8])
def test_two_seeds_of_one_shop_make_no_headline(base, seed):
    """Without durations these pairs headline checkout's p95 (the 2 s timeouts put it at a
    knee) and list operations for 'p95'; with them, nothing."""
    other = analysed(seed)
    blind = compare(base[0], other[0])
    assert blind.headline and any("p95" in o.reasons for o in blind.operations)
    judged = compare(base[0], other[0], durations=(base[1], other[1]))
    assert judged.headline == []
    assert not any("p95" in o.reasons for o in judged.operations)


def test_the_planted_regression_is_still_beyond_chance(base):
    after = analysed(2, next_release=True)
    result = compare(base[0], after[0], durations=(base[1], after[1]))
    line = result.headline[0]
    assert line.startswith("frontend: POST /api/checkout p50 ") and " p95 " in line
    assert "ms a request in inventory: SELECT shop.stock" in line
    stock = next(o for o in result.operations if o.operation == "SELECT shop.stock")
    assert "p95" in stock.reasons


def test_durations_are_keyed_as_the_report_names_endpoints():
    """Root spans named after their product id fold into one endpoint in the report; the
    durations fold the same way, so that endpoint's moves are judged too."""
    import msgspec

    def renamed(span):
        if span.name == "GET /api/products/{id}":
            return msgspec.structs.replace(span, name=f"GET {span.attributes['url.path']}")
        return span

    analyzer = Analyzer(OPTIONS)
    for trace in assemble(map(renamed, generate_spans(600, seed=4))):
        analyzer.add(trace)
    report = analyzer.report()
    durations = durations_of(analyzer)
    assert {(e.service, e.operation) for e in report.endpoints} == set(durations.endpoints)
    for stats in report.endpoints:
        assert len(durations.endpoints[stats.service, stats.operation]) == stats.latency.count
    assert ("frontend", "GET /api/products/<num>") in durations.endpoints


def test_more_checkouts_in_the_mix_are_not_a_new_loop(base, monkeypatch):
    """Checkout twice as large a share of the requests: the stock query is made twice as often
    per request overall, but not in each checkout; no 'a new loop?'."""
    plant_checkout_share(monkeypatch, 0.6)
    busier = analysed(5)
    result = compare(base[0], busier[0], durations=(base[1], busier[1]))
    stock = next(o for o in result.operations if o.operation == "SELECT shop.stock")
    assert stock.calls_per_request_after > 2 * stock.calls_per_request_before
    assert stock.calls_where_made_before == pytest.approx(stock.calls_where_made_after, rel=0.2)
    assert not any("a new loop?" in line for line in result.headline)
    blind = compare(base[0], busier[0])  # a saved report's view: calls per request only
    assert any("SELECT shop.stock" in line and "a new loop?" in line for line in blind.headline)


def test_a_loop_is_counted_in_the_requests_that_make_the_call(base, monkeypatch):
    plant_cache_loop(monkeypatch)
    looping = analysed(5)
    result = compare(base[0], looping[0], durations=(base[1], looping[1]))
    assert (
        "product-catalog: GET 1.0 → 8.0 calls in each request that makes it (×8.0): a new loop?"
        in result.headline
    )


def test_a_dozen_requests_judge_no_calls_per_request(base):
    few = analysed(6, traces=12)
    result = compare(base[0], few[0], durations=(base[1], few[1]))
    assert not [o for o in result.operations if "calls per request" in o.reasons]
    assert not [d for d in result.dependencies if "calls per request" in d.reasons]


def test_more_traffic_on_one_endpoint_is_said(base, monkeypatch):
    plant_checkout_share(monkeypatch, 0.6)
    busier = analysed(5)
    result = compare(base[0], busier[0], durations=(base[1], busier[1]))
    (line,) = [line for line in result.headline if line.startswith("frontend: POST /api/checkout")]
    checkout = next(e for e in result.endpoints if e.operation == "POST /api/checkout")
    assert line == (
        f"frontend: POST /api/checkout is {checkout.requests_after / 2000:.0%} of the requests "
        f"({checkout.requests_before / 2000:.0%} before)"
    )


def test_an_endpoint_gone_and_one_new_are_said(base, monkeypatch):
    from spanscope.synthetic import shop

    routes = (
        ("POST", "/api/checkout", 0.25),
        ("GET", "/api/products/{id}", 0.55),
        ("GET", "/api/search", 0.20),  # served as the product page is; the cart page is gone
    )
    monkeypatch.setattr(shop, "_ROUTES", routes)
    renamed = analysed(5)
    result = compare(base[0], renamed[0], durations=(base[1], renamed[1]))
    cart = next(e for e in base[0].endpoints if e.operation == "GET /api/cart")
    search = next(e for e in renamed[0].endpoints if e.operation == "GET /api/search")
    assert result.headline == [
        f"gone endpoint: frontend: GET /api/cart, {cart.latency.count / 2000:.0%} of the requests "
        "before",
        f"new endpoint: frontend: GET /api/search, {search.latency.count / 2000:.0%} of the "
        "requests",
    ]


def test_an_error_that_grew_is_said(base, monkeypatch):
    """The payment provider times out on one charge in ten instead of one in thirty."""
    from spanscope.synthetic import shop

    charge = shop._payment_charge

    class Flakier:
        """The builder's random source with ``random()`` (in a charge, only the provider's 3%
        failure draw takes it) scaled down: below 0.03 a third of the time."""

        def __init__(self, rng) -> None:
            self._rng = rng

        def random(self) -> float:
            return self._rng.random() * 0.3

        def __getattr__(self, name: str):
            return getattr(self._rng, name)

    def flakier(t, start, parent):
        real = t.rng
        t.rng = Flakier(real)
        try:
            return charge(t, start, parent)
        finally:
            t.rng = real

    monkeypatch.setattr(shop, "_payment_charge", flakier)
    failing = analysed(5)
    result = compare(base[0], failing[0], durations=(base[1], failing[1]))
    (timeouts,) = [e for e in result.errors if e.exception_type == "PaymentProviderTimeout"]
    assert timeouts.share_after > 2 * timeouts.share_before > 0
    assert (
        f"error grew: PaymentProviderTimeout from payment: POST in {timeouts.share_after:.1%} of "
        f"requests ({timeouts.share_before:.1%} before)"
    ) in result.headline


def test_an_endpoint_failing_more_is_said():
    """The README's pair (seed 42 against the next release at seed 7): checkout fails 7.5% of
    its requests instead of 2.3%, which the new error's 1.1% of all requests does not say."""
    before, after = analysed(42, traces=3000), analysed(7, next_release=True, traces=3000)
    result = compare(before[0], after[0], durations=(before[1], after[1]))
    assert "frontend: POST /api/checkout failed 7.5% of its requests (2.3% before)" in (
        result.headline
    )
    quiet = analysed(8, traces=3000)  # the same shop: no such line
    result = compare(before[0], quiet[0], durations=(before[1], quiet[1]))
    assert not any("failed" in line for line in result.headline)


@settings(max_examples=8, deadline=None)
@given(
    st.integers(0, 10_000),
    st.integers(0, 10_000),
    st.booleans(),
    st.integers(1, 150),
    st.integers(1, 150),
)
def test_any_two_small_sides_compare_with_their_durations(
    seed_before, seed_after, next_release, traces_before, traces_after
):
    """Whatever the sizes (one request against a hundred and fifty), the comparison with
    durations holds together: every endpoint named in a latency line moved beyond chance."""
    from spanscope.compare.noise import quantile_moved

    before = analysed(seed_before, traces=traces_before)
    after = analysed(seed_after, next_release=next_release, traces=traces_after)
    result = compare(before[0], after[0], durations=(before[1], after[1]))
    for endpoint in result.endpoints:
        key = (endpoint.service, endpoint.operation)
        line = next((x for x in result.headline if x.startswith(f"{key[0]}: {key[1]} p")), None)
        if line is None:
            continue
        assert not endpoint.few_requests
        named = [q for q in ("p50", "p95") if f" {q} " in line]
        assert named and all(
            quantile_moved(before[1].endpoints[key], after[1].endpoints[key], float(q[1:]))
            for q in named
        )


def _exact_rise_p(failed_before: int, total_before: int, failed_after: int, total_after: int):
    """Fisher's one-sided p in whole fractions: the hypergeometric upper tail."""
    from fractions import Fraction

    failures, requests = failed_before + failed_after, total_before + total_after
    whole = math.comb(requests, failures)
    tail = sum(
        math.comb(total_after, count) * math.comb(total_before, failures - count)
        for count in range(failed_after, min(failures, total_after) + 1)
    )
    return Fraction(tail, whole)


@settings(max_examples=300, deadline=None)
@given(st.data(), st.integers(1, 120), st.integers(1, 120))
def test_rise_p_is_fishers_exact_one_sided_test(data, total_before, total_after):
    failed_before = data.draw(st.integers(0, total_before))
    failed_after = data.draw(st.integers(0, total_after))
    p = rise_p(failed_before, total_before, failed_after, total_after)
    assert p == pytest.approx(
        float(_exact_rise_p(failed_before, total_before, failed_after, total_after)), abs=1e-12
    )
    if failed_after < total_after:  # one more failure after is never less of a rise
        assert rise_p(failed_before, total_before, failed_after + 1, total_after) <= p + 1e-12


def test_rise_p_on_the_counts_the_gate_met():
    """The shop against its next release (seeds 2 and 22, 1,000 traces a side): checkout's
    failures 5/260 -> 18/253 (z = 2.84); a store's endpoint of millions is summed as fast."""
    assert rise_p(5, 260, 18, 253) == pytest.approx(0.0037, abs=5e-5)
    assert rise_p(18, 253, 5, 260) > 0.99  # a fall is no rise
    assert rise_p(0, 10, 0, 10) == rise_p(10, 10, 10, 10) == 1.0
    assert rise_p(3, 10, 0, 0) == 1.0  # no requests after: nothing to tell
    assert rise_p(100_000, 3_000_000, 103_000, 3_000_000) < 1e-9


@pytest.mark.parametrize("failed", [0, 10])
@pytest.mark.parametrize("min_delta", [0.0, 0.01])
def test_a_rate_of_none_or_all_on_both_sides_did_not_move(failed, min_delta):
    """0/10 against 0/10 and 10/10 against 10/10 have no spread: no move, at any min_delta."""
    assert not rate_moved(failed, 10, failed, 10, min_delta)
    assert rate_moved(0, 100, 100, 100, min_delta)  # and none against all did
