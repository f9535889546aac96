"""Shared pieces of the commands: reading several inputs with progress and clear errors, the
options that mean the same in every command (``input_files``, ``input_options``, the option
types ``DURATION`` and ``SIZE``), and writing spans to a file or standard output
(``output_format``, ``write_output``).

``stderr`` (a rich ``Console``) is made on first use: a command that prints nothing to it, such
as ``analyze --json`` on good input, never imports rich.
"""

from __future__ import annotations

import gc
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from spanscope.errors import Diagnostic, Diagnostics, InputError
from spanscope.formats import ALIASES, FORMATS, Format, read_spans, resolve_format, write_spans
from spanscope.formats.source import expand_sources
from spanscope.model import Span, Trace
from spanscope.units import parse_duration, parse_size

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress, ProgressColumn

    from spanscope.cli.parallel import FileResult
    from spanscope.formats.source import ReadPosition

EXIT_INPUT_ERROR = 2
_Command = TypeVar("_Command", bound=Callable[..., Any])
_Item = TypeVar("_Item")  # what one read of an input yields: a span, or all its spans


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
_FORMAT_BY_EXTENSION = {".pb": "otlp-proto", ".jsonl": "otlp-jsonl", ".ndjson": "otlp-jsonl"}


def output_format(output: str, to: str | None) -> Format:
    """The format to write ``output`` in: ``to`` (``--to``), else the one its extension says."""
    name = to or _FORMAT_BY_EXTENSION.get(Path(output).suffix.lower())
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
    from spanscope.formats import UnknownFormat, detect_format

    try:
        format_name = detect_format(head)
    except UnknownFormat:
        raise click.ClickException(f"{db}: not a spanscope store (a DuckDB file)") from None
    raise click.ClickException(
        f"{db}: a trace file ({format_name}), not a store: read it with 'spanscope analyze "
        f"{db}' or 'spanscope info {db}', or replay it into a server with 'spanscope load'"
    )


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


def show_progress(enabled: bool = True) -> bool:
    """Whether to draw progress bars: asked for, standard error is a terminal, not CI."""
    return enabled and sys.stderr.isatty() and not os.environ.get("CI")


class InputFailure(click.ClickException):
    """Input that could not be read: exit code 2, a message naming the file and place."""

    exit_code = EXIT_INPUT_ERROR

    def show(self, file: Any = None) -> None:
        # The same "error: FILE: PLACE: ..." line as without --strict (click would write
        # "Error:"), so a script or a grep finds input errors one way.
        click.echo(f"error: {self.format_message()}", file=file, err=True)


@dataclass
class InputReport:
    """What reading one input gave: its format, how many spans, and the error that stopped it."""

    source: str
    format: str = ""
    spans: int = 0
    error: InputError | None = None

    def set_format(self, name: str) -> None:
        self.format = name


