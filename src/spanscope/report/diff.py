"""The human rendering of ``spanscope diff``'s ``ReportDiff`` (rich, on standard output).

Order: the headline (what a person in an incident needs first), then per endpoint the
percentiles before → after and where the change in time per request went (all requests and
the slowest ones), then error origins that appeared or grew, operations whose calls per request
or p95 moved, and service calls that changed.

Every name from the traces (services, operations, error types, sources) goes in through
``report.tables.literal``, as in analyze's report: escaped, since span names hold brackets (SQL
Server's ``SELECT [dbo].[stock]``), and cut to ``MAX_CELL`` characters (a 60 MB name laid out
for seconds; the JSON keeps it whole).
"""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Column, Table

from spanscope.compare import EndpointDiff, ReportDiff
from spanscope.report.tables import cut, literal
from spanscope.units import format_duration


def _name(service: str, operation: str) -> str:
    """``service: operation`` as markup that prints them as they are (``SELECT [dbo].[stock]``
    is SQL Server's, not a style; a ``[/red]`` in a name would end the report with an error),
    cut as a cell is (``literal``)."""
    # Each part cut first: formatting a 60 MB name only to cut it copies it.
    return literal(f"{cut(service)}: {cut(operation)}")


def _names_column(header: str) -> Column:
    """The column of names of a table: folded when too long, not cut to an ellipsis."""
    return Column(header, overflow="fold")


def _signed(ns: float) -> str:
    """A change of time in the units of the columns beside it (``+26.9ms``, ``-580µs``)."""
    if not ns:
        return "0"
    text = ("+" if ns > 0 else "-") + format_duration(abs(ns))
    return f"[red]{text}[/]" if ns > 0 else f"[green]{text}[/]"


def _relative(before: float, after: float) -> str:
    if not before:
        return "new" if after else ""
    change = (after - before) / before
    style = "red" if change > 0.1 else "green" if change < -0.1 else "dim"
    return f"[{style}]{change:+.0%}[/]"


def _rate(value: float) -> str:
    return f"{value:.1%}" if value else "0"


def _count(number: int, noun: str) -> str:
    return f"{number:,} {noun}{'' if number == 1 else 's'}"


def _side_line(label: str, side) -> str:
    sources = ", ".join(map(literal, side.sources[:2])) + (" ..." if len(side.sources) > 2 else "")
    return f"{label}: {_count(side.traces, 'trace')}, {_count(side.spans, 'span')} ({sources})"


def _endpoint(console: Console, endpoint: EndpointDiff, top: int) -> None:
    title = f"[bold]{_name(endpoint.service, endpoint.operation)}[/]"
    if endpoint.few_requests:
        title += " [dim](few requests: not judged)[/]"
    console.print(title)
    table = Table("", "requests", "p50", "p95", "p99", "mean", "error rate", box=None)
    for label, latency, mean, rate in (
        ("before", endpoint.latency_before, endpoint.mean_before_ns, endpoint.error_rate_before),
        ("after", endpoint.latency_after, endpoint.mean_after_ns, endpoint.error_rate_after),
    ):
        table.add_row(
            label,
            f"{latency.count:,}",
            format_duration(latency.p50_ns),
            format_duration(latency.p95_ns),
            format_duration(latency.p99_ns),
            format_duration(mean),
            _rate(rate),
        )
    table.add_row(
        "change",
        "",
        _relative(*endpoint.percentile("p50")),
        _relative(*endpoint.percentile("p95")),
        _relative(*endpoint.percentile("p99")),
        _relative(endpoint.mean_before_ns, endpoint.mean_after_ns),
        _signed_points(endpoint.error_rate_after - endpoint.error_rate_before),
    )
    console.print(table)
    movers = [frame for frame in endpoint.contributors if frame.delta_ns or frame.slow_delta_ns]
    if movers:
        where = Table(
            _names_column("where the time per request changed (critical path)"),
            "before",
            "after",
            "change",
            "slowest requests",
            box=None,
        )
        for frame in movers[:top]:
            where.add_row(
                _name(frame.service, frame.operation),
                format_duration(frame.before_ns),
                format_duration(frame.after_ns),
                _signed(frame.delta_ns),
                _signed(frame.slow_delta_ns),
            )
        console.print(where)
    console.print()


