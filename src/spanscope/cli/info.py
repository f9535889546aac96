"""``spanscope info``: what is in a trace file."""

from __future__ import annotations

import json
import sys
from collections import Counter

import click
from rich.table import Table

from spanscope.assembly import assemble
from spanscope.cli.common import (
    ReadSession,
    fail_on_input_errors,
    holding_many_objects,
    input_files,
    input_options,
    output_console,
    print_warnings,
)
from spanscope.units import format_time


@click.command()
@input_files
@input_options(skew=True)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON object instead of a table.")
def info(
    inputs: tuple[str, ...], format_: str | None, strict: bool, no_adjust_skew: bool, as_json: bool
) -> None:
    """Show what is in trace files: format, traces, spans, services, time range, problems.

    FILE may be any format spanscope reads, gzip-compressed or not; '-' reads stdin.

    \b
    Examples:
      spanscope info traces.json
      spanscope info export.jsonl.gz other.pb --json
    """
    session = ReadSession(list(inputs), format=format_, strict=strict)
    with holding_many_objects():
        traces = assemble(session.spans(), adjust_skew=not no_adjust_skew)

    spans = [span for trace in traces for span in trace.spans]
    problems = Counter(problem.kind.value for trace in traces for problem in trace.problems)
    services = Counter(span.service_name for span in spans)
    summary = {
        "inputs": [
            {
                "source": report.source,
                "format": report.format,
                "spans": report.spans,
                "error": str(report.error) if report.error else None,
            }
            for report in session.inputs
        ],
        "traces": len(traces),
        "spans": len(spans),
        "services": dict(sorted(services.items())),
        "start": format_time(min(s.start_ns for s in spans)) if spans else None,
        "end": format_time(max(max(s.end_ns, s.start_ns) for s in spans)) if spans else None,
        "problems": dict(sorted(problems.items())),
        "warnings": [str(w) for w in session.diagnostics.warnings],
    }
    if as_json:
        json.dump(summary, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        _render(summary)
        print_warnings(session.diagnostics)
    fail_on_input_errors(session)


def _render(summary: dict) -> None:
    console = output_console()
    table = Table(title="inputs", title_justify="left")
    table.add_column("file", overflow="fold")  # a long path wraps whole, never cut with "…"
    for column in ("format", "spans", "error"):
        table.add_column(column)
    for row in summary["inputs"]:
        table.add_row(row["source"], row["format"], f"{row['spans']:,}", row["error"] or "")
    console.print(table)
    console.print(
        f"[bold]{summary['traces']:,}[/] traces, [bold]{summary['spans']:,}[/] spans, "
        f"[bold]{len(summary['services'])}[/] services"
    )
    if not summary["spans"]:
        # An empty services table and "no problems found" would read as a clean data set.
        console.print("no spans read: nothing to describe")
        return
    if summary["start"]:
        console.print(f"time range: {summary['start']} .. {summary['end']}")
    services = Table(title="services", title_justify="left")
    services.add_column("service")
    services.add_column("spans", justify="right")
    for name, count in summary["services"].items():
        services.add_row(name or "(unknown)", f"{count:,}")
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
