"""Analysing a data set of many files in worker processes, for ``spanscope analyze``.

``analyze_files(session, make, trace_filter, adjust_skew, jobs)`` returns the collector
(``make()``: an ``Analyzer``, or the ``ProfileAnalyzer`` of ``analyze --folded -`` with its
projected reader) that reading the session's inputs and filling it in this process would give,
with the same input reports, warnings and errors recorded in ``session``; or None, having
changed nothing, and the caller does it the ordinary way. None when the inputs do not qualify
(``plan_shards``: several regular files, enough bytes; unless the caller has them done in this
process, below) and when a trace has spans in two shards (below): the ordinary way then gives
the report, at the cost of the work done so far.

How: the files are cut into shards of consecutive files, a few per worker so that the workers
finish together. A worker reads its shard's files, groups, assembles, filters and analyses the
traces in first-seen order, exactly as ``analyze`` does, and sends back what each file gave
(format, span count, warnings, error: no spans), the shard's trace ids and its ``Analyzer``.
Here the analyzers are merged in shard order (``Analyzer.merge``: the later shard's traces come
after the earlier's, as they do in one process) while the workers go on. That is exact as long
as every trace is whole in one shard, which is checked: data sets of one file per trace (or per
time window) are, and a trace cut across files that fall in two shards sends the whole data
set the ordinary way.

Reading, assembly and analysis all run in the workers, on every core. Without a progress bar
to draw (no thread runs, so forking is safe) this process forks the others itself and takes a
share of the shards (``parallel.fork_map``); with one, a pool of forked workers does them all.

The work of a shard is ``analyze_shard`` unless the caller gives another that keeps its
contract (``cli.folded.native_shard``: the profile through its C path); such a caller may also
have inputs too small for workers done as one shard in this process (``in_process``), to share
the way reports are kept and replayed.
"""

from __future__ import annotations

import gc
import pickle
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from typing import Any, Protocol

import spanscope.assembly  # noqa: F401 - built_traces needs it: imported once, before the fork
from spanscope.analysis.filters import TraceFilter, filter_traces
from spanscope.cli import parallel
from spanscope.cli.common import error_console
from spanscope.cli.progress import share_columns, show_progress
from spanscope.cli.reading import (
    InputFailure,
    InputReport,
    ReadSession,
    built_traces,
    holding_many_objects,
)
from spanscope.errors import Diagnostics, InputError
from spanscope.formats import read_spans
from spanscope.formats.source import display_name
from spanscope.model import Span, Trace


class Collector(Protocol):
    """What a shard's traces go into: ``Analyzer`` or ``ProfileAnalyzer``."""

    def add(self, trace: Trace) -> None: ...

    def merge(self, other: Any) -> None: ...


# Shards per worker: enough that the workers finish close together.
SHARDS_PER_JOB = 8
MIN_SHARD_BYTES = 4 * 1024 * 1024  # a shard costs ~10 ms here: pool round trip, unpickle, merge
# Shards of inputs done in this process behind a progress bar (each a step of the bar; a merge
# of collectors of a few files costs well under a millisecond).
IN_PROCESS_STEPS = 50

# What one input gave: source, format, spans, warnings, how many more, error.
Report = tuple[str, str, int, list[tuple[str, str, str]], int, tuple[str, str, str] | None]


def file_report(
    source: str, format: str, count: int, diagnostics: Diagnostics, error: InputError | None
) -> Report:
    """One input's ``Report``, from what reading it gave."""
    warnings = [(w.location.source, w.location.place, w.message) for w in diagnostics.warnings]
    failure = (
        None if error is None else (error.location.source, error.location.place, error.message)
    )
    return (source, format, count, warnings, diagnostics.count - len(warnings), failure)


