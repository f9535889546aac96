"""The inputs a text report was made from, in a few lines however many files were read.

``print_inputs(inputs, console)`` names each input when there are ``LISTED`` or fewer. Past
that (``analyze DIR`` of 10,000 one-trace files), a line per file would push the report's
first screens off the terminal and cost more than the analysis of small files, so the files
are counted instead, per format, with the folder they share; inputs with an error are still
named, up to ``LISTED`` of them. The JSON report keeps every input.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from rich.console import Console
from rich.markup import escape

from spanscope.analysis.results import InputSummary

LISTED = 10  # inputs named one by one, and inputs with an error named when there are more


def print_inputs(inputs: Sequence[InputSummary], console: Console) -> None:
    if len(inputs) <= LISTED:
        for item in inputs:
            console.print(_line(item), soft_wrap=True)
        return
    failed = [item for item in inputs if item.error]
    for item in failed[:LISTED]:
        console.print(_line(item), soft_wrap=True)
    by_format: dict[str, list[int]] = {}
    for item in inputs:
        files_and_spans = by_format.setdefault(item.format or "?", [0, 0])
        files_and_spans[0] += 1
        files_and_spans[1] += item.spans
    ranked = sorted(by_format.items(), key=lambda entry: -entry[1][0])
    if len(ranked) == 1:
        name, (_, spans) = ranked[0]
        formats = f"{escape(name)}, {spans:,} spans"
    else:
        formats = "; ".join(
            f"{escape(name)} {_files(files)}, {spans:,} spans" for name, (files, spans) in ranked
        )
    folder = _shared_folder([item.source for item in inputs])
    where = f" in {escape(folder)}" if folder else ""
    console.print(f"[dim]input[/] {len(inputs):,} files{where}: {formats}", soft_wrap=True)
    if len(failed) > LISTED:
        console.print(
            f"[red]{len(failed) - LISTED:,} more inputs with an error[/] "
            "(--json lists every input)",
            soft_wrap=True,
        )


def _line(item: InputSummary) -> str:
    error = f" [red]({escape(item.error)})[/]" if item.error else ""
    return (
        f"[dim]input[/] {escape(item.source)}: {escape(item.format or '?')}, "
        f"{item.spans:,} spans{error}"
    )


def _files(count: int) -> str:
    return "1 file" if count == 1 else f"{count:,} files"


def _shared_folder(sources: list[str]) -> str:
    """The folder every input is in (the directory given to ``analyze DIR``), or ''."""
    if "-" in sources:
        return ""
    try:
        folder = os.path.commonpath([os.path.dirname(source) or "." for source in sources])
    except ValueError:  # absolute and relative paths mixed
        return ""
    return "" if folder in ("", ".") else folder
