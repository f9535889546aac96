"""Ctrl-C stops a store query at once, not when the query next looks for it.

Python runs its SIGINT handler (``KeyboardInterrupt``) only when the main thread is back in
Python, and DuckDB's Python client looks for it only between the tasks the calling thread
runs; when it finds it, it gives up the query on that thread and leaves it running on its
other threads, where closing the connection waits for it (measured: 9 to 54 s after Ctrl-C on
a store whose tag search takes 15 s). ``interruptible(interrupt)`` covers a block in which the
main thread waits in such a call. The C-level handler of a signal writes the signal's number
to the wakeup fd (``signal.set_wakeup_fd``) at once; a watcher thread reads it and calls
``interrupt`` (DuckDB's ``connection.interrupt()``, made to be called from another thread),
which stops the query on every thread within milliseconds. The signal's own handler is then
run when the block ends, so Ctrl-C is a ``KeyboardInterrupt`` out of the block (click prints
"Aborted!"), as anywhere else in Python.

Contract:
- SIGINT counts while its handler is Python's own (``signal.default_int_handler``), SIGTERM
  while a Python handler is installed: by default SIGTERM ends the process at once, with
  nothing left to stop, and a program with its own SIGINT handler decides itself what Ctrl-C
  does;
- a signal's handler runs exactly once: at once when it comes while the main thread runs
  Python code in the block (the handler in place before the block is called), at the block's
  end when it stopped a query or came while the block was ending (so that nothing it raises
  can stop the handlers and the wakeup fd from being put back); while the block runs the
  module's handler stands in for it;
- a signal belongs to the block during which it came, never to a later one: the block's end,
  once the wakeup fd is put back, waits until the watcher has read every byte in its pipe (a
  mark byte goes in behind them). Read during the next block, a Ctrl-C that came as one block
  ended stopped the next one too and raised a second ``KeyboardInterrupt`` out of it. (The
  byte is in the pipe before the fd is put back because the C handler that writes it runs
  on the main thread, where Linux delivers a process's signals as a rule; one run on another
  thread could write it a moment late.) It costs a block about 20 us; a watcher thread that
  has ended (its pipe broken, a bug) is not waited for;
- off the main thread (a server's worker threads, tests) it does nothing: signals reach the
  main thread only, and a server stops its queries itself when it stops;
- the wakeup fd in place before the block is restored after it, and meanwhile still gets each
  signal's byte (an event loop on the main thread keeps its signals); an inner block only adds
  its ``interrupt`` to the outer one's;
- whatever ends the block early also calls ``interrupt`` (a query DuckDB gave up on is stopped
  on its other threads), which must therefore do nothing on an idle connection; errors from
  it are ignored.
"""

from __future__ import annotations

import contextlib
import functools
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

_Handler = Callable[[int, Any], Any]


class _Session:
    """The outermost block: what to interrupt, the handlers it stands in for, and which
    signals the watcher took (their handlers run at the end) or the main thread handled."""

    def __init__(self, interrupt: Callable[[], object], handlers: dict[int, _Handler]) -> None:
        self.interrupts = [interrupt]
        self.handlers = handlers
        self.taken: set[int] = set()
        self.handled: set[int] = set()
        # Set as the block ends: from then on the stand-in only takes signals and the watcher
        # stops nothing, so no handler raises while the handlers and wakeup fd are put back.
        self.ending = False
        self.forward: int | None = None  # the wakeup fd it replaced, once it has

    def stop(self) -> None:
        for interrupt in list(self.interrupts):
            with contextlib.suppress(Exception):
                interrupt()


# Guards _session and its sets. Reentrant: the stand-in handler runs on the main thread
# between two bytecodes, perhaps inside a block of the main thread that holds it.
_lock = threading.RLock()
_session: _Session | None = None
# The handlers the last session stood in for: the stand-in calls them when it finds no session
# (a block left unfinished and ended off the main thread could not put them back).
_outside: dict[int, _Handler] = {}


# Written by a block's end after its signals' bytes (no signal has the number 0): the watcher
# has read all of them once it reads this.
_MARK = b"\0"
# How long a block's end waits for the watcher at most (it takes microseconds, or up to the
# 20 ms of one round of stopping a query): a watcher that cannot run must not hang the program.
_DRAIN_WAIT_S = 2.0


