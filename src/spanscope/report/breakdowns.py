"""The text report's breakdowns of latency and errors: latency percentiles per endpoint, where
failures started and the error rate per operation, the operations by time on critical paths,
and the calls between services.

Each ``print_*(report, console)`` prints its section of an ``AnalysisReport``, laid out with
``spanscope.report.tables`` (at most ``MAX_ROWS`` rows, the rest in ``--json``); nothing is
computed here.
"""

from __future__ import annotations

from rich.console import Console

from spanscope.analysis.results import AnalysisReport
from spanscope.report.tables import MAX_ROWS, frame, literal, percent, titled_table
from spanscope.units import format_duration


def _latency_cells(latency) -> list[str]:
    return [
        f"{latency.count:,}",
        format_duration(latency.p50_ns),
        format_duration(latency.p90_ns),
        format_duration(latency.p95_ns),
        format_duration(latency.p99_ns),
        format_duration(latency.max_ns),
    ]


def print_endpoints(report: AnalysisReport, console: Console) -> None:
    """Latency percentiles and the failed share per endpoint (root span)."""
    table = titled_table(
        "Latency per endpoint (root span)",
        "endpoint", "requests", "p50", "p90", "p95", "p99", "max", "failed",
        right=("requests", "p50", "p90", "p95", "p99", "max", "failed"),
    )  # fmt: skip
    for e in report.endpoints[:MAX_ROWS]:
        table.add_row(
            frame(e.service, e.operation), *_latency_cells(e.latency), percent(e.error_rate)
        )
    console.print(table)
    if any(not e.latency.exact for e in report.endpoints):
        console.print(
            "[dim]percentiles of large groups come from a DDSketch (1% relative error)[/]"
        )
    console.print()


def print_errors(report: AnalysisReport, console: Console) -> None:
    """Where failures started (grouped by originating error) and the error rate per operation."""
    e = report.errors
    if not e.error_spans:
        console.print("no errors found\n")
        return
    console.print(
        f"[bold]Errors[/]: {e.error_spans:,} error spans in {e.traces_with_errors:,} traces; "
        f"{e.failed_traces:,} requests failed"
    )
    table = titled_table(
        "Where failures started (originating error per trace, grouped)",
        "traces", "service:operation", "type", "message", "example trace",
        right=("traces",), ids=("example trace",),
    )  # fmt: skip
    for g in e.origins[:MAX_ROWS]:
        table.add_row(
            f"{g.traces:,}",
            frame(g.service, g.operation),
            literal(g.exception_type or "-"),
            literal(g.message_template or "(no message)"),
            g.example_trace_id,
        )
    console.print(table)
    rates = titled_table(
        "Error rate per operation",
        "service:operation", "errors", "spans", "rate",
        right=("errors", "spans", "rate"),
    )  # fmt: skip
    for o in e.by_operation[:MAX_ROWS]:
        rates.add_row(
            frame(o.service, o.operation), f"{o.errors:,}", f"{o.spans:,}", percent(o.error_rate)
        )
    console.print(rates)
    console.print()


def print_operations(report: AnalysisReport, console: Console) -> None:
    """The operations by time on critical paths, with their latency and errors."""
    table = titled_table(
        "Operations (by time on critical paths)",
        "service:operation", "spans", "p50", "p99", "max", "self total", "critical total",
        "errors",
        right=("spans", "p50", "p99", "max", "self total", "critical total", "errors"),
    )  # fmt: skip
    for o in report.operations[:MAX_ROWS]:
        table.add_row(
            frame(o.service, o.operation),
            f"{o.latency.count:,}",
            format_duration(o.latency.p50_ns),
            format_duration(o.latency.p99_ns),
            format_duration(o.latency.max_ns),
            format_duration(o.self_ns),
            format_duration(o.critical_ns),
            percent(o.error_rate),
        )
    console.print(table)
    if len(report.operations) > MAX_ROWS:
        console.print(f"[dim]... {len(report.operations) - MAX_ROWS} more in --json[/]")
    console.print()


def print_dependencies(report: AnalysisReport, console: Console) -> None:
    """The calls between services, with their errors and latency."""
    if not report.dependencies:
        return
    table = titled_table(
        "Dependencies (service -> service)",
        "caller", "callee", "calls", "errors", "p50", "p99",
        right=("calls", "errors", "p50", "p99"),
    )  # fmt: skip
    for d in report.dependencies:
        rate = d.error_count / d.call_count if d.call_count else 0.0
        table.add_row(
            literal(d.parent or "?"),
            literal(d.child or "?"),
            f"{d.call_count:,}",
            percent(rate),
            format_duration(d.p50_ns),
            format_duration(d.p99_ns),
        )
    console.print(table)
    console.print()
