"""``spanscope analyze ... --folded -`` when the profile is all that is asked for.

The folded stacks of the critical-path profile are printed instead of the report, so nothing
else of the report needs computing: ``profile_only`` reads the inputs through projections
(``spanscope.formats.jaeger_lean`` for Jaeger JSON: only the fields that assembly, the filters
and the critical path read), assembles and filters the traces as ``analyze`` does and gives them
to a ``ProfileAnalyzer`` instead of an ``Analyzer``. Its ``profile()`` is the one the full
``analyze`` computes, so the stacks are byte for byte the same, and so are the input reports,
warnings and errors recorded in the session (an input the projection cannot read is read by
the full reader). Many files are shared between processes as ``spanscope.cli.sharded`` does.

The caller decides when this applies: ``--folded -`` and no ``--fail-if`` (conditions read the
report). Every filter works on projected spans: they read ids, names, services and times.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from functools import partial

from spanscope.analysis.filters import TraceFilter, filter_traces
from spanscope.analysis.profile import ProfileAnalyzer
from spanscope.cli.reading import ReadSession, built_traces, holding_many_objects
from spanscope.errors import Diagnostics
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


def read_projected(
    source: str,
    format: str | None = None,
    diagnostics: Diagnostics | None = None,
    on_format: Callable[[str], None] | None = None,
) -> Iterable[Span]:
    """``spanscope.formats.read_spans``, projected where a projection can read the input: a
    Jaeger JSON file, not compressed (read whole, as the Jaeger reader reads it). Anything
    else, and any file the projection gives back, is read by ``read_spans`` itself (its
    messages, its errors)."""
    if source != "-" and (format is None or _is_jaeger(format)):
        data = read_small_file(source)
        if data is None:  # a big file: Jaeger JSON is read whole anyway, so project it too
            head = read_head(source)
            if head is not None and _jaeger(head, format):
                data = read_small_file(source, limit=None)
        # The head as reading would sniff it (not a copy of a whole small file).
        if data is not None and _jaeger(
            data if len(data) <= HEAD_SIZE else data[:HEAD_SIZE], format
        ):
            spans = project(data, display_name(source))
            if spans is not None:
                if on_format is not None:
                    on_format(_JAEGER)
                return spans
    return read_spans(source, format, diagnostics, on_format)


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
    if jobs > 1 and len(session.sources) == 1:
        from spanscope.cli.split import analyze_split  # one big JSON-lines file

        merged = analyze_split(session, make, trace_filter, adjust_skew)
        if merged is not None:
            return merged
    elif jobs > 1:
        from spanscope.cli.sharded import analyze_files

        sizes = (PROFILE_MIN_BYTES, PROFILE_MIN_SHARD_BYTES)
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