class _Watcher:
    """The process's one watcher thread and its pipe, made when first needed."""

    def __init__(self) -> None:
        self.forward = -1  # the wakeup fd a session replaced: it gets every byte too
        self.read_fd, self.write_fd = os.pipe()
        os.set_blocking(self.write_fd, False)  # set_wakeup_fd requires it
        self._marks = threading.Condition(threading.Lock())
        self._marks_written = 0
        self._marks_read = 0
        self._ended = False  # the thread has returned (or died): no mark will be read
        self.thread = threading.Thread(target=self._run, name="spanscope-interrupt", daemon=True)
        self.thread.start()

    def drain(self) -> None:
        """Return once the watcher has dealt with every byte in its pipe now: a mark goes in
        behind them (the pipe keeps their order), and the watcher counts the marks it reads.
        At once when the watcher thread has ended: nobody reads the mark (each block's end
        waited ``_DRAIN_WAIT_S`` for it)."""
        if not self.thread.is_alive():
            return
        with self._marks:
            self._marks_written += 1
            wanted = self._marks_written
        deadline = time.monotonic() + _DRAIN_WAIT_S
        while True:
            try:
                os.write(self.write_fd, _MARK)
                break
            except BlockingIOError:  # a full pipe (thousands of signals): the watcher reads it
                if time.monotonic() >= deadline:
                    return
                time.sleep(0.001)
            except OSError:
                return
        with self._marks:
            self._marks.wait_for(
                lambda: self._marks_read >= wanted or self._ended,
                max(0.0, deadline - time.monotonic()),
            )

    def _run(self) -> None:
        try:
            self._watch()
        finally:  # (a drain waiting now for a mark stops waiting)
            with self._marks:
                self._ended = True
                self._marks.notify_all()

    def _watch(self) -> None:
        while True:
            try:
                received = os.read(self.read_fd, 64)
            except OSError:
                return
            if not received:  # no writer left (its fd closed): nothing will come
                return
            signals = received.replace(_MARK, b"")
            if signals and self.forward != -1:
                with contextlib.suppress(OSError):
                    os.write(self.forward, signals)
            # Bytes after the last mark came after a block put its wakeup fd back, and before
            # the next could start (it waits for this mark): signals of no block.
            before, mark, after = received.rpartition(_MARK)
            stopping = self._take(before.replace(_MARK, b"") if mark else after)
            if mark:
                with self._marks:
                    self._marks_read += received.count(_MARK)
                    self._marks.notify_all()
            # Again until the block ends: DuckDB forgets an interrupt that comes between two
            # statements (a search reads window after window). Under the lock, as the block's
            # end, after which its connection may be closed.
            while stopping is not None:
                time.sleep(0.02)
                with _lock:
                    if _session is not stopping or stopping.ending:
                        break
                    stopping.stop()

    @staticmethod
    def _take(received: bytes) -> _Session | None:
        """Count the signals of ``received`` for the block running now; that block if they
        stopped its query."""
        with _lock:
            session = _session
            if session is None:
                return None
            stopping = False
            for signum in received:
                if signum not in session.handlers:
                    continue
                if signum in session.handled:  # the main thread got there first
                    session.handled.discard(signum)
                else:
                    session.taken.add(signum)
                    stopping = True
            if stopping and not session.ending:
                session.stop()
                return session
            return None


_watcher: _Watcher | None = None
_watcher_pid = 0


def _the_watcher() -> _Watcher:
    global _watcher, _watcher_pid
    # A forked child has the pipe but not the thread: it makes its own.
    if _watcher is None or _watcher_pid != os.getpid():
        _watcher, _watcher_pid = _Watcher(), os.getpid()
    return _watcher


def _handlers() -> dict[int, _Handler]:
    """The handlers a block stands in for (see the contract)."""
    handlers: dict[int, _Handler] = {}
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        handlers[signal.SIGINT] = signal.default_int_handler
    term = signal.getsignal(signal.SIGTERM)
    if callable(term):
        handlers[signal.SIGTERM] = term
    return handlers


def _stand_in(signum: int, frame: Any) -> None:
    """The handler while a block runs: nothing for a signal the watcher took (its query
    stops, and the block's end runs the handler), the handler itself for one that came while
    the main thread ran Python (no query to stop)."""
    with _lock:
        session = _session
        if session is None:
            handler = _outside.get(signum)
        elif signum in session.taken:
            return
        elif session.ending:  # its handler runs once all is put back (_run_taken)
            session.taken.add(signum)
            return
        else:
            session.handled.add(signum)
            handler = session.handlers[signum]
    if handler is not None:
        handler(signum, frame)


def _run_pending_handlers() -> None:
    """Nothing: Python runs the handlers of signals that arrived at the start of a Python
    function, so calling this runs them here."""