def plan_shards(
    sources: list[str],
    jobs: int,
    min_bytes: int | None = None,
    min_shard_bytes: int | None = None,
) -> list[list[str]] | None:
    """``sources`` cut into shards of consecutive files, or None if workers do not pay off
    (less than ``min_bytes`` in all, ``parallel.MIN_BYTES`` by default; see
    ``parallel.worth_workers``) or there would be only one shard. Shards hold at least
    ``min_shard_bytes`` (``MIN_SHARD_BYTES``) where there is enough."""
    sizes = None
    if jobs >= 2 and len(sources) >= 2:
        # Work light per byte (min_bytes given: the profile alone) is planned from a sample.
        measure = parallel.file_sizes if min_bytes is None else parallel.estimated_sizes
        sizes = measure(sources)
    if sizes is None or not parallel.worth_workers(sizes, jobs, min_bytes):
        return None
    smallest = MIN_SHARD_BYTES if min_shard_bytes is None else min_shard_bytes
    total = sum(sizes)
    target = max(total // (jobs * SHARDS_PER_JOB), smallest)
    # A multiple of jobs shards, cut where the bytes before a file pass each k/count of the
    # whole: the workers take the shards in turn, and so finish together.
    count = max(jobs, total // target // jobs * jobs)
    shards: list[list[str]] = [[] for _ in range(count)]
    before = 0
    for source, file_size in zip(sources, sizes, strict=True):
        shards[min(count - 1, before * count // max(total, 1))].append(source)
        before += file_size
    shards = [shard for shard in shards if shard]  # (a file bigger than a shard)
    return shards if len(shards) >= 2 else None


def analyze_shard(task: tuple) -> bytes:
    """In a worker: read, assemble and analyse one shard; a pickled ``(reports, trace ids,
    collector)``. ``make`` makes the empty collector, ``reader`` reads one input as
    ``spanscope.formats.read_spans`` does (or a projection of it)."""
    sources, format, limit, make, trace_filter, adjust_skew, reader = task
    # Acyclic, and a worker ends with its shards (see holding_many_objects); this process too
    # when fork_map runs a share of the shards here.
    collecting = gc.isenabled()
    gc.disable()
    try:
        groups: defaultdict[str, list[Span]] = defaultdict(list)
        reports: list[Report] = []
        diagnostics = Diagnostics(limit=limit)
        for source in sources:
            if diagnostics.count:  # one per file that warns; reused while none does
                diagnostics = Diagnostics(limit=limit)
            formats: list[str] = []
            spans: list[Span] = []
            error = None
            try:
                # extend() keeps the spans read before an error: the contract says they are good
                spans.extend(reader(source, format, diagnostics, on_format=formats.append))
            except InputError as exc:
                error = exc
            for span in spans:  # group_by_trace, across the shard's files
                groups[span.trace_id].append(span)
            format_read = formats[-1] if formats else ""
            reports.append(file_report(source, format_read, len(spans), diagnostics, error))
        trace_ids = list(groups)
        collector = make()
        for trace in filter_traces(built_traces(groups, adjust_skew), trace_filter):
            collector.add(trace)
        return pickle.dumps((reports, trace_ids, collector), protocol=pickle.HIGHEST_PROTOCOL)
    finally:
        if collecting:
            gc.enable()


def analyze_files(
    session: ReadSession,
    make: Callable[[], Collector],
    trace_filter: TraceFilter,
    adjust_skew: bool,
    jobs: int,
    reader: Callable[..., Any] = read_spans,
    sizes: tuple[int, int] | None = None,
    shard: Callable[[tuple], bytes] = analyze_shard,
    in_process: bool = False,
) -> Any:
    """See the module docstring: the merged collector (made by ``make``, e.g.
    ``functools.partial(Analyzer, options)``), or None. ``reader`` reads one input (as
    ``read_spans``); ``sizes`` are ``plan_shards``'s ``(min_bytes, min_shard_bytes)``, for
    work lighter per byte than the full analysis. ``shard`` does one shard's task (as
    ``analyze_shard``, whose result it returns, or a pickled ``(None, None, None)``: this data
    set must be read the ordinary way). With ``in_process``, inputs that do not pay for
    workers are done in this process: as one shard, or a few for a progress bar to count."""
    if session.inputs or session.on_warning is not None:
        return None
    shards = plan_shards(session.sources, jobs, *(sizes or ()))
    if shards is None and in_process:
        jobs, sources = 1, session.sources
        shards = [sources]
        if show_progress(session.progress):  # a few shards, so that the bar moves
            step = -(-len(sources) // IN_PROCESS_STEPS)
            shards = [sources[start : start + step] for start in range(0, len(sources), step)]
    if shards is None:
        return None
    limit = session.diagnostics.limit
    tasks = [
        (shard, session.format, limit, make, trace_filter, adjust_skew, reader) for shard in shards
    ]
    merged: Any = None
    reports: list[Report] = []
    seen: set[str] = set()
    progress = show_progress(session.progress)
    with ExitStack() as workers:
        if jobs == 1:  # in this process (in_process), a shard at a time as the bar goes
            results: Iterator[bytes] = (shard(task) for task in tasks)
        elif not progress and parallel.can_fork():
            # No bar to draw: this process forks the others and does a share of the shards.
            results = iter(parallel.fork_map(shard, tasks, jobs))
        else:
            # The workers first: they are forked before a progress bar starts a thread.
            ordered = parallel.ordered_results(shard, tasks, jobs)
            results = workers.enter_context(ordered)
        with _progress(session, progress) as done:
            for result in results:
                with holding_many_objects():  # a worker's collector: many acyclic objects
                    shard_reports, trace_ids, collector = pickle.loads(result)
                if collector is None or not seen.isdisjoint(trace_ids):
                    return None  # a trace in two shards: only one process sees it whole
                seen.update(trace_ids)
                reports.extend(shard_reports)
                if merged is None:
                    merged = collector
                else:
                    merged.merge(collector)
                done(len(shard_reports))
    _replay(session, reports)
    return merged


@contextmanager
def _progress(session: ReadSession, shown: bool) -> Iterator[Callable[[int], None]]:
    """A bar over the inputs if ``shown``; yields what to call with each shard's file count."""
    if not shown:
        yield lambda files: None
        return
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("[bold]reading and analysing[/]"),
        BarColumn(),
        *share_columns(),
        TextColumn("{task.completed:,}/{task.total:,} inputs"),
        TimeElapsedColumn(),
        console=error_console(),
        transient=True,
    ) as progress:
        task = progress.add_task("inputs", total=len(session.sources))
        yield lambda files: progress.advance(task, files)


def _replay(session: ReadSession, reports: list[Report]) -> None:
    """Record what each file gave as reading it here would have, in input order."""
    for source, format, count, warnings, more, error in reports:
        report = InputReport(display_name(source), format, count)
        session.inputs.append(report)
        for warning in warnings:
            session.diagnostics.warn(*warning)
        session.diagnostics.count += more
        session.spans_read += count
        if error is not None:
            report.error = InputError(*error)
            if session.strict:
                raise InputFailure(str(report.error))
