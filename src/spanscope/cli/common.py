"""Shared pieces of the commands: reading several inputs with progress and clear errors."""

from __future__ import annotations

import gc
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from spanscope.errors import Diagnostic, Diagnostics, InputError
from spanscope.formats import read_spans
from spanscope.model import Span

EXIT_INPUT_ERROR = 2

stderr = Console(stderr=True, highlight=False)


class InputFailure(click.ClickException):
    """Input that could not be read: exit code 2, a message naming the file and place."""

    exit_code = EXIT_INPUT_ERROR


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
    are still used."""

    sources: list[str]
    format: str | None = None
    strict: bool = False
    progress: bool = True
    on_warning: Callable[[Diagnostic], None] | None = None
    inputs: list[InputReport] = field(default_factory=list)
    diagnostics: Diagnostics = field(init=False)

    def __post_init__(self) -> None:
        self.diagnostics = Diagnostics(on_warning=self.on_warning)

    @property
    def failed(self) -> bool:
        return any(report.error is not None for report in self.inputs)

    def spans(self) -> Iterator[Span]:
        show = self.progress and stderr.is_terminal and not os.environ.get("CI")
        with Progress(
            TextColumn("[bold]reading[/] {task.description}"),
            BarColumn(),
            TextColumn("{task.fields[spans]:,} spans"),
            TimeElapsedColumn(),
            console=stderr,
            transient=True,
            disable=not show,
        ) as progress:
            for source in self.sources:
                report = InputReport(source=source if source != "-" else "<stdin>")
                self.inputs.append(report)
                size = (
                    Path(source).stat().st_size
                    if source != "-" and Path(source).is_file()
                    else None
                )
                task = progress.add_task(report.source, total=size, spans=0)
                try:
                    spans = read_spans(
                        source, self.format, self.diagnostics, on_format=report.set_format
                    )
                    for count, span in enumerate(spans, 1):
                        report.spans = count
                        if count % 4096 == 0:
                            progress.update(task, spans=count)
                        yield span
                except InputError as error:
                    report.error = error
                    if self.strict:
                        raise InputFailure(str(error)) from None
                progress.update(task, spans=report.spans, completed=size)


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


def fail_on_input_errors(session: ReadSession) -> None:
    """Print each input error; exit 2 if any input failed (the output was still produced)."""
    for report in session.inputs:
        if report.error is not None:
            stderr.print(f"[red]error:[/] {report.error}", soft_wrap=True)
    if session.failed:
        raise SystemExit(EXIT_INPUT_ERROR)


def print_warnings(diagnostics: Diagnostics, limit: int = 20) -> None:
    for diagnostic in diagnostics.warnings[:limit]:
        stderr.print(f"[yellow]warning:[/] {diagnostic}", soft_wrap=True)
    if diagnostics.count > limit:
        stderr.print(f"[yellow]... and {diagnostics.count - limit} more warnings[/]")
