"""Critical path: hand-built cases with known answers, and invariants on random trees."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from spanscope.analysis.critical_path import critical_path, critical_time, critical_time_by_span
from spanscope.model import Span, SpanKind
from tests.analysis.builders import MS, T0, build, sid, span


def _path(trace, strict=False):
    return [
        (s.span_id, (s.start_ns - T0) / MS, (s.end_ns - T0) / MS)
        for s in critical_path(trace, strict=strict)
    ]


def _path_strict(trace):
    return _path(trace, strict=True)


def test_sequential_children_are_all_on_the_path():
    trace = build(
        span("root", None, 0, 100),
        span("a", "root", 10, 40),
        span("b", "root", 50, 90),
    )
    assert _path(trace) == [
        (sid("root"), 0, 10),
        (sid("a"), 10, 40),
        (sid("root"), 40, 50),
        (sid("b"), 50, 90),
        (sid("root"), 90, 100),
    ]


def test_parallel_children_only_the_last_finishing_blocks():
    trace = build(
        span("root", None, 0, 100),
        span("fast", "root", 10, 30),
        span("slow", "root", 10, 80),
    )
    assert _path(trace) == [(sid("root"), 0, 10), (sid("slow"), 10, 80), (sid("root"), 80, 100)]


def test_back_to_back_children_all_count_unless_strict():
    trace = build(
        span("root", None, 0, 40),
        span("q1", "root", 0, 10),
        span("q2", "root", 10, 20),
        span("q3", "root", 20, 30),
        span("q4", "root", 30, 40),
    )
    assert _path(trace) == [
        (sid("q1"), 0, 10), (sid("q2"), 10, 20), (sid("q3"), 20, 30), (sid("q4"), 30, 40)
    ]  # fmt: skip
    # Jaeger UI needs a gap: q3 ends exactly when q4 starts, so it is skipped, and so on.
    assert [(s, a, b) for s, a, b in _path_strict(trace)] == [
        (sid("root"), 0, 10),
        (sid("q2"), 10, 20),
        (sid("root"), 20, 30),
        (sid("q4"), 30, 40),
    ]


def test_zero_length_children_at_the_boundary_terminate():
    trace = build(
        span("root", None, 0, 20),
        span("z1", "root", 10, 10),
        span("z2", "root", 20, 20),
        span("a", "root", 5, 10),
    )
    assert _path(trace) == [(sid("root"), 0, 5), (sid("a"), 5, 10), (sid("root"), 10, 20)]


def test_producer_consumer_child_does_not_block():
    trace = build(
        span("root", None, 0, 50, kind=SpanKind.PRODUCER),
        span("consume", "root", 10, 40, kind=SpanKind.CONSUMER),
    )
    assert _path(trace) == [(sid("root"), 0, 50)]


def test_follows_from_child_does_not_block_but_child_of_does():
    trace = build(
        span("root", None, 0, 50),
        span("async", "root", 5, 45, follows_from=True),
        span("sync", "root", 10, 20),
    )
    assert _path(trace) == [(sid("root"), 0, 10), (sid("sync"), 10, 20), (sid("root"), 20, 50)]


def test_child_overrunning_parent_is_clamped_and_grandchild_outside_dropped():
    trace = build(
        span("root", None, 0, 50),
        span("child", "root", 30, 80),
        span("late", "child", 60, 70),  # inside the child, outside the clamped window
    )
    assert _path(trace) == [(sid("root"), 0, 30), (sid("child"), 30, 50)]


def test_orphans_and_unclosed_spans():
    trace = build(
        span("root", None, 0, 20),
        span("open", "root", 5, None),  # never ended: zero length
        span("orphan", "missing", 0, 500),
    )
    # The zero-length child splits the root's section in two, as in Jaeger.
    assert _path(trace) == [(sid("root"), 0, 5), (sid("root"), 5, 20)]
    assert critical_time_by_span(critical_path(trace)) == {sid("root"): 20 * MS}


def test_deep_chain_does_not_recurse():
    spans = [span("n0", None, 0, 10_000)]
    for i in range(1, 3000):
        spans.append(span(f"n{i}", f"n{i - 1}", i, 10_000 - i))
    trace = build(*spans)
    sections = critical_path(trace)
    assert sections[0].span_id == sid("n0") and len(sections) == 2 * 3000 - 1


@st.composite
def trees(draw):
    count = draw(st.integers(1, 25))
    spans = []
    for index in range(count):
        start = draw(st.integers(0, 100))
        length = draw(st.integers(0, 60))
        parent = draw(st.integers(0, index - 1)) if index else None
        spans.append(
            Span(
                trace_id="1" * 32,
                span_id=f"{index + 1:016x}",
                parent_span_id=f"{parent + 1:016x}" if parent is not None else "",
                name=f"op{index % 4}",
                start_ns=start,
                end_ns=start + length,
                kind=draw(st.sampled_from(list(SpanKind))),
                follows_from=draw(st.booleans()),
            )
        )
    return build(*spans)


@settings(max_examples=300, deadline=None)
@given(trees(), st.booleans())
def test_sections_never_overlap_lie_inside_the_root_and_tile_it(trace, strict):
    sections = critical_path(trace, strict=strict)
    root = trace.root
    previous_end = root.start_ns
    for section in sections:
        assert section.start_ns < section.end_ns
        assert root.start_ns <= section.start_ns and section.end_ns <= max(
            root.end_ns, root.start_ns
        )
        assert section.start_ns >= previous_end  # ascending, never overlapping
        assert section.start_ns == previous_end  # and contiguous
        previous_end = section.end_ns
        assert section.span_id in trace.by_id
    total = sum(s.end_ns - s.start_ns for s in sections)
    assert total <= root.duration_ns
    assert total == root.duration_ns


@settings(max_examples=300, deadline=None)
@given(trees(), st.booleans())
def test_critical_time_sums_the_sections_per_span(trace, strict):
    assert critical_time(trace, strict=strict) == critical_time_by_span(
        critical_path(trace, strict=strict)
    )
