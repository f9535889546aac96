"""``spanscope convert``: any format in, any writable format out."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from spanscope.cli.common import ReadSession, fail_on_input_errors, print_warnings
from spanscope.formats import ALIASES, FORMATS, resolve_format, write_spans

_BY_EXTENSION = {".pb": "otlp-proto", ".jsonl": "otlp-jsonl", ".ndjson": "otlp-jsonl"}
_CHOICES = sorted([*(name for name, f in FORMATS.items() if f.writable), *ALIASES])


@click.command()
@click.argument("inputs", nargs=-1, required=True, metavar="IN... OUT")
@click.option(
    "--to",
    "to",
    type=click.Choice(_CHOICES),
    default=None,
    help="Output format (default: from OUT's extension, .pb or .jsonl; else required).",
)
@click.option("--format", "format_", default=None, help="Skip detection and read as this format.")
@click.option("--strict", is_flag=True, help="Stop at the first bad input instead of reading on.")
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
    if to is None:
        to = _BY_EXTENSION.get(Path(output).suffix.lower())
        if to is None:
            raise click.UsageError("say which format to write with --to")
    target = resolve_format(to)
    session = ReadSession(sources, format=format_, strict=strict)
    if output == "-":
        write_spans(session.spans(), sys.stdout.buffer, target.name)
        sys.stdout.buffer.flush()
    else:
        with open(output, "wb") as out:
            write_spans(session.spans(), out, target.name)
    print_warnings(session.diagnostics)
    fail_on_input_errors(session)
