"""The lint report's text: a score reads 100.0% only when nothing was found."""

from __future__ import annotations

import io

from rich.console import Console

from spanscope.quality.linter import LintReport, ServiceResult
from spanscope.report.lint import print_lint_report


def _printed(report: LintReport) -> str:
    out = io.StringIO()
    print_lint_report(report, Console(file=out, width=200, color_system=None))
    return out.getvalue()


def test_a_few_findings_among_many_spans_are_not_rounded_away():
    almost = ServiceResult("api", 100_000, 4, 0, 0.99996, ["missing-status"])
    report = LintReport(
        1_000, 100_000, 0.99996, {"error": 1, "warning": 0, "info": 0}, [], [almost]
    )
    text = _printed(report)
    assert "99.9% of spans with no error or warning" in text and "100.0%" not in text
    clean = ServiceResult("api", 100, 0, 0, 1.0, [])
    counts = {"error": 0, "warning": 0, "info": 0}
    assert "100.0% of spans" in _printed(LintReport(10, 100, 1.0, counts, [], [clean]))


def test_the_counts_of_rules_read_as_english():
    # It said "0 error rules, 0 warning rules, 1 info rules with findings".
    clean = ServiceResult("api", 100, 0, 0, 1.0, [])
    counts = {"error": 0, "warning": 1, "info": 1}
    text = _printed(LintReport(10, 100, 1.0, counts, [], [clean]))
    assert "0 error rules, 1 warning rule, 1 info rule with findings" in text
