"""``--db`` for the commands that read a store: a DuckDB file, a ClickHouse URL, or the address
of a running ``spanscope serve`` (``http://host:16686``).

``open_for_reading(db)`` opens it for queries. A DuckDB file or chDB folder that a ``spanscope
serve`` on this machine holds (DuckDB and chDB let no other process open it) is read through
that server instead (its address noted beside the store: ``serving_path``), and stderr says so:
during an incident ``spanscope query`` and ``analyze --db`` work beside the running server
without stopping it.

``stored_traces(store, trace_filter, limit, ...)`` is what ``analyze --db`` (and ``diff``,
``lint``, ``info``, ``view``, ``flamegraph``, ``convert``, ``sample`` with ``--db``) reads: the
traces a store search matches, assembled, then held to the whole ``TraceFilter`` (the same
filters as for files). When more than ``limit`` match, it reads a sample spread over the window:
the ``limit`` matching traces with the smallest sample keys (``Store.sample_trace_ids``), not the
newest minutes, and says so with how many matched. A server older than samples gives the most
recent ``limit`` instead (its count of matches is then None), and that is said. The search is given
only conditions that cannot lose a trace the filter keeps: the filter asks about some span of
the trace, or its first span, while a store search asks that one span meets every condition.

Every command that reads traces takes ``--db`` the same way (``store_options``: ``--db``,
``--limit`` and the trace selection, ``--service`` ... ``--since``/``--until``, which choose
among a file's traces too), checked by ``take_selection`` (files or a store, not both; no
``--format``/``--strict``/``--jobs`` with a store) and read by ``read_store`` (traces) or
``selected_spans`` (spans, for ``convert`` and ``sample``); ``reading(db)`` is the store
itself (``info --db``). Any failure to open or read a store is a ``StoreUnreadable`` saying
why, exit code 2 as for a file (Ctrl-C is click's "Aborted!", 1).
Read from a store, equal resource attributes are one dict, as a file's reader gives them, so
what is drawn or counted per resource does not depend on how the spans were read. A search's
traces are read a page at a time with progress, and an empty answer says why
(``spanscope.cli.store_feedback``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

import click

from spanscope.analysis.filters import TraceFilter
from spanscope.cli.common import DURATION, check_store_file, error_console
from spanscope.cli.times import TIME, check_window
from spanscope.model import Trace

# Imported where used, and no dataclasses or NamedTuples (plain classes instead): ``analyze``
# imports this module for its options, and ``analyze --folded -`` is timed from start-up
# (benchmarks/CRISP.md).
if TYPE_CHECKING:
    from spanscope.analysis.analyze import Analyzer
    from spanscope.analysis.results import InputSummary
    from spanscope.cli.reading import ReadSession
    from spanscope.model import Span
    from spanscope.store import Store, TraceQuery

_Command = TypeVar("_Command", bound=Callable[..., Any])

DB_HELP = (
    "Read the traces of a store instead of files: a DuckDB file (one a running 'spanscope "
    "serve' holds is read through it), clickhouse://host:8123/database, chdb:FOLDER or a "
    "server's address (http://host:16686)."
)
# The keyword arguments ``store_options`` gives a command (``take_selection`` takes them back),
# with their values when not given.
_SELECTION_DEFAULTS: dict[str, Any] = {
    "db": None,
    "limit": 10_000,
    "services": (),
    "operations": (),
    "trace_ids": (),
    "since": None,
    "until": None,
    "min_duration": None,
}


# In a command's context: the (store, server) pairs it has said it reads through.
_SAID_KEY = "spanscope.read_through"


def serving_path(db: str) -> str | None:
    """Where a ``spanscope serve`` of the store ``db`` notes its address (``<it>.server.json``):
    the DuckDB file, or the chDB folder (``<folder>.<database>`` for a database other than
    ``otel``), beside which it is written; None for a ClickHouse server's store, which any
    process can open."""
    if db.startswith("chdb:"):  # (chdb://FOLDER too: before the servers' "://" below)
        from spanscope.store.clickhouse_client import embedded_location

        folder, database = embedded_location(db)
        folder = os.path.abspath(folder)
        return folder if database == "otel" else f"{folder}.{database}"
    return None if "://" in db else db


def open_for_reading(db: str) -> Store:
    """The store ``db`` names, for queries (raises ``StoreError`` with what to do)."""
    from spanscope.store import StoreLockedError, open_store

    check_store_file(db)
    try:
        return open_store(db, read_only=True)
    except StoreLockedError:
        from spanscope.store.server_store import serving_url

        path = serving_path(db)
        url = None if path is None else serving_url(path)
        if url is None:
            raise
        ctx = click.get_current_context(silent=True)
        said = ctx.find_root().meta.setdefault(_SAID_KEY, set()) if ctx else set()
        if (db, url) not in said:  # once a command: diff reads the store twice
            said.add((db, url))
            error_console().print(
                f"{db} is held by a running 'spanscope serve': reading it through {url}",
                soft_wrap=True,
            )
        return open_store(url, read_only=True)


# How long after its first span a trace may reach the service or operation searched for and
# still be found by a search that ends at --until: a request of up to two minutes.
STRADDLE_NS = 2 * 60 * 10**9


def store_search(trace_filter: TraceFilter, limit: int) -> TraceQuery:
    """The widest store search that still finds every trace ``trace_filter`` keeps."""
    from spanscope.store import TraceQuery

    f = trace_filter
    service = operation = None
    if len(f.operations) == 1 and not f.services and ":" not in f.operations[0]:
        # (SERVICE:NAME also matches a span named so, which a search for the pair would miss)
        operation = f.operations[0]
    elif len(f.services) == 1 and not f.operations:
        service = f.services[0]
    # A trace's first span starts at or after --since, so do all its spans. --until and
    # --min-duration are about the first (root) span: a search with no service or operation
    # condition matches that span itself; with one, the matching span may be another, which
    # starts later. --until then bounds it STRADDLE_NS later: unbounded, the most recent
    # traces after the window used up --limit, and a busy service's earlier window (diff --db)
    # came out short or empty.
    narrowed = service is not None or operation is not None
    until = None if f.until_ns is None else f.until_ns - 1 + (STRADDLE_NS if narrowed else 0)
    return TraceQuery(
        service=service or None,
        operation=operation or None,
        start_time_min=f.since_ns,
        start_time_max=until,
        duration_min=None if narrowed else f.min_duration_ns,
        num_traces=limit,
    )


def _share_resources(found: list[list[Span]]) -> None:
    """One dict for equal resource attributes, as a file's reader gives the spans of one
    resource: a store shares them only within a batch it decodes, and what is drawn per
    resource (``view``'s page lists each once) would otherwise depend on how it was read."""
    import msgspec

    by_id: dict[int, dict] = {}
    by_content: dict[bytes, dict] = {}
    for trace in found:
        for span in trace:
            attributes = span.resource_attributes
            shared = by_id.get(id(attributes))
            if shared is None:
                key = msgspec.json.encode(attributes)
                shared = by_id[id(attributes)] = by_content.setdefault(key, attributes)
            span.resource_attributes = shared


class StoredTraces:
    """What ``stored_traces`` read: the ``traces`` and their ``spans``; ``matched``, the traces
    the search matched in the store; ``sampled``, those chosen to be read (when fewer than
    matched, a sample); ``newest``: cut at the most recent (a server too old to sample), not a
    sample."""

    __slots__ = ("matched", "newest", "sampled", "spans", "traces")

    def __init__(
        self, traces: list[Trace], spans: int, matched: int, sampled: int, newest: bool = False
    ) -> None:
        self.traces = traces
        self.spans = spans
        self.matched = matched
        self.sampled = sampled
        self.newest = newest

    @property
    def limited(self) -> bool:
        """More traces matched than the limit let be read: those read are a sample."""
        return self.matched > self.sampled


def stored_traces(
    store: Store, db: str, trace_filter: TraceFilter, limit: int, adjust_skew: bool
) -> StoredTraces:
    """The traces of ``store`` that pass ``trace_filter``: of those its search matches, all
    when at most ``limit`` do, else the ``limit`` with the smallest sample keys, a sample spread
    over the window (``Store.sample_trace_ids``); by trace id when the filter names ids."""
    from spanscope.analysis.filters import filter_traces
    from spanscope.assembly import assemble_stored
    from spanscope.cli.store_feedback import read_pages

    newest = False
    if trace_filter.trace_ids:
        with error_console().status(f"reading {db}", spinner="dots"):
            found = store.get_traces(_ids_named(store, trace_filter))  # one read for all
        matched = sampled = len(found)
    else:
        with error_console().status(f"searching {db}", spinner="dots"):
            ids, counted = store.sample_trace_ids(store_search(trace_filter, limit))
        newest = counted is None  # an older server's newest: how many matched, it cannot say
        found, sampled = read_pages(store, db, ids), len(ids)
        matched = sampled if counted is None else counted
    spans = sum(len(trace) for trace in found)
    _share_resources(found)
    built = assemble_stored(found, adjust_skew=adjust_skew)  # oldest first, as a file is
    traces = list(filter_traces(built, trace_filter))
    return StoredTraces(traces, spans, matched, sampled, newest)


def _ids_named(store: Store, trace_filter: TraceFilter) -> list[str]:
    """The whole ids ``--trace-id`` names in ``store``: those given whole, and those of the
    most recent traces the rest of the selection keeps (``lookup.PREFIX_SEARCH`` of them) that
    start with a start given."""
    from spanscope.analysis.filters import id_matching
    from spanscope.store.lookup import PREFIX_SEARCH, trace_ids_starting_with

    ids = id_matching(trace_filter.trace_ids)
    named = set(ids.whole)
    if ids.starts:  # among the recent traces the rest of the selection keeps, as query looks
        others = store_search(trace_filter, PREFIX_SEARCH)  # (ids are not part of a search)
        for start in ids.starts:
            named.update(trace_ids_starting_with(store, start, others)[0])
    return sorted(named)


def store_options(*, trace_ids: bool = True) -> Callable[[_Command], _Command]:
    """``--db`` and ``--limit``, and which traces to read (``--service``, ``--operation``,
    ``--trace-id`` unless the command has its own, ``--since``, ``--until``,
    ``--min-duration``): from a store, and from files too. The command takes them as keyword
    arguments and hands them to ``take_selection``."""
    options = [
        click.option("--db", default=None, help=DB_HELP),
        click.option(
            "--limit",
            type=click.IntRange(min=1),
            default=10_000,
            show_default=True,
            help="With --db: read at most this many traces; when more match, a sample spread "
            "over the window, chosen by trace id.",
        ),
        click.option(
            "--service", "services", multiple=True, help="Only traces that touch this service."
        ),
        click.option(
            "--operation",
            "operations",
            multiple=True,
            help="Only traces with a span of this operation (NAME or SERVICE:NAME).",
        ),
        click.option(
            "--since",
            type=TIME,
            default=None,
            help="Only traces that start at or after TIME: a duration ago (30m, 2h, 1d), an ISO "
            "8601 time (2026-11-27T03:00, UTC unless it has a zone), Unix seconds or 'now'.",
        ),
        click.option(
            "--until",
            type=TIME,
            default=None,
            help="Only traces that start before TIME, in the same forms: --until 10m is ten "
            "minutes ago.",
        ),
        click.option(
            "--min-duration",
            type=DURATION,
            default=None,
            help="Only requests this long or more.",
        ),
    ]
    if trace_ids:
        options.insert(
            4,
            click.option(
                "--trace-id",
                "trace_ids",
                multiple=True,
                help="Only this trace (repeatable): a whole id, or its start as reports print "
                "it (8e8bdfe2a873…), which takes every trace whose id starts so.",
            ),
        )

    def decorate(command: _Command) -> _Command:
        for option in reversed(options):  # click lists the last one applied first
            command = option(command)
        return command

    return decorate


class Selection:
    """Where a command reads traces (``db``, or the files it was given) and which (``limit``,
    ``trace_filter``)."""

    __slots__ = ("db", "limit", "trace_filter")

    def __init__(self, db: str | None, limit: int, trace_filter: TraceFilter) -> None:
        self.db = db
        self.limit = limit
        self.trace_filter = trace_filter


def take_selection(inputs: Sequence[str], options: dict[str, Any], doing: str) -> Selection:
    """``store_options``' values, removed from ``options`` (a command's keyword arguments),
    checked: files or ``--db`` (exactly one), a window that can match, trace ids that are ids.
    ``doing`` completes the usage error for neither: "give the trace files to DOING"."""
    from spanscope.analysis.filters import id_matching
    from spanscope.model import InvalidIdError

    values = {key: options.pop(key, default) for key, default in _SELECTION_DEFAULTS.items()}
    db, trace_ids, since, until = (
        values["db"],
        values["trace_ids"],
        values["since"],
        values["until"],
    )
    if db is not None and inputs:
        raise click.UsageError("give trace files or --db, not both")
    if db is None and not inputs:
        raise click.UsageError(f"give the trace files to {doing} (FILE...), or a store (--db)")
    if db is not None:
        _refuse_file_options()
    elif _given_on_the_command_line("limit"):
        raise click.UsageError(
            "--limit goes with --db (how many traces of a store to read): files are read whole"
        )
    check_window(since, until)
    try:
        id_matching(trace_ids)  # whole ids, or the start of one as reports print it
    except InvalidIdError as exc:
        raise click.BadParameter(str(exc), param_hint="--trace-id") from None
    trace_filter = TraceFilter(
        services=values["services"],
        operations=values["operations"],
        trace_ids=trace_ids,
        since_ns=since,
        until_ns=until,
        min_duration_ns=values["min_duration"],
    )
    return Selection(db, values["limit"], trace_filter)


# How the options about reading files are named in a command's parameters and on its line.
_FILE_OPTIONS = {"format_": "--format", "strict": "--strict", "jobs": "--jobs"}


def _given_on_the_command_line(name: str) -> bool:
    """Whether the running command's parameter ``name`` was typed (not its default)."""
    ctx = click.get_current_context(silent=True)
    return (
        ctx is not None
        and name in ctx.params
        and ctx.get_parameter_source(name) is click.core.ParameterSource.COMMANDLINE
    )


def _refuse_file_options() -> None:
    """A usage error for an option about reading files given with --db, where it would do
    nothing (the user meant something by it)."""
    given = [option for name, option in _FILE_OPTIONS.items() if _given_on_the_command_line(name)]
    if given:
        raise click.UsageError(f"{' and '.join(given)} read files: leave them out with --db")


class StoreUnreadable(click.ClickException):
    """A store that cannot be opened or read: exit code 2, as for a file that cannot be read
    (``cli.reading.InputFailure``'s code and "error: ..." line), so that 1 stays a command's
    own answer (``diff`` and ``lint`` gates, a drawing with nothing to draw)."""

    exit_code = 2

    def show(self, file: Any = None) -> None:
        click.echo(f"error: {self.format_message()}", file=file, err=True)


def _unreadable(db: str, message: str) -> StoreUnreadable:
    if os.path.basename(db.removeprefix("chdb:").rstrip("/")) not in message:  # say which store
        message = f"{db}: {message}"
    return StoreUnreadable(message)


@contextmanager
def reading(db: str) -> Iterator[Store]:
    """The store ``db`` names, open for reading (``open_for_reading``); a store that cannot be
    opened or read (no such store, not a store, held by another program, nobody answering at
    the URL, a read that failed) is a ``StoreUnreadable`` (exit 2) saying why, never a
    traceback, and Ctrl-C in a store's query is a ``KeyboardInterrupt`` (click's "Aborted!",
    exit 1)."""
    from spanscope.store import StoreError

    try:
        store = open_for_reading(db)
    except StoreError as exc:
        raise _unreadable(db, str(exc)) from None
    except click.ClickException as exc:  # check_store_file: a trace file, a directory
        raise StoreUnreadable(exc.message) from None
    try:
        with store:
            yield store
    except StoreError as exc:
        raise _unreadable(db, str(exc)) from None
    except RuntimeError as exc:
        # The DuckDB store gives Ctrl-C back as KeyboardInterrupt (spanscope.store.interrupt);
        # DuckDB itself, in a query outside it, raises RuntimeError("Query interrupted")
        # caused by the KeyboardInterrupt: click's "Aborted!" all the same, not a traceback.
        if isinstance(exc.__cause__, KeyboardInterrupt):
            raise KeyboardInterrupt from None
        raise


def store_kind(store: Store) -> str:
    """How a report's inputs name what was read: a store, or a server read through."""
    from spanscope.store.server_store import ServerStore

    return "spanscope server" if isinstance(store, ServerStore) else "store"


def read_store(
    db: str,
    trace_filter: TraceFilter,
    limit: int,
    adjust_skew: bool,
    source: str | None = None,
    counted: list[tuple[int, int | None]] | None = None,
) -> tuple[list[Trace], InputSummary]:
    """``stored_traces`` of the store ``db`` names, and the line that says what was read
    (``source``, default ``db``); says on stderr when ``limit`` made the read a sample.
    ``counted`` gets how many traces were chosen to be read and how many matched."""
    from spanscope.analysis.results import InputSummary

    with reading(db) as store:
        stored = stored_traces(store, db, trace_filter, limit, adjust_skew)
        kind = store_kind(store)
        if not stored.traces:
            from spanscope.cli.match_feedback import warn
            from spanscope.cli.store_feedback import none_found

            warn(none_found(store, source or db, trace_filter))  # (names are text, not markup)
    if counted is not None:
        # (cut at the newest by an older server: how many matched is not known)
        counted.append((stored.sampled, None if stored.newest else stored.matched))
    of = f"{source}: " if source else ""
    if stored.newest:
        error_console().print(
            f"{of}the most recent {stored.sampled:,} matching traces were read (--limit): "
            "older ones were left out, as the server, older than this spanscope, cannot sample "
            "the window (narrow it with --since/--service, or raise --limit)",
            soft_wrap=True,
            markup=False,
            highlight=False,
        )
    elif stored.limited:
        windowed = trace_filter.since_ns is not None or trace_filter.until_ns is not None
        where = "window" if windowed else "store"
        error_console().print(
            # (Of the traces the search matched: with a matching span in the window. A window
            # of diff, and --since/--until, then keep those that start in it.)
            f"{of}a sample of {stored.sampled:,} of {stored.matched:,} traces with a matching "
            f"span in the {where} was read, spread over it (by trace id): raise --limit for a "
            "bigger one",
            soft_wrap=True,
            markup=False,
            highlight=False,
        )
    return stored.traces, InputSummary(source or db, kind, stored.spans, None)


def selected_spans(
    chosen: Selection, session: ReadSession | None, counted: list[int]
) -> Iterator[Span]:
    """The spans of the chosen traces, for the commands that hand on spans, not traces
    (``convert``, ``sample``): from the store (``session`` None), trace by trace, as stored
    (no skew adjustment); from the session's files as read, or trace by trace when a
    selection is made. ``counted`` gets how many were given, once they all were."""
    if chosen.db is not None:
        traces, _ = read_store(chosen.db, chosen.trace_filter, chosen.limit, adjust_skew=False)
    elif session is None:
        raise ValueError("no store and no files to read")
    elif chosen.trace_filter.is_empty:
        yield from session.spans()
        counted.append(session.spans_read)
        return
    else:
        from spanscope.analysis.filters import filter_traces
        from spanscope.assembly import assemble
        from spanscope.cli.reading import holding_many_objects

        with holding_many_objects():
            assembled = assemble(session.spans(), adjust_skew=False)
        traces = list(filter_traces(assembled, chosen.trace_filter))
    for trace in traces:
        yield from trace.spans
    counted.append(sum(len(trace.spans) for trace in traces))


def analyse_store(
    db: str,
    new_analyzer: Callable[[], Analyzer],
    trace_filter: TraceFilter,
    limit: int,
    adjust_skew: bool,
) -> tuple[Analyzer, InputSummary]:
    """An analyzer given ``read_store``'s traces, and the report's line about the store; a
    store that cannot be read is a ``StoreUnreadable`` saying why."""
    traces, summary = read_store(db, trace_filter, limit, adjust_skew)
    analyzer = new_analyzer()
    with error_console().status(f"analysing {len(traces):,} traces", spinner="dots"):
        for trace in traces:
            analyzer.add(trace)
    return analyzer, summary
