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
from spanscope.compare.noise import durations_of, quantile_moved
from spanscope.synthetic import generate_spans

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


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 10**6), st.sampled_from([50, 95]))
def test_everything_half_as_slow_again_moved(seed, quantile):
    before = lognormal(seed, 500, 20e6)
    after = lognormal(seed + 1, 500, 30e6)
    assert quantile_moved(before, after, quantile)
    assert quantile_moved(after, before, quantile)  # and back: a fall is judged as a fall


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
