"""Analysing one big OTLP JSON-lines file in two processes, for ``spanscope analyze``.

``analyze_split(session, make, trace_filter, adjust_skew)`` returns the ``Analyzer`` (or the
``ProfileAnalyzer``: whatever ``make`` makes) that
reading the session's one input and analysing it here would give, with the input's report added
to ``session.inputs``; or None, and the caller does it the ordinary way. None when the input
does not qualify (not a single regular file of OTLP JSON lines of ``MIN_BYTES`` or more, or
``fork`` is missing) and when anything unusual turns up in it (a warning, an error): the
ordinary path then reports it exactly as it always does, at the cost of reading twice.

How: the file is cut at a line boundary a little after its middle (``FIRST_SHARE``) and a
forked child reads the second part while this process reads the first. A trace with spans in
both parts goes to this process (the child sends its spans over, msgpack-encoded), so every
trace is whole on one side.
Each side assembles, filters and analyses its traces in first-seen order; the child's traces
all come after this process's in that order, which is what ``Analyzer.merge`` needs to give the
one-process report exactly (tested by ``tests/cli/test_split.py``).

A JSON line is an exporter's batch, so each half holds complete requests except at the cut:
the traces sent across are few. Reading, assembly and analysis all run on both cores; what a
user waits for is about half of it. Memory is split between the two processes too.
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, BinaryIO

import msgspec

from spanscope.analysis.filters import TraceFilter, filter_traces
from spanscope.assembly import group_by_trace
from spanscope.cli.common import error_console
from spanscope.cli.progress import fitted, progress_label, share_columns, show_progress
from spanscope.cli.reading import InputReport, ReadSession, built_traces, holding_many_objects
from spanscope.errors import Diagnostics, InputError
from spanscope.formats.detect import UnknownFormat, detect_format
from spanscope.formats.source import HEAD_SIZE, display_name
from spanscope.model import Span

if TYPE_CHECKING:
    from multiprocessing.connection import Connection

# The OTLP JSON reader, its schema and multiprocessing's pipes are imported only once a file
# qualifies: most inputs are small, and importing them cost such a run ~15 ms of its start.

# Below this, starting a second process (~20 ms) and the exchange do not pay off.
MIN_BYTES = 32 * 1024 * 1024
# This process's share of the file. It merges the child's analyzer and writes the report only
# once the child is done, so the two should finish their parts together; the child also pickles
# its analyzer, so this side takes a little more (at 0.47 it waited ~0.6 s of 11 on 1M spans).
FIRST_SHARE = 0.51

_LINES = "otlp-jsonl"  # what reading names a file of JSON lines: the only kind cut here
_OTLP_JSON = "otlp-json"  # the format's name (``otlp_json.NAME``), with or without lines
_REPORT_BYTES = 4 * 1024 * 1024  # progress is updated this often
_IDS = msgspec.msgpack.Decoder(list[str] | None)
_SPANS = msgspec.msgpack.Decoder(list[list[Span]])
_ENCODE = msgspec.msgpack.encode


@dataclass(frozen=True)
class _Job:
    """What both processes read and how they analyse it: the file, where it is cut, and the
    analysis (``make``, ``trace_filter``, ``adjust_skew``: see ``analyze_split``)."""

    path: str
    name: str  # the file as reports show it
    cut: int
    make: Callable[[], Any]
    trace_filter: TraceFilter
    adjust_skew: bool


class _Head:
    """The first ``limit`` bytes of a binary file, as the readers use a stream; ``on_read``
    hears how many bytes have been read, now and then (a progress bar)."""

    def __init__(
        self, stream: BinaryIO, limit: int, on_read: Callable[[int], None] | None = None
    ) -> None:
        self._stream = stream
        self._left = limit
        self._limit = limit
        self._on_read = on_read
        self._next_report = _REPORT_BYTES

    def readline(self) -> bytes:
        if self._left <= 0:
            return b""
        line = self._stream.readline(self._left)
        self._left -= len(line)
        if self._on_read is not None and self._limit - self._left >= self._next_report:
            self._next_report += _REPORT_BYTES
            self._on_read(self._limit - self._left)
        return line

    def read(self) -> bytes:
        data = self._stream.read(max(self._left, 0))
        self._left = 0
        return data

    def __iter__(self) -> Iterator[bytes]:
        while line := self.readline():
            yield line


def cut_point(path: str, format: str | None) -> int | None:
    """Where to cut ``path`` (the offset of the line after ``FIRST_SHARE`` of it), or None if it
    is not one regular file of OTLP JSON lines worth splitting."""
    if format not in (None, _OTLP_JSON, _LINES) or not hasattr(os, "fork"):
        return None
    try:
        size = os.stat(path).st_size
        if size < MIN_BYTES or not os.path.isfile(path):
            return None
        with open(path, "rb") as stream:
            if format is None:
                # The format as reading it would detect it (other JSON lines, e.g. Zipkin's,
                # are not cut), from the same head.
                head = stream.read(HEAD_SIZE)
                try:
                    if detect_format(head) not in (_OTLP_JSON, _LINES):
                        return None
                except UnknownFormat:
                    return None
                stream.seek(0)
            first = stream.readline()
            # Plain JSON lines as the collector writes them: no gzip, BOM or proto field names
            # (those go the ordinary way), and the first line one whole request.
            if not first.startswith(b'{"') or b'"resource_spans"' in first:
                return None
            from spanscope.formats import otlp_json_schema

            try:
                otlp_json_schema.LINE.decode(first)
            except (msgspec.DecodeError, UnicodeDecodeError, RecursionError):
                return None
            stream.seek(int(size * FIRST_SHARE))
            stream.readline()
            cut = stream.tell()
    except OSError:
        return None
    return cut if len(first) < cut < size else None


def analyze_split(
    session: ReadSession, make: Callable[[], Any], trace_filter: TraceFilter, adjust_skew: bool
) -> Any:
    """See the module docstring; ``make`` makes the empty collector (an ``Analyzer``, a
    ``ProfileAnalyzer``), which each side fills and this side returns, merged, or None."""
    if len(session.sources) != 1 or session.inputs:
        return None
    path = session.sources[0]
    cut = cut_point(path, session.format)
    if cut is None:
        return None
    name = display_name(path)
    job = _Job(path, name, cut, make, trace_filter, adjust_skew)
    from multiprocessing.connection import Pipe

    here, there = Pipe()
    pid = os.fork()
    if pid == 0:  # the child: the second half
        code = 1
        try:
            here.close()
            _second_half(there, job)
            code = 0
        finally:
            os._exit(code)  # no atexit handlers, no flushing of the parent's buffers
    there.close()
    try:
        # The bar's thread starts only now, after the fork.
        with _progress(session, name, cut) as on_read:
            result = _first_half(here, job, on_read)
    except (EOFError, OSError):
        result = None  # the child died (out of memory, a bug): the ordinary way still works
    except BaseException:
        _stop(pid)
        raise
    finally:
        here.close()
    os.waitpid(pid, 0)  # it has sent all it had, or stopped when told to
    if result is None:
        return None
    analyzer, spans = result
    session.inputs.append(InputReport(name, _LINES, spans))
    return analyzer


def _read(stream: BinaryIO, name: str) -> dict[str, list[Span]] | None:
    """The half's spans by trace, or None if reading it gave an error or a warning."""
    from spanscope.formats import otlp_json

    diagnostics = Diagnostics()
    try:
        with holding_many_objects():
            groups = group_by_trace(otlp_json.read(stream, name, diagnostics))
    except InputError:
        return None
    return groups if not diagnostics.count else None


