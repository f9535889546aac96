"""Reading the inputs of a command as one data set, and saying what reading gave.

``ReadSession(sources, format, strict, ...)`` reads trace files, directories of them and stdin
(``spans()`` span by span, in worker processes for many big files; ``batches()`` an input at a
time), with a progress bar on a terminal. Its contract: ``inputs`` gets one ``InputReport`` per
input read (format, spans, the error that stopped it), warnings go to ``diagnostics``; an
``InputError`` never escapes: with ``strict`` it stops the read as ``InputFailure`` (exit 2),
otherwise the input's good spans are kept and the read goes on. Once the command's output is
written, ``print_warnings`` and ``fail_on_input_errors`` say on stderr what went wrong, the
latter exiting 2 if any input failed. ``holding_many_objects`` and ``built_traces`` keep the
memory and time of holding a whole data set down.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

import click

from spanscope.cli.common import error_console
from spanscope.cli.progress import fitted, progress_label, share_columns, show_progress
from spanscope.errors import Diagnostic, Diagnostics, InputError
from spanscope.formats import read_spans
from spanscope.formats.source import display_name, expand_sources
from spanscope.model import Span, Trace

if TYPE_CHECKING:
    from rich.progress import Progress

    from spanscope.cli.parallel import FileResult
    from spanscope.formats.source import ReadPosition

EXIT_INPUT_ERROR = 2
_Item = TypeVar("_Item")  # what one read of an input yields: a span, or all its spans


class InputFailure(click.ClickException):
    """Input that could not be read: exit code 2, a message naming the file and place."""

    exit_code = EXIT_INPUT_ERROR

    def show(self, file: Any = None) -> None:
        # The same "error: FILE: PLACE: ..." line as without --strict (click would write
        # "Error:"), so a script or a grep finds input errors one way.
        click.echo(f"error: {self.format_message()}", file=file, err=True)


# InputReport and ReadSession are plain classes, not dataclasses: building a dataclass runs
# generated code at import, start-up that every command reading files would pay.
class InputReport:
    """What reading one input gave: its format, how many spans, and the error that stopped it."""

    __slots__ = ("error", "format", "source", "spans")

    def __init__(
        self, source: str, format: str = "", spans: int = 0, error: InputError | None = None
    ) -> None:
        self.source = source
        self.format = format
        self.spans = spans
        self.error = error

    def __repr__(self) -> str:
        return (
            f"InputReport(source={self.source!r}, format={self.format!r}, spans={self.spans!r}, "
            f"error={self.error!r})"
        )

    def set_format(self, name: str) -> None:
        self.format = name


class ReadSession:
    """Reads several inputs as one data set. With ``strict`` the first error stops everything;
    otherwise a bad input is reported and the good ones (and the good part of a partial one)
    are still used. A directory among ``sources`` stands for the files in it
    (``spanscope.formats.source.expand_sources``); ``sources`` holds them once made.
    ``reader`` reads one input as ``read_spans`` does (e.g. a projection of it,
    ``spanscope.cli.folded``); None is ``read_spans``."""

    def __init__(
        self,
        sources: list[str],
        format: str | None = None,
        strict: bool = False,
        progress: bool = True,
        on_warning: Callable[[Diagnostic], None] | None = None,
        jobs: int = 1,  # worker processes for many files (``spanscope.cli.parallel``); 1: none
        reader: Callable[..., Iterable[Span]] | None = None,
    ) -> None:
        self.format = format
        self.strict = strict
        self.progress = progress
        self.on_warning = on_warning
        self.jobs = jobs
        self.reader = reader
        self.inputs: list[InputReport] = []
        self.diagnostics = Diagnostics(on_warning=on_warning)
        self.spans_read = 0  # over all inputs so far
        self.sources = expand_sources(sources)

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
            # (Imported here: ``analyze --folded -`` reads without rich when nothing fails.)
            from rich.markup import escape  # messages quote the data: "[/red]" is no markup

            error_console().print(f"[red]error:[/] {escape(str(report.error))}", soft_wrap=True)
    if session.failed:
        raise SystemExit(EXIT_INPUT_ERROR)


def print_warnings(diagnostics: Diagnostics, limit: int = 20) -> None:
    if not diagnostics.count:
        return
    from rich.markup import escape

    stderr = error_console()
    for diagnostic in diagnostics.warnings[:limit]:
        stderr.print(f"[yellow]warning:[/] {escape(str(diagnostic))}", soft_wrap=True)
    if diagnostics.count > limit:
        stderr.print(f"[yellow]... and {diagnostics.count - limit} more warnings[/]")
