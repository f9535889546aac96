"""``spanscope generate``: realistic synthetic shop traces to try spanscope on."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from spanscope.cli.common import FORMAT_BY_EXTENSION, WRITABLE_FORMATS, write_output
from spanscope.cli.times import TIME
from spanscope.formats import resolve_format
from spanscope.synthetic import generate_spans


@click.command()
@click.option(
    "-o",
    "--output",
    default=None,
    help="File to write ('-' for stdout; the default when stdout is a pipe or a file).",
)
@click.option("--traces", default=1000, show_default=True, help="Number of requests.")
@click.option(
    "--to",
    "to",
    type=click.Choice(WRITABLE_FORMATS),
    default=None,
    help="Output format (default: otlp-proto for a .pb file, else otlp-jsonl).",
)
@click.option("--seed", default=42, show_default=True, help="Same seed, same traces.")
@click.option(
    "--start",
    type=TIME,
    default=None,
    help="When the first request starts: a duration ago (10m), an ISO 8601 time, Unix seconds "
    "or 'now'; the shop takes about 50 requests a second, with other trace ids at each start. "
    "Default: a fixed time in November 2025, so a seed always gives the same file. Use a recent "
    "time to feed 'spanscope serve' (its Monitor shows the last 15 minutes to 7 days).",
)
@click.option(
    "--next-release",
    is_flag=True,
    help="The shop's next release, with a regression planted: a slower stock query and a "
    "shipping carrier that rate-limits some quotes (for spanscope diff).",
)
def generate(
    output: str | None,
    traces: int,
    to: str | None,
    seed: int,
    start: int | None,
    next_release: bool,
) -> None:
    """Write synthetic traces of a small online shop with known problems.

    The shop (frontend, checkout, cart, catalog, payment, inventory, shipping, email) has an
    N+1 query in inventory, independent calls made one after another in checkout, and a payment
    provider that sometimes times out: what `spanscope analyze` should find.

    \b
    Examples:
      spanscope generate --traces 5000 -o shop.jsonl
      spanscope generate --to jaeger -o shop-jaeger.json && spanscope info shop-jaeger.json
      spanscope generate --next-release --seed 7 -o after.jsonl   # then: spanscope diff
      spanscope generate --start 2m -o live.jsonl && spanscope load live.jsonl  # to serve
    """
    if traces <= 0:
        raise click.BadParameter("must be positive", param_hint="--traces")
    if output is None:
        # A bare 'spanscope generate' in a terminal printed megabytes of JSON into it.
        if sys.stdout.isatty():
            raise click.UsageError(
                "say where to write the traces: -o FILE (e.g. -o shop.jsonl), or -o - to "
                "print them here"
            )
        output = "-"
    # As convert reads an output's name: shop.pb held JSON lines when --to was left out.
    fmt = resolve_format(to or FORMAT_BY_EXTENSION.get(Path(output).suffix.lower(), "otlp-jsonl"))
    if start is None:
        spans = generate_spans(traces, seed=seed, next_release=next_release)
    else:
        # Other requests at another time: with the seed alone, each run's trace ids would be
        # those of the last, and a store fed twice would join them into year-long traces.
        seed = (seed << 64) ^ start
        spans = generate_spans(traces, seed=seed, start_ns=start, next_release=next_release)
    if output != "-":
        Path(output).parent.mkdir(parents=True, exist_ok=True)
    write_output(spans, output, fmt)
    if output == "-":
        return
    click.echo(f"wrote {traces:,} traces to {output} ({fmt.name})", err=True)
