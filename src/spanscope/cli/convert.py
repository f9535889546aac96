"""``spanscope convert``: any format in, any writable format out; from files or a store."""

from __future__ import annotations

from typing import Any

import click

from spanscope.cli.common import WRITABLE_FORMATS, input_options, output_format, write_output
from spanscope.cli.reading import ReadSession, fail_on_input_errors, print_warnings
from spanscope.cli.store_reading import selected_spans, store_options, take_selection


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

    With --db, the traces of a store are exported instead: those that match, or when more
    than --limit do, a sample spread over the window, chosen by trace id. Several inputs are
    merged into one output. What a target format cannot hold is listed in the README ("What
    converting keeps"). With --service, --since and the other selections, only the traces they
    keep are written, whole, one trace after another.

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
            if selection.get("db") is not None:
                raise click.UsageError(
                    "say where to write the store's spans: OUT or -o OUT ('-' for stdout)"
                )
            raise click.UsageError("give the output (OUT or -o OUT) and the inputs, or --db")
        *sources, output = inputs
    else:
        sources = list(inputs)
    if not sources and selection.get("db") is None:
        raise click.UsageError("give at least one input and one output (or --db and an output)")
    chosen = take_selection(sources, selection, "convert")
    target = output_format(output, to)
    session = None if chosen.db else ReadSession(sources, format=format_, strict=strict)
    counted: list[int] = []
    write_output(selected_spans(chosen, session, counted), output, target)
    if output != "-":
        source = f" from {chosen.db}" if chosen.db else ""
        click.echo(f"wrote {counted[0]:,} spans{source} to {output} ({target.name})", err=True)
    if session is not None:
        if not counted[0]:  # a store's read said why already
            from spanscope.cli.match_feedback import nothing_matched, warn

            warn(nothing_matched(session, chosen.trace_filter, adjust_skew=False))
        print_warnings(session.diagnostics)
        fail_on_input_errors(session)
