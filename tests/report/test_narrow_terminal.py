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


def _headers(text: str) -> list[tuple[str, list[str]]]:
    """Each table's title line and its column headers as printed, the lines of a folded
    header joined by spaces (a header over two lines reads ``on critical path``; one broken
    inside a word reads ``service:operati on``)."""
    lines = text.splitlines()
    tables = []
    for number, line in enumerate(lines):
        if not line.lstrip().startswith("━"):
            continue
        block = []  # the header's lines, up from the rule under them
        for above in reversed(lines[:number]):
            if "┃" not in above:
                break
            block.insert(0, above.split("┃"))
        title = lines[number - len(block) - 1]
        columns = zip(*block, strict=True)
        tables.append((title.strip(), [" ".join(" ".join(column).split()) for column in columns]))
    return tables


def test_headers_break_between_words_at_80_columns(narrow: tuple[str, AnalysisReport]) -> None:
    """rich folded a narrow table's header anywhere in it (``service:operati`` / ``on`` over
    the what-to-fix-first, failures and operations tables): the columns with room to spare
    now give it to a header's longest word. Only where an id column leaves no room (slow
    spans: a 32-digit trace id beside four columns in 80) does a header still fold, and there
    every column is still shown, the trace id whole."""
    text, report = narrow
    wide = io.StringIO()
    render_report(report, Console(file=wide, width=160, color_system=None))
    whole = [headers for _, headers in _headers(wide.getvalue())]
    tables = _headers(text)
    assert len(tables) == len(whole) > 10
    changed = [
        (title, printed, headers)
        for (title, printed), headers in zip(tables, whole, strict=True)
        if printed != headers
    ]
    assert [title for title, _, _ in changed] == [
        "Slow spans: 174 took 500ms or more (most self time shown)"
    ]
    _, printed, headers = changed[0]
    assert len(printed) == len(headers) and printed[-1] == headers[-1] == "trace id"
