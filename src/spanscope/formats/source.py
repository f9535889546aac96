"""Opening an input for reading: a path, ``-`` for stdin, gzip or not.

``expand_sources`` replaces each directory given as a source with the trace files in it (every
command that reads inputs takes directories this way, like CRISP's ``-i DIR``).

``open_source`` returns a binary stream positioned at the start of the (decompressed) content and
the first bytes of it, so the format can be detected from content, never from the file name.
A regular file of up to ``SMALL_FILE`` bytes is read whole at once (an in-memory stream): data
sets of one trace per file have thousands of such inputs, and the stream layers cost more than
reading a small one. Bigger inputs, stdin and pipes are streamed.

``watch_position()`` lets a progress bar see how far reading the input opened next has got, in
bytes of the file as stored (of the compressed file for gzip): ``ReadPosition``. Readers that
stream (JSON lines) need nothing for it; readers that read a document whole and then convert it
piece by piece say which piece they are at with ``document_share()`` (OTLP protobuf: how many of
its spans).
"""

from __future__ import annotations

import io
import os
import stat
import sys
import typing
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, BinaryIO, Protocol, TypeVar

from spanscope.errors import InputError

if TYPE_CHECKING:
    import gzip
    from pathlib import Path

    from _typeshed import WriteableBuffer

HEAD_SIZE = 64 * 1024
SMALL_FILE = 16 * 1024 * 1024  # read whole, at once; bigger inputs are streamed
GZIP_MAGIC = b"\x1f\x8b"
_T = TypeVar("_T")


class Readable(Protocol):
    """What the stream layers read from: a binary file object's ``read`` and ``readinto``
    (an open file, stdin's buffer, ``BytesIO``, ``GzipFile``, a raw stream)."""

    def read(self, size: int = -1, /) -> bytes: ...

    def readinto(self, buffer: WriteableBuffer, /) -> int | None: ...


