"""What ``serve`` created is removed when it cannot start, but only while it is still its own
(``spanscope.store.new_files``): real DuckDB files and chDB folders, and real other processes
holding them open.

The race it closes: two ``serve`` started at the same instant on the same new path. The one
that failed to listen closed the store and then removed it, and the other, which had opened it
in between (or made it anew), lost its file.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from spanscope.store import StoreLockedError, open_store
from spanscope.store.new_files import NewFiles, _locked
from spanscope.synthetic import generate_spans

T0 = 1_764_150_000_000_000_000

_HOLD = textwrap.dedent(
    """
    import sys
    from spanscope.store import open_store
    with open_store(sys.argv[1]) as store:
        print("open", flush=True)
        sys.stdin.read()  # until the test closes it
    """
)


@contextmanager
def _held_by_another_process(db: str) -> Iterator[None]:
    """``db`` open for writing in a child process (as a second ``serve`` would have it)."""
    child = subprocess.Popen(
        [sys.executable, "-c", _HOLD, db],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        line = child.stdout.readline()
        assert line.strip() == "open", child.communicate(timeout=60)
        yield
    finally:
        child.communicate(input="", timeout=60)
    assert child.returncode == 0


def _create(db: Path) -> NewFiles:
    """What serve does until it fails: note the new paths, open (create) the store, note what
    it made, close it."""
    new_files = NewFiles(str(db))
    with open_store(db):
        new_files.opened()
    return new_files


def test_a_store_this_process_created_is_removed(tmp_path: Path) -> None:
    db = tmp_path / "new.duckdb"
    new_files = _create(db)
    assert new_files.created == (db.stat().st_dev, db.stat().st_ino)
    wal = Path(str(db) + ".wal")
    wal.write_bytes(b"")  # (as an unclean close leaves one: it goes with its file)
    assert new_files.remove() == [str(wal), str(db)]
    assert sorted(tmp_path.iterdir()) == []


def test_a_store_made_again_by_another_is_left_alone(tmp_path: Path) -> None:
    """Between this one's creation and its cleanup the path became another store (a second
    serve's): the identity (device, inode) differs, and that store stays, whole."""
    db = tmp_path / "new.duckdb"
    new_files = _create(db)
    other = tmp_path / "other.duckdb"
    spans = list(generate_spans(4, seed=3, start_ns=T0))
    with open_store(other) as store:
        store.write(spans)
    os.replace(other, db)
    assert new_files.remove() == []
    with open_store(db, read_only=True) as store:
        assert store.stats().spans == len(spans)


def test_a_store_another_process_opened_meanwhile_is_left_alone(tmp_path: Path) -> None:
    """The same file (same identity), but a second serve opened it after this one closed it:
    its lock is held, so it stays; once that process has let it go, it is removed."""
    db = tmp_path / "new.duckdb"
    new_files = _create(db)
    with _held_by_another_process(str(db)):
        assert new_files.remove() == []
        assert db.exists()
    assert new_files.remove() == [str(db)]
    assert not db.exists()


def test_a_store_being_removed_is_locked_for_others(tmp_path: Path) -> None:
    """While the cleanup holds the store's lock, another process opening it is told it is
    locked (as by a serving process), instead of opening a file about to go."""
    db = tmp_path / "new.duckdb"
    new_files = _create(db)
    assert new_files.created is not None
    with _locked(str(db), False, new_files.created) as free:
        assert free
        opened = subprocess.run(
            [sys.executable, "-c", _HOLD, str(db)],
            input="",
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert opened.returncode != 0
        assert StoreLockedError.__name__ in opened.stderr


def test_the_wal_of_a_store_that_was_there_is_left(tmp_path: Path) -> None:
    """Only the .wal was new (the file existed): it is that store's, and may hold its
    committed writes."""
    db = tmp_path / "old.duckdb"
    with open_store(db):
        pass
    new_files = NewFiles(str(db))
    assert new_files.paths == [str(db) + ".wal"]
    wal = Path(str(db) + ".wal")
    wal.write_bytes(b"")  # (as if the store had left one)
    new_files.opened()
    assert new_files.remove() == []
    assert wal.exists() and db.exists()


def test_nothing_for_a_clickhouse_server() -> None:
    new_files = NewFiles("clickhouse://127.0.0.1:8123/otel")
    new_files.opened()
    assert new_files.paths == [] and new_files.remove() == []


# -- chDB folders --------------------------------------------------------------------------

_CHDB = textwrap.dedent(
    """
    import sys
    from chdb import session
    engine = session.Session(sys.argv[1])
    engine.query("CREATE DATABASE IF NOT EXISTS otel")
    print("open", flush=True)
    sys.stdin.read()
    engine.close()
    """
)


@contextmanager
def _chdb_in_another_process(folder: Path) -> Iterator[None]:
    """ClickHouse (chDB) running on ``folder`` in a child process; it stops at the end."""
    child = subprocess.Popen(
        [sys.executable, "-c", _CHDB, str(folder)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        line = child.stdout.readline()
        assert line.strip() == "open", child.communicate(timeout=60)
        yield
    finally:
        child.communicate(input="", timeout=60)


def test_a_chdb_folder_is_removed_only_while_it_is_its_own(tmp_path: Path) -> None:
    pytest.importorskip("chdb", reason="chdb (embedded ClickHouse) is not installed")
    folder = tmp_path / "traces-ch"
    new_files = NewFiles(f"chdb:{folder}")
    assert new_files.paths == [str(folder)]
    with _chdb_in_another_process(folder):  # (stands for this serve's own engine)
        new_files.opened()
    assert not (folder / "status").exists()  # (ClickHouse removes it when it stops)
    with _chdb_in_another_process(folder):  # a second serve runs ClickHouse there now
        assert new_files.remove() == []
        assert (folder / "metadata").is_dir()
    moved = tmp_path / "moved"
    folder.rename(moved)
    folder.mkdir()  # made again by another: left
    (folder / "theirs").write_text("kept")
    assert new_files.remove() == []
    assert (folder / "theirs").read_text() == "kept"
    folder.rename(tmp_path / "theirs")
    moved.rename(folder)  # this one's own again, and nobody runs on it
    assert new_files.remove() == [str(folder)]
    assert not folder.exists()
