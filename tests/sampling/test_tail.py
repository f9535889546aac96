"""The tail sampler: decision wait, whole traces, late spans, bounded memory."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from spanscope.model import Span, StatusCode
from spanscope.sampling import PolicySet, TailSampler

S = 1_000_000_000


def span(trace: int, n: int, error: bool = False) -> Span:
    return Span(
        f"{trace:032x}",
        f"{n + 1:016x}",
        "op",
        0,
        1000,
        status_code=StatusCode.ERROR if error else StatusCode.UNSET,
    )


def errors_only(**kw) -> TailSampler:
    return TailSampler(PolicySet.parse(["errors"]), decision_wait_ns=10 * S, **kw)


def test_a_trace_waits_for_its_decision_then_goes_out_whole():
    sampler = errors_only()
    assert sampler.offer([span(1, 0), span(2, 0)], now_ns=0) == []
    assert sampler.offer([span(1, 1, error=True)], now_ns=5 * S) == []
    assert sampler.pending_traces == 2
    out = sampler.due(now_ns=10 * S)
    assert [(s.trace_id, s.span_id) for s in out] == [
        (f"{1:032x}", f"{1:016x}"),
        (f"{1:032x}", f"{2:016x}"),
    ]
    assert sampler.pending_traces == 0
    assert sampler.stats.traces_kept == 1 and sampler.stats.traces_dropped == 1
    assert sampler.stats.spans_kept == 2 and sampler.stats.spans_dropped == 1
    assert sampler.stats.kept_by_policy == {"errors": 1}


def test_late_spans_follow_their_traces_verdict():
    sampler = errors_only()
    sampler.offer([span(1, 0, error=True), span(2, 0)], now_ns=0)
    sampler.due(now_ns=10 * S)
    late = sampler.offer([span(1, 5), span(2, 5, error=True)], now_ns=11 * S)
    assert [s.trace_id for s in late] == [f"{1:032x}"]  # the kept trace stays whole
    assert sampler.pending_traces == 0  # the dropped one does not come back as a new trace
    assert sampler.stats.spans_dropped == 2


def test_memory_is_bounded_by_deciding_the_oldest_trace_early():
    sampler = errors_only(max_pending_traces=3)
    out = sampler.offer([span(t, 0, error=(t == 0)) for t in range(5)], now_ns=0)
    assert sampler.pending_traces == 3
    assert sampler.stats.decided_early == 2
    assert [s.trace_id for s in out] == [f"{0:032x}"]


def test_flush_decides_everything_still_waiting():
    sampler = errors_only()
    sampler.offer([span(1, 0, error=True), span(2, 0)], now_ns=0)
    assert [s.trace_id for s in sampler.flush()] == [f"{1:032x}"]
    assert sampler.pending_traces == 0


def test_zero_wait_decides_on_arrival_and_the_hook_uses_the_clock():
    now = [0]
    sampler = TailSampler(PolicySet.parse(["all"]), decision_wait_ns=0, clock=lambda: now[0])
    assert len(sampler([span(1, 0), span(1, 1)])) == 2


@settings(max_examples=50)
@given(
    st.lists(
        st.tuples(st.integers(0, 20), st.booleans(), st.integers(0, 30)), min_size=1, max_size=80
    )
)
def test_every_span_is_kept_or_dropped_once_and_kept_traces_are_whole(arrivals):
    sampler = errors_only(max_pending_traces=5)
    offered: list[Span] = []
    out: list[Span] = []
    for index, (trace, error, second) in enumerate(sorted(arrivals, key=lambda a: a[2])):
        item = span(trace, index, error)
        offered.append(item)
        out.extend(sampler.offer([item], now_ns=second * S))
    out.extend(sampler.flush())
    stats = sampler.stats
    assert stats.spans_kept + stats.spans_dropped == len(offered)
    assert len(out) == stats.spans_kept == len({id(s) for s in out})
    # A trace decided once is kept or dropped as a whole, whatever arrived late.
    kept_traces = {s.trace_id for s in out}
    for trace_id in kept_traces:
        assert any(s.status_code == StatusCode.ERROR for s in out if s.trace_id == trace_id)
