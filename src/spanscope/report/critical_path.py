"""The text report's sections on where requests wait, from their critical paths: each top
endpoint's profile (all its traces vs the slowest), the slowest traces with what their critical
path spent time in, the slowest one's critical path step by step with its spans of most self
time, and the slow spans.

Each ``print_*(report, console)`` prints its section of an ``AnalysisReport``, laid out with
``spanscope.report.tables``; nothing is computed here.
"""

from __future__ import annotations

from collections.abc import Iterable

from rich.console import Console
from rich.table import Table

from spanscope.analysis.results import AnalysisReport
from spanscope.report.tables import MAX_ROWS, frame, percent, titled_table
from spanscope.units import format_duration


def print_profiles(report: AnalysisReport, console: Console) -> None:
    """Where each of the top endpoints waits: critical-path shares, all traces vs the slowest."""
    pct = int(report.options.slow_fraction * 100)
    for p in report.profiles[:5]:
        table = titled_table(
            f"Where {frame(p.service, p.operation)} waits: {p.traces:,} traces, slowest "
            f"{pct}% = {p.slow_traces:,} traces >= {format_duration(p.slow_min_duration_ns)}",
            "service:operation", "share all", "share slowest", "critical time all",
            right=("share all", "share slowest", "critical time all"),
        )  # fmt: skip
        for f in p.frames:
            table.add_row(
                frame(f.service, f.operation),
                percent(f.share),
                percent(f.slow_share),
                format_duration(f.critical_ns),
            )
        console.print(table)
        console.print()


def print_slowest(report: AnalysisReport, console: Console) -> None:
    """The slowest traces and the top of what their critical path spent time in."""
    if not report.slowest_traces:
        return
    table = titled_table(
        "Slowest traces and what their critical path spent time in",
        "trace id", "endpoint", "duration", "critical path (top)",
        right=("duration",), ids=("trace id",),
    )  # fmt: skip
    for t in report.slowest_traces:
        path = ", ".join(
            f"{frame(c.service, c.operation)} {percent(c.share)}" for c in t.contributors[:3]
        )
        failed = " [red]failed[/]" if t.failed else ""
        table.add_row(
            t.trace_id,
            frame(t.service, t.operation) + failed,
            format_duration(t.duration_ns),
            path,
        )
    console.print(table)
    console.print()


def print_critical_path(report: AnalysisReport, console: Console) -> None:
    """The slowest trace's critical path step by step (with --trace-id: that trace's)."""
    if not report.slowest_traces:
        return
    trace = report.slowest_traces[0]
    table = titled_table(
        f"Critical path of {trace.trace_id} ({frame(trace.service, trace.operation)}, "
        f"{format_duration(trace.duration_ns)})",
        "at", "for", "service:operation", "span id",
        right=("at", "for"), ids=("span id",),
    )  # fmt: skip
    for step in trace.critical_path[: MAX_ROWS * 2]:
        table.add_row(
            "+" + format_duration(step.start_ns - trace.start_ns),
            format_duration(step.end_ns - step.start_ns),
            frame(step.service, step.operation),
            step.span_id,
        )
    console.print(table)
    shown = min(len(trace.critical_path), MAX_ROWS * 2)
    if trace.truncated or shown < len(trace.critical_path):
        console.print(f"[dim]first {shown} steps shown; the path has more[/]")
    if trace.top_self_time:
        spans = _span_times(
            "Spans of that trace with the most self time",
            "span id",
            (
                (i.service, i.operation, i.duration_ns, i.self_ns, i.critical_ns, i.span_id)
                for i in trace.top_self_time
            ),
        )
        console.print(spans)
    console.print()


def print_slow_spans(report: AnalysisReport, console: Console) -> None:
    """The spans over the slow threshold, most self time first."""
    slow = report.slow_spans
    threshold = format_duration(slow.threshold_ns)
    if not slow.count:
        console.print(f"no span took {threshold} or more\n")
        return
    table = _span_times(
        f"Slow spans: {slow.count:,} took {threshold} or more (most self time shown)",
        "trace id",
        (
            (s.service, s.operation, s.duration_ns, s.self_ns, s.on_critical_path_ns, s.trace_id)
            for s in slow.spans
        ),
    )
    console.print(table)
    console.print()


def _span_times(
    title: str, id_column: str, spans: Iterable[tuple[str, str, int, int, int, str]]
) -> Table:
    """Spans with their duration, self time and time on the critical path; each span is
    ``(service, operation, duration_ns, self_ns, critical_ns, id)``, its id in ``id_column``."""
    table = titled_table(
        title,
        "service:operation", "duration", "self", "on critical path", id_column,
        right=("duration", "self", "on critical path"), ids=(id_column,),
    )  # fmt: skip
    for service, operation, duration_ns, self_ns, critical_ns, span_or_trace_id in spans:
        table.add_row(
            frame(service, operation),
            format_duration(duration_ns),
            format_duration(self_ns),
            format_duration(critical_ns),
            span_or_trace_id,
        )
    return table
