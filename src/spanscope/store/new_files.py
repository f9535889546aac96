"""What opening a store for writing creates, and its removal when the opener gives up.

``spanscope serve`` that cannot start (a port in use) leaves no store behind it created: a
DuckDB file and its ``.wal``, or a chDB folder. ``NewFiles(db)``, made before the store is
opened, notes which of those paths do not exist yet; ``opened()``, called once the store is
open, records the identity (``st_dev``, ``st_ino``) of the store file or folder if it was new
(this process holds the store, so what it holds is its own); ``remove()``, once the store is
closed, removes it, and a new ``.wal`` with the file.

Contract: ``remove()`` removes only if the store is still the file or folder this process
created (same identity; a path made again by someone else is theirs) and no process has the
store open: it takes the store's own lock first (DuckDB's ``fcntl`` write lock on the file,
ClickHouse's ``flock`` on the folder's ``status`` file, made if missing as ClickHouse does),
without waiting, and removes while holding it. So a second ``serve`` started at the same
instant on the same new path, which opened the store in the moment between this one closing
and removing it, or made it anew, keeps it; one that tries to open it while it is being
removed finds it locked, as it would a serving one.
Nothing is done for a ClickHouse server's store (``clickhouse://``): spanscope makes no files
there.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
from collections.abc import Iterator

from spanscope.store.clickhouse_client import embedded_location

_Identity = tuple[int, int]


def _identity(stat: os.stat_result) -> _Identity:
    return stat.st_dev, stat.st_ino


def _lstat_identity(path: str) -> _Identity | None:
    try:
        return _identity(os.lstat(path))
    except OSError:
        return None


class NewFiles:
    """The paths opening the store ``db`` for writing creates (see the module docstring)."""

    def __init__(self, db: str) -> None:
        self.embedded = db.startswith("chdb:")
        self.store: str | None = None  # the DuckDB file or chDB folder
        paths: list[str] = []
        if self.embedded:  # chdb:FOLDER or chdb://FOLDER, as the store reads them
            self.store = os.path.abspath(embedded_location(db)[0])
            paths = [self.store]
        elif not db.startswith(("clickhouse://", "clickhouses://")):
            self.store = db
            paths = [db, db + ".wal"]
        self.paths = [path for path in paths if not os.path.lexists(path)]
        self.created: _Identity | None = None  # the store's, once opened() found it new

    def opened(self) -> None:
        """Record the identity of the store if this process created it: call it once the
        store is open."""
        if self.store in self.paths:
            identity = _lstat_identity(self.store)
            if identity is not None:
                self.created = identity

    def remove(self) -> list[str]:
        """Remove what this process created and is still its own (call it once the store is
        closed); the paths removed. A ``.wal`` that was not there before goes with the file
        (whoever wrote it: it belongs to that file, and left beside a new file at the same
        path it would be taken for that one's); one beside a store file that was there before
        is that store's (it may hold committed writes) and stays. Errors leave a path."""
        store = self.store
        if store is None or self.created is None:
            return []
        removed: list[str] = []
        with _locked(store, self.embedded, self.created) as free:
            # (the identity again, under the lock: the path may have been made anew since)
            if not free or _lstat_identity(store) != self.created:
                return []
            for path in [*(path for path in self.paths if path != store), store]:  # file last
                with contextlib.suppress(OSError):
                    if os.path.isdir(path) and not os.path.islink(path):
                        shutil.rmtree(path)
                    elif os.path.lexists(path):
                        os.unlink(path)
                    else:
                        continue
                    removed.append(path)
        return removed


@contextlib.contextmanager
def _locked(store: str, embedded: bool, created: _Identity) -> Iterator[bool]:
    """Hold the lock of ``store`` (the DuckDB file or chDB folder this process created, with
    the identity ``created``) while the block runs; False when the path is another's now, or
    the store is open in another process."""
    if _lstat_identity(store) != created:
        yield False
        return
    # DuckDB locks the file itself (fcntl, whole file, which needs it open for writing).
    # ClickHouse flocks the folder's status file while it runs and removes it when it stops:
    # made here if missing, as ClickHouse makes it, so that one starting meanwhile fails to
    # lock it ("another server instance ... is already running").
    flags = (os.O_RDWR | os.O_CREAT) if embedded else os.O_RDWR
    target = os.path.join(store, "status") if embedded else store
    try:
        handle = os.open(target, flags | os.O_NOFOLLOW, 0o644)
    except OSError:
        yield False
        return
    try:
        try:
            if embedded:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            else:
                fcntl.lockf(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:  # another process has the store open
            yield False
            return
        # (the file locked must be the one created: the path may have changed since)
        yield embedded or _identity(os.fstat(handle)) == created
    finally:
        os.close(handle)  # lets go of the lock (and of any other this process held on it)