def _signed_points(change: float) -> str:
    if abs(change) < 0.0005:
        return ""
    style = "red" if change > 0 else "green"
    return f"[{style}]{change * 100:+.1f} pt[/]"


def print_diff(result: ReportDiff, top: int = 5, console: Console | None = None) -> None:
    console = console or Console(highlight=False)
    console.print(_side_line("before", result.before))
    console.print(_side_line("after ", result.after))
    console.print()
    if result.headline:
        console.print("[bold]what changed[/]")
        for line in result.headline:
            console.print(f"  • {escape(line)}", soft_wrap=True)
    elif result.endpoints and all(endpoint.few_requests for endpoint in result.endpoints):
        # "Nothing moved" would be wrong there: nothing was judged.
        console.print(
            "[yellow]too few requests to judge: every endpoint has fewer than --min-requests "
            "on a side (the tables below show them)[/]"
        )
    else:
        console.print(
            "[green]no endpoint moved beyond chance (p50 or p95 by 10% and 1 ms or more), "
            "no new error[/]"
        )
    unjudged = [_name(e.service, e.operation) for e in result.endpoints if e.few_requests]
    if result.endpoints and 0 < len(unjudged) < len(result.endpoints):
        shown = ", ".join(unjudged[:top]) + (" ..." if len(unjudged) > top else "")
        console.print(
            f"[yellow]not judged, with fewer than --min-requests requests on a side:[/] {shown}",
            soft_wrap=True,
        )
    console.print()
    for endpoint in result.endpoints[:top]:
        _endpoint(console, endpoint, top)
    for label, names in (("new endpoints", result.new_endpoints), ("gone", result.gone_endpoints)):
        if names:
            console.print(f"[bold]{label}[/]: {', '.join(map(literal, names[:top]))}")
    if result.errors:
        table = Table(
            _names_column("error origins that appeared or grew"),
            "before",
            "after",
            Column("example trace", no_wrap=True),  # whole, to be copied
            box=None,
        )
        for error in result.errors[:top]:
            what = _name(error.service, error.operation)
            if error.exception_type:
                what += f" {literal(error.exception_type)}"
            if error.new:
                what = f"[red]new[/] {what}"
            table.add_row(
                what,
                f"{error.traces_before:,} ({error.share_before:.1%})",
                f"{error.traces_after:,} ({error.share_after:.1%})",
                error.example_trace_id,
            )
        console.print(table)
        console.print()
    if result.operations:
        table = Table(
            _names_column("operations"),
            "calls/request",
            "where made",
            "p95",
            "error rate",
            "why listed",
            box=None,
        )
        for op in result.operations[:top]:
            where = ""
            if (
                op.calls_where_made_before is not None
                and op.calls_where_made_after is not None
                and not {"new", "gone"} & set(op.reasons)
            ):
                # Beside calls per request, which the mix of endpoints moves too.
                where = f"{op.calls_where_made_before:.1f} → {op.calls_where_made_after:.1f}"
            table.add_row(
                _name(op.service, op.operation),
                f"{op.calls_per_request_before:.2f} → {op.calls_per_request_after:.2f}",
                where,
                f"{format_duration(op.p95_before_ns)} → {format_duration(op.p95_after_ns)}",
                f"{_rate(op.error_rate_before)} → {_rate(op.error_rate_after)}",
                ", ".join(op.reasons),
            )
        console.print(table)
        console.print()
    if result.dependencies:
        table = Table(
            _names_column("service calls"), "calls/request", "error rate", "why listed", box=None
        )
        for edge in result.dependencies[:top]:
            table.add_row(
                f"{literal(edge.parent)} → {literal(edge.child)}",
                f"{edge.calls_per_request_before:.2f} → {edge.calls_per_request_after:.2f}",
                f"{_rate(edge.error_rate_before)} → {_rate(edge.error_rate_after)}",
                ", ".join(edge.reasons),
            )
        console.print(table)
