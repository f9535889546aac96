"""Reading many input files in worker processes, for data sets that are many files.

``read_in_workers(plan_runs(sources, jobs), format, jobs, limit)`` reads regular files in
``jobs`` worker processes and yields, in input order, one ``FileResult`` per file: its format,
its spans, the warnings its reader raised and the error that stopped it, exactly what reading
it in this process gives. ``ReadSession`` replays them in order, so reports, warnings and
errors do not change with ``--jobs``.

Workers get runs of consecutive files (a few megabytes each) and send their spans back
msgpack-encoded (``Span`` is a ``msgspec.Struct``, cheap to encode and decode); each distinct
resource-attributes dict travels once per run, not once per span, and the decoded spans share
it again, as the readers make them do.

Workers are forked from this process when it runs no other thread (on Linux), else from a
forkserver that imported the readers once (a progress bar runs a thread). ``plan_runs`` says
whether the inputs are big enough for workers to pay off and cuts them into runs.

``fork_map(function, tasks, jobs)`` is the cheapest way to share one burst of work: this
process and ``jobs - 1`` forked children, results pickled back in task order
(``spanscope.cli.sharded`` uses it when no thread runs).
"""

from __future__ import annotations

import gc
import os
import pickle
import stat
import sys
import threading
from collections.abc import Callable, Generator, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

import click
import msgspec

from spanscope.errors import Diagnostics, InputError
from spanscope.formats import read_spans
from spanscope.model import Attributes, Span

if TYPE_CHECKING:
    import multiprocessing.context

T = TypeVar("T")

# Below this much input, reading in this process is about as fast: workers cost ~0.1 s to start.
MIN_BYTES = 8 * 1024 * 1024
# Consecutive files per task: enough to amortise a task's round trip, small enough that results
# stream back and the two workers stay evenly loaded.
RUN_BYTES = 2 * 1024 * 1024
MAX_RUN_FILES = 512


class FileResult(msgspec.Struct, array_like=True, gc=False):
    """What reading one file gave; ``resources[i]`` indexes the run's resource dicts."""

    source: str
    format: str = ""
    spans: list[Span] = []
    resources: list[int] = []
    warnings: list[tuple[str, str, str]] = []  # (source, place, message)
    more_warnings: int = 0  # past the Diagnostics limit: counted, not kept
    error: tuple[str, str, str] | None = None  # InputError's (source, place, message)


class RunResult(msgspec.Struct, array_like=True, gc=False):
    resources: list[Attributes]
    files: list[FileResult]


# Readers a worker most likely needs, imported once in the forkserver (not the protobuf one:
# opentelemetry-proto takes longer to import than most data sets of small files take to read).
_PRELOAD = ("spanscope.formats.jaeger_json", "spanscope.formats.otlp_json")
_DECODER = msgspec.msgpack.Decoder(RunResult)
_ENCODER = msgspec.msgpack.Encoder()


