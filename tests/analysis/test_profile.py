"""Critical-path profile per endpoint (CRISP), folded stacks and "what to fix first"."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spanscope.analysis.critical_path import critical_path, critical_time_by_span
from spanscope.analysis.profile import (
    ELIDED,
    MAX_FRAMES,
    ProfileCollector,
    build_profile,
    fix_first,
    folded_stacks,
)
from spanscope.assembly import build_trace
from spanscope.model import Span, SpanKind
from tests.analysis.builders import MS, build_all, span


def _request(trace: str, db_ms: float, cache_ms: float):
    """GET /x on web: calls api (which queries the db), then the cache."""
    end = 1 + db_ms + 1 + cache_ms + 1
    return [
        span(f"r{trace}", None, 0, end, service="web", operation="GET /x", trace=trace),
        span(f"a{trace}", f"r{trace}", 1, 1 + db_ms, service="api", operation="load", trace=trace),
        span(f"d{trace}", f"a{trace}", 1, 1 + db_ms, service="db", operation="SELECT", trace=trace),
        span(f"c{trace}", f"r{trace}", 2 + db_ms, 2 + db_ms + cache_ms, service="cache",
             operation="GET", trace=trace),
    ]  # fmt: skip


@pytest.fixture
def traces():
    spans = []
    # 19 fast requests where the cache dominates, one slow one where the db does.
    for index in range(1, 20):
        spans += _request(f"{index:x}", db_ms=2, cache_ms=5)
    spans += _request("ff", db_ms=200, cache_ms=5)
    return build_all(*spans)


def test_shares_for_all_and_slowest(traces):
    profile = build_profile(traces)
    (endpoint,) = profile.endpoints
    assert (endpoint.service, endpoint.operation) == ("web", "GET /x")
    assert endpoint.traces == 20 and endpoint.slow_traces == 1
    assert endpoint.slow_min_duration_ns == 208 * MS
    frames = {(f.service, f.operation): f for f in endpoint.frames}
    assert frames[("db", "SELECT")].critical_ns == (19 * 2 + 200) * MS
    assert frames[("db", "SELECT")].slow_critical_ns == 200 * MS
    assert frames[("db", "SELECT")].slow_share == pytest.approx(200 / 208)
    assert frames[("cache", "GET")].share == pytest.approx(20 * 5 / (19 * 10 + 208))
    assert frames[("web", "GET /x")].critical_ns == 20 * 3 * MS
    assert endpoint.critical_ns == (19 * 10 + 208) * MS
    assert endpoint.frames[0].service == "db"  # ranked by time in the slow traces


def test_folded_stacks(traces):
    profile = build_profile(traces)
    stacks = dict(folded_stacks(profile))
    assert stacks == {
        "web:GET /x;api:load;db:SELECT": 238 * MS,
        "web:GET /x;cache:GET": 100 * MS,
        "web:GET /x": 60 * MS,
    }
    assert folded_stacks(profile)[0][0] == "web:GET /x;api:load;db:SELECT"
    slow = dict(folded_stacks(profile, slow=True))
    assert slow["web:GET /x;api:load;db:SELECT"] == 200 * MS
    assert folded_stacks(profile, endpoint=("web", "nope")) == []


def test_frame_names_cannot_break_the_folded_format():
    traces = build_all(span("r", None, 0, 1, service="a;b", operation="x\ny"))
    assert folded_stacks(build_profile(traces)) == [("a,b:x y", MS)]


def test_fix_first_ranks_slow_time(traces):
    ranked = fix_first(build_profile(traces), limit=2)
    assert [(c.service, c.operation) for c in ranked] == [("db", "SELECT"), ("cache", "GET")]
    assert ranked[0].endpoint_operation == "GET /x"


@st.composite
def _traces(draw):
    """Several traces of up to 20 spans: services, kinds, FOLLOWS_FROM, back-to-back calls,
    zero-length and unclosed spans, orphans (a parent that is not in the trace)."""
    traces = []
    for number in range(draw(st.integers(1, 4))):
        spans = []
        for index in range(draw(st.integers(1, 20))):
            start = draw(st.integers(0, 60)) if index else 0
            length = draw(st.sampled_from([0, 1, 5, 10, 30, 100]))
            parent = ""
            if index:
                parent = f"{draw(st.integers(1, index + 2)):016x}"  # index+2: missing, an orphan
            spans.append(
                Span(
                    trace_id=f"{number + 1:032x}",
                    span_id=f"{index + 1:016x}",
                    parent_span_id=parent,
                    name=draw(st.sampled_from(["a", "b", "c"])),
                    service_name=draw(st.sampled_from(["x", "y"])),
                    start_ns=start,
                    end_ns=0 if draw(st.integers(0, 9)) == 0 else start + length,
                    kind=draw(st.sampled_from(list(SpanKind))),
                    follows_from=draw(st.integers(0, 5)) == 0,
                )
            )
        traces.append(build_trace(spans[0].trace_id, spans))
    return traces


def _reference_stacks(traces, strict: bool, slow_fraction: float):
    """Per endpoint: (traces, stacks of all traces, stacks of the slowest), worked out from
    ``critical_path``'s sections (the section walk, written apart from the profile's) with each
    span's stack found by climbing its parents."""
    per_endpoint: dict = {}
    for order, trace in enumerate(traces):
        if not trace.roots:
            continue
        stacks: dict[str, int] = {}
        for section in critical_path(trace, strict=strict):
            frames, span = [], trace.by_id[section.span_id]
            while span is not None:
                frames.append(f"{span.service_name}:{span.name}")
                span = trace.by_id.get(span.parent_span_id) if span.parent_span_id else None
            name = ";".join(reversed(frames))
            stacks[name] = stacks.get(name, 0) + section.end_ns - section.start_ns
        root = trace.root
        entry = per_endpoint.setdefault((root.service_name, root.name), [])
        entry.append((-root.duration_ns, order, stacks))
    answers = {}
    for key, entries in per_endpoint.items():
        entries.sort(key=lambda item: item[:2])
        every: dict[str, int] = {}
        slow: dict[str, int] = {}
        for position, (_, _, stacks) in enumerate(entries):
            for name, ns in stacks.items():
                every[name] = every.get(name, 0) + ns
                if position < max(1, math.ceil(slow_fraction * len(entries))):
                    slow[name] = slow.get(name, 0) + ns
        answers[key] = (len(entries), every, slow)
    return answers


