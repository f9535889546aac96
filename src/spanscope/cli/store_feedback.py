"""What a command says on stderr while it reads a store and when the read finds nothing.

``read_pages(store, db, ids)`` reads the traces a search named ``PAGE`` at a time, with a bar
on a terminal (traces and spans read, time left): reading 10,000 traces takes 3 to 20 seconds,
and in pages the work a server does for a client that left waits for one page at most (Ctrl-C
stops a DuckDB store's query at once: ``spanscope.store.interrupt``).
``none_found(store, source, trace_filter)`` says why a read found no traces: the store
holds none yet, it has no such service (its services listed), or the time its spans cover
beside the window asked for; an empty answer alone looks like a broken pipeline mid-incident.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from spanscope.analysis.filters import TraceFilter
from spanscope.cli.common import error_console
from spanscope.cli.progress import fitted, show_progress, time_left_column

if TYPE_CHECKING:
    from spanscope.model import Span
    from spanscope.store import Store


# Traces read from a store at a time (a server answers 1,000 a call: MAX_TRACES_A_CALL).
PAGE = 1_000


def read_pages(store: Store, db: str, ids: list[str]) -> list[list[Span]]:
    """The traces of ``ids``, a page at a time, with a bar on a terminal: traces read of the
    search's, spans, time."""
    found: list[list[Span]] = []
    if not show_progress() or len(ids) <= PAGE:
        with error_console().status(f"reading {len(ids):,} traces from {db}", spinner="dots"):
            for first in range(0, len(ids), PAGE):
                found += store.get_traces(ids[first : first + PAGE])
        return found
    from rich.progress import BarColumn, Progress, TextColumn
    from rich.table import Column

    # The rest of the line takes ~66 columns: the name gives way first on a narrow terminal.
    label = fitted(db, error_console().width - 68)
    with Progress(
        TextColumn("[bold]reading[/] {task.description}", table_column=Column(no_wrap=True)),
        BarColumn(bar_width=10),
        TextColumn("{task.completed:,}/{task.total:,} traces", table_column=Column(no_wrap=True)),
        TextColumn("{task.fields[spans]:,} spans", table_column=Column(no_wrap=True)),
        time_left_column(),
        console=error_console(),
        transient=True,
    ) as progress:
        task = progress.add_task(label, total=len(ids), spans=0)
        spans = 0
        for first in range(0, len(ids), PAGE):
            page = store.get_traces(ids[first : first + PAGE])
            found += page
            spans += sum(len(trace) for trace in page)
            progress.update(task, completed=first + len(ids[first : first + PAGE]), spans=spans)
    return found


def none_found(
    store: Store, source: str, trace_filter: TraceFilter, more: Sequence[str] = ()
) -> str:
    """Why a read of ``store`` (named ``source``) found no traces that pass ``trace_filter``;
    ``more``: other conditions, as typed (``--tag a=b``)."""
    from spanscope.units import format_duration, format_time

    stats = store.stats()
    if not stats.spans:
        return (
            f"no traces in {source}: it holds none yet (spans reach it through its server's "
            "receivers: point an OTLP exporter at them, or 'spanscope load FILE')"
        )
    f = trace_filter
    asked = [f"--service {name}" for name in f.services]
    asked += [f"--operation {name}" for name in f.operations]
    asked += [f"--trace-id {trace_id}" for trace_id in f.trace_ids]
    if f.since_ns is not None:
        asked.append(f"--since {format_time(f.since_ns)}")
    if f.until_ns is not None:
        asked.append(f"--until {format_time(f.until_ns)}")
    if f.min_duration_ns is not None:
        asked.append(f"--min-duration {format_duration(f.min_duration_ns)}")
    asked += more
    said = f"no traces in {source} match {' '.join(asked)}" if asked else f"no traces in {source}"
    services = store.services()
    unknown = [name for name in f.services if name not in services]
    if unknown:
        listed = ", ".join(services[:20]) + (", ..." if len(services) > 20 else "")
        said += f": it has no service {', '.join(map(repr, unknown))} (its services: {listed})"
    elif stats.oldest_ns is not None and stats.newest_ns is not None:
        oldest, newest = format_time(stats.oldest_ns), format_time(stats.newest_ns)
        said += f": it holds spans that start from {oldest} to {newest}"
    short = [trace_id for trace_id in f.trace_ids if len(trace_id.strip()) < 32]
    if short:  # the start of an id, copied from a report, is read as a whole (short) id
        said += (
            f"; --trace-id takes whole ids (32 hex digits): 'spanscope query --db {source} "
            f"--trace-id {short[0]}' finds one by its start"
        )
    return said