@contextlib.contextmanager
def interruptible(interrupt: Callable[[], object]) -> Iterator[None]:
    """While the block runs on the main thread, Ctrl-C (and SIGTERM with a Python handler)
    calls ``interrupt`` at once from another thread; the signal's handler runs when the block
    ends (Ctrl-C: ``KeyboardInterrupt``, whatever the interrupted call raised)."""
    global _session
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    outer = _session
    if outer is not None and not outer.ending:  # (an ended one may be left if a signal came
        yield from _inner(outer, interrupt)  # just as it was being forgotten: it is done)
        return
    handlers = _handlers()
    if not handlers:
        yield
        return
    watcher = _the_watcher()
    session = _Session(interrupt, handlers)
    try:  # from here on whatever a signal raises finds the end below, set up or not
        with _lock:
            _session = session
            _outside.clear()
            _outside.update(handlers)
        for signum in handlers:
            signal.signal(signum, _stand_in)
        session.forward = signal.set_wakeup_fd(watcher.write_fd, warn_on_full_buffer=False)
        # (its own fd, left by a block that the garbage collector ended off the main thread:
        # forwarded to, each byte would come back to it forever)
        watcher.forward = -1 if session.forward == watcher.write_fd else session.forward
        yield
        session.ending = True  # in the try: a signal's handler that raises here is handled
    except GeneratorExit:  # left unfinished (e.g. garbage): put things back, nothing more
        session.ending = True  # (before any call: a signal's handler may run at one)
        _end(session, watcher, run_pending=False)
        raise
    except BaseException as exc:
        session.ending = True
        session.stop()
        _end(session, watcher)
        _run_taken(session)
        cause = exc.__cause__
        if isinstance(exc, RuntimeError) and str(exc) == "Query interrupted" and cause:
            # DuckDB ran the handler itself between two tasks and wrapped what it raised
            raise cause from None
        raise
    _end(session, watcher)
    _run_taken(session)


def _inner(session: _Session, interrupt: Callable[[], object]) -> Iterator[None]:
    session.interrupts.append(interrupt)
    try:
        yield
    except BaseException:
        with contextlib.suppress(Exception):
            interrupt()
        raise
    finally:
        session.interrupts.remove(interrupt)


def _end(session: _Session, watcher: _Watcher, run_pending: bool = True) -> None:
    """Put back the handlers and the wakeup fd, once a signal on its way is taken
    (``session.ending`` is set: the stand-in takes it, and ``_run_taken`` runs its handler)."""
    global _session
    try:
        with _lock:  # the watcher is not stopping a query of the session any more
            pass
        if run_pending:
            _run_pending_handlers()
        # set_wakeup_fd and signal work on the main thread only: a block left unfinished is
        # ended by the garbage collector, which may run elsewhere (the stand-in then finds no
        # session and calls the handler it stood in for; the watcher forwards every byte).
        if threading.current_thread() is threading.main_thread():
            _put_back(session, watcher)
    finally:
        _session = None  # last; if a handler raises just before, the ended session is ignored


def _put_back(session: _Session, watcher: _Watcher) -> None:
    """The wakeup fd and every handler back. A signal once its own handler is back runs that
    handler at once, which may raise (Ctrl-C: ``KeyboardInterrupt``) between two steps: the
    rest are still put back, then it is raised."""
    raised: BaseException | None = None
    steps: list[Callable[[], object]] = []
    forward = session.forward
    if forward is not None:
        steps.append(lambda: signal.set_wakeup_fd(forward))
    # Once the watcher's fd is out, no byte of a signal goes to its pipe: what is there came
    # during this block, and is the block's (the watcher discards the byte of a signal the
    # main thread handled, or takes it). Read all of it now, while the stand-in still takes
    # the signals that come meanwhile (session.ending): read later, during the next block,
    # the byte was that block's signal, one Ctrl-C two KeyboardInterrupts.
    steps.append(watcher.drain)
    steps += [functools.partial(_put_back_handler, n, h) for n, h in session.handlers.items()]
    for step in steps:
        try:
            step()
        except BaseException as exc:  # raised again below, once the rest are back
            raised = raised or exc
            step()  # the handler ran before or after the step's change: again (idempotent)
    if raised is not None:
        raise raised


def _put_back_handler(signum: int, handler: _Handler) -> None:
    if signal.getsignal(signum) is _stand_in:
        signal.signal(signum, handler)


def _run_taken(session: _Session) -> None:
    """Run the handlers of the signals whose query the watcher stopped, in place of what the
    stopped call raised."""
    for signum in sorted(session.taken):
        try:
            session.handlers[signum](signum, None)
        except BaseException as raised:
            raise raised from None