def _analyze(groups: dict[str, list[Span]], job: _Job) -> Any:
    """What ``spanscope analyze`` does with the traces: in first-seen order, each group of
    spans dropped once built."""
    analyzer = job.make()
    with holding_many_objects():
        for trace in filter_traces(built_traces(groups, job.adjust_skew), job.trace_filter):
            analyzer.add(trace)
    return analyzer


def _first_half(
    conn: Connection, job: _Job, on_read: Callable[[int], None] | None = None
) -> tuple[Any, int] | None:
    with open(job.path, "rb") as stream:
        groups = _read(_Head(stream, job.cut, on_read), job.name)  # type: ignore[arg-type]
    if on_read is not None:
        on_read(job.cut)  # all of this part is read (it reports every few MB): 100%
    theirs = _IDS.decode(conn.recv_bytes())
    if groups is None or theirs is None:
        if theirs is not None:
            conn.send_bytes(_ENCODE(None))  # the child stops
        return None
    spans = sum(len(trace_spans) for trace_spans in groups.values())
    shared = [trace_id for trace_id in theirs if trace_id in groups]
    conn.send_bytes(_ENCODE(shared))
    for trace_id, trace_spans in zip(shared, _SPANS.decode(conn.recv_bytes()), strict=True):
        groups[trace_id].extend(trace_spans)  # they come after ours in the file
    analyzer = _analyze(groups, job)
    with holding_many_objects():  # the other half's analyzer: a row per name, acyclic
        other, other_spans = pickle.loads(conn.recv_bytes())
    analyzer.merge(other)
    return analyzer, spans + other_spans


def _second_half(conn: Connection, job: _Job) -> None:
    with open(job.path, "rb") as stream:
        stream.seek(job.cut)
        groups = _read(stream, job.name)
    if groups is None:
        conn.send_bytes(_ENCODE(None))
        return
    spans = sum(len(trace_spans) for trace_spans in groups.values())
    conn.send_bytes(_ENCODE(list(groups)))
    shared = _IDS.decode(conn.recv_bytes())
    if shared is None:
        return
    conn.send_bytes(_ENCODE([groups.pop(trace_id) for trace_id in shared]))
    analyzer = _analyze(groups, job)
    conn.send_bytes(pickle.dumps((analyzer, spans), protocol=pickle.HIGHEST_PROTOCOL))


@contextmanager
def _progress(session: ReadSession, name: str, size: int) -> Iterator[Callable[[int], None] | None]:
    """On a terminal, a bar over this process's part of the file while it reads, then while
    both analyse; yields what to call with the bytes read so far (None: no bar)."""
    if not show_progress(session.progress):
        yield None
        return
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    # The rest of the line takes ~65 columns: the name is cut to fit, "(2 processes)" left
    # out where even a short name would not (rich would cut the share and the times instead).
    room = error_console().width - 65
    processes = " (2 processes)" if room - 14 >= 12 else ""
    with Progress(
        TextColumn("[bold]reading and analysing[/] {task.description}"),
        BarColumn(bar_width=16),
        *share_columns(),
        TimeElapsedColumn(),
        console=error_console(),
        transient=True,
    ) as progress:
        label = fitted(progress_label(name), room - len(processes)) + processes
        task = progress.add_task(label, total=size)
        yield lambda done: progress.update(task, completed=done)


def _stop(pid: int) -> None:
    """This process stopped early (an error, Ctrl-C): stop the child too."""
    try:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
    except (ProcessLookupError, ChildProcessError):
        pass