@dataclass
class ReadSession:
    """Reads several inputs as one data set. With ``strict`` the first error stops everything;
    otherwise a bad input is reported and the good ones (and the good part of a partial one)
    are still used. A directory among ``sources`` stands for the files in it
    (``spanscope.formats.source.expand_sources``); ``sources`` holds them once made.
    ``reader`` reads one input as ``read_spans`` does (e.g. a projection of it,
    ``spanscope.cli.folded``); None is ``read_spans``."""

    sources: list[str]
    format: str | None = None
    strict: bool = False
    progress: bool = True
    on_warning: Callable[[Diagnostic], None] | None = None
    jobs: int = 1  # worker processes for many files (``spanscope.cli.parallel``); 1: none
    reader: Callable[..., Iterable[Span]] | None = None
    inputs: list[InputReport] = field(default_factory=list)
    diagnostics: Diagnostics = field(init=False)
    spans_read: int = field(default=0, init=False)  # over all inputs so far

    def __post_init__(self) -> None:
        self.diagnostics = Diagnostics(on_warning=self.on_warning)
        self.sources = expand_sources(self.sources)

    @property
    def failed(self) -> bool:
        return any(report.error is not None for report in self.inputs)

    def spans(self) -> Iterator[Span]:
        """Every span of every input, in input order (see the class docstring for errors)."""
        runs = None
        if self.jobs > 1 and self.on_warning is None and self.reader is None:
            from spanscope.cli import parallel

            runs = parallel.plan_runs(self.sources, self.jobs)
        if runs is None:
            yield from self._spans(self._read)
            return
        results = parallel.read_in_workers(runs, self.format, self.jobs, self.diagnostics.limit)
        try:
            yield from self._spans(lambda source, on_count: self._replay(next(results)))
        finally:
            results.close()  # stops the workers

    def batches(self) -> Iterator[list[Span]]:
        """Every input's spans as one list, in input order: ``spans()`` without a step per
        span, for data sets of many small inputs (no worker processes)."""
        yield from self._spans(self._read_batch)

    def _read_batch(
        self, source: str, on_count: Callable[[int], None] | None
    ) -> Iterator[list[Span]]:
        report = InputReport(source=display_name(source))
        self.inputs.append(report)
        spans: list[Span] = []
        try:
            read = self.reader or read_spans
            # extend() keeps the spans read before an error: the contract says they are good
            spans.extend(read(source, self.format, self.diagnostics, on_format=report.set_format))
        except InputError as error:
            report.error = error
            if self.strict:
                raise InputFailure(str(error)) from None
        finally:
            report.spans = len(spans)
            self.spans_read += len(spans)
        yield spans

    def _spans(
        self, read: Callable[[str, Callable[[int], None] | None], Iterator[_Item]]
    ) -> Iterator[_Item]:
        if not show_progress(self.progress):
            for source in self.sources:
                yield from read(source, None)
            return
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
        from rich.table import Column

        from spanscope.formats.source import watch_position

        with (
            Progress(
                TextColumn(
                    "[bold]reading[/] {task.description}", table_column=Column(no_wrap=True)
                ),
                BarColumn(bar_width=16),
                *share_columns(),
                TextColumn("{task.fields[spans]:,} spans"),
                TimeElapsedColumn(),
                console=error_console(),
                transient=True,
            ) as progress,
            watch_position() as position,
        ):
            if len(self.sources) == 1:
                yield from self._one_bar(read, progress, position)
            else:
                yield from self._files_bar(read, progress, position)

    def _one_bar(
        self,
        read: Callable[[str, Callable[[int], None] | None], Iterator[_Item]],
        progress: Progress,
        position: ReadPosition,
    ) -> Iterator[_Item]:
        """One input: the bar shows the share of its bytes read (none for stdin) and the spans."""
        source = self.sources[0]
        # No total until the input says where it is (the readers count spans, not bytes): a
        # bar that stays empty while a document is decoded looks stuck; rich draws a moving bar.
        # The rest of the line takes ~62 columns; rich would fold the name or cut the times.
        label = fitted(progress_label(source), error_console().width - 62)
        task = progress.add_task(label, total=None, spans=0)

        def update(count: int) -> None:
            done = position.done()
            if done is None:
                progress.update(task, spans=count)
            else:
                progress.update(task, spans=count, total=position.size, completed=done)

        yield from read(source, update)
        size = position.size if position.size is not None else _size(source)
        progress.update(task, spans=self.spans_read, total=size, completed=size)

    def _files_bar(
        self,
        read: Callable[[str, Callable[[int], None] | None], Iterator[_Item]],
        progress: Progress,
        position: ReadPosition,
    ) -> Iterator[_Item]:
        """Several inputs: one bar over them (a bar per file costs more than reading a small
        file, and data sets of one trace per file have thousands), weighed by their sizes when
        all are files (stdin among them: by their number), moving within a big one too."""
        sizes = [_size(source) for source in self.sources]
        known = None not in sizes
        weights = [size or 0 for size in sizes] if known else [1] * len(sizes)
        total = sum(weights)
        task = progress.add_task(f"{len(self.sources):,} inputs", total=None, spans=0)
        before = 0  # the weight of the inputs read so far

        def update(count: int) -> None:
            done = position.done()
            progress.update(
                task,
                total=total,
                completed=before + min(done or 0, weights[index]),
                spans=self.spans_read + count,
            )

        for index, source in enumerate(self.sources):
            yield from read(source, update if known else None)
            before += weights[index]
            progress.update(task, total=total, completed=before, spans=self.spans_read)

    def _read(self, source: str, on_count: Callable[[int], None] | None) -> Iterator[Span]:
        report = InputReport(source=display_name(source))
        self.inputs.append(report)
        count = 0
        try:
            read = self.reader or read_spans
            spans = read(source, self.format, self.diagnostics, on_format=report.set_format)
            if on_count is None:
                for count, span in enumerate(spans, 1):  # noqa: B007 - count is kept
                    yield span
            else:
                for count, span in enumerate(spans, 1):
                    if count % 4096 == 0:
                        report.spans = count
                        on_count(count)
                    yield span
        except InputError as error:
            report.error = error
            if self.strict:
                raise InputFailure(str(error)) from None
        finally:
            report.spans = count
            self.spans_read += count

    def _replay(self, result: FileResult) -> Iterator[Span]:
        """What a worker read from one file, as if it had been read here (same order of
        reports, spans, warnings and errors)."""
        report = InputReport(display_name(result.source), result.format, len(result.spans))
        self.inputs.append(report)
        for warning in result.warnings:
            self.diagnostics.warn(*warning)
        self.diagnostics.count += result.more_warnings
        self.spans_read += report.spans
        yield from result.spans
        if result.error is not None:
            report.error = InputError(*result.error)
            if self.strict:
                raise InputFailure(str(report.error))


