"""The text report in an 80-column terminal: every trace and span id it prints stays whole on
one line, so it can be copied into `view --trace-id` or the trace page (rich folded them over
two or three lines of the slowest-traces and anti-pattern tables), and an anti-pattern's
explanation wraps between words under its number."""

from __future__ import annotations

import io
import re

import pytest
from rich.console import Console

from spanscope.analysis import AnalysisOptions, analyze
from spanscope.analysis.results import AnalysisReport
from spanscope.assembly import assemble
from spanscope.report import render_report
from spanscope.synthetic import generate_spans


@pytest.fixture(scope="module")
def narrow() -> tuple[str, AnalysisReport]:
    """The report of 3,000 requests of the generated shop (failures, slow spans, both planted
    anti-patterns), in an 80-column terminal."""
    report = analyze(assemble(generate_spans(3000, seed=1)), AnalysisOptions())
    out = io.StringIO()
    render_report(report, Console(file=out, width=80, color_system=None))
    return out.getvalue(), report


def test_ids_are_whole_on_one_line_at_80_columns(narrow: tuple[str, AnalysisReport]) -> None:
    text, report = narrow
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= 80
    trace_ids = {t.trace_id for t in report.slowest_traces}
    trace_ids |= {a.example_trace_id for a in report.anti_patterns}
    trace_ids |= {g.example_trace_id for g in report.errors.origins}
    trace_ids |= {s.trace_id for s in report.slow_spans.spans}
    span_ids = {step.span_id for step in report.slowest_traces[0].critical_path}
    assert report.anti_patterns and report.errors.origins and len(trace_ids) > 10
    for found in trace_ids | span_ids:
        assert any(found in line for line in lines), f"{found} is not whole on a line"
    # No line ends in a piece of an id: a run of hex digits is an id whole or none.
    for piece in re.findall(r"\b[0-9a-f]{10,}\b", text):
        assert len(piece) in (16, 32), piece


def test_an_anti_pattern_explanation_wraps_between_words_under_its_number(
    narrow: tuple[str, AnalysisReport],
) -> None:
    text, report = narrow
    first = report.anti_patterns[0]
    section = text[text.index("Anti-patterns") :]
    block = section[section.index("\n1. ") + 1 : section.index("\n2. ")]
    # The explanation's words in order, wrapped only between words, each further line
    # indented under the number.
    words = " ".join(block.split())
    assert words.startswith("1. " + " ".join(first.explanation.split()))
    assert f"e.g. trace {first.example_trace_id}" in words
    assert all(line.startswith("   ") for line in block.splitlines()[1:])
