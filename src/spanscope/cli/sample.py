"""``spanscope sample``: try tail-sampling policies on recorded traces before turning them on."""

from __future__ import annotations

import sys
from typing import Any

import click
import msgspec
from rich.console import Console
from rich.table import Table

from spanscope.cli.common import WRITABLE_FORMATS, input_options, output_format, write_output
from spanscope.cli.reading import ReadSession, fail_on_input_errors, print_warnings
from spanscope.cli.store_reading import selected_spans, store_options, take_selection
from spanscope.report.tables import literal
from spanscope.sampling.simulate import SimulationReport, simulate
from spanscope.sampling.spelling import PolicySet
from spanscope.units import format_duration


@click.command()
@click.argument("inputs", nargs=-1, metavar="[FILE...]")
@click.option(
    "-p",
    "--policy",
    "policies",
    multiple=True,
    required=True,
    help="A tail-sampling policy (repeat: any keeps, drop:... vetoes). "
    "errors | latency>=500ms | probability=10% | service=NAME | attribute:KEY[=V1|V2] | "
    "attribute:KEY>=N | status_code=ERROR | spans>=N | latency<=2s | rate=N/s (spans a "
    "second, first come first kept) | all | "
    "'P1 & P2' (both) | drop:<policy>. The Collector's tail_sampling names work too "
    "(probabilistic=10%, rate_limiting=N, string_attribute:, numeric_attribute:, span_count>=N).",
)
@click.option("-o", "--output", default=None, help="Write the kept traces here ('-' = stdout).")
@click.option("--to", type=click.Choice(WRITABLE_FORMATS), default=None, help="Format of --output.")
@input_options(skew=False)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@store_options()
def sample(
    inputs: tuple[str, ...],
    policies: tuple[str, ...],
    output: str | None,
    to: str | None,
    format_: str | None,
    strict: bool,
    as_json: bool,
    **selection: Any,
) -> None:
    """Show what tail-sampling POLICIES would keep of recorded traces.

    Each whole trace is kept when any policy keeps it and no drop: policy matches,
    exactly as `spanscope serve --tail-sample` decides on live traffic. The report
    says how much is kept, by which policy, and whether every error trace and every
    slow trace (p99 and above) survives. With --db, the policies are tried on the
    traces of a store that match --since, --service...: when more than --limit do, a sample
    spread over the window, chosen by trace id.

    \b
    Examples:
      spanscope sample traces.jsonl -p errors -p 'latency>=500ms' -p probability=5%
      spanscope sample export.json -p all -p 'drop:attribute:http.route=/health' \\
          -o kept.jsonl
      spanscope sample traces.pb -p errors -p 'rate=1000/s' --json | jq .traces_kept
      spanscope sample traces.jsonl -p 'service=checkout & attribute:http.response.status_code>=500'
      spanscope sample --db traces.duckdb --since 1h -p errors -p 'latency>=1s'
    """
    try:
        policy_set = PolicySet.parse(policies)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--policy") from None
    chosen = take_selection(inputs, selection, "sample")
    target = None if output is None else output_format(output, to)
    session = None if chosen.db else ReadSession(list(inputs), format=format_, strict=strict)
    counted: list[int] = []
    report = simulate(selected_spans(chosen, session, counted), policy_set)
    if session is not None:
        if not counted[0]:  # a store's read said why already
            from spanscope.cli.match_feedback import nothing_matched, warn

            warn(nothing_matched(session, chosen.trace_filter, adjust_skew=False))
        print_warnings(session.diagnostics)
    if target is not None and output is not None:
        write_output(report.kept_spans, output, target)
        if output != "-":  # as convert says it: which file holds the kept traces
            click.echo(
                f"wrote the {report.spans_kept:,} spans of the kept traces to {output} "
                f"({target.name})",
                err=True,
            )
    if as_json:
        document = msgspec.to_builtins(report)
        del document["kept_spans"]
        for name in ("error_traces", "slow_traces"):
            document[name]["share"] = getattr(report, name).share
        out_stream = sys.stderr if output == "-" else sys.stdout
        out_stream.write(msgspec.json.encode(document).decode() + "\n")
    else:
        _print(report, Console(stderr=output == "-", highlight=False))
    if session is not None:
        fail_on_input_errors(session)


def _percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "-"


def _print(report: SimulationReport, console: Console) -> None:
    # Policies are the user's text, names from the data in them: literal, not rich markup.
    console.print(f"[bold]policies[/] {literal(', '.join(report.policies))}")
    console.print(
        f"kept [bold]{report.traces_kept:,}[/] of {report.traces:,} traces "
        f"({_percent(report.traces_kept, report.traces)}), "
        f"{report.spans_kept:,} of {report.spans:,} spans "
        f"({_percent(report.spans_kept, report.spans)})"
    )
    table = Table("traces that need to survive", "in input", "kept", "share", box=None)
    for label, coverage in (
        ("with an error", report.error_traces),
        (f"slow (>= p99, {format_duration(report.slow_threshold_ns)})", report.slow_traces),
    ):
        style = "green" if coverage.kept == coverage.total else "yellow"
        table.add_row(
            label,
            f"{coverage.total:,}",
            f"{coverage.kept:,}",
            f"[{style}]{_percent(coverage.kept, coverage.total)}[/]",
        )
    console.print(table)
    if report.slow_traces.kept < report.slow_traces.total:
        console.print(
            f"[yellow]hint[/] add -p 'latency>={format_duration(report.slow_threshold_ns)}' "
            "to keep every slow trace"
        )
    if report.error_traces.kept < report.error_traces.total:
        console.print("[yellow]hint[/] add -p errors to keep every trace with an error")
    if report.kept_by_policy:
        by_policy = Table("kept by (first matching policy)", "traces", box=None)
        for name, kept in sorted(report.kept_by_policy.items(), key=lambda item: -item[1]):
            by_policy.add_row(literal(name), f"{kept:,}")
        console.print(by_policy)