def display_name(source: str) -> str:
    return source if source != "-" else "<stdin>"


def progress_label(source: str) -> str:
    """A file as a progress bar names it: its name without the folders, so that on an 80-column
    terminal the bar, the count and the time still fit beside it."""
    return Path(source).name if source != "-" else "<stdin>"


def fitted(text: str, width: int) -> str:
    """``text`` in at most ``width`` characters (12 at least): cut in the middle with an
    ellipsis, so a file name keeps its start and its extension."""
    width = max(width, 12)
    if len(text) <= width:
        return text
    tail = min(8, (width - 1) // 2)
    return f"{text[: width - 1 - tail]}…{text[-tail:]}"


def share_columns() -> tuple[ProgressColumn, ...]:
    """The columns a bar over bytes adds after its bar: the share done ("42%") and the time
    left ("0:00:13 left", blank once done); both blank while the total is unknown (stdin, a
    pipe)."""
    from rich.progress import TaskProgressColumn

    return TaskProgressColumn(), time_left_column()


def time_left_column() -> ProgressColumn:
    """The time a bar with a total has left ("0:00:13 left"); blank once done or while the
    total is unknown."""
    from rich.progress import TimeRemainingColumn
    from rich.table import Column
    from rich.text import Text

    class TimeLeft(TimeRemainingColumn):
        def render(self, task: Any) -> Text:
            if task.finished:  # the time elapsed beside it says it all
                return Text("")
            shown = super().render(task)
            if task.total is not None:
                shown.append(" left")
            return shown

    return TimeLeft(table_column=Column(no_wrap=True))


def _size(source: str) -> int | None:
    try:
        return os.path.getsize(source) if source != "-" and os.path.isfile(source) else None
    except OSError:
        return None


@contextmanager
def holding_many_objects() -> Iterator[None]:
    """For reading a whole data set into memory: no garbage collection while it is read, then
    what was read is moved out of the collector's sight (``gc.freeze``).

    Reading makes millions of long-lived, acyclic objects; each full collection would walk them
    all again for nothing (a quarter of ``analyze``'s time on 1M spans). The frozen objects are
    still freed normally by reference counting when they are dropped.
    """
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.freeze()


def built_traces(groups: dict[str, list[Span]], adjust_skew: bool) -> Iterator[Trace]:
    """The traces of ``groups`` (spans by trace id, ``group_by_trace``), in its order, each
    group removed once its trace is built, so the spans of a big data set are not held twice."""
    from spanscope.assembly import build_trace

    for trace_id in list(groups):
        yield build_trace(trace_id, groups.pop(trace_id), adjust_skew=adjust_skew)


def fail_on_input_errors(session: ReadSession) -> None:
    """Print each input error; exit 2 if any input failed (the output was still produced)."""
    for report in session.inputs:
        if report.error is not None:
            error_console().print(f"[red]error:[/] {report.error}", soft_wrap=True)
    if session.failed:
        raise SystemExit(EXIT_INPUT_ERROR)


def print_warnings(diagnostics: Diagnostics, limit: int = 20) -> None:
    if not diagnostics.count:
        return
    stderr = error_console()
    for diagnostic in diagnostics.warnings[:limit]:
        stderr.print(f"[yellow]warning:[/] {diagnostic}", soft_wrap=True)
    if diagnostics.count > limit:
        stderr.print(f"[yellow]... and {diagnostics.count - limit} more warnings[/]")
