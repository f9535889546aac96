"""``spanscope convert``: any format in, any writable format out; from files or a store."""

from __future__ import annotations

from typing import Any

import click

from spanscope.cli.common import (
    WRITABLE_FORMATS,
    ReadSession,
    error_console,
    fail_on_input_errors,
    holding_many_objects,
    input_options,
    output_format,
    print_warnings,
    write_output,
)
from spanscope.cli.store_reading import read_store, store_options, take_selection


@click.command()
@click.argument("inputs", nargs=-1, metavar="[IN...] OUT")
@click.option(
    "--to",
    "to",
    type=click.Choice(WRITABLE_FORMATS),
    default=None,
    help="Output format (default: from OUT's extension, .pb or .jsonl; else required).",
)
@click.option(
    "-o",
    "--output",
    default=None,
    metavar="OUT",
    help="Where to write, as the last argument would say (then every argument is an input).",
)
@input_options(skew=False)
@store_options()
def convert(
    inputs: tuple[str, ...],
    to: str | None,
    output: str | None,
    format_: str | None,
    strict: bool,
    **selection: Any,
) -> None:
    """Convert trace files between formats. OUT may be '-' for stdout.

    With --db, the traces of a store are exported instead (the most recent --limit that
    match). Several inputs are merged into one output. What a target format cannot hold is
    listed in the README ("What converting keeps"). With --service, --since and the other
    selections, only the traces they keep are written, whole, one trace after another.

    \b
    Examples:
      spanscope convert jaeger-export.json traces.pb --to otlp-proto
      spanscope convert zipkin.json - --to jaeger | jq .
      spanscope convert a.json b.jsonl.gz merged.jsonl
      spanscope convert --db traces.duckdb --service checkout --since 1h --to zipkin-v2 \\
          -o out.json
    """
    if output is None:
        if not inputs:
            raise click.UsageError("give the output (OUT or -o OUT) and the inputs, or --db")
        *sources, output = inputs
    else:
        sources = list(inputs)
    if not sources and selection.get("db") is None:
        raise click.UsageError("give at least one input and one output (or --db and an output)")
    chosen = take_selection(sources, selection, "convert")
    target = output_format(output, to)
    if chosen.db is not None:
        traces, _ = read_store(chosen.db, chosen.trace_filter, chosen.limit, adjust_skew=False)
        spans = sum(len(trace.spans) for trace in traces)
        write_output((span for trace in traces for span in trace.spans), output, target)
        if output != "-":
            error_console().print(
                f"wrote {spans:,} spans of {len(traces):,} traces from {chosen.db} to {output} "
                f"({target.name})",
                soft_wrap=True,
            )
        return
    session = ReadSession(sources, format=format_, strict=strict)
    if chosen.trace_filter.is_empty:
        write_output(session.spans(), output, target)
        written = session.spans_read
    else:
        from spanscope.analysis.filters import filter_traces
        from spanscope.assembly import assemble

        with holding_many_objects():
            traces = assemble(session.spans(), adjust_skew=False)
        kept = list(filter_traces(traces, chosen.trace_filter))
        write_output((span for trace in kept for span in trace.spans), output, target)
        written = sum(len(trace.spans) for trace in kept)
    if output != "-":
        click.echo(f"wrote {written:,} spans to {output} ({target.name})", err=True)
    print_warnings(session.diagnostics)
    fail_on_input_errors(session)
