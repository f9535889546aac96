"""Exact nearest-rank percentiles, and the DDSketch beyond the exact limit."""

from __future__ import annotations

import math
import random

from hypothesis import given
from hypothesis import strategies as st

from spanscope.analysis.percentiles import LatencyDigest, percentile


def test_nearest_rank():
    values = [1, 2, 3, 4]
    assert [percentile(values, p) for p in (25, 50, 75, 99, 100)] == [1, 2, 3, 4, 4]
    assert percentile([], 50) == 0
    assert percentile(list(range(1, 101)), 99) == 99


@given(st.lists(st.integers(0, 10**12), min_size=1, max_size=300))
def test_exact_digest_matches_sorted_ranks(values):
    digest = LatencyDigest()
    for value in values:
        digest.add(value)
    stats = digest.stats()
    ordered = sorted(values)
    assert stats.exact and stats.count == len(values) and stats.max_ns == ordered[-1]
    assert stats.p99_ns == ordered[math.ceil(0.99 * len(values)) - 1]
    assert stats.p50_ns == ordered[math.ceil(0.5 * len(values)) - 1]


def test_sketch_beyond_the_limit_stays_within_one_percent():
    rng = random.Random(7)
    values = [int(rng.lognormvariate(17, 1.2)) for _ in range(20_000)]
    digest = LatencyDigest(exact_limit=1000)
    for value in values[:5000]:
        digest.add(value)
    digest.extend(values[5000:])
    stats = digest.stats()
    assert not stats.exact
    assert stats.count == len(values)
    assert stats.max_ns == max(values)
    ordered = sorted(values)
    for p, got in ((50, stats.p50_ns), (90, stats.p90_ns), (99, stats.p99_ns)):
        true = ordered[math.ceil(p / 100 * len(values)) - 1]
        assert abs(got - true) <= 0.011 * true