@settings(max_examples=300, deadline=None)
@given(_traces(), st.booleans())
def test_profile_charges_the_critical_path_sections(traces, strict: bool) -> None:
    """The profile's one walk (``charge_critical_time``) charges each stack exactly the
    sections ``critical_path`` gives its spans, for all traces and the slowest, and fills in
    what ``critical_time`` returns on the way (what ``Analyzer`` reads)."""
    collector = ProfileCollector(0.3)
    for trace in traces:
        on_path: dict[str, int] = {}
        collector.add(trace, strict, on_path)
        assert on_path == critical_time_by_span(critical_path(trace, strict=strict))
    profile = collector.profile()
    found = {
        (item.service, item.operation): (item.traces, item.stacks, item.slow_stacks)
        for item in profile.endpoints
    }
    assert found == _reference_stacks(traces, strict, 0.3)


@settings(max_examples=200, deadline=None)
@given(_traces(), _traces(), st.booleans())
def test_merged_profiles_are_one_collectors(first, second, strict: bool) -> None:
    """Parts of a data set collected apart and merged in order: the one-collector profile,
    whether the parts numbered their stacks alike or not."""
    one = ProfileCollector(0.3)
    for trace in [*first, *second]:
        one.add(trace, strict)
    merged, later = ProfileCollector(0.3), ProfileCollector(0.3)
    for trace in first:
        merged.add(trace, strict)
    for trace in second:
        later.add(trace, strict)
    merged.merge(later)
    assert merged.profile() == one.profile()


def test_deep_stacks_keep_their_head_and_their_own_frame():
    """A chain of 400 nested calls: stacks deeper than MAX_FRAMES are named by their first
    frames, the elision mark and their own frame, and summed; no time is lost and the shares
    per service:operation are those of the full stacks."""
    depth = 400
    spans = [
        span(f"s{level}", f"s{level - 1}" if level else None, level, 2 * depth - level,
             service="app", operation=f"op{level % 3}")
        for level in range(depth)
    ]  # fmt: skip
    profile = build_profile(build_all(*spans))
    stacks = dict(folded_stacks(profile))
    frames_per_stack = [name.count(";") + 1 for name in stacks]
    assert max(frames_per_stack) == MAX_FRAMES
    deep = {name: ns for name, ns in stacks.items() if ELIDED in name}
    assert len(deep) == 3  # one per operation a deep span can have
    for name in deep:
        head, _, own = name.rpartition(f";{ELIDED};")
        assert head.count(";") + 1 == MAX_FRAMES - 2 and own.startswith("app:op")
        assert head.startswith("app:op0;app:op1;app:op2;app:op0")
    # Each span holds 2 ms of the path (1 before its child and 1 after, or the last span's
    # own 2): the root's whole duration, with levels past the cap summed per operation.
    assert sum(stacks.values()) == 2 * depth * MS
    shares = {frame.operation: frame.critical_ns for frame in profile.endpoints[0].frames}
    expected: dict[str, int] = {}
    for level in range(depth):
        expected[f"op{level % 3}"] = expected.get(f"op{level % 3}", 0) + 2 * MS
    assert shares == expected
