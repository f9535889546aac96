"""``spanscope analyze ... --folded -`` when the profile is all that is asked for.

The folded stacks of the critical-path profile are printed instead of the report, so nothing
else of the report needs computing: ``profile_only`` reads the inputs through projections
(``spanscope.formats.jaeger_lean`` for Jaeger JSON: only the fields that assembly, the filters
and the critical path read), assembles and filters the traces as ``analyze`` does and gives them
to a ``ProfileAnalyzer`` instead of an ``Analyzer``. Its ``profile()`` is the one the full
``analyze`` computes, so the stacks are byte for byte the same, and so are the input reports,
warnings and errors recorded in the session (an input the projection cannot read is read by
the full reader). Many files are shared between processes as ``spanscope.cli.sharded`` does.

Without filters (and not from standard input), Jaeger JSON documents go further:
``native_shard`` hands each to the C profile (``spanscope.analysis.native_profile``), which
charges its traces to the analyzer without building spans at all where assembly would leave
them as they are; what it gives up, and every other input, is read as above, file by file.
Shards of files as ``spanscope.cli.sharded`` cuts them from ``NATIVE_MIN_BYTES`` on, else one
shard in this process (on a terminal too: a few shards then, for the progress bar). The
answer is the same either way (tests/cli/test_folded_native.py runs both).

The caller decides when this applies: ``--folded -`` and no ``--fail-if`` (conditions read the
report). Every filter works on projected spans: they read ids, names, services and times.
"""

from __future__ import annotations

import gc
import pickle
from collections import defaultdict
from collections.abc import Callable, Iterable
from functools import partial

from spanscope.analysis.filters import TraceFilter, filter_traces
from spanscope.analysis.profile import ProfileAnalyzer
from spanscope.cli.reading import ReadSession, built_traces, holding_many_objects
from spanscope.errors import Diagnostics, InputError
from spanscope.formats import read_spans
from spanscope.formats.detect import UnknownFormat, detect_format
from spanscope.formats.jaeger_lean import read_projected as project
from spanscope.formats.source import (
    GZIP_MAGIC,
    HEAD_SIZE,
    display_name,
    read_head,
    read_small_file,
)
from spanscope.model import Span

_JAEGER = "jaeger-json"
# The profile through a projection costs ~9 ms of CPU per MB of Jaeger JSON, a forked worker
# ~5-10 ms in all (fork, pickled result, merge): two processes pay off from a few MB.
PROFILE_MIN_BYTES = 2 * 1024 * 1024
PROFILE_MIN_SHARD_BYTES = 256 * 1024
# Through the C profile (native_shard) a MB costs ~1 ms of CPU: a worker pays off later.
# (Taken when the data set is Jaeger JSON (``_jaeger_data_set``); a file of another format in
# it is read by native_shard as the Python path reads it, file by file.)
NATIVE_MIN_BYTES = 8 * 1024 * 1024
NATIVE_MIN_SHARD_BYTES = 4 * 1024 * 1024


def jaeger_document(source: str, format: str | None) -> bytes | None:
    """The bytes of ``source`` if reading it would take the Jaeger reader (a Jaeger JSON file,
    not compressed, read whole as that reader reads it), else None."""
    if source == "-" or (format is not None and not _is_jaeger(format)):
        return None
    data = read_small_file(source)
    if data is None:  # a big file: Jaeger JSON is read whole anyway
        head = read_head(source)
        if head is not None and _jaeger(head, format):
            data = read_small_file(source, limit=None)
    # The head as reading would sniff it (not a copy of a whole small file).
    if data is not None and _jaeger(data if len(data) <= HEAD_SIZE else data[:HEAD_SIZE], format):
        return data
    return None


def read_projected(
    source: str,
    format: str | None = None,
    diagnostics: Diagnostics | None = None,
    on_format: Callable[[str], None] | None = None,
    data: bytes | None = None,
) -> Iterable[Span]:
    """``spanscope.formats.read_spans``, projected where a projection can read the input: a
    Jaeger JSON file, not compressed (``jaeger_document``; its bytes ``data`` if already read).
    Anything else, and any file the projection gives back, is read by ``read_spans`` itself
    (its messages, its errors)."""
    if data is None:
        data = jaeger_document(source, format)
    if data is not None:
        spans = project(data, display_name(source))
        if spans is not None:
            if on_format is not None:
                on_format(_JAEGER)
            return spans
    return read_spans(source, format, diagnostics, on_format)


