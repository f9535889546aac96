"""The waterfall's embedded data against the model and the analysis (no browser needed)."""

from __future__ import annotations

import json
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from spanscope.analysis.critical_path import critical_path
from spanscope.analysis.errors import is_error_span
from spanscope.analysis.self_time import self_times
from spanscope.assembly import assemble
from spanscope.model import ProblemKind, Span, StatusCode
from spanscope.viz.page import json_block
from spanscope.viz.payload import (
    FLAG_CRITICAL,
    FLAG_ERROR,
    FLAG_ORPHAN,
    FLAG_UNCLOSED,
    build_payload,
)
from spanscope.viz.waterfall import render_waterfall
from tests.viz.conftest import fixture_traces

SMARTTHINGS = "zipkin/zipkin-lens__testdata__smartthings-oauth-authorization.json"
MESSAGING = "zipkin/zipkin-lens__testdata__messaging2.json"


def test_columns_follow_the_tree_and_the_analysis():
    traces = fixture_traces(SMARTTHINGS) + fixture_traces(MESSAGING)
    summary, details = build_payload(traces)
    assert len(summary["traces"]) == len(details["traces"]) == 2
    for trace, data, detail in zip(traces, summary["traces"], details["traces"], strict=True):
        cols = data["cols"]
        rows = [span for span, _ in trace.walk()]
        assert cols["sid"] == [span.span_id for span in rows]
        assert len(detail) == len(rows) == data["n"]
        origin = trace.start_ns
        selfs = self_times(trace)
        for i, span in enumerate(rows):
            parent = cols["par"][i]
            if parent >= 0:
                assert parent < i and cols["sid"][parent] == span.parent_span_id
            else:
                assert span in trace.roots
            assert cols["t"][i] == span.start_ns - origin
            if span.end_ns:
                assert cols["d"][i] == span.duration_ns
            assert summary["names"][cols["name"][i]] == span.name
            assert summary["services"][cols["svc"][i]] == (span.service_name or "(unknown service)")
            assert cols["self"][i] == selfs.get(span.span_id, 0)
            flags = cols["fl"][i]
            assert bool(flags & FLAG_ERROR) == is_error_span(span)
            assert bool(flags & FLAG_UNCLOSED) == (span.end_ns == 0)
        orphans = {p.span_id for p in trace.problems if p.kind == ProblemKind.ORPHAN}
        flagged = {cols["sid"][i] for i, f in enumerate(cols["fl"]) if f & FLAG_ORPHAN}
        assert flagged == orphans
        sections = critical_path(trace)
        triples = [tuple(data["cp"][k : k + 3]) for k in range(0, len(data["cp"]), 3)]
        assert triples == [
            (cols["sid"].index(s.span_id), s.start_ns - origin, s.end_ns - origin) for s in sections
        ]
        on_path = {cols["sid"][i] for i, f in enumerate(cols["fl"]) if f & FLAG_CRITICAL}
        assert on_path == {s.span_id for s in sections}
        assert data["errors"] == sum(is_error_span(s) for s in trace.spans)
    assert len(summary["colors"]) == len(summary["services"])


def test_hostile_names_cannot_break_out_of_the_page():
    evil = "</script><script>alert(1)</script><!--"
    spans = [
        Span(
            "ab" * 16,
            "cd" * 8,
            evil,
            1_000,
            2_000,
            service_name=evil,
            status_code=StatusCode.ERROR,
            status_message=evil,
            attributes={"k": evil, evil: [1, 2.5, True, None, b"\x00\xff"]},
        )
    ]
    html = render_waterfall(assemble(spans))
    assert len(re.findall(r"<script", html)) == 3  # two data blocks and the page script
    assert evil not in html
    data = json.loads(
        re.search(r'id="spanscope-data">(.*?)</script>', html, re.S).group(1)  # type: ignore[union-attr]
    )
    assert data["names"] == [evil]


@given(st.recursive(st.text() | st.integers() | st.booleans(), st.lists, max_leaves=8))
def test_json_blocks_round_trip_and_hold_no_angle_bracket(value):
    block = json_block({"v": value})
    assert "<" not in block
    assert json.loads(block) == {"v": value}


def _decode(flat, details):
    return {
        details["keys"][flat[k]]: details["strs"][v] if isinstance(v, int) else v[0]
        for k, v in zip(range(0, len(flat), 2), flat[1::2], strict=True)
    }


def test_attributes_are_interned_and_decode_back():
    traces = fixture_traces(SMARTTHINGS) + fixture_traces(MESSAGING)
    _summary, details = build_payload(traces)
    seen = 0
    for trace, rows in zip(traces, details["traces"], strict=True):
        for (span, _), detail in zip(trace.walk(), rows, strict=True):
            assert _decode(detail.get("a", []), details) == span.attributes
            for event, encoded in zip(span.events, detail.get("e", []), strict=True):
                assert encoded[0] == event.time_ns - trace.start_ns
                assert _decode(encoded[2], details) == event.attributes
            seen += bool(span.attributes)
    assert seen > 100
    assert len(details["keys"]) == len(set(details["keys"]))


@settings(max_examples=80, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 40), st.integers(0, 10**6), st.integers(0, 10**5)),
        min_size=1,
        max_size=40,
    )
)
def test_rows_keep_each_subtree_contiguous(items):
    """The page collapses and filters by the range [row, end of subtree): any tree (orphans,
    several roots, loops broken by assembly) must come out parents first, subtrees together."""
    spans = [
        Span(
            "ab" * 16,
            f"{index + 1:016x}",
            f"op{index}",
            start,
            start + length,
            f"{parent + 1:016x}" if parent != index else "",
        )
        for index, (parent, start, length) in enumerate(items)
    ]
    (summary, _details) = build_payload(assemble(spans))
    for data in summary["traces"]:
        parents = data["cols"]["par"]
        n = len(parents)
        assert data["n"] == n == len(data["cols"]["sid"])
        end = list(range(1, n + 1))
        for row in range(n - 1, -1, -1):
            parent = parents[row]
            assert parent < row
            if parent >= 0:
                end[parent] = max(end[parent], end[row])
        for row in range(n):
            for inside in range(row + 1, end[row]):
                ancestor = parents[inside]
                while ancestor > row:
                    ancestor = parents[ancestor]
                assert ancestor == row
