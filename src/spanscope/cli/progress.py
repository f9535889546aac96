"""Progress bars on standard error: whether to draw them, and the pieces the commands' bars share.

``show_progress`` says whether a bar is drawn at all (asked for, standard error a terminal, not
CI); a command that draws none, as in a pipe or a test, never imports rich. The rest builds a
bar: ``progress_label`` and ``fitted`` name a file in the room a bar line leaves,
``share_columns`` and ``time_left_column`` are the rich columns of a bar over bytes or items.
Those import rich when called, so call them only once ``show_progress`` said yes.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.progress import ProgressColumn


def show_progress(enabled: bool = True) -> bool:
    """Whether to draw progress bars: asked for, standard error is a terminal, not CI."""
    return enabled and sys.stderr.isatty() and not os.environ.get("CI")


def progress_label(source: str) -> str:
    """A file as a progress bar names it: its name without the folders, so that on an 80-column
    terminal the bar, the count and the time still fit beside it."""
    from pathlib import Path  # not at start-up: every command imports this module

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
