"""``spanscope convert``: any format in, any writable format out."""

from __future__ import annotations

import click

from spanscope.cli.common import (
    WRITABLE_FORMATS,
    ReadSession,
    fail_on_input_errors,
    input_options,
    output_format,
    print_warnings,
    write_output,
)


@click.command()
@click.argument("inputs", nargs=-1, required=True, metavar="IN... OUT")
@click.option(
    "--to",
    "to",
    type=click.Choice(WRITABLE_FORMATS),
    default=None,
    help="Output format (default: from OUT's extension, .pb or .jsonl; else required).",
)
@input_options(skew=False)
def convert(inputs: tuple[str, ...], to: str | None, format_: str | None, strict: bool) -> None:
    """Convert trace files between formats. OUT may be '-' for stdout.

    Several inputs are merged into one output. What a target format cannot hold is
    listed in the README ("What converting keeps").

    \b
    Examples:
      spanscope convert jaeger-export.json traces.pb --to otlp-proto
      spanscope convert zipkin.json - --to jaeger | jq .
      spanscope convert a.json b.jsonl.gz merged.jsonl
    """
    if len(inputs) < 2:
        raise click.UsageError("give at least one input and one output")
    *sources, output = inputs
    target = output_format(output, to)
    session = ReadSession(sources, format=format_, strict=strict)
    write_output(session.spans(), output, target)
    if output != "-":
        click.echo(f"wrote {session.spans_read:,} spans to {output} ({target.name})", err=True)
    print_warnings(session.diagnostics)
    fail_on_input_errors(session)
