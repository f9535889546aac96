"""Self time: hand-built cases and the busy-time invariant on random trees."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from spanscope.analysis.self_time import self_time_by_operation, self_times
from spanscope.model import Span
from tests.analysis.builders import MS, build, sid, span


def test_overlapping_children_count_once_and_are_clipped():
    trace = build(
        span("root", None, 0, 100, operation="GET /"),
        span("a", "root", 10, 40, operation="db"),
        span("b", "root", 30, 60, operation="db"),  # overlaps a
        span("c", "root", 90, 130, operation="cache"),  # runs past the root
    )
    times = self_times(trace)
    assert times[sid("root")] == (100 - 50 - 10) * MS
    assert times[sid("a")] == 30 * MS
    assert times[sid("c")] == 40 * MS
    assert self_time_by_operation([trace]) == {
        ("svc", "GET /"): 40 * MS,
        ("svc", "db"): 60 * MS,
        ("svc", "cache"): 40 * MS,
    }


def test_child_covering_parent_leaves_zero_and_unclosed_is_zero():
    trace = build(
        span("root", None, 10, 20),
        span("big", "root", 0, 30),
        span("open", "big", 5, None),
    )
    times = self_times(trace)
    assert times[sid("root")] == 0
    assert times[sid("open")] == 0
    assert times[sid("big")] == 30 * MS


@st.composite
def trees(draw):
    count = draw(st.integers(1, 15))
    spans = []
    for index in range(count):
        start = draw(st.integers(0, 40))
        spans.append(
            Span(
                trace_id="2" * 32,
                span_id=f"{index + 1:016x}",
                parent_span_id=f"{draw(st.integers(1, index)):016x}" if index else "",
                name="op",
                start_ns=start,
                end_ns=start + draw(st.integers(0, 30)),
            )
        )
    return build(*spans)


@settings(max_examples=300, deadline=None)
@given(trees())
def test_self_times_sum_to_busy_time(trace):
    """Busy time: at each instant, count the running spans that none of their own running
    children covers. Integer times make a tick-by-tick count exact."""
    times = self_times(trace)
    busy = 0
    for tick in range(0, 80):
        for s in trace.spans:
            if not (s.start_ns <= tick < s.end_ns):
                continue
            covered = any(c.start_ns <= tick < c.end_ns for c in trace.children_of(s))
            busy += not covered
    assert sum(times.values()) == busy
    for s in trace.spans:
        assert 0 <= times[s.span_id] <= s.duration_ns
