"""Durations in log bins (``analysis.percentiles.Distribution``) and the chance test asked of
them (``compare.noise``): the share above a threshold from the bins is within its documented
bound of the exact share; bins of a digest past its exact limit (its sketch) are the bins of
its values; groups past the limit read from traces are judged, not called moved."""

from __future__ import annotations

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spanscope.analysis import percentiles
from spanscope.analysis.percentiles import (
    Distribution,
    LatencyDigest,
    bin_of,
    bin_top,
    sorted_distribution,
)
from spanscope.compare import compare
from spanscope.compare.noise import _Bins, quantile_moved, quantile_z

from .test_noise import analysed, lognormal

durations = st.lists(
    st.one_of(st.integers(0, 10**12), st.integers(0, 300)), min_size=1, max_size=400
)


def _above(values: list[int], threshold: float) -> int:
    return sum(value > threshold for value in values)


@settings(max_examples=300, deadline=None)
@given(durations, st.integers(0, 2 * 10**12), st.sampled_from([1, 2, 3]))
def test_the_share_above_any_threshold_from_the_bins_is_within_its_bound(values, threshold, width):
    """What ``compare.noise`` asks of a side in bins: the counts above the tops of the bin
    holding a threshold and of the one below it (the same at the bin's top)."""
    values.sort()
    found = sorted_distribution(values, width)
    index = bin_of(threshold, width)
    bins = _Bins(found, width)
    surely = bins.above(index)
    possibly = surely if threshold == bin_top(index, width) else bins.above(index - 1)
    exact = _above(values, threshold)
    assert surely <= exact <= possibly
    # The documented bound: the bins blur a threshold by no more than a factor gamma.
    loose = 1 + 1e-9  # (float error of gamma's powers)
    assert _above(values, threshold * found.gamma * loose) <= surely
    assert possibly <= _above(values, threshold / found.gamma / loose)
    # At a bin's top the count is exact, in every bin.
    assert surely == _above(values, bin_top(index, width))
    assert bins.count == found.count == len(values)


@settings(max_examples=100, deadline=None)
@given(durations, st.integers(1, 40), st.sampled_from([1, 2]))
def test_a_digest_past_its_limit_has_the_bins_of_its_values(values, limit, width):
    digest = LatencyDigest(exact_limit=limit)
    for value in values:
        digest.add(value)
    found = digest.distribution(width)
    assert found == sorted_distribution(sorted(values), width)
    assert found.count == len(values) == digest.stats().count
    assert msgspec.json.decode(msgspec.json.encode(found), type=Distribution) == found


@settings(max_examples=500, deadline=None)
@given(st.integers(1, 10**16))
def test_a_durations_bin_is_its_sketch_bucket(value):
    """The bins are computed without ddsketch, as its mapping computes its keys."""
    from ddsketch.mapping import LogarithmicMapping

    assert bin_of(value, 1) == LogarithmicMapping(percentiles.SKETCH_RELATIVE_ACCURACY).key(value)
    assert bin_of(value, 2) == -(-bin_of(value, 1) // 2)
    assert bin_top(bin_of(value, 2) - 1, 2) < value <= bin_top(bin_of(value, 2), 2)


@settings(max_examples=50, deadline=None)
@given(durations, st.sampled_from([50, 95, 99]), st.sampled_from([1, 2]))
def test_bins_against_their_own_values_never_moved(values, quantile, width):
    values.sort()
    binned = sorted_distribution(values, width)
    assert not quantile_moved(binned, values, quantile)
    assert not quantile_moved(values, binned, quantile)
    assert not quantile_moved(binned, binned, quantile)


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 10**6), st.sampled_from([50, 95]))
def test_half_as_slow_again_is_moved_from_bins_too(seed, quantile):
    before = lognormal(seed, 500, 20e6)
    after = lognormal(seed + 1, 500, 30e6)
    for old in (before, sorted_distribution(before), sorted_distribution(before, 1)):
        assert quantile_moved(old, after, quantile)
        assert quantile_moved(after, old, quantile)  # a fall is judged as a fall
        assert quantile_moved(old, sorted_distribution(after), quantile)


def test_the_bins_call_no_more_than_the_exact_test_on_one_service():
    """Two samples of one lognormal service, 200 pairs: the edges of the bins give a z within
    a little of the exact one, and never a move the exact test did not call."""
    worst = 0.0
    for seed in range(200):
        before, after = lognormal(seed, 400, 20e6), lognormal(seed + 1000, 400, 20e6)
        for quantile in (50, 95):
            exact = quantile_z(before, after, quantile)
            binned = quantile_z(sorted_distribution(before), after, quantile)
            worst = max(worst, abs(exact - binned))
            assert binned < 3 or exact >= 3
    assert worst < 1.5


@pytest.fixture
def small_exact_limit(monkeypatch):
    """Analyzers whose digests keep 300 values before their sketch (100,000 normally), so the
    shop's endpoints and busy operations go past it at 2,000 traces."""
    monkeypatch.setattr(percentiles.LatencyDigest.__init__, "__defaults__", (300,))


def test_groups_past_the_exact_limit_are_judged_from_their_sketch(small_exact_limit):
    """Seeds 1 and 3 of the unchanged shop: their checkout p95 moves by chance. Past the exact
    limit these groups had no durations and were judged moved; their sketch's bins judge them
    as the values would. The planted regression is still found."""
    base, same = analysed(1), analysed(3)
    checkout = ("frontend", "POST /api/checkout")
    assert isinstance(base[1].endpoints[checkout], Distribution)
    assert not next(e for e in base[0].endpoints if e.operation == checkout[1]).latency.exact
    judged = compare(base[0], same[0], durations=(base[1], same[1]))
    assert judged.headline == []
    assert not any("p95" in o.reasons for o in judged.operations)
    planted = analysed(2, next_release=True)
    found = compare(base[0], planted[0], durations=(base[1], planted[1]))
    assert found.headline[0].startswith("frontend: POST /api/checkout p50 ")
    assert "ms a request in inventory: SELECT shop.stock" in found.headline[0]
