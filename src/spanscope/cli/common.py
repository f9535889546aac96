"""What the commands share at their edge: the options that mean the same in every command, and
where their output goes.

Options: the inputs (``input_files``), how they are read (``input_options``: ``--format``,
``--strict``, ``--no-adjust-skew``), ``jobs_option``, and the option types that parse what
people type (``DURATION``, ``SIZE``: ``UnitParam``; ``URL``: ``UrlParam``), each a usage error
naming the option when wrong. Output: ``output_format`` and ``write_output`` write spans to a
file (whole or not at all) or standard output, ``check_store_file`` names the mistake when a
``--db`` is not a store, ``output_console`` and ``error_console`` are the rich consoles on
standard output and standard error. Reading the inputs is ``spanscope.cli.reading``; progress
bars are ``spanscope.cli.progress``.

The consoles, and ``stderr`` (``error_console()``), are made on first use: a command that
prints nothing to them, such as ``analyze --json`` on good input, never imports rich.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable
from functools import cache
from typing import TYPE_CHECKING, Any, TypeVar

import click

from spanscope.formats import ALIASES, FORMATS, Format, resolve_format, write_spans
from spanscope.model import Span
from spanscope.units import parse_duration, parse_size

if TYPE_CHECKING:
    from rich.console import Console

_Command = TypeVar("_Command", bound=Callable[..., Any])


# What ``--format`` may name: every format and its aliases (a name outside these is a usage
# error listing them, not a traceback from deep in the reader).
READABLE_FORMATS = sorted([*FORMATS, *ALIASES])

# The trace files a command reads: any number, any format, directories of them, '-' for stdin.
input_files = click.argument("inputs", nargs=-1, required=True, metavar="FILE...")


def input_options(*, skew: bool) -> Callable[[_Command], _Command]:
    """``--format`` and ``--strict``, how the inputs are read (``ReadSession``'s ``format`` and
    ``strict``), and with ``skew`` ``--no-adjust-skew`` for commands that assemble traces."""
    options = [
        click.option(
            "--format",
            "format_",
            type=click.Choice(READABLE_FORMATS),
            default=None,
            help="Skip detection and read as this format.",
        ),
        click.option(
            "--strict", is_flag=True, help="Stop at the first bad input instead of reading on."
        ),
    ]
    if skew:
        options.append(
            click.option("--no-adjust-skew", is_flag=True, help="Keep timestamps as recorded.")
        )

    def decorate(command: _Command) -> _Command:
        for option in reversed(options):  # click lists the last one applied first
            command = option(command)
        return command

    return decorate


def jobs_option(help: str) -> Callable[[_Command], _Command]:
    """``-j/--jobs``, the processes that read and analyse at once: the command is given a
    number of at least 1, as 0 (the default) stands for one per CPU (``default_jobs``)."""

    def resolve(ctx: click.Context, param: click.Parameter, value: int) -> int:
        if value:
            return value
        from spanscope.cli.parallel import default_jobs

        return default_jobs()

    return click.option(
        "-j", "--jobs", type=click.IntRange(min=0), default=0, help=help, callback=resolve
    )


class UnitParam(click.ParamType):
    """An option's value as people type it with a unit, parsed by ``parse`` (a ``ValueError``
    is the usage error that names the option), below ``limit``: what a store's signed 64-bit
    columns and msgspec hold (a larger one was an overflow traceback deep in a query)."""

    def __init__(
        self, name: str, parse: Callable[[str], int], limit: tuple[int, str] = (2**63, "2^63")
    ) -> None:
        self.name = name
        self.parse = parse
        self.limit = limit

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int):
            return value
        try:
            parsed = self.parse(value)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)
        largest, said = self.limit
        if parsed >= largest:
            self.fail(f"{value!r} is more than {said}, the most this option takes", param, ctx)
        return parsed


class UrlParam(click.ParamType):
    """An http(s) URL with a host, checked when the option is read: a URL without its scheme
    (``localhost:4318``) is a usage error that says what to type, not a failure per request."""

    name = "url"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        from urllib.parse import urlsplit

        try:
            parts = urlsplit(value)
            parts.port  # noqa: B018 - raises ValueError for a port that is not a number
        except ValueError as exc:
            self.fail(f"{value!r} is not a URL: {exc}", param, ctx)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            example = f"http://{value}" if "://" not in value else "http://host:port"
            self.fail(
                f"{value!r} is not an http(s) URL; write it in full, e.g. {example}", param, ctx
            )
        return value


URL = UrlParam()
# 500ms, 1.5s, 7d (spanscope.units): ns, under 2^63 (292 years)
DURATION = UnitParam("duration", parse_duration, (2**63, "292 years"))
SIZE = UnitParam("size", parse_size, (2**63, "8 EiB"))  # 32MB, 5GB: bytes


# What ``--to`` may name where a command writes spans: the writable formats and their aliases.
WRITABLE_FORMATS = sorted([*(name for name, f in FORMATS.items() if f.writable), *ALIASES])
# The format a written file is in by its extension, where only one format fits.
FORMAT_BY_EXTENSION = {".pb": "otlp-proto", ".jsonl": "otlp-jsonl", ".ndjson": "otlp-jsonl"}


def check_output_path(output: str) -> None:
    """Stop before any input is read when ``output`` cannot be written, with the message the
    write would give (exit 1): a directory, or a file in a directory that does not exist (found
    only after minutes of reading, or taken for a name without a format: "say which format to
    write to traces/")."""
    if output == "-":
        return
    if os.path.isdir(output):
        raise click.ClickException(f"cannot write {output}: Is a directory")
    if not os.path.isdir(os.path.dirname(os.path.abspath(output))):
        raise click.ClickException(f"cannot write {output}: No such file or directory")


def output_format(output: str, to: str | None) -> Format:
    """The format to write ``output`` in: ``to`` (``--to``), else the one its extension says
    (``output`` checked by ``check_output_path`` first)."""
    check_output_path(output)
    name = to or FORMAT_BY_EXTENSION.get(os.path.splitext(output)[1].lower())
    if name is None:
        where = "standard output" if output == "-" else output
        raise click.UsageError(
            f"say which format to write to {where} with --to: "
            f"{', '.join(WRITABLE_FORMATS)} (only .pb and .jsonl names say it by themselves)"
        )
    return resolve_format(name)


def write_output(spans: Iterable[Span], output: str, format: Format) -> None:
    """Write ``spans`` to the file ``output`` ('-': standard output) in ``format``."""
    if output == "-":
        write_spans(spans, sys.stdout.buffer, format.name)
        sys.stdout.buffer.flush()
        return
    from pathlib import Path  # only commands that write spans need it: not at start-up

    # A regular file is written beside it and renamed into place once complete, so a run that
    # stops half way (--strict on a bad input, Ctrl-C, a full disk) leaves no half document
    # where the output goes, and an earlier output there stays whole. Anything else (a FIFO,
    # /dev/null) is written in place: it cannot be renamed over.
    target = Path(output)
    in_place = target.is_symlink() or (target.exists() and not target.is_file())
    path = target if in_place else target.with_name(f".{target.name}.{os.getpid()}.part")
    try:
        out = open(path, "wb")  # noqa: SIM115 - closed by the with below
    except OSError as error:
        raise click.ClickException(f"cannot write {output}: {error.strerror}") from None
    try:
        with out:
            write_spans(spans, out, format.name)
        if not in_place:
            os.replace(path, target)
    except BaseException:
        if not in_place:
            path.unlink(missing_ok=True)
        raise


# A DuckDB database file has these bytes after its 8-byte checksum.
_DUCKDB_MAGIC = b"DUCK"


def check_store_file(db: str) -> None:
    """Name the mistake when ``db`` (``--db``) is a file but not a DuckDB store, most often a
    trace file, where DuckDB's own words are puzzling ("Cannot launch in-memory database in
    read-only mode", "it has tables (file, ...)")."""
    if "://" in db or db.startswith("chdb:"):
        return
    if os.path.isdir(db):
        raise click.ClickException(
            f"{db}: a directory, not a store (a DuckDB file; a chDB folder is chdb:{db})"
        )
    if not os.path.isfile(db):
        return
    with open(db, "rb") as file:
        head = file.read(4096)
        if head[8:12] == _DUCKDB_MAGIC:
            return
        # JSON lines are told from one document by a line's end: an OTLP request of hundreds
        # of spans on one line is 300 KB, and 4 KB of it was named otlp-json.
        head += file.read(_HEAD_FOR_FORMAT - len(head))
    from spanscope.formats import UnknownFormat, detect_format

    try:
        format_name = detect_format(head)
    except UnknownFormat:
        raise click.ClickException(f"{db}: not a spanscope store (a DuckDB file)") from None
    raise click.ClickException(
        f"{db}: a trace file ({format_name}), not a store: read it with 'spanscope analyze "
        f"{db}' or 'spanscope info {db}', or replay it into a server with 'spanscope load'"
    )


_HEAD_FOR_FORMAT = 1 << 20  # bytes read to name the format of a trace file given as --db


def output_console() -> Console:
    """The console on standard output for tables. A file or pipe gets 160 columns instead of
    rich's 80, so wide tables (32-digit trace ids, times) keep every column whole for grep."""
    from rich.console import Console

    console = Console(highlight=False)
    return console if console.is_terminal else Console(highlight=False, width=160)


@cache
def error_console() -> Console:
    """The console on standard error for messages and progress (made once, on first use)."""
    from rich.console import Console

    return Console(stderr=True, highlight=False)


def __getattr__(name: str) -> Any:
    if name == "stderr":  # ``from spanscope.cli.common import stderr`` still works
        return error_console()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
