"""Simulating tail sampling over recorded traces."""

from __future__ import annotations

from spanscope.analysis.errors import is_error_span
from spanscope.formats import read_spans
from spanscope.sampling import PolicySet
from spanscope.sampling.simulate import simulate
from spanscope.synthetic import generate_spans

from ..conftest import FIXTURES

HOTROD = FIXTURES / "jaeger/internal__storage__v2__memory__fixtures__otel_traces_01.json"


def test_errors_and_a_latency_floor_keep_every_trace_an_investigation_needs():
    spans = list(generate_spans(400, seed=7))
    everything = simulate(spans, PolicySet.parse(["all"]))
    floor = everything.slow_threshold_ns
    report = simulate(spans, PolicySet.parse(["errors", f"latency>={floor}ns"]))
    assert report.error_traces.total > 0
    assert report.error_traces.kept == report.error_traces.total
    assert report.slow_traces.kept == report.slow_traces.total
    assert report.traces_kept < report.traces
    kept = {s.trace_id for s in report.kept_spans}
    failed = {s.trace_id for s in spans if is_error_span(s)}
    assert failed <= kept
    # Whole traces: every span of a kept trace is in the output, nothing else is.
    assert report.kept_spans == [s for s in spans if s.trace_id in kept]
    assert report.spans_kept == len(report.kept_spans)
    assert sum(report.kept_by_policy.values()) == report.traces_kept


def test_probability_keeps_about_its_share_and_drop_vetoes():
    spans = list(generate_spans(2000, seed=3))
    report = simulate(spans, PolicySet.parse(["probability=25%"]))
    assert 0.2 < report.traces_kept / report.traces < 0.3
    vetoed = simulate(spans, PolicySet.parse(["all", "drop:service=frontend"]))
    assert vetoed.traces_kept == 0  # every shop trace passes through the frontend


def test_real_jaeger_fixture_counts_every_trace_and_span():
    spans = list(read_spans(str(HOTROD)))
    report = simulate(spans, PolicySet.parse(["all"]))
    assert report.traces == len({s.trace_id for s in spans})
    assert report.spans == report.spans_kept == len(spans)
