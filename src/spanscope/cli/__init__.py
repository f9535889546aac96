"""The ``spanscope`` command line: click commands that parse options, call the library and
render. This is the only place that exits; domain errors become ``click.ClickException`` here.

Commands live in one module each and are loaded lazily, so ``spanscope --help`` stays fast and a
command's heavy imports (DuckDB, gRPC, Chromium tooling) are paid only when it runs.

A reader that closes the output early (``spanscope query | head -1``) ends every command here,
in one place: quietly, with ``EXIT_CLOSED_PIPE``.

Start-up is most of a short command's run, and the cyclic garbage collector was much of it:
click and each command's modules are imported under ``imports_without_collection``.
"""

from __future__ import annotations

import gc
import importlib
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def imports_without_collection() -> Iterator[None]:
    """Import with the cyclic garbage collector paused, what was imported left to full
    collections only. Importing makes thousands of objects that live as long as the program
    (functions, classes, tables) and next to no garbage, yet the collector walks the young ones
    every 700 allocations and the middle generation every tenth time: 2 ms of the 45 ms of
    ``analyze --folded -`` on one file. Afterwards every object goes to the oldest generation
    (``gc.freeze`` moves them all to a permanent one, ``gc.unfreeze`` from there to the
    oldest), which only a full collection walks: still collected when it becomes garbage. Not
    when objects are frozen already (``holding_many_objects``, a server): they stay frozen."""
    if not gc.isenabled():  # (the caller's choice, kept)
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        if not gc.get_freeze_count():  # (never undo a freeze made on purpose, as serve's)
            gc.freeze()
            gc.unfreeze()
        gc.enable()


with imports_without_collection():
    from typing import Any, NoReturn

    import click

from spanscope import __version__  # noqa: E402 - below the function that imports click