def native_shard(task: tuple) -> bytes:
    """``sharded.analyze_shard`` for the profile alone, with an empty filter: each Jaeger JSON
    document is charged by the C profile (``spanscope.analysis.native_profile``) where it
    takes it, every other input is read by ``read_projected`` and its traces built and added
    right after it. That is what reading the whole shard first gives as long as no trace has
    spans in two files; when one does, the result is a pickled ``(None, None, None)`` and the
    data set is read the ordinary way."""
    from spanscope.analysis.native_profile import charge_document
    from spanscope.cli.sharded import Report, file_report

    sources, format, limit, make, _, adjust_skew, _ = task  # (the reader: read_projected)
    collecting = gc.isenabled()
    gc.disable()  # acyclic work, as in analyze_shard
    try:
        collector = make()
        seen: set[str] = set()
        reports: list[Report] = []
        diagnostics = Diagnostics(limit=limit)
        for source in sources:
            if diagnostics.count:
                diagnostics = Diagnostics(limit=limit)
            data = jaeger_document(source, format)
            charged = None if data is None else charge_document(data, collector, adjust_skew)
            if charged is not None:
                count, trace_ids = charged
                reports.append(file_report(source, _JAEGER, count, diagnostics, None))
            else:
                formats: list[str] = []
                spans: list[Span] = []
                error = None
                try:
                    if data is None:  # not Jaeger JSON: its own reader at once
                        spans.extend(read_spans(source, format, diagnostics, formats.append))
                    else:  # a document the C profile gave up
                        spans.extend(
                            read_projected(source, format, diagnostics, formats.append, data)
                        )
                except InputError as exc:
                    error = exc
                groups: defaultdict[str, list[Span]] = defaultdict(list)
                for span in spans:
                    groups[span.trace_id].append(span)
                trace_ids = list(groups)
                for trace in built_traces(groups, adjust_skew):
                    collector.add(trace)
                format_read = formats[-1] if formats else ""
                reports.append(file_report(source, format_read, len(spans), diagnostics, error))
            if not seen.isdisjoint(trace_ids):
                break
            seen.update(trace_ids)
        else:
            return pickle.dumps((reports, list(seen), collector), protocol=pickle.HIGHEST_PROTOCOL)
        return pickle.dumps((None, None, None))  # a trace in two files
    finally:
        if collecting:
            gc.enable()


def _jaeger_data_set(session: ReadSession) -> bool:
    """Whether the session's inputs are for the C profile: from files, and Jaeger JSON by the
    format given or by the first file's head (a data set is one format as a rule; the others
    keep the Python path's thresholds for its workers)."""
    sources = session.sources
    if not sources or "-" in sources:
        return False
    if session.format is not None:
        return _is_jaeger(session.format)
    head = read_head(sources[0])
    return head is not None and _jaeger(head, None)


def _is_jaeger(name: str) -> bool:
    return name in (_JAEGER, "jaeger")


def _jaeger(head: bytes, format: str | None) -> bool:
    """Whether reading starting with ``head`` would take the Jaeger reader (not gzip)."""
    if head.startswith(GZIP_MAGIC):
        return False
    try:
        return _is_jaeger(format or detect_format(head))
    except UnknownFormat:
        return False


def profile_only(
    session: ReadSession,
    trace_filter: TraceFilter,
    adjust_skew: bool,
    slow_fraction: float,
    strict_path: bool,
    jobs: int,
    min_names: int,
) -> ProfileAnalyzer:
    """The ``ProfileAnalyzer`` of the session's inputs (module docstring); the session records
    what each input gave, as reading it for the full report would."""
    make = partial(ProfileAnalyzer, slow_fraction, strict_path, min_names)
    sizes = (PROFILE_MIN_BYTES, PROFILE_MIN_SHARD_BYTES)
    if jobs > 1 and len(session.sources) == 1:
        from spanscope.cli.split import analyze_split  # one big JSON-lines file

        merged = analyze_split(session, make, trace_filter, adjust_skew)
        if merged is not None:
            return merged
    if trace_filter.is_empty and _jaeger_data_set(session):
        from spanscope.analysis.native_profile import available

        if available():
            from spanscope.cli.sharded import analyze_files

            merged = analyze_files(
                session,
                make,
                trace_filter,
                adjust_skew,
                jobs,
                read_projected,
                (NATIVE_MIN_BYTES, NATIVE_MIN_SHARD_BYTES),
                shard=native_shard,
                in_process=True,
            )
            if merged is not None:
                return merged
    if jobs > 1 and len(session.sources) > 1:
        from spanscope.cli.sharded import analyze_files

        merged = analyze_files(
            session, make, trace_filter, adjust_skew, jobs, read_projected, sizes
        )
        if merged is not None:
            return merged
    session.reader = read_projected
    analyzer = make()
    with holding_many_objects():
        groups: defaultdict[str, list[Span]] = defaultdict(list)
        for batch in session.batches():
            for span in batch:  # group_by_trace, a list at a time
                groups[span.trace_id].append(span)
        for trace in filter_traces(built_traces(groups, adjust_skew), trace_filter):
            analyzer.add(trace)
    return analyzer
