"""How the text report lays out a table and the values in its cells, for every section alike.

``titled_table(title, *columns, right=..., ids=...)`` is a section's table: bold title on the
left, at least as wide as the title, the ``right`` columns right-aligned, the ``ids`` columns
never wrapped, headers broken only between words where the table has room for their longest
word (so the report reads in an 80-column terminal), every string cell cut to ``MAX_CELL``
characters with an ellipsis (``cut``); ``frame`` is a ``service:operation`` cell, ``percent`` a
share. Rich reads cells and titles as markup, so names and other text from the data go in
through ``literal`` or ``frame``, which escape it: ``SELECT [dbo].[stock]`` printed as
``SELECT .`` and a name with ``[/red]`` in it stopped the report with a traceback. A section
lists at most ``MAX_ROWS`` rows and points to ``--json`` for the rest. Nothing here reads a
report: these only shape text.
"""

from __future__ import annotations

from typing import Any

from rich.cells import cell_len
from rich.markup import escape
from rich.table import Table

MAX_ROWS = 25
# A cell longer than this is cut with an ellipsis: rich wraps a cell character by character, so
# one 60 MB span name took seconds and gigabytes to lay out; the JSON report keeps it whole.
MAX_CELL = 200


# A sentence of the report that carries names (an anti-pattern's explanation) is cut longer.
MAX_LINE = 2_000


def cut(text: str, limit: int = MAX_CELL) -> str:
    """``text`` in at most ``limit`` characters, cut with an ellipsis."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


class _Table(Table):
    """A rich table whose text cells are cut to ``MAX_CELL`` characters and whose headers
    break only between words where the table leaves room for it."""

    def add_row(self, *renderables, **kwargs) -> None:  # type: ignore[no-untyped-def]
        cells = (cut(cell) if isinstance(cell, str) else cell for cell in renderables)
        super().add_row(*cells, **kwargs)

    def _calculate_column_widths(self, console: Any, options: Any) -> list[int]:
        # rich lays a narrow table out by its cells and folds a header anywhere in it
        # (``service:operati`` / ``on``): a column narrower than its header's longest word
        # takes the difference from the columns with the most room to spare beyond their own
        # header's longest word (never from an id column, whole on one line), so that the
        # table keeps its width and its last column. (A rich hook: widths with padding.)
        widths = super()._calculate_column_widths(console, options)
        needs = [
            _longest_word(str(column.header)) + self._get_padding_width(index)
            for index, column in enumerate(self.columns)
        ]
        for short in range(len(widths)):
            while widths[short] < needs[short]:
                spare = [
                    (widths[index] - needs[index], index)
                    for index, column in enumerate(self.columns)
                    if not column.no_wrap and widths[index] > needs[index]
                ]
                if not spare:
                    return widths  # no room left: this header folds, as rich folds it
                widths[max(spare)[1]] -= 1
                widths[short] += 1
        return widths


def _longest_word(text: str) -> int:
    """Terminal cells of the widest word (a CJK character takes two)."""
    return max((cell_len(word) for word in text.split()), default=0)


def literal(text: str) -> str:
    """Text from the data (a name, a message, an attribute) as a cell or title shows it: cut
    to ``MAX_CELL`` characters, its brackets escaped so that rich prints them as they are."""
    return escape(cut(text))


def percent(fraction: float) -> str:
    """A share as people read it: 0.1234 is "12.3%"."""
    return f"{fraction * 100:.1f}%"


def frame(service: str, operation: str) -> str:
    """A ``service:operation`` cell ("?" for no service), each part and the whole cut, escaped
    (``literal``)."""
    # Cut here too: frames also go into table titles and joined critical-path cells.
    # Cut the parts first: formatting a 60 MB name only to cut it copied it each time.
    return literal(f"{cut(service or '?')}:{cut(operation)}")


def titled_table(
    title: str, *columns: str, right: tuple[str, ...] = (), ids: tuple[str, ...] = ()
) -> Table:
    """A section's table (see the module docstring). The ``ids`` columns hold trace or span
    ids, which are never wrapped: an id folded over two lines of an 80-column terminal cannot
    be copied into ``view --trace-id`` or the trace page. A header breaks only between its
    words (``service:operati`` / ``on`` was the header of a narrow table) unless the other
    columns have no room to give it (an id column beside four others in 80 columns)."""
    # At least as wide as its title, so a long title is not folded onto a second line.
    table = _Table(
        title=title, title_justify="left", title_style="bold", show_edge=False, min_width=len(title)
    )
    for column in columns:
        table.add_column(
            column,
            justify="right" if column in right else "left",
            overflow="fold",
            no_wrap=column in ids,
        )
    return table