# command name -> "module:attribute" under spanscope.cli
COMMANDS: dict[str, str] = {
    "info": "info:info",
    "analyze": "analyze:analyze",
    "convert": "convert:convert",
    "diff": "diff:diff",
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


# What ``spanscope --help`` lists for a command (its help's first sentence), so that listing
# the commands imports none of them (some import an HTTP client or a database). A command
# missing here is imported to ask it; tests/cli/test_folded.py checks these against the
# commands' own help.
SUMMARIES: dict[str, str] = {
    "analyze": "Find what made requests slow or fail, and what to fix first.",
    "convert": "Convert trace files between formats.",
    "diff": "Compare two sets of traces: what got slower or fails more, and why.",
    "flamegraph": "Write a flame graph as SVG (opens in a browser: click to zoom, hover for "
    "details).",
    "generate": "Write synthetic traces of a small online shop with known problems.",
    "info": "Show what is in trace files: format, traces, spans, services, time range, problems.",
    "lint": "Check how well services are instrumented, and say what to fix.",
    "load": "Replay trace files into a running server.",
    "propagation": "Check trace-context propagation: W3C traceparent/tracestate/baggage, B3 "
    "(single and multi), Jaeger uber-trace-id, AWS X-Ray.",
    "query": "Search a store (or a running server) for traces, or print requests, errors and "
    "latency per service.",
    "sample": "Show what tail-sampling POLICIES would keep of recorded traces.",
    "serve": "Receive traces (OTLP gRPC and HTTP, Zipkin) into a DuckDB store and serve the "
    "Jaeger query API and the web UI.",
    "servicemap": "Write the service map: services, the calls between them, their error rate "
    "and p99.",
    "view": "Write an interactive waterfall page: one self-contained HTML file that opens offline.",
}


# The status of a command whose reader closed its output before the end: 128 + SIGPIPE (13),
# what a shell reports for a Unix tool that SIGPIPE ended (``set -o pipefail`` scripts expect
# it of ``... | head``). Not 1, which says a ``diff`` gate tripped or an ``analyze --fail-if``
# condition held: a closed pipe is no regression.
EXIT_CLOSED_PIPE = 141


def _end_on_closed_pipe() -> NoReturn:
    """End with ``EXIT_CLOSED_PIPE``, saying nothing. As Python's documentation advises (the
    signal module's "Note on SIGPIPE"), standard output, and standard error when it is the
    same pipe (``2>&1 | head``), is pointed at the null device first, so that the interpreter's
    last flush of what is still buffered does not fail again ("Exception ignored ...")."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        out = sys.stdout.fileno()
        err = sys.stderr.fileno()
        shared = os.path.sameopenfile(out, err)
        os.dup2(devnull, out)
        if shared:
            os.dup2(devnull, err)
    except (AttributeError, OSError, ValueError):
        pass  # streams without a descriptor (a test's runner): nothing of them is left to fail
    finally:
        os.close(devnull)
    raise SystemExit(EXIT_CLOSED_PIPE)


def _output_closed() -> bool:
    """Whether the reader of standard output or error has gone: a BrokenPipeError from
    anything else (a socket to a store, a child's pipe) is a failure to report, not the end
    of the output."""
    import select

    poller = select.poll()
    try:
        for stream in (sys.stdout, sys.stderr):
            poller.register(stream.fileno(), select.POLLOUT)
    except (AttributeError, OSError, ValueError):
        return True  # a stream without a descriptor (a test's runner): trust the error
    # A pipe whose read end is closed polls as an error for its writer.
    return any(events & (select.POLLERR | select.POLLHUP) for _, events in poller.poll(0))


@contextmanager
def _closed_pipe_ends_quietly() -> Iterator[None]:
    """Run a command (or print the help) so that a closed output pipe ends it quietly."""
    try:
        try:
            yield
        finally:
            # What is still buffered fails here, where it is handled, not as the interpreter
            # exits.
            if sys.stdout is not None:
                sys.stdout.flush()
    except BrokenPipeError as exc:
        if _output_closed():
            _end_on_closed_pipe()
        raise click.ClickException(f"a pipe or connection broke: {exc}") from exc
    except SystemExit as exc:
        # rich ends the program itself on a closed pipe, with status 1 (Console.on_broken_pipe,
        # called as it handles the BrokenPipeError of its own write to stdout or stderr, which
        # it has already pointed at the null device: nothing left to ask _output_closed).
        if isinstance(exc.__context__, BrokenPipeError):
            _end_on_closed_pipe()
        raise


class LazyGroup(click.Group):
    def make_context(self, *args: Any, **kwargs: Any) -> click.Context:
        # (the group's own --help and --version are written here)
        with _closed_pipe_ends_quietly():
            return super().make_context(*args, **kwargs)

    def invoke(self, ctx: click.Context) -> Any:
        with _closed_pipe_ends_quietly():
            return super().invoke(ctx)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """``click.Group.format_commands`` with the ``SUMMARIES`` of commands not imported."""
        names = self.list_commands(ctx)
        if not names:
            return
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows = []
        for name in names:
            summary = SUMMARIES.get(name)
            if summary is None:
                command = self.get_command(ctx, name)
                if command is None or command.hidden:
                    continue
                rows.append((name, command.get_short_help_str(limit)))
                continue
            if len(summary) > limit:  # shortened as click shortens a command's help
                import textwrap

                summary = textwrap.shorten(
                    summary, limit, placeholder="...", break_on_hyphens=False
                )
            rows.append((name, summary))
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        """``click.Group.resolve_command``, saying what was meant when a name is not a command
        ("analyse" is "analyze"; "help" is "--help"), as click does for a mistyped option."""
        name = args[0] if args else ""
        if name in COMMANDS or name.startswith("-"):
            return super().resolve_command(ctx, args)
        if name == "help":
            rest = f" {args[1]}" if len(args) > 1 and args[1] in COMMANDS else " COMMAND"
            ctx.fail(f"No such command 'help': try 'spanscope{rest} --help'.")
        import difflib

        close = difflib.get_close_matches(name, list(COMMANDS), n=2, cutoff=0.6)
        if close:
            ctx.fail(f"No such command {name!r}. Did you mean {' or '.join(map(repr, close))}?")
        return super().resolve_command(ctx, args)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attribute = target.split(":")
        with imports_without_collection():
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
