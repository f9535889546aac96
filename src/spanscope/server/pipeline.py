"""The write pipeline: receivers -> bounded queue -> [tail sampler] -> one writer -> store.

Contract (like the Collector's ``ConsumeTraces``): ``await pipeline.submit(spans)`` takes
ownership of ``spans``; it returns only once they are durably in the store (so a receiver may
answer success), and raises ``Overloaded`` at once when accepting them would exceed the queue's
capacity (the receiver answers 429/503 or RESOURCE_EXHAUSTED: a retryable refusal, never a
silent drop). ``WriteFailed`` means the store refused the batch (also retryable).

One batching thread coalesces the batches that queued up while the previous write ran into one
batch (DuckDB appends are much cheaper per span in big batches) and encodes it with
``store.prepare`` when the store has it; one writer thread owns the store's write side and
writes it. Encoding batch N+1 overlaps DuckDB inserting batch N, which releases the GIL.
``start`` and ``stop`` are idempotent; ``stop`` drains what was accepted before returning.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from spanscope.model import Span
from spanscope.server.metrics import Metrics

log = logging.getLogger(__name__)


class SpanWriter(Protocol):
    """What the pipeline needs of a store. A store may also offer ``prepare(spans)``, whose
    result ``write`` accepts: the pipeline then encodes the next batch while the store writes."""

    def write(self, spans: Sequence[Span]) -> None: ...


class Overloaded(Exception):
    """The queue is full: retry later."""


class WriteFailed(Exception):
    """The store refused the write: retry later."""


@dataclass
class _Pending:
    spans: list[Span]
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[None]


@dataclass
class WritePipeline:
    store: SpanWriter
    metrics: Metrics
    capacity_spans: int = 200_000
    max_batch_spans: int = 50_000
    sampler: Callable[[list[Span]], list[Span]] | None = None
    _queue: deque[_Pending] = field(default_factory=deque)
    _queued_spans: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _wake: threading.Condition = field(init=False)
    _thread: threading.Thread | None = None
    _stopping: bool = False

    def __post_init__(self) -> None:
        if self.capacity_spans <= 0:
            raise ValueError("capacity_spans must be positive")
        self._wake = threading.Condition(self._lock)

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="spanscope-writer", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        thread = self._thread
        if thread is None:
            return
        with self._wake:
            self._stopping = True
            self._wake.notify()
        thread.join()
        self._thread = None

    async def submit(self, spans: list[Span]) -> None:
        if not spans:
            return
        loop = asyncio.get_running_loop()
        pending = _Pending(spans, loop, loop.create_future())
        with self._wake:
            if self._thread is None or self._stopping:
                raise WriteFailed("the server is shutting down")
            # A batch bigger than the whole queue is still taken when the queue is empty,
            # so an oversized request cannot be refused forever.
            if self._queued_spans and self._queued_spans + len(spans) > self.capacity_spans:
                self.metrics.spans_refused += len(spans)
                raise Overloaded(
                    f"write queue full ({self._queued_spans:,} spans waiting); retry later"
                )
            self._queue.append(pending)
            self._queued_spans += len(spans)
            self.metrics.queue_spans = self._queued_spans
            self._wake.notify()
        await pending.future

    def _take_batch(self) -> list[_Pending] | None:
        with self._wake:
            while not self._queue and not self._stopping:
                self._wake.wait()
            if not self._queue:
                return None
            taken, count = [], 0
            while self._queue and (
                not taken or count + len(self._queue[0].spans) <= self.max_batch_spans
            ):
                item = self._queue.popleft()
                taken.append(item)
                count += len(item.spans)
            return taken

    def _run(self) -> None:
        """Two stages on two threads: this one takes and encodes batch N+1 (``store.prepare``,
        Python work holding the GIL) while the writer thread has DuckDB insert batch N (which
        releases the GIL), so the two costs overlap instead of adding up. It takes batch N+1
        only once the writer has started on batch N: what arrives meanwhile joins N+1, so
        batches stay as big as the queue allows (DuckDB's cost per span falls steeply with
        batch size) instead of one waiting batch being encoded early and half empty."""
        handoff: queue.Queue[tuple[list[_Pending], object] | None] = queue.Queue(maxsize=1)
        writer_ready = threading.Semaphore(1)
        writer = threading.Thread(
            target=self._write_loop,
            args=(handoff, writer_ready),
            name="spanscope-store",
            daemon=True,
        )
        writer.start()
        prepare = getattr(self.store, "prepare", None)
        try:
            while True:
                writer_ready.acquire()
                taken = self._take_batch()
                if taken is None:
                    break
                spans = [span for item in taken for span in item.spans]
                if self.sampler is not None:
                    spans = self.sampler(spans)
                batch: object = spans
                if prepare is not None and spans:
                    try:
                        batch = prepare(spans)
                    except Exception:  # let write() report it, with the same retryable answer
                        log.exception("encoding a batch failed")
                handoff.put((taken, batch))
        finally:
            handoff.put(None)
            writer.join()

    def _write_loop(
        self,
        handoff: queue.Queue[tuple[list[_Pending], object] | None],
        ready: threading.Semaphore,
    ) -> None:
        while (work := handoff.get()) is not None:
            ready.release()  # the batching thread may take the next batch now
            taken, batch = work
            started = time.perf_counter()
            error: Exception | None = None
            try:
                if batch:
                    self.store.write(batch)  # type: ignore[arg-type]
            except Exception as exc:  # the store's failure is the senders' retryable error
                log.exception("store write failed")
                error = exc
            elapsed = time.perf_counter() - started
            count = sum(len(item.spans) for item in taken)
            with self._wake:
                self._queued_spans -= count
                self.metrics.queue_spans = self._queued_spans
            self.metrics.observe_write(count, elapsed, failed=error is not None)
            for item in taken:
                item.loop.call_soon_threadsafe(_settle, item.future, error)


def _settle(future: asyncio.Future[None], error: Exception | None) -> None:
    if future.done():  # the request was cancelled (client went away); the spans are stored
        return
    if error is None:
        future.set_result(None)
    else:
        future.set_exception(WriteFailed(f"store write failed: {error}"))