def default_jobs() -> int:
    """Worker processes by default: the CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def file_sizes(sources: list[str]) -> list[int] | None:
    """The size of each of ``sources``, or None if any is stdin or not a regular file (the
    reader reports a missing one, in this process)."""
    sizes = []
    for source in sources:
        if source == "-":
            return None
        try:
            status = os.stat(source)
        except OSError:
            return None
        if not stat.S_ISREG(status.st_mode):
            return None
        sizes.append(status.st_size)
    return sizes


SAMPLED = 256  # files stat'ed to estimate a large data set's size (``estimated_sizes``)


def estimated_sizes(sources: list[str]) -> list[int] | None:
    """``file_sizes`` for many files from a sample of ``SAMPLED`` of them spread evenly: each
    file counts as their mean size. For planning only (how many workers, where to cut): the
    result never depends on the plan, and stat'ing 10,000 files costs 25 ms of this process's
    time before any worker starts. A file missing or odd outside the sample is reported when it
    is read, as it is in this process."""
    if len(sources) <= 4 * SAMPLED:
        return file_sizes(sources)
    if "-" in sources:
        return None
    sample = file_sizes(sources[:: len(sources) // SAMPLED])
    if sample is None:
        return None
    mean = sum(sample) // len(sample)
    return [mean] * len(sources)


def worth_workers(sizes: list[int] | None, jobs: int, min_bytes: int | None = None) -> bool:
    """Whether files of these sizes are worth workers: two or more, ``min_bytes``
    (``MIN_BYTES``) in all."""
    least = MIN_BYTES if min_bytes is None else min_bytes
    return sizes is not None and jobs >= 2 and len(sizes) >= 2 and sum(sizes) >= least


def plan_runs(sources: list[str], jobs: int) -> list[list[str]] | None:
    """``sources`` cut into runs of consecutive files for the workers, or None when reading
    them here is as good: fewer than two jobs or files, stdin or anything but regular files
    among them, or less than ``MIN_BYTES`` in all."""
    sizes = file_sizes(sources) if jobs >= 2 and len(sources) >= 2 else None
    if sizes is None or not worth_workers(sizes, jobs):
        return None
    runs: list[list[str]] = [[]]
    size = 0
    for source, file_size in zip(sources, sizes, strict=True):
        if size >= RUN_BYTES or len(runs[-1]) >= MAX_RUN_FILES:
            runs.append([])
            size = 0
        runs[-1].append(source)
        size += file_size
    return runs


def read_run(task: tuple[list[str], str | None, int]) -> bytes:
    """In a worker: read ``sources`` and encode what each gave (a ``RunResult``)."""
    sources, format, limit = task
    # A worker's objects are acyclic and short-lived (encoded, then dropped): the cyclic
    # collector would only walk them again and again. The worker is ours to configure.
    gc.disable()
    resources: list[Attributes] = []
    index_of: dict[int, int] = {}  # id of a resource dict -> its index in ``resources``
    files = []
    for source in sources:
        diagnostics = Diagnostics(limit=limit)
        result = FileResult(source)

        def set_format(name: str, result: FileResult = result) -> None:
            result.format = name

        spans: list[Span] = []
        try:
            spans.extend(read_spans(source, format, diagnostics, on_format=set_format))
        except InputError as error:
            result.error = (error.location.source, error.location.place, error.message)
        indexes = []
        for span in spans:
            resource = span.resource_attributes
            index = index_of.get(id(resource))
            if index is None:
                index = index_of[id(resource)] = len(resources)
                resources.append(resource)
            indexes.append(index)
            span.resource_attributes = {}  # sent once in ``resources``
        result.spans = spans
        result.resources = indexes
        result.warnings = [
            (w.location.source, w.location.place, w.message) for w in diagnostics.warnings
        ]
        result.more_warnings = diagnostics.count - len(diagnostics.warnings)
        files.append(result)
    return _ENCODER.encode(RunResult(resources, files))


def can_fork() -> bool:
    """Whether forking this process is safe and cheapest: Linux, and no other thread runs (a
    thread could hold a lock that the child would then wait for forever). The child then
    starts in a millisecond with everything imported."""
    return sys.platform == "linux" and threading.active_count() == 1


def fork_map(function: Callable[[Any], T], tasks: list[Any], jobs: int) -> list[T]:
    """``[function(task) for task in tasks]``, computed by this process and ``jobs - 1``
    forked children (``can_fork`` must hold), each taking every ``jobs``-th task; the results
    come back pickled through a pipe and are returned in task order.

    Cheaper than a ``multiprocessing`` pool for one short burst of work: no pool threads, no
    task queue, one fork per child, and this process works too instead of waiting. A child
    that fails (killed, out of memory, an exception) is not trusted: its tasks are computed
    again here, so the result is the same either way."""
    jobs = min(jobs, len(tasks))
    if jobs < 2:
        return [function(task) for task in tasks]
    sys.stdout.flush()  # a child must not write out what this process had buffered
    sys.stderr.flush()
    children: list[tuple[int, int]] = []
    try:
        for worker in range(1, jobs):
            read_end, write_end = os.pipe()
            pid = os.fork()
            if pid == 0:  # pragma: no cover - the child; coverage does not follow forks
                os.close(read_end)
                _child(function, tasks[worker::jobs], write_end)
            os.close(write_end)
            children.append((pid, read_end))
        results: list[Any] = [None] * len(tasks)
        results[0::jobs] = [function(task) for task in tasks[0::jobs]]
        for worker, (pid, read_end) in enumerate(children, 1):
            payload = _read_all(read_end)
            os.close(read_end)
            _, status = os.waitpid(pid, 0)
            mine = tasks[worker::jobs]
            done = pickle.loads(payload) if status == 0 and payload else None
            if not isinstance(done, list) or len(done) != len(mine):
                done = [function(task) for task in mine]
            results[worker::jobs] = done
        children.clear()
        return results
    finally:
        for pid, read_end in children:  # an exception here: do not leave children behind
            os.close(read_end)
            os.waitpid(pid, 0)


def _child(function: Callable[[Any], Any], tasks: list[Any], write_end: int) -> None:
    """In a forked child: compute ``tasks``, send their results, exit."""
    status = 1  # pragma: no cover - coverage does not follow forks
    try:
        payload = pickle.dumps([function(task) for task in tasks], pickle.HIGHEST_PROTOCOL)
        view = memoryview(payload)
        while view:
            view = view[os.write(write_end, view) :]
        status = 0
    except BaseException:  # reported by the exit status; the parent computes them again
        pass
    finally:
        os._exit(status)  # no atexit handlers, no flushing of the parent's buffers


def _read_all(fd: int) -> bytes:
    chunks = []
    while chunk := os.read(fd, 1 << 20):
        chunks.append(chunk)
    return b"".join(chunks)


def context() -> multiprocessing.context.BaseContext:
    """Plain fork where it is safe and cheapest (``can_fork``), else a forkserver that
    imports the readers once."""
    import multiprocessing

    if can_fork():
        return multiprocessing.get_context("fork")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([__name__, *_PRELOAD])
    return context


@contextmanager
def ordered_results(
    function: Callable[[Any], T], tasks: list[Any], jobs: int
) -> Iterator[Iterator[T]]:
    """``function(task)`` for each task, computed by ``jobs`` worker processes (``context``),
    in task order. Every worker is forked on entry, so a thread started afterwards (a progress
    bar) is never forked.

    Leaving early (``--strict`` stopping at a bad input, an exception, Ctrl-C) lets the tasks
    already running finish and drops the rest; no worker is killed. A ``multiprocessing.Pool``
    left early terminates its workers, and one killed while it holds the result queue's lock
    leaves ``Pool.terminate`` waiting for that lock for ever (CPython issue 96995): the command
    hung instead of stopping.

    A worker that dies (killed, out of memory) breaks the pool: the tasks not yet answered are
    then computed in this process, as ``fork_map`` does with a failed child, so the results are
    the same either way; stderr says so once."""
    from concurrent.futures import ProcessPoolExecutor

    executor = ProcessPoolExecutor(min(jobs, len(tasks)), mp_context=context())
    try:
        # map submits every task: the workers start now
        yield _here_if_broken(executor.map(function, tasks), function, tasks)
    finally:
        executor.shutdown(wait=True, cancel_futures=True)


def _here_if_broken(
    results: Iterator[T], function: Callable[[Any], T], tasks: list[Any]
) -> Iterator[T]:
    from concurrent.futures.process import BrokenProcessPool

    done = 0
    try:
        for result in results:
            yield result
            done += 1
    except BrokenProcessPool:
        click.echo(
            "warning: a worker process ended abruptly (killed, or out of memory?): the "
            f"{len(tasks) - done} of {len(tasks)} parts of the input not yet done are read "
            "in this process",
            err=True,
        )
        for task in tasks[done:]:
            yield function(task)


def read_in_workers(
    runs: list[list[str]], format: str | None, jobs: int, warning_limit: int
) -> Generator[FileResult, None, None]:
    """Yield each file's ``FileResult`` in input order, the ``runs`` (``plan_runs``) read by
    ``jobs`` workers (``ordered_results``)."""
    tasks = [(run, format, warning_limit) for run in runs]
    with ordered_results(read_run, tasks, jobs) as results:
        for encoded in results:
            run = _DECODER.decode(encoded)
            resources = run.resources
            for result in run.files:
                if resources:
                    for span, index in zip(result.spans, result.resources, strict=True):
                        span.resource_attributes = resources[index]
                yield result
