"""Reads a caller can stop together: a server's request whose client went away.

``ReadGroup`` holds the cursors of the reads a thread makes while the group is its own
(``DuckDBStore.reads_in(group)``). ``stop()`` interrupts them until they have ended and
refuses the group's later reads. A DuckDB store keeps one group of all its reads, which
``DuckDBStore.stop_reads`` stops when the store closes. Without groups a server went on with a
search for a client that had gone (Ctrl-C on ``analyze --db`` through a running ``serve``), and
its store API, one call at a time, kept the next client waiting until that search was done.
"""

from __future__ import annotations

import contextlib
import threading
import time
from typing import Any


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
