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


@given(
    st.lists(
        st.one_of(st.just(0), st.integers(1, 10), st.integers(1, 10**13)), min_size=1, max_size=400
    )
)
def test_a_sketch_filled_a_bucket_at_a_time_is_the_sketch_filled_one_by_one(values):
    """``compact`` adds each bucket's values as one weighted value: every quantile and the count
    must be what ddsketch gives when each value is added alone."""
    from ddsketch import DDSketch

    from spanscope.analysis.percentiles import SKETCH_RELATIVE_ACCURACY, _add_to_sketch

    one_by_one = DDSketch(relative_accuracy=SKETCH_RELATIVE_ACCURACY)
    for value in values:
        one_by_one.add(value)
    bucketed = DDSketch(relative_accuracy=SKETCH_RELATIVE_ACCURACY)
    _add_to_sketch(bucketed, values)
    assert bucketed.count == one_by_one.count == len(values)
    for q in (0.0, 0.01, 0.5, 0.9, 0.95, 0.99, 1.0):
        assert bucketed.get_quantile_value(q) == one_by_one.get_quantile_value(q)


def test_a_pickled_digest_has_the_same_stats_and_merges_as_before():
    import pickle

    values = [random.Random(3).randint(1, 10**9) for _ in range(5000)]
    digest = LatencyDigest(exact_limit=3000)
    for value in values[:1500]:
        digest.add(value)
    other = LatencyDigest(exact_limit=3000)
    for value in values[1500:]:
        other.add(value)  # past its limit: sketched
    assert not other.exact
    copy = pickle.loads(pickle.dumps(other))
    assert copy.stats() == other.stats()
    digest.merge(copy)
    whole = LatencyDigest(exact_limit=3000)
    whole.extend(values)
    assert digest.stats() == whole.stats()
    assert whole.stats().count == 5000 and not whole.stats().exact
