"""Merging analyzers: two halves of a data set analysed apart give the report of the whole.

The traces are real fixture traces (with orphans, duplicate ids, clock skew, unclosed spans)
and synthetic shop traces (N+1 queries, sequential calls, failed payments), so every collector
has something to merge.
"""

from __future__ import annotations

import pickle
from functools import cache
from itertools import pairwise

import msgspec
from hypothesis import given, settings
from hypothesis import strategies as st

from spanscope.analysis.analyze import Analyzer
from spanscope.analysis.percentiles import LatencyDigest
from spanscope.analysis.profile import folded_stacks
from spanscope.analysis.results import AnalysisOptions
from spanscope.assembly import assemble
from spanscope.errors import InputError
from spanscope.formats import read_spans
from spanscope.model import Span, Trace
from spanscope.synthetic import generate_spans

from ..conftest import FIXTURES

OPTIONS = [
    AnalysisOptions(),
    AnalysisOptions(top=3, slow_threshold_ns=1_000_000, n_plus_one_min_calls=2, jaeger_strict=True),
]


def _stock_by_id(span: Span) -> Span:
    if span.name != "SELECT shop.stock":
        return span
    return msgspec.structs.replace(span, name=f"SELECT shop.stock {int(span.span_id, 16)}")


@cache
def _traces() -> tuple[Trace, ...]:
    traces = assemble(generate_spans(400, seed=7))
    # Checkout's stock queries named after their id: several names of one folding template
    # in a trace, each trace counted once for it (OperationStats.traces) however split
    traces.extend(assemble(map(_stock_by_id, generate_spans(200, seed=8))))
    for name in (
        "jaeger/internal__storage__integration__fixtures__traces__dur_trace.json",
        "jaeger-ui/packages__jaeger-ui__src__utils__fixtures__otlp2jaeger-multi-in.json.txt",
    ):
        path = FIXTURES / name
        if path.exists():
            traces.extend(assemble(read_spans(path)))
    for directory in ("zipkin", "jaeger-ui"):
        for path in sorted((FIXTURES / directory).glob("*.json"))[:40]:
            try:
                traces.extend(assemble(read_spans(path)))
            except InputError:  # not every fixture there is a trace file
                continue
    # Every trace again, later: the second half then repeats what the first saw, so examples,
    # ties and first-seen orders are put to the test.
    return tuple(traces) * 2


def _report(analyzer: Analyzer) -> bytes:
    report = analyzer.report()
    stacks = folded_stacks(analyzer.profile()), folded_stacks(analyzer.profile(), slow=True)
    return msgspec.json.encode([report, stacks])


def _whole(options: AnalysisOptions, traces: tuple[Trace, ...]) -> Analyzer:
    analyzer = Analyzer(options)
    for trace in traces:
        analyzer.add(trace)
    return analyzer


@settings(max_examples=25, deadline=None)
@given(st.data())
def test_merged_parts_report_what_the_whole_reports(data) -> None:
    traces = _traces()
    options = data.draw(st.sampled_from(OPTIONS))
    cuts = sorted(data.draw(st.lists(st.integers(0, len(traces)), min_size=1, max_size=3)))
    bounds = [0, *cuts, len(traces)]
    parts = [_whole(options, traces[a:b]) for a, b in pairwise(bounds)]
    merged = parts[0]
    for part in parts[1:]:
        merged.merge(part)
    assert _report(merged) == _report(_whole(options, traces))


def test_the_data_set_has_something_for_every_collector() -> None:
    report = _whole(OPTIONS[0], _traces()).report()
    assert report.errors.origins and report.dependencies and report.problems
    kinds = {finding.kind for finding in report.anti_patterns}
    assert {"n_plus_one", "sequential_calls"} <= kinds
    assert len(report.slowest_traces) == 10 and report.slow_spans.spans
    assert any(p.kind == "orphan" for p in report.problems)
    assert any(f.kind == "broken_propagation" for f in report.anti_patterns)


@settings(max_examples=50, deadline=None)
@given(
    st.lists(st.integers(0, 10**12), max_size=300),
    st.integers(0, 300),
    st.integers(1, 120),
)
def test_digests_merge_exactly_and_past_the_exact_limit(values, cut, limit) -> None:
    whole = LatencyDigest(exact_limit=limit)
    first, second = LatencyDigest(exact_limit=limit), LatencyDigest(exact_limit=limit)
    for value in values:
        whole.add(value)
    for value in values[:cut]:
        first.add(value)
    for value in values[cut:]:
        second.add(value)
    first.merge(second)
    assert first.stats() == whole.stats()


def test_a_pickled_analyzer_reports_what_it_did() -> None:
    """Parts come back from worker processes pickled (operations and digests pickle their own
    way, for speed): nothing is lost, and the copy goes on collecting alike."""
    traces = _traces()
    half = len(traces) // 2
    analyzer = _whole(OPTIONS[1], traces[:half])
    copy = pickle.loads(pickle.dumps(analyzer, protocol=pickle.HIGHEST_PROTOCOL))
    for trace in traces[half:]:
        analyzer.add(trace)
        copy.add(trace)
    assert _report(copy) == _report(analyzer) == _report(_whole(OPTIONS[1], traces))


@settings(max_examples=50, deadline=None)
@given(st.lists(st.integers(0, 10**12), max_size=200), st.integers(1, 60), st.integers(0, 50))
def test_a_pickled_digest_is_the_digest(values, limit, more) -> None:
    digest = LatencyDigest(exact_limit=limit)
    for value in values:
        digest.add(value)
    copy = pickle.loads(pickle.dumps(digest, protocol=pickle.HIGHEST_PROTOCOL))
    assert (copy.exact_limit, copy.count, copy.exact) == (limit, digest.count, digest.exact)
    for value in range(more):
        digest.add(value)
        copy.add(value)
    assert copy.stats() == digest.stats()


def test_a_merged_analyzer_goes_on_collecting_alike() -> None:
    """Traces added after a merge count in the groups of names it took over (a folded
    operation's traces), as in one analyzer given them all."""
    traces = _traces()
    first, second = len(traces) // 3, 2 * len(traces) // 3
    merged = _whole(OPTIONS[0], traces[:first])
    merged.merge(_whole(OPTIONS[0], traces[first:second]))
    for trace in traces[second:]:
        merged.add(trace)
    assert _report(merged) == _report(_whole(OPTIONS[0], traces))
