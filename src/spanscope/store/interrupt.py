"""Ctrl-C stops a store query at once, not when the query next looks for it.

Python runs its SIGINT handler (``KeyboardInterrupt``) only when the main thread is back in
Python, and DuckDB's Python client looks for it only between the tasks the calling thread
runs: one task can scan for many seconds (measured: 15 to 54 s after Ctrl-C on a store whose
tag search takes 15 s). ``interruptible(interrupt)`` covers a block in which the main thread
waits in such a call. The C-level handler of a signal writes the signal's number to the
wakeup fd (``signal.set_wakeup_fd``) at once; a watcher thread reads it and calls
``interrupt`` (DuckDB's ``connection.interrupt()``, made to be called from another thread), so
the query ends within milliseconds; the block then raises ``KeyboardInterrupt``, as Ctrl-C
anywhere else in Python does (click prints "Aborted!").

Contract:
- SIGINT counts while its handler is Python's own (``signal.default_int_handler``), SIGTERM
  while a Python handler is installed: by default SIGTERM ends the process at once, with
  nothing left to stop, and a program with its own SIGINT handler decides itself what Ctrl-C
  does;
- off the main thread (a server's worker threads, tests) it does nothing: signals reach the
  main thread only, and a server stops its queries itself when it stops;
- the wakeup fd in place before the block is restored after it and meanwhile still gets every
  signal's byte (an event loop on the main thread keeps its signals); blocks nest;
- ``interrupt`` may be called just after the query ended (or on an idle connection): DuckDB
  then does nothing, and it must not raise either (errors are ignored).
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Callable, Iterator

# The signals a block stops for (see the contract), by number as the wakeup fd carries them.
_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class _Block:
    """One ``interruptible`` block: what to call, and which signals came during it."""

    __slots__ = ("interrupt", "signals")

    def __init__(self, interrupt: Callable[[], object]) -> None:
        self.interrupt = interrupt
        self.signals: set[int] = set()


class _Watcher:
    """The process's one watcher thread and its pipe, made when first needed."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.blocks: list[_Block] = []
        self.forward = -1  # the wakeup fd the outermost block replaced
        read_fd, self.write_fd = os.pipe()
        os.set_blocking(self.write_fd, False)  # set_wakeup_fd requires it
        self._read_fd = read_fd
        threading.Thread(target=self._watch, name="spanscope-interrupt", daemon=True).start()

    def _watch(self) -> None:
        while True:
            try:
                received = os.read(self._read_fd, 64)
            except InterruptedError:
                continue
            except OSError:
                return
            with self.lock:
                blocks, forward = list(self.blocks), self.forward
            if forward != -1:
                with contextlib.suppress(OSError):
                    os.write(forward, received)
            stopping = {number for number in received if number in _SIGNALS} & _handled()
            for block in blocks if stopping else ():
                block.signals |= stopping
                with contextlib.suppress(Exception):
                    block.interrupt()


def _handled() -> set[int]:
    """The signals that stop a query now (see the contract)."""
    handled = set()
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        handled.add(signal.SIGINT)
    if callable(signal.getsignal(signal.SIGTERM)):
        handled.add(signal.SIGTERM)
    return handled


_watcher: _Watcher | None = None
_watcher_pid = 0


def _the_watcher() -> _Watcher:
    global _watcher, _watcher_pid
    # A forked child has the pipe but not the thread: it makes its own.
    if _watcher is None or _watcher_pid != os.getpid():
        _watcher, _watcher_pid = _Watcher(), os.getpid()
    return _watcher


def _run_pending_handlers() -> None:
    """Nothing: Python runs the handlers of signals that arrived at the start of a Python
    function, so calling this runs them here (SIGINT's raises ``KeyboardInterrupt``)."""


@contextlib.contextmanager
def interruptible(interrupt: Callable[[], object]) -> Iterator[None]:
    """While the block runs on the main thread, Ctrl-C (and SIGTERM with a Python handler)
    calls ``interrupt`` at once from another thread; the block then raises
    ``KeyboardInterrupt`` after Ctrl-C, whatever the interrupted call raised."""
    if threading.current_thread() is not threading.main_thread() or not _handled():
        yield
        return
    watcher = _the_watcher()
    block = _Block(interrupt)
    with watcher.lock:
        outermost = not watcher.blocks
        watcher.blocks.append(block)
    if outermost:
        previous = signal.set_wakeup_fd(watcher.write_fd, warn_on_full_buffer=False)
        with watcher.lock:
            watcher.forward = previous
    try:
        yield
    except GeneratorExit:  # the block was left without finishing it: nothing to stop
        raise
    except BaseException as exc:
        # Stop the query on every thread: after its own Ctrl-C check ("Query interrupted")
        # DuckDB leaves the query running on its other threads, and closing the connection
        # waits for them (measured: as long as the scan, 15 s).
        with contextlib.suppress(Exception):
            interrupt()
        if isinstance(exc, KeyboardInterrupt):
            raise
        if signal.SIGINT in block.signals or isinstance(exc.__cause__, KeyboardInterrupt):
            # Python's own KeyboardInterrupt for the signal may still be pending: let it go
            # off here, not later in whatever handles this exception.
            with contextlib.suppress(KeyboardInterrupt):
                _run_pending_handlers()
            raise KeyboardInterrupt from None
        raise
    finally:
        with watcher.lock:
            watcher.blocks.remove(block)
            last = not watcher.blocks
            forward = watcher.forward
            if last:
                watcher.forward = -1
        # (set_wakeup_fd works on the main thread only: a block left unfinished is finished by
        # the garbage collector, which may run elsewhere; the watcher forwards meanwhile)
        if last and threading.current_thread() is threading.main_thread():
            signal.set_wakeup_fd(forward)