class PrefixedStream(io.RawIOBase):
    """A stream that yields ``head`` and then the rest of ``tail`` (what was read to sniff)."""

    def __init__(self, head: bytes, tail: Readable) -> None:
        self._head = memoryview(head)
        self._tail = tail

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer) -> int | None:
        if self._head:
            target = memoryview(buffer)
            n = min(len(target), len(self._head))
            target[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        return self._tail.readinto(buffer)

    def read(self, size: int | None = -1, /) -> bytes:
        if size is None or size < 0:
            rest = self._tail.read()
            head, self._head = bytes(self._head), memoryview(b"")
            return head + rest if head else rest
        # RawIOBase.read answers None only for a non-blocking stream with nothing yet: not
        # one of ours, whose tails block.
        return super().read(size) or b""


class ReadPosition:
    """How far reading one input has got, for a progress bar: ``size`` (None until the input
    is open, and for stdin or a pipe) and ``done()``, the bytes of it consumed so far.

    Bytes consumed are the file's position (read ahead by up to a buffer), or, once a reader of
    a whole document says which of its pieces it is converting, that share of ``size``: the
    document was read at once, and its conversion is what remains."""

    __slots__ = ("_share", "_tell", "size")

    def __init__(self) -> None:
        self.size: int | None = None
        self._tell: Callable[[], int] | None = None
        self._share: tuple[int, int] | None = None

    def opened(self, size: int | None, tell: Callable[[], int] | None) -> None:
        self.size, self._tell, self._share = size, tell, None

    def share(self, done: int, total: int) -> None:
        self._share = (done, total)

    def done(self) -> int | None:
        """Bytes consumed (at most ``size``), or None when not known."""
        if self.size is None:
            return None
        if self._share is not None:
            done, total = self._share
            return self.size * done // total if total else self.size
        try:
            return min(self._tell(), self.size) if self._tell is not None else None
        except (OSError, ValueError):  # closed: reading it is over
            return self.size


# The position of the input being read, while a progress bar watches (a context variable, not a
# parameter: readers reach ``open_source`` through ``read_spans`` and the commands' own readers,
# whose signature the format contract fixes). None: nobody watches, and nothing is recorded.
_WATCHED: ContextVar[ReadPosition | None] = ContextVar("spanscope_read_position", default=None)


@contextmanager
def watch_position() -> Iterator[ReadPosition]:
    """A ``ReadPosition`` that the inputs opened inside the block report to, one after another."""
    position = ReadPosition()
    token = _WATCHED.set(position)
    try:
        yield position
    finally:
        try:
            _WATCHED.reset(token)
        except ValueError:  # a generator closed from another context (collected late)
            _WATCHED.set(None)


def document_share() -> Callable[[int, int], None] | None:
    """For a reader that read its document whole: what to call with (piece, pieces) as it
    converts them, or None when no progress bar watches (then it costs nothing)."""
    position = _WATCHED.get()
    return None if position is None else position.share


def expand_sources(sources: list[str]) -> list[str]:
    """``sources`` with each directory replaced by the files in it: regular files only, not
    those in its subdirectories (not recursive), none whose name starts with a dot (hidden
    files, such as a marker that a data set is complete), sorted by name. A directory with no
    such file stays as it is, so that reading it says so. Other sources are kept as given
    (a missing file is reported when it is read)."""
    expanded: list[str] = []
    for source in sources:
        if source == "-" or not os.path.isdir(source):
            expanded.append(source)
            continue
        try:
            with os.scandir(source) as entries:
                files = [e.name for e in entries if not e.name.startswith(".") and e.is_file()]
        except OSError:
            files = []  # unreadable: reading it says why
        if not files:
            expanded.append(source)
            continue
        files.sort()
        prefix = os.path.join(source, "")  # one join, not one per file (thousands of them)
        expanded.extend([prefix + name for name in files])
    return expanded


def display_name(source: str | Path) -> str:
    return "<stdin>" if str(source) == "-" else str(source)


def read_head(path: str) -> bytes | None:
    """The first ``HEAD_SIZE`` bytes of a regular file, or None if it cannot be read."""
    try:
        with open(path, "rb") as stream:
            return stream.read(HEAD_SIZE)
    except OSError:
        return None


def _read_head(stream: Readable, size: int) -> bytes:
    chunks, remaining = [], size
    while remaining > 0:
        chunk = stream.read(remaining)
        if not chunk:
            break
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def read_small_file(path: str | Path, limit: int | None = -1) -> bytes | None:
    """The whole content of a regular file of at most ``limit`` bytes (-1: ``SMALL_FILE``,
    None: any size), else None (also when it cannot be opened: the ordinary path then says
    why). Plain system calls, no file object: data sets of one trace per file pay this per
    file."""
    if limit == -1:
        limit = SMALL_FILE
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    except (OSError, ValueError):
        return None
    try:
        status = os.fstat(fd)
        if not stat.S_ISREG(status.st_mode) or (limit is not None and status.st_size > limit):
            return None
        data = os.read(fd, status.st_size + 1)
        if len(data) <= status.st_size:
            return data  # a short read of a regular file: its end
        more = os.read(fd, 1 << 20)
        if not more:
            return data
        chunks = [data, more]  # the file grew since fstat: read on to its end
        while more:
            more = os.read(fd, 1 << 20)
            chunks.append(more)
        return b"".join(chunks)
    except OSError:
        return None
    finally:
        os.close(fd)


@contextmanager
def open_source(source: str | Path) -> Iterator[tuple[BinaryIO, bytes]]:
    """Yield ``(stream, head)`` for ``source``; gzip is undone transparently."""
    name = display_name(source)
    whole = read_small_file(source) if str(source) != "-" else None
    position = _WATCHED.get()
    if position is not None:
        position.opened(None, None)  # until known: not the previous input's
    if whole is not None and not whole.startswith(GZIP_MAGIC):
        head = whole if len(whole) <= HEAD_SIZE else whole[:HEAD_SIZE]  # no copy of it all
        buffer = io.BytesIO(whole)
        if position is not None:
            position.opened(len(whole), buffer.tell)
        yield buffer, head  # read at once, no stream layers
        return
    raw: Readable
    opened: io.BufferedReader | None = None
    if str(source) == "-":
        # Typed BinaryIO (no readinto) by typeshed; a BufferedReader, or a BytesIO when a test
        # runner stands in for stdin: both are Readable.
        raw = typing.cast(Readable, sys.stdin.buffer)
    else:
        try:
            raw = opened = open(source, "rb")  # noqa: SIM115 - closed below
        except FileNotFoundError:
            raise InputError(name, "", "no such file") from None
        except IsADirectoryError:
            raise InputError(name, "", "is a directory with no files to read") from None
        except PermissionError:
            raise InputError(name, "", "permission denied") from None
        except OSError as exc:  # e.g. a file named as a folder (traces.json/x), a name too long
            raise InputError(name, "", (exc.strerror or str(exc)).lower()) from None
    try:
        tail = raw if whole is None else io.BytesIO(whole)  # a small gzip file, already read
        if position is not None and whole is not None:
            position.opened(len(whole), typing.cast(io.BytesIO, tail).tell)
        elif position is not None:
            _watch(position, opened)
        head = _read_head(tail, HEAD_SIZE)
        stream = PrefixedStream(head, tail)
        if head.startswith(GZIP_MAGIC):
            import gzip  # here: most inputs are not compressed

            unzipped = gzip.GzipFile(fileobj=io.BufferedReader(stream), mode="rb")
            try:
                head = _read_head(unzipped, HEAD_SIZE)
            except (OSError, EOFError) as exc:
                raise InputError(name, "gzip header", f"corrupt gzip data: {exc}") from None
            stream = PrefixedStream(head, _GzipErrors(unzipped, name))
        yield io.BufferedReader(stream, buffer_size=1 << 20), head
    finally:
        if opened is not None:
            opened.close()


def _watch(position: ReadPosition, opened: io.BufferedReader | None) -> None:
    """``position`` follows the file ``opened`` (None: stdin; a pipe has no size either)."""
    if opened is None:
        position.opened(None, None)
        return
    try:
        status = os.fstat(opened.fileno())
    except OSError:
        position.opened(None, None)
        return
    regular = stat.S_ISREG(status.st_mode)
    position.opened(status.st_size if regular else None, opened.tell if regular else None)


class _GzipErrors(io.RawIOBase):
    """Turns a truncated or corrupt gzip stream into an InputError naming the file."""

    def __init__(self, inner: gzip.GzipFile, name: str) -> None:
        self._inner = inner
        self._name = name

    def readable(self) -> bool:
        return True

    def _guard(self, call: Callable[[], _T]) -> _T:
        try:
            return call()
        except (OSError, EOFError) as exc:  # gzip.BadGzipFile is an OSError
            raise InputError(
                self._name, "gzip stream", f"truncated or corrupt gzip data: {exc}"
            ) from None

    def readinto(self, buffer: WriteableBuffer) -> int:
        return self._guard(lambda: self._inner.readinto(buffer))

    def read(self, size: int | None = -1, /) -> bytes:
        return self._guard(lambda: self._inner.read(size))
