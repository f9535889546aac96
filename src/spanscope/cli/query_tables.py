"""How ``spanscope query`` shows what it found, for people: the traces of a search and one
trace's spans as rich tables on standard output (``output_console``: the terminal's width, 160
columns in a file or pipe), and the counts and rates its tables print. In a narrow terminal the
tables keep every column whole rather than cutting ids and times: trace ids cut as reports cut
them (a start that ``--trace-id`` takes), a trace's spans as a tree. Names from the data go in
through ``literal``.
"""

from __future__ import annotations

from typing import Any

from rich.table import Table

from spanscope import units
from spanscope.cli.common import output_console
from spanscope.model import Span
from spanscope.report.tables import literal
from spanscope.units import count


def print_traces(rows: list[dict]) -> None:
    """The traces of a search (``query.summarize`` rows), as the store listed them."""
    console = output_console()
    if not rows:
        console.print("no matching traces")
        return
    # In an 80-column terminal the whole table (ids, dates, names) did not fit: rich cut the
    # start to "2026…" and dropped the errors column. There the start is the time of day when
    # the traces share a date (said in the title), and ids are cut as reports cut them, a
    # start that --trace-id here and in view takes; files and pipes (160 columns) keep all.
    short_ids = console.width < _WHOLE_TABLE
    days = {row["start"][:10] for row in rows}
    one_day = short_ids and len(days) == 1
    title = f"{count(len(rows), 'trace')}, most recent first"
    if one_day:
        title += f", started on {next(iter(days))} (UTC)"
    table = Table(title=title, title_justify="left")
    table.add_column("trace id", no_wrap=True)
    table.add_column("root", min_width=12, overflow="fold")
    table.add_column("start" if one_day else "start (UTC)", no_wrap=True)
    # Several days in a narrow terminal: month, day and time to the second (the full time cut
    # the errors column off).
    start_of = _time_of_day if one_day else _month_day_time if short_ids else _full_time
    for column in ("duration", "spans", "errors"):
        table.add_column(column, justify="right", no_wrap=True)
    for row in rows:
        table.add_row(
            _short_id(row["trace_id"]) if short_ids else row["trace_id"],
            # Names come from the data: literal, or rich reads "[/red]" as markup and fails.
            literal(f"{row['root_service'] or '(unknown)'}: {row['root_operation']}"),
            start_of(row["start"]),
            units.format_duration(row["duration_ns"]),
            f"{row['spans']:,}",
            f"[red]{row['errors']}[/]" if row["errors"] else "0",
        )
    console.print(table)


# The columns a trace list needs with whole ids and a root name of 16 characters; narrower
# terminals get ids cut to their first _SHORT_ID hex digits (as reports and pages show them).
_WHOLE_TABLE = 100
_SHORT_ID = 12


def _short_id(trace_id: str) -> str:
    """An id's first digits without its leading zeros, as Jaeger shows ids: a 64-bit id's
    were all the 16 zeros it is padded with ('000000000000…' named no trace)."""
    digits = trace_id.lstrip("0") or trace_id
    return digits if len(digits) <= _SHORT_ID else f"{digits[:_SHORT_ID]}…"


def _time_of_day(iso: str) -> str:
    return iso[11:23]


def _month_day_time(iso: str) -> str:
    return f"{iso[5:10]} {iso[11:19]}"


def _full_time(iso: str) -> str:
    return iso[:23]


def print_spans(spans: list[Span]) -> None:
    """One trace's spans: a table, or in a narrow terminal a tree (``_print_span_tree``)."""
    console = output_console()
    title = f"trace {spans[0].trace_id}: {len(spans)} spans"
    if console.width < _WHOLE_SPANS:
        _print_span_tree(spans, title, console)
        return
    table = Table(title=title, title_justify="left")
    table.add_column("span id", no_wrap=True)  # an id cut to "dd22c0b056c…" names no span
    table.add_column("parent", no_wrap=True)
    table.add_column("service: operation", overflow="fold")
    for column in ("start (UTC)", "duration", "status"):
        table.add_column(column)
    for span in spans:
        table.add_row(
            span.span_id,
            span.parent_span_id,
            literal(f"{span.service_name}: {span.name}"),
            units.format_time(span.start_ns),
            units.format_duration(span.duration_ns),
            span.status_code.name.lower(),
        )
    console.print(table)


# A span table with two whole ids, a whole time and a name of 20 characters.
_WHOLE_SPANS = 130


def _print_span_tree(spans: list[Span], title: str, console: Any) -> None:
    """A trace's spans in a narrow terminal (in 80 columns the table cut every id and time):
    each under its parent, indented, with its start as an offset from the trace's; whole span
    ids, names folded."""
    first = min(span.start_ns for span in spans)
    table = Table(title=f"{title}, from {units.format_time(first)}", title_justify="left")
    table.add_column("span id", no_wrap=True)
    table.add_column("at", justify="right", no_wrap=True)
    table.add_column("duration", justify="right", no_wrap=True)
    table.add_column("status", no_wrap=True)
    table.add_column("service: operation", overflow="fold")
    for depth, span in _in_tree_order(spans):
        table.add_row(
            span.span_id,
            f"+{units.format_duration(span.start_ns - first)}",
            units.format_duration(span.duration_ns),
            span.status_code.name.lower(),
            "  " * min(depth, 8) + literal(f"{span.service_name}: {span.name}"),
        )
    console.print(table)


def _in_tree_order(spans: list[Span]) -> list[tuple[int, Span]]:
    """``(depth, span)`` parents before their children, siblings by start; a span whose parent
    is not in the trace starts a tree of its own."""
    ids = {span.span_id for span in spans}
    children: dict[str, list[Span]] = {}
    roots = []
    for span in sorted(spans, key=lambda span: (span.start_ns, span.span_id)):
        if (
            span.parent_span_id
            and span.parent_span_id in ids
            and span.parent_span_id != span.span_id
        ):
            children.setdefault(span.parent_span_id, []).append(span)
        else:
            roots.append(span)
    ordered: list[tuple[int, Span]] = []
    seen: set[int] = set()
    stack = [(0, span) for span in reversed(roots)]
    while stack:
        depth, span = stack.pop()
        if id(span) in seen:
            continue
        seen.add(id(span))
        ordered.append((depth, span))
        stack.extend((depth + 1, child) for child in reversed(children.get(span.span_id, [])))
    # Spans in a parent loop are reached from no root: listed after the rest, as they come.
    ordered += [(0, span) for span in spans if id(span) not in seen]
    return ordered


def per_second(rate: float) -> str:
    """Requests a second as people read them: "1,234", "12.3", "0.05", "<0.01" (a quiet
    service over 6 hours read "3e-05")."""
    if rate >= 100:
        return f"{rate:,.0f}"
    if rate >= 10:
        return f"{rate:.1f}"
    if rate >= 0.01 or rate == 0:
        return f"{rate:.2f}"
    return "<0.01"
