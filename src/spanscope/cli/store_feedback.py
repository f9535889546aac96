"""What a command says on stderr while it reads a store and when the read finds nothing.

``read_pages(store, db, ids)`` reads the traces a search named ``PAGE`` at a time, with a bar
on a terminal (traces and spans read, time left): reading 10,000 traces takes 3 to 20 seconds,
and in pages the work a server does for a client that left waits for one page at most (Ctrl-C
stops a DuckDB store's query at once: ``spanscope.store.interrupt``).
``none_found(store, source, trace_filter)`` says why a read found no traces, in the words a
file's reason has (``spanscope.cli.match_feedback``, whose pieces it uses): the store holds none
yet; it has no such service or operation (its names listed, the closest first); no trace with
that id; no span in the window asked for (the time its spans cover); no trace that long (the
longest); or each condition alone matches but not all together. An empty answer alone looks
like a broken pipeline mid-incident. The reason is plain text, names as ``as_text`` shows
them: print it with ``match_feedback.warn``, never as rich markup.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from spanscope.analysis.filters import TraceFilter
from spanscope.cli.common import error_console
from spanscope.cli.match_feedback import (
    as_text,
    duration_reason,
    operations_reason,
    services_reason,
)
from spanscope.cli.progress import fitted, show_progress, time_left_column
from spanscope.units import format_duration

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
    ``more``: other conditions, as typed (``--tag a=b``). Plain text: print it with
    ``match_feedback.warn`` (names from the command line are never markup)."""
    from spanscope.units import format_time

    stats = store.stats()
    if not stats.spans:
        return (
            f"no traces in {source}: it holds none yet (spans reach it through its server's "
            "receivers: point an OTLP exporter at them, or 'spanscope load FILE')"
        )
    f = trace_filter
    asked = [f"--service {as_text(name, '$')}" for name in f.services]
    asked += [f"--operation {as_text(name, '$')}" for name in f.operations]
    asked += [f"--trace-id {as_text(trace_id, '$')}" for trace_id in f.trace_ids]
    if f.since_ns is not None:
        asked.append(f"--since {format_time(f.since_ns)}")
    if f.until_ns is not None:
        asked.append(f"--until {format_time(f.until_ns)}")
    if f.min_duration_ns is not None:
        asked.append(f"--min-duration {format_duration(f.min_duration_ns)}")
    asked += [as_text(condition) for condition in more]
    said = f"no traces in {source} match {' '.join(asked)}" if asked else f"no traces in {source}"
    spans_cover = "no span has a start"
    if stats.oldest_ns is not None and stats.newest_ns is not None:
        oldest, newest = format_time(stats.oldest_ns), format_time(stats.newest_ns)
        spans_cover = f"it holds spans that start from {oldest} to {newest}"
    services = store.services()
    reasons = [
        reason
        for reason in (
            services_reason(services, f.services),
            _operations_reason(store, services, f.operations),
            _ids_reason(store, source, f.trace_ids),
            _window_reason(store, f, spans_cover),
            _duration_reason(store, f.min_duration_ns),
        )
        if reason
    ]
    checked = f.services or f.operations or f.trace_ids or f.min_duration_ns is not None
    if not reasons and checked:  # each condition alone matches, together they do not
        reasons = [f"each condition alone matches some of its traces, but no trace all of them "
                   f"({spans_cover})"]  # fmt: skip
    return f"{said}: {'; '.join(reasons or [spans_cover])}"


def _operations_reason(store: Store, services: list[str], asked: Sequence[str]) -> str | None:
    """``operations_reason`` for a store: the operations of the services the names could be
    of (SERVICE:NAME: that service's; NAME: every service's)."""
    if not asked:
        return None
    known = set(services)
    of = {value.partition(":")[0] for value in asked if value.partition(":")[0] in known}
    names_only = [value for value in asked if value.partition(":")[0] not in known]
    looked = services if names_only else sorted(of)
    operations = {(service, name) for service in looked for name, _ in store.operations(service)}
    return operations_reason(operations, services, asked)


def _ids_reason(store: Store, source: str, trace_ids: Sequence[str]) -> str | None:
    """None of the ids asked is in the store, whole or as the start of a recent trace's id."""
    from spanscope.analysis.filters import id_matching
    from spanscope.model import InvalidIdError
    from spanscope.store.lookup import PREFIX_SEARCH, no_prefix_match, trace_ids_starting_with

    if not trace_ids:
        return None
    try:
        ids = id_matching(trace_ids)
    except InvalidIdError:  # (take_selection checked them: not expected)
        return None
    if store.get_traces(sorted(ids.whole)):
        return None
    looked_at = 0
    for start in ids.starts:
        found, looked_at = trace_ids_starting_with(store, start)
        if found:
            return None
    said = f"it has no trace with the id {', '.join(as_text(v) for v in trace_ids)}"
    if ids.starts:
        said += ", " + no_prefix_match(", ".join(ids.starts), min(looked_at, PREFIX_SEARCH))
    return said


def _window_reason(store: Store, f: TraceFilter, spans_cover: str) -> str | None:
    """The time the store's spans cover, when no trace starts in the --since/--until window."""
    from spanscope.store import TraceQuery

    if f.since_ns is None and f.until_ns is None:
        return None
    until = None if f.until_ns is None else max(f.until_ns - 1, 0)
    if f.since_ns is not None and until is not None and until < f.since_ns:
        return spans_cover
    search = TraceQuery(start_time_min=f.since_ns, start_time_max=until, num_traces=1)
    return None if store.find_trace_ids(search) else spans_cover


def _duration_reason(store: Store, min_duration_ns: int | None) -> str | None:
    """ "no trace lasts X or more (the longest: Y)" when no span lasts ``min_duration_ns``."""
    from spanscope.store import TraceQuery

    if min_duration_ns is None:
        return None
    if store.find_trace_ids(TraceQuery(duration_min=min_duration_ns, num_traces=1)):
        return None
    longest, about = _longest(store, min_duration_ns)
    return duration_reason(min_duration_ns, longest, about)


# Traces read to know the longest exactly: a search narrows the durations until fewer last
# as long; past ``_NARROWINGS`` searches the longest is said to within a few percent.
_EXACT_AMONG = 100
_NARROWINGS = 24


def _longest(store: Store, below: int) -> tuple[int, bool]:
    """The longest span of ``store``, every span being shorter than ``below``, and whether it
    is known only roughly. By searches with a shorter and shorter minimum duration (a store
    has no "longest" query), halving, then between the two last."""
    from spanscope.store import TraceQuery

    def any_lasting(ns: int, traces: int = 1) -> list[str]:
        return store.find_trace_ids(TraceQuery(duration_min=ns, num_traces=traces))

    high, low = below, below // 2
    for _ in range(_NARROWINGS):
        if low <= 0 or any_lasting(low):
            break
        high, low = low, low // 2
    else:
        return low, True
    if low <= 0:
        return 0, False
    for _ in range(_NARROWINGS):
        ids = any_lasting(low, _EXACT_AMONG)
        if len(ids) < _EXACT_AMONG:  # every span lasting ``low`` or more is in these traces
            found = store.get_traces(ids)
            return max(span.duration_ns for spans in found for span in spans), False
        middle = (low + high) // 2
        if middle == low:
            break
        if any_lasting(middle):
            low = middle
        else:
            high = middle
    return low, True
