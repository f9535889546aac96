"""``--db`` for the commands that read a store: a DuckDB file, a ClickHouse URL, or the address
of a running ``spanscope serve`` (``http://host:16686``).

``open_for_reading(db)`` opens it for queries. A DuckDB file that a ``spanscope serve`` on this
machine holds (DuckDB lets no other process open it) is read through that server instead, and
stderr says so: during an incident ``spanscope query`` and ``analyze --db`` work beside the
running server without stopping it.

``stored_traces(store, trace_filter, limit, ...)`` is what ``analyze --db`` analyses: the most
recent ``limit`` traces that a store search finds, assembled, then held to the whole
``TraceFilter`` (the same filters as for files). The search is given only conditions that
cannot lose a trace the filter keeps: the filter asks about some span of the trace, or its first
span, while a store search asks that one span meets every condition.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import click

from spanscope.analysis.filters import TraceFilter
from spanscope.cli.common import check_store_file, error_console
from spanscope.model import Trace
from spanscope.store import Store, StoreLockedError, TraceQuery, open_store

if TYPE_CHECKING:
    from spanscope.analysis.analyze import Analyzer
    from spanscope.analysis.results import InputSummary


def open_for_reading(db: str) -> Store:
    """The store ``db`` names, for queries (raises ``StoreError`` with what to do)."""
    check_store_file(db)
    try:
        return open_store(db, read_only=True)
    except StoreLockedError:
        from spanscope.store.server_store import serving_url

        url = serving_url(db)
        if url is None:
            raise
        error_console().print(
            f"{db} is held by a running 'spanscope serve': reading it through {url}",
            soft_wrap=True,
        )
        return open_store(url, read_only=True)


def store_search(trace_filter: TraceFilter, limit: int) -> TraceQuery:
    """The widest store search that still finds every trace ``trace_filter`` keeps."""
    f = trace_filter
    service = operation = None
    if len(f.operations) == 1 and not f.services and ":" not in f.operations[0]:
        # (SERVICE:NAME also matches a span named so, which a search for the pair would miss)
        operation = f.operations[0]
    elif len(f.services) == 1 and not f.operations:
        service = f.services[0]
    # A trace's first span starts at or after --since, so do all its spans. --until and
    # --min-duration are about the first (root) span: a search with no service or operation
    # condition matches that span itself; with one, the matching span may be another.
    narrowed = service is not None or operation is not None
    return TraceQuery(
        service=service or None,
        operation=operation or None,
        start_time_min=f.since_ns,
        start_time_max=None if narrowed or f.until_ns is None else f.until_ns - 1,
        duration_min=None if narrowed else f.min_duration_ns,
        num_traces=limit,
    )


@dataclass
class StoredTraces:
    traces: list[Trace]
    spans: int
    found: int  # traces the search found, before the filter
    limited: bool  # the search stopped at the limit: older matching traces were left out


def stored_traces(
    store: Store, db: str, trace_filter: TraceFilter, limit: int, adjust_skew: bool
) -> StoredTraces:
    """The traces of ``store`` that pass ``trace_filter``, the most recent ``limit`` searched
    (by trace id when the filter names ids)."""
    from spanscope.analysis.filters import filter_traces
    from spanscope.assembly import build_trace
    from spanscope.model import normalize_trace_id

    console = error_console()
    with console.status(f"searching {db}", spinner="dots"):
        if trace_filter.trace_ids:
            ids = dict.fromkeys(normalize_trace_id(value) for value in trace_filter.trace_ids)
            found = [spans for spans in (store.get_trace(i) for i in ids) if spans]
        else:
            found = store.find_traces(store_search(trace_filter, limit))
    spans = sum(len(trace) for trace in found)
    # Oldest first, as a trace file usually is: the report's examples are then the ones the
    # same spans in a file would give.
    found.sort(key=lambda trace: (min(span.start_ns for span in trace), trace[0].trace_id))
    built = (build_trace(trace[0].trace_id, trace, adjust_skew=adjust_skew) for trace in found)
    traces = list(filter_traces(built, trace_filter))
    return StoredTraces(traces, spans, len(found), len(found) >= limit > 0)


def analyse_store(
    db: str,
    new_analyzer: Callable[[], Analyzer],
    trace_filter: TraceFilter,
    limit: int,
    adjust_skew: bool,
) -> tuple[Analyzer, InputSummary]:
    """An analyzer given ``stored_traces``, and the report's line about the store; a store that
    cannot be read is a ``click.ClickException`` saying why."""
    from spanscope.analysis.results import InputSummary
    from spanscope.store import StoreError
    from spanscope.store.server_store import ServerStore

    try:
        with open_for_reading(db) as store:
            stored = stored_traces(store, db, trace_filter, limit, adjust_skew)
            kind = "spanscope server" if isinstance(store, ServerStore) else "store"
    except StoreError as exc:
        raise click.ClickException(str(exc)) from None
    if stored.limited:
        error_console().print(
            f"the search stopped at --limit {limit:,} traces: older ones that match were left "
            "out (narrow it with --since/--service, or raise --limit)",
            soft_wrap=True,
        )
    analyzer = new_analyzer()
    for trace in stored.traces:
        analyzer.add(trace)
    return analyzer, InputSummary(db, kind, stored.spans, None)
