"""The ``spanscope`` command line: click commands that parse options, call the library and
render. This is the only place that exits; domain errors become ``click.ClickException`` here.

Commands live in one module each and are loaded lazily, so ``spanscope --help`` stays fast and a
command's heavy imports (DuckDB, gRPC, Chromium tooling) are paid only when it runs.
"""

from __future__ import annotations

import importlib

import click

from spanscope import __version__

# command name -> "module:attribute" under spanscope.cli
COMMANDS: dict[str, str] = {
    "info": "info:info",
    "analyze": "analyze:analyze",
    "convert": "convert:convert",
    "flamegraph": "view:flamegraph",
    "generate": "generate:generate",
    "lint": "lint:lint",
    "load": "load:load",
    "serve": "serve:serve",
    "propagation": "propagation:propagation",
    "query": "query:query",
    "sample": "sample:sample",
    "servicemap": "view:servicemap",
    "view": "view:view",
}
# Each command module registers itself by adding one line above when it lands, e.g.
# "analyze": "analyze:analyze". Keep the dict sorted by command name.


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attribute = target.split(":")
        module = importlib.import_module(f"spanscope.cli.{module_name}")
        return getattr(module, attribute)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="spanscope")
def main() -> None:
    """Find out why requests through your microservices are slow or failing.

    \b
    Examples:
      spanscope generate -o shop.jsonl             # synthetic traces to try things on
      spanscope analyze shop.jsonl                 # where the time went, what to fix first
      spanscope view shop.jsonl -o shop.html       # interactive waterfall, opens offline
      spanscope serve                              # receive OTLP/Zipkin, Jaeger API + UI
      spanscope convert jaeger-export.json out.pb --to otlp-proto
    """
