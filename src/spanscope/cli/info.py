"""``spanscope info``: what is in a trace file, or in a store (``--db``).

``info --db DB`` describes the whole store without reading its traces: what ``store.stats()``
says (spans, traces, time range, size, schema) and its services with their spans. With a
selection (``--service``, ``--since``...), the traces it chooses (when more than ``--limit``
match, a sample spread over the window, chosen by trace id) are read and described as a file's
are, the store as their input.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from typing import TYPE_CHECKING, Any

import click
from rich.markup import escape
from rich.table import Table

from spanscope.assembly import assemble
from spanscope.cli.common import input_options, output_console
from spanscope.cli.reading import (
    ReadSession,
    fail_on_input_errors,
    holding_many_objects,
    print_warnings,
)
from spanscope.cli.store_reading import Selection, read_store, store_options, take_selection
from spanscope.report.tables import literal
from spanscope.units import format_time, plural

if TYPE_CHECKING:
    from spanscope.model import Trace
    from spanscope.store import Store


@click.command()
@click.argument("inputs", nargs=-1, metavar="[FILE...]")
@input_options(skew=True)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON object instead of a table.")
@store_options()
def info(
    inputs: tuple[str, ...],
    format_: str | None,
    strict: bool,
    no_adjust_skew: bool,
    as_json: bool,
    **selection: Any,
) -> None:
    """Show what is in trace files: format, traces, spans, services, time range, problems.

    FILE may be any format spanscope reads, gzip-compressed or not; '-' reads stdin.
    With --db, what a store holds: spans, traces, time range, size and services (with
    --service, --since... the traces they choose, described as a file's).

    \b
    Examples:
      spanscope info traces.json
      spanscope info export.jsonl.gz other.pb --json
      spanscope info --db traces.duckdb
      spanscope info --db http://localhost:16686 --since 1h --service checkout
    """
    unselected = all(not selection.get(key) for key in _SELECTING)
    chosen = take_selection(inputs, selection, "describe")
    if chosen.db is not None and unselected:
        _store_info(chosen.db, as_json)
        return
    summary, session = _describe(chosen, inputs, format_, strict, not no_adjust_skew)
    if as_json:
        json.dump(summary, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        _render(summary, filtered=not chosen.trace_filter.is_empty)
        if session is not None:
            print_warnings(session.diagnostics)
    if session is not None:
        fail_on_input_errors(session)


# The options that choose traces (--limit alone does not: a store is described whole).
_SELECTING = ("services", "operations", "trace_ids", "since", "until", "min_duration")


def _describe(
    chosen: Selection,
    inputs: tuple[str, ...],
    format_: str | None,
    strict: bool,
    adjust_skew: bool,
) -> tuple[dict, ReadSession | None]:
    """What the chosen traces hold, and the read session (None for a store)."""
    from spanscope.analysis.filters import filter_traces

    traces: list[Trace]
    if chosen.db is not None:
        traces, read = read_store(chosen.db, chosen.trace_filter, chosen.limit, adjust_skew)
        session = None
        sources = [{"source": read.source, "format": read.format, "spans": read.spans}]
        sources[0]["error"] = None
        warnings: list[str] = []
    else:
        session = ReadSession(list(inputs), format=format_, strict=strict)
        with holding_many_objects():
            assembled = assemble(session.spans(), adjust_skew=adjust_skew)
        traces = assembled
        if not chosen.trace_filter.is_empty:
            traces = list(filter_traces(assembled, chosen.trace_filter))
        if not traces:  # the empty description stays on stdout (exit 0); why, on stderr
            from spanscope.cli.match_feedback import nothing_matched, warn

            warn(nothing_matched(session, chosen.trace_filter, adjust_skew, assembled))
        sources = [
            {
                "source": report.source,
                "format": report.format,
                "spans": report.spans,
                "error": str(report.error) if report.error else None,
            }
            for report in session.inputs
        ]
        warnings = [str(w) for w in session.diagnostics.warnings]
    spans = [span for trace in traces for span in trace.spans]
    problems = Counter(problem.kind.value for trace in traces for problem in trace.problems)
    services = Counter(span.service_name for span in spans)
    summary = {
        "inputs": sources,
        "traces": len(traces),
        "spans": len(spans),
        "services": dict(sorted(services.items())),
        "start": format_time(min(s.start_ns for s in spans)) if spans else None,
        "end": format_time(max(max(s.end_ns, s.start_ns) for s in spans)) if spans else None,
        "problems": dict(sorted(problems.items())),
        "warnings": warnings,
    }
    return summary, session


def _store_info(db: str, as_json: bool) -> None:
    """What the store ``db`` holds, from its statistics: no trace is read."""
    from spanscope.cli.store_reading import reading, store_kind

    with reading(db) as store:
        stats = store.stats()
        services = _service_spans(store, stats.oldest_ns, stats.newest_ns)
        summary = {
            "store": db,
            "kind": store_kind(store),
            "spans": stats.spans,
            "traces": stats.traces,
            "start": format_time(stats.oldest_ns) if stats.oldest_ns is not None else None,
            "end": format_time(stats.newest_ns) if stats.newest_ns is not None else None,
            "file_bytes": stats.file_bytes,
            "used_bytes": stats.used_bytes,
            "schema_version": stats.schema_version,
            "services": services,
        }
    if as_json:
        json.dump(summary, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return
    console = output_console()
    console.print(f"[bold]{escape(db)}[/] ({summary['kind']}, schema {stats.schema_version})")
    console.print(
        f"[bold]{stats.traces:,}[/] {plural(stats.traces, 'trace')}, "
        f"[bold]{stats.spans:,}[/] {plural(stats.spans, 'span')}, "
        f"[bold]{len(services)}[/] {plural(len(services), 'service')}"
    )
    if summary["start"]:
        console.print(f"time range: {summary['start']} .. {summary['end']}")
    size = f"{stats.file_bytes / 2**20:,.1f} MiB on disk"
    if stats.used_bytes:
        size += f", {stats.used_bytes / 2**20:,.1f} MiB used"
    console.print(f"size: {size}")
    if services:
        table = Table(title="services", title_justify="left")
        table.add_column("service")
        table.add_column("spans", justify="right")
        for name, count in services.items():
            table.add_row(literal(name or "(unknown)"), f"{count:,}")
        console.print(table)


def _service_spans(store: Store, oldest: int | None, newest: int | None) -> dict[str, int]:
    """Spans per service over the whole store (its RED summary over every span kind)."""
    if oldest is None or newest is None:
        return {}
    from spanscope.store.metrics_sql import MetricsQuery

    window = newest + 1 - oldest
    rows = store.metrics_summary(MetricsQuery(oldest, newest + 1, window, span_kind=None))
    counts = Counter({name: 0 for name in store.services()})
    for row in rows:
        counts[row.service] += row.calls
    return dict(sorted(counts.items()))


def _render(summary: dict, filtered: bool = False) -> None:
    console = output_console()
    table = Table(title="inputs", title_justify="left")
    table.add_column("file", overflow="fold")  # a long path wraps whole, never cut with "…"
    table.add_column("format")
    table.add_column("spans", justify="right")  # as in the services table below
    table.add_column("error")
    for row in summary["inputs"]:
        table.add_row(
            escape(row["source"]), row["format"], f"{row['spans']:,}", escape(row["error"] or "")
        )
    console.print(table)
    console.print(
        f"[bold]{summary['traces']:,}[/] {plural(summary['traces'], 'trace')}, "
        f"[bold]{summary['spans']:,}[/] {plural(summary['spans'], 'span')}, "
        f"[bold]{len(summary['services'])}[/] {plural(len(summary['services']), 'service')}"
    )
    if not summary["spans"]:
        # An empty services table and "no problems found" would read as a clean data set.
        read = sum(row["spans"] for row in summary["inputs"])
        if read and filtered:  # why: on stderr (match_feedback, store_feedback)
            console.print(
                f"no trace of the {read:,} spans read passes the filters: nothing to describe"
            )
        else:
            console.print("no spans read: nothing to describe")
        return
    if summary["start"]:
        console.print(f"time range: {summary['start']} .. {summary['end']}")
    services = Table(title="services", title_justify="left")
    services.add_column("service")
    services.add_column("spans", justify="right")
    for name, count in summary["services"].items():
        services.add_row(literal(name or "(unknown)"), f"{count:,}")
    console.print(services)
    if summary["problems"]:
        problems = Table(title="problems found", title_justify="left")
        problems.add_column("problem")
        problems.add_column("count", justify="right")
        for kind, count in summary["problems"].items():
            problems.add_row(kind, f"{count:,}")
        console.print(problems)
    else:
        console.print("no problems found in the data")
