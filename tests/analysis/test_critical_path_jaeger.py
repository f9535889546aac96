"""Jaeger UI's nine critical-path cases give exactly Jaeger's sections."""

from __future__ import annotations

import json

import pytest

from spanscope.analysis.critical_path import critical_path
from tests.analysis.jaeger_legacy import FIXTURES, load_trace

CASES = json.loads(
    (
        FIXTURES
        / "packages__jaeger-ui__src__components__TracePage__CriticalPath__testCases__ALL.extracted.json"
    ).read_text()
)["cases"]


def test_all_nine_cases_are_present():
    assert [case["name"] for case in CASES] == [f"test{i}" for i in range(1, 10)]


@pytest.mark.parametrize("strict", [True, False], ids=["strict", "default"])
@pytest.mark.parametrize("case", CASES, ids=[case["name"] for case in CASES])
def test_jaeger_case(case, strict):
    """Jaeger-exact mode and our default agree here: no case has back-to-back children."""
    trace, back = load_trace(case["trace"])
    sections = critical_path(trace, strict=strict)
    got = [(back[s.span_id], s.start_ns // 1000, s.end_ns // 1000) for s in sections]
    # Jaeger lists sections walking back from the root's end; ours ascend in time.
    expected = [
        (e["spanID"], e["sectionStart"], e["sectionEnd"])
        for e in reversed(case["expectedCriticalPathSections"])
    ]
    assert got == expected
    assert all(s.start_ns % 1000 == 0 and s.end_ns % 1000 == 0 for s in sections)
