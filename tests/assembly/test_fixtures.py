"""Every real trace file among the fixtures, read by the real readers, assembles into traces
that pass ``self_check``, with and without skew adjustment, and loses no span."""

from __future__ import annotations

from pathlib import Path

import pytest

from spanscope.assembly import assemble, self_check
from spanscope.errors import InputError
from spanscope.formats import read_spans
from spanscope.model import ProblemKind, SpanKind
from tests.conftest import FIXTURES

NOT_TRACES = {".md", ".yaml", ".txt"}


def _trace_files() -> list[Path]:
    """Fixture files the readers accept (the rest are queries, UI state, invalid-input cases)."""
    found = []
    for path in sorted(FIXTURES.rglob("*")):
        if not path.is_file() or path.suffix in NOT_TRACES:
            continue
        try:
            if list(read_spans(path)):
                found.append(path)
        except InputError:
            continue
    return found


FILES = _trace_files()


def test_enough_fixture_files_are_traces() -> None:
    assert len(FILES) >= 60


@pytest.mark.parametrize("path", FILES, ids=[p.name[-60:] for p in FILES])
@pytest.mark.parametrize("adjust_skew", [True, False], ids=["skew", "no-skew"])
def test_fixture_assembles(path: Path, adjust_skew: bool) -> None:
    spans = list(read_spans(path))
    traces = assemble(spans, adjust_skew=adjust_skew)
    for trace in traces:
        self_check(trace)
    out = sum(len(trace.spans) for trace in traces)
    copies = sum(
        1
        for trace in traces
        for problem in trace.problems
        if problem.kind == ProblemKind.DUPLICATE_SPAN_ID and "exact cop" in problem.message
    )
    assert out <= len(spans)
    assert (out == len(spans)) == (copies == 0)
    if not adjust_skew:
        assert not any(p.kind == ProblemKind.CLOCK_SKEW for t in traces for p in t.problems)


def test_real_trace_with_many_shared_spans_and_skewed_hosts() -> None:
    # A 175-span production trace from Zipkin's UI test data: 45 Zipkin shared RPC spans and
    # hosts whose clocks differ by up to ~0.7 s.
    path = FIXTURES / "zipkin" / "zipkin-lens__testdata__smartthings-oauth-authorization.json"
    [trace] = assemble(read_spans(path))
    self_check(trace)
    assert len(trace.spans) == 175
    assert len(trace.roots) == 1
    shared = [s for s in trace.spans if s.shared]
    assert len(shared) == 45
    assert all(trace.parent_of(s).kind == SpanKind.CLIENT for s in shared)
    skew = [p for p in trace.problems if p.kind == ProblemKind.CLOCK_SKEW]
    assert len(skew) == 14
    assert all(
        w.startswith("clock skew adjusted by")
        for s in trace.spans
        for w in s.warnings
        if "skew" in w
    )
