"""Reads a caller can stop together: a server's request whose client went away.

``ReadGroup`` holds the reads (DuckDB cursors, or ``Read``: a ClickHouse request) a thread
makes while the group is its own (``store.reads_in(group)``, DuckDB and ClickHouse stores).
``stop()`` interrupts them until they have ended and refuses the group's later reads. A store
keeps one group of all its reads, which ``store.stop_reads`` stops when the store closes;
``counted`` puts a read in both and turns what a stop made it raise into ``ReadsStoppedError``.
What an interrupt does is the backend's: DuckDB stops the query within milliseconds; over
ClickHouse's HTTP the request's connection is shut down (and the server cancels the query);
chDB cannot stop a running query, and only refuses one not started. Without groups a server
went on with a search for a client that had gone (Ctrl-C on ``analyze --db`` through a
running ``serve``), and its store API, one call at a time, kept the next client waiting until
that search was done.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from spanscope.store.base import StoreError


class ReadsStoppedError(StoreError):
    """A query that a stopped ``ReadGroup`` stopped, or refused: the store is closing, or its
    reader went away."""


class Read:
    """One read without a cursor of its own (a ClickHouse request), as a ``ReadGroup`` holds
    it: ``interrupt()``, from any thread, marks it stopped and calls what its transport gave
    ``when_interrupted`` (e.g. shut its connection down), at once if it was stopped before.
    ``detach()``, once the transport is done with the read, says whether it was stopped; no
    cut runs after it (a connection given back for reuse then serves another request, which
    a late stop of this read would cut: ``ReadGroup.stop`` interrupts until the read has left
    the group, after its query returned)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cut: Callable[[], object] | None = None
        self.stopped = False

    # The cut runs under the lock (it must not block: a socket shutdown): detach then waits
    # for one under way, and after it none starts.

    def when_interrupted(self, cut: Callable[[], object]) -> None:
        with self._lock:
            self._cut = cut
            if self.stopped:
                cut()

    def interrupt(self) -> None:
        with self._lock:
            self.stopped = True
            if self._cut is not None:
                self._cut()

    def detach(self) -> bool:
        """Forget the cut (no later ``interrupt`` calls it); whether the read was stopped."""
        with self._lock:
            self._cut = None
            return self.stopped


class ReadGroup:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cursors: set[Any] = set()
        self.stopped = False

    @property
    def running(self) -> bool:
        """Whether a read of the group runs now."""
        with self._lock:
            return bool(self._cursors)

    def add(self, cursor: Any) -> bool:
        """Count ``cursor``'s read in the group; False once the group is stopped."""
        with self._lock:
            if self.stopped:
                return False
            self._cursors.add(cursor)
            return True

    def discard(self, cursor: Any) -> None:
        """The read has ended: ``stop`` no longer touches its cursor (it may be closed)."""
        with self._lock:
            self._cursors.discard(cursor)

    def stop(self, wait_s: float = 10.0) -> None:
        """Interrupt the group's reads until none runs (DuckDB forgets an interrupt that comes
        between two statements of a read), or ``wait_s`` has passed; refuse later ones."""
        deadline = time.monotonic() + wait_s
        while True:
            with self._lock:
                self.stopped = True
                if not self._cursors:
                    return
                for cursor in self._cursors:
                    with contextlib.suppress(Exception):
                        cursor.interrupt()
            if time.monotonic() >= deadline:
                return
            time.sleep(0.02)


@contextlib.contextmanager
def counted(read: Any, store_reads: ReadGroup, own: ReadGroup | None, where: str) -> Iterator[None]:
    """Count ``read`` (a cursor, a ``Read``) in the store's group of all its reads and in the
    reading thread's ``own`` group while the block runs. Refused with ``ReadsStoppedError``
    when one of them is stopped already; a ``StoreError`` out of the block becomes one when a
    group was stopped meanwhile (the stop made the read fail). ``where``: the store, for
    messages."""
    groups = (store_reads,) if own is None else (store_reads, own)

    def why(group: ReadGroup) -> str:
        return "the store is closing" if group is store_reads else "its reader went away"

    for joined, group in enumerate(groups):
        if not group.add(read):
            for other in groups[:joined]:
                other.discard(read)
            raise ReadsStoppedError(f"{where}: query not run: {why(group)}")
    try:
        yield
    except StoreError as exc:
        for group in groups:
            if group.stopped:
                raise ReadsStoppedError(f"{where}: query stopped: {why(group)}") from exc
        raise
    finally:
        for group in groups:  # before the read's cursor closes: stop() no longer touches it
            group.discard(read)


class StoreReads:
    """A store's reads: the group of all of them (``all``, which ``stop`` stops as the store
    closes) and, per thread, the group a caller made its reads join (``joining``, behind
    ``store.reads_in``). One of each store, DuckDB or ClickHouse alike."""

    def __init__(self, where: str) -> None:
        self.all = ReadGroup()
        self._where = where  # the store, for messages
        self._thread = threading.local()  # .group: the ReadGroup of this thread's reads

    @contextlib.contextmanager
    def joining(self, group: ReadGroup) -> Iterator[None]:
        """The reads this thread makes in the block can be stopped with ``group.stop()``."""
        self._thread.group = group
        try:
            yield
        finally:
            self._thread.group = None

    def counted(self, read: Any) -> contextlib.AbstractContextManager[None]:
        """``counted`` of ``read`` in all the store's reads and this thread's group."""
        return counted(read, self.all, getattr(self._thread, "group", None), self._where)

    @property
    def running(self) -> bool:
        """Whether a read of the store runs now."""
        return self.all.running

    def stop(self, wait_s: float) -> None:
        self.all.stop(wait_s)
