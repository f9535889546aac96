"""The human report: rich tables, most useful first.

Order: what the data is, the headline (the few sentences to read first), what to fix first,
anti-patterns, latency per endpoint, where each endpoint's time goes (all traces vs the
slowest), the slowest traces with their critical path, slow spans, errors and where they
started, operations, dependencies, problems in the data, ``--fail-if`` results. Durations and
times are shown with ``spanscope.units``; nothing is computed here.

``render_report`` keeps that order and prints the sections about the data and the verdict
itself (inputs, filters, totals, the headline, problems in the data, ``--fail-if``); the others
come from their family's module: ``findings`` (what to fix first, traits, anti-patterns),
``critical_path`` (profiles, slowest traces, a critical path, slow spans) and ``breakdowns``
(latency, errors, operations, dependencies), all laid out with ``tables``; the inputs are
listed by ``inputs`` (counted, not listed, past ten files).
"""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from spanscope.analysis.results import AnalysisReport
from spanscope.report.breakdowns import (
    print_dependencies,
    print_endpoints,
    print_errors,
    print_operations,
)
from spanscope.report.critical_path import (
    print_critical_path,
    print_profiles,
    print_slow_spans,
    print_slowest,
)
from spanscope.report.findings import print_anti_patterns, print_fix_first, print_traits
from spanscope.report.inputs import print_inputs
from spanscope.report.tables import literal, titled_table
from spanscope.units import format_duration, format_time, plural


def render_report(report: AnalysisReport, console: Console) -> None:
    """Print ``report`` to ``console``."""
    _summary(report, console)
    if not report.summary.traces:
        console.print(_why_no_traces(report), soft_wrap=True)
        return
    _headline(report, console)
    print_fix_first(report, console)
    print_traits(report, console)
    print_anti_patterns(report, console)
    print_endpoints(report, console)
    print_profiles(report, console)
    print_slowest(report, console)
    print_critical_path(report, console)
    print_slow_spans(report, console)
    print_errors(report, console)
    print_operations(report, console)
    print_dependencies(report, console)
    _problems(report, console)
    _conditions(report, console)


def _headline(report: AnalysisReport, console: Console) -> None:
    """The few sentences to read first (``analysis.headline``), as a bulleted list."""
    if not report.headline:
        return
    console.print("[bold]In short[/]")
    lines = Table.grid(padding=(0, 1))  # wrapped lines keep their indent
    lines.add_column(no_wrap=True)
    lines.add_column(overflow="fold")
    for item in report.headline:
        lines.add_row(" •", Text(item.text, style="red" if item.kind == "failed" else ""))
    console.print(lines)
    console.print()


def _why_no_traces(report: AnalysisReport) -> str:
    read = sum(item.spans for item in report.inputs)
    if read and report.filters:
        # Which filter left nothing (a misspelt service, a window that misses the data) is a
        # warning on stderr (``spanscope.cli.match_feedback``, ``store_feedback``): here it
        # would be lost from a report written to a file, and it is not the report's to compute.
        return (
            f"no traces to analyse: none of the {read:,} spans read is in a trace that passes "
            "the filters (the warning on standard error says which filter left none)"
        )
    return no_traces_reason(read)


def no_traces_reason(read: int) -> str:
    """Why there is nothing to analyse when no filter is the cause: ``read`` spans were read."""
    if read:
        return "no traces to analyse: the spans read form no trace with a root"
    return "no traces to analyse: no spans were read (check the inputs)"


def _summary(report: AnalysisReport, console: Console) -> None:
    s = report.summary
    print_inputs(report.inputs, console)
    if report.filters:
        shown = ", ".join(_filter_text(k, v) for k, v in report.filters.items())
        console.print(f"[dim]filters[/] {literal(shown)}", soft_wrap=True)
    console.print(
        f"[bold]{s.traces:,}[/] {plural(s.traces, 'trace')}, "
        f"[bold]{s.spans:,}[/] {plural(s.spans, 'span')}, "
        f"[bold]{len(s.services)}[/] {plural(len(s.services), 'service')}; "
        f"[bold]{s.failed_traces:,}[/] failed {plural(s.failed_traces, 'request')}, "
        f"{s.traces_with_errors:,} {plural(s.traces_with_errors, 'trace')} with errors"
    )
    if s.traces:
        console.print(
            f"time range {format_time(s.start_ns)} .. {format_time(s.end_ns)}; request latency "
            f"p50 {format_duration(s.latency.p50_ns)}, p99 {format_duration(s.latency.p99_ns)}, "
            f"max {format_duration(s.latency.max_ns)}"
        )
    console.print()


def _filter_text(key: str, value: str) -> str:
    # The JSON report keeps nanoseconds (since_ns=1795748400000000000); people read times.
    if key in ("since_ns", "until_ns") and value.lstrip("-").isdigit():
        return f"{key[:-3]}={format_time(int(value))}"
    if key.endswith("_duration_ns") and value.isdigit():
        return f"{key[:-3]}={format_duration(int(value))}"
    return f"{key}={value}"


def _problems(report: AnalysisReport, console: Console) -> None:
    if not report.problems and not report.warnings:
        console.print("no problems found in the data")
        return
    table = titled_table(
        "Problems in the data", "problem", "count", "traces", "example", right=("count", "traces")
    )
    for p in report.problems:
        table.add_row(p.kind, f"{p.count:,}", f"{p.traces:,}", literal(p.example))
    if report.warnings:
        table.add_row("input warnings", f"{report.warnings:,}", "", "see messages above")
    console.print(table)
    if report.problems:
        console.print(
            "[dim]spanscope lint on the same inputs says which instrumentation causes these, "
            "and how to fix it.[/]"
        )


def _conditions(report: AnalysisReport, console: Console) -> None:
    if not report.conditions:
        return
    console.print()
    for c in report.conditions:
        # Nothing to measure is not a pass: a misspelt endpoint would pass every CI run.
        mark = (
            "[red]FAIL[/]"
            if c.holds
            else "[yellow]no data[/]"
            if c.value is None
            else "[green]ok[/]"
        )
        # The expression and its message carry the user's names: printed as they are.
        console.print(f"{mark} {escape(c.expression)}: {escape(c.message)}", soft_wrap=True)
