"""``spanscope generate``: realistic synthetic shop traces to try spanscope on."""

from __future__ import annotations

from pathlib import Path

import click

from spanscope.cli.common import WRITABLE_FORMATS, write_output
from spanscope.cli.times import TIME
from spanscope.formats import resolve_format
from spanscope.synthetic import generate_spans


@click.command()
@click.option("-o", "--output", default="-", help="File to write ('-' for stdout).")
@click.option("--traces", default=1000, show_default=True, help="Number of requests.")
@click.option(
    "--to",
    "to",
    type=click.Choice(WRITABLE_FORMATS),
    default="otlp-jsonl",
    show_default=True,
    help="Output format.",
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
    output: str, traces: int, to: str, seed: int, start: int | None, next_release: bool
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
    fmt = resolve_format(to)
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
