"""The text report's findings, what to act on first: what to fix first (the operations with the
most critical-path time in each endpoint's slowest requests), what the slowest and the failed
requests have in common (traits), and the anti-patterns with the time at stake.

Each ``print_*(report, console)`` prints its section of an ``AnalysisReport``, or a line saying
there is nothing to show, laid out with ``spanscope.report.tables``; nothing is computed here.
"""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.text import Text

from spanscope.analysis.results import AnalysisReport
from spanscope.analysis.traits import EXACT_LIMIT, SAMPLE_ONE_IN, trait_text
from spanscope.report.tables import MAX_LINE, MAX_ROWS, cut, frame, literal, percent, titled_table
from spanscope.units import format_duration


def print_fix_first(report: AnalysisReport, console: Console) -> None:
    """The operations with the most critical-path time in each endpoint's slowest requests."""
    if not report.fix_first:
        return
    pct = int(report.options.slow_fraction * 100)
    table = titled_table(
        f"What to fix first (critical-path time in the slowest {pct}% of each endpoint)",
        "#", "service:operation", "endpoint", "in slowest", "share slowest", "share all",
        right=("#", "in slowest", "share slowest", "share all"),
    )  # fmt: skip
    for rank, c in enumerate(report.fix_first, 1):
        table.add_row(
            str(rank),
            frame(c.service, c.operation),
            frame(c.endpoint_service, c.endpoint_operation),
            format_duration(c.slow_critical_ns),
            percent(c.slow_share),
            percent(c.share),
        )
    console.print(table)
    console.print()


_TRAITS_PER_COHORT = 3


def print_traits(report: AnalysisReport, console: Console) -> None:
    """What sets the slowest and the failed requests apart; nothing when nothing does."""
    if not report.traits:
        return
    pct = int(report.options.slow_fraction * 100)
    table = titled_table(
        "What the slowest and the failed requests have in common",
        "endpoint", "requests", "trait", "in them", "in the rest",
        right=("in them", "in the rest"),
    )  # fmt: skip
    shown: dict[tuple[str, str, str], int] = {}
    for t in report.traits:
        group = (t.endpoint_service, t.endpoint_operation, t.cohort)
        shown[group] = shown.get(group, 0) + 1
        if shown[group] > _TRAITS_PER_COHORT:
            continue
        label = f"slowest {pct}%" if t.cohort == "slowest" else t.cohort
        table.add_row(
            frame(t.endpoint_service, t.endpoint_operation),
            f"{label} ({t.cohort_traces:,})",
            literal(trait_text(t)),
            f"{percent(t.cohort_share)} ({t.cohort_with:,})",
            f"{percent(t.rest_share)} ({t.rest_with:,})",
        )
    console.print(table)
    if any(t.rest_one_in > 1 for t in report.traits):
        console.print(
            f"[dim]past {EXACT_LIMIT:,} requests an endpoint's requests are compared 1 in "
            f"{SAMPLE_ONE_IN} (by trace id), failed ones all; counts are of those compared[/]"
        )
    console.print()


_KIND_LABELS = {
    "n_plus_one": "N+1 calls",
    "sequential_calls": "sequential calls",
    "broken_propagation": "broken propagation",
    "unclosed_spans": "unclosed spans",
    "high_cardinality_name": "high-cardinality name",
}
_MAX_EXAMPLE_IDS = 3


def print_anti_patterns(report: AnalysisReport, console: Console) -> None:
    """The anti-patterns, most critical-path time at stake first, each with an example."""
    found = report.anti_patterns
    if not found:
        console.print("no anti-patterns found\n")
        return
    # The example trace is in each finding's lines below the table, whole: as a column its id
    # left the other seven a few characters each in an 80-column terminal.
    table = titled_table(
        "Anti-patterns (most critical-path time at stake first)",
        "#", "anti-pattern", "where", "traces", "seen", "per trace", "at stake",
        right=("#", "traces", "seen", "per trace", "at stake"),
    )  # fmt: skip
    shown = found[:MAX_ROWS]
    for rank, a in enumerate(shown, 1):
        where = frame(a.service, a.operation)
        if a.parent_service or a.parent_operation:
            where += f" under {frame(a.parent_service, a.parent_operation)}"
        if not a.per_trace_max:
            per_trace = "-"
        elif a.per_trace_p50 == a.per_trace_max:
            per_trace = f"{a.per_trace_p50:,}"
        else:
            per_trace = f"{a.per_trace_p50:,} (max {a.per_trace_max:,})"
        table.add_row(
            str(rank),
            _KIND_LABELS.get(a.kind, a.kind),
            where,
            f"{a.traces:,}",
            f"{a.occurrences:,}",
            per_trace,
            format_duration(a.critical_ns),
        )
    console.print(table)
    # Each finding's explanation and example, wrapped between words under its number (an id
    # is one word, so it stays whole and can be copied).
    lines = Table.grid(padding=(0, 1))
    lines.add_column(no_wrap=True, justify="right")
    lines.add_column(overflow="fold")
    for rank, a in enumerate(shown, 1):
        spans = ", ".join(a.example_span_ids[:_MAX_EXAMPLE_IDS])
        if len(a.example_span_ids) > _MAX_EXAMPLE_IDS:
            spans += ", ..."
        note = f"{a.detail}; " if a.detail else ""
        lines.add_row(f"{rank}.", Text(cut(a.explanation, MAX_LINE)))
        lines.add_row(
            "", Text(f"{cut(note, MAX_LINE)}e.g. trace {a.example_trace_id} spans {spans}", "dim")
        )
    console.print(lines)
    if len(found) > MAX_ROWS:
        console.print(f"[dim]... {len(found) - MAX_ROWS} more in --json[/]")
    console.print()
