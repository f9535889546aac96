"""The write pipeline: receivers -> bounded queue -> [tail sampler] -> one writer -> store.

Contract (like the Collector's ``ConsumeTraces``): ``await pipeline.submit(spans)`` takes
ownership of ``spans``; it returns only once they are durably in the store (so a receiver may
answer success), and raises ``Overloaded`` at once when accepting them would exceed the queue's
capacity (the receiver answers 429/503 or RESOURCE_EXHAUSTED: a retryable refusal, never a
silent drop). ``WriteFailed`` means the store refused the batch (also retryable).

Two threads share the work. The batching thread adds what the receivers queued, as it
arrives, to the one open batch: the store's (``store.open_batch()``, the DuckDB store's columns)
or, for a store without one, a list of spans. The writer thread, each time it finishes a write,
takes the open batch (everything that arrived during that write), finishes it and writes it,
inside DuckDB, which releases the GIL. So encoding overlaps writing, and each write holds
everything that arrived during the previous one: the biggest batch the load allows (DuckDB's
cost per span falls steeply with batch size, and its fixed costs per write, in Python and in
its Arrow scan, are paid once), without waiting for a batch to fill. A batch is closed at
``max_batch_spans``. ``start`` and ``stop`` are idempotent; ``stop`` drains what was accepted
before returning.

OTLP protobuf requests skip the model spans when nothing needs them (no tail sampler, and a
store with ``open_batch``): the receiver checks and counts the body (``protobuf_request``: the
C decoder's ``scan``, without the GIL) and submits it as a ``ProtobufRequest``, whose columns
the batching thread fills into the open batch (C, without the GIL). This took the serving
process from ~15 to ~8 us of CPU a span (see ``spanscope.store.otlp_columns``); any other body
is decoded to spans by the receiver, so bad payloads get the decoder's errors as before.

Nothing accepted is lost when encoding fails (a bug, or no memory): a batch whose columns cannot
be built is written as model spans (its bodies decoded), and spans whose encoding fails are
written alone, so that only their senders get the store's (retryable) error.

With a tail sampler (``spanscope.sampling.TailSampler``) the batching thread hands it each batch
and writes what it gives back (traces whose decision came due, late spans of kept traces); idle,
it asks again every ``SAMPLER_TICK_S``; ``stop`` decides and writes every trace still waiting.
A success answer then means the spans reached the sampler: only kept traces reach the store.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import chain
from typing import Any, Protocol

from spanscope.formats import decode_spans
from spanscope.formats.otlp_native import scan
from spanscope.model import Span
from spanscope.server.metrics import Metrics

log = logging.getLogger(__name__)

# With a tail sampler: how long the batching thread waits idle before asking it for the traces
# whose decision came due.
SAMPLER_TICK_S = 0.5


class OpenBatch(Protocol):
    """A store's batch for one write, built as requests arrive (e.g.
    ``spanscope.store.otlp_columns.BatchBuilder``); used by one thread at a time."""

    def add_request(self, body: bytes) -> None:
        """Add the spans of an OTLP protobuf body ``otlp_native.scan`` took. After this
        raised the batch is unusable."""

    def add_spans(self, spans: Sequence[Span]) -> None:
        """Add ``spans``; on an error, none of them is added."""

    def finish(self) -> object:
        """Everything added, as ``write`` takes it; called once."""


class SpanWriter(Protocol):
    """What the pipeline needs of a store. A store may also offer ``open_batch()``, an
    ``OpenBatch`` whose finished result its ``write`` takes: the pipeline then encodes requests
    as they arrive, while the store writes, and writes OTLP protobuf bodies without model
    spans."""

    # Any: a list of spans, or what the store's own OpenBatch.finish() made of them.
    def write(self, spans: Any) -> None: ...


@dataclass(frozen=True, slots=True)
class ProtobufRequest:
    """An OTLP protobuf body submitted as it is: the store encodes it without model spans.
    Made by ``WritePipeline.protobuf_request``, which has checked it (``otlp_native.scan``)."""

    body: bytes
    spans: int

    def __len__(self) -> int:
        return self.spans


class Overloaded(Exception):
    """The queue is full: retry later."""


class WriteFailed(Exception):
    """The store refused the write: retry later."""


@dataclass
class _Pending:
    spans: list[Span] | ProtobufRequest
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[None]


@dataclass(slots=True)
class _Batch:
    """What one write stores: the requests it answers (``pending``), and their spans (after
    sampling: ``size`` of them) as the store's open batch (``columns``) or, without one, as
    model spans (``spans``) and OTLP protobuf ``bodies``. With ``columns`` those two are kept
    too, to write should building the columns fail (``columns`` is None from then on)."""

    columns: OpenBatch | None
    pending: list[_Pending] = field(default_factory=list)
    spans: list[Span] = field(default_factory=list)
    bodies: list[bytes] = field(default_factory=list)
    size: int = 0

    def contents(self) -> object:
        """What ``store.write`` takes: the finished columns, else the model spans."""
        if self.columns is not None:
            try:
                return self.columns.finish()
            except Exception:  # a bug, or no memory: the senders were told it is readable
                log.exception("encoding a batch failed; writing its spans instead")
        return [*chain.from_iterable(map(_decoded, self.bodies)), *self.spans]


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
    # The store's open_batch, if it has one.
    _open_batch: Callable[[], OpenBatch] | None = field(init=False)
    # Batches for the writer, oldest first; the open one (being added to) is the last.
    _ready: deque[_Batch] = field(default_factory=deque)
    _ready_changed: threading.Condition = field(default_factory=threading.Condition)
    _encoding_done: bool = False
    _open: _Batch | None = None

    def __post_init__(self) -> None:
        if self.capacity_spans <= 0:
            raise ValueError("capacity_spans must be positive")
        self._wake = threading.Condition(self._lock)
        self._open_batch = getattr(self.store, "open_batch", None)

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stopping = False
        self._encoding_done = False
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

    def protobuf_request(self, body: bytes) -> ProtobufRequest | None:
        """``body`` (OTLP protobuf) as a request for ``submit`` that skips the model spans,
        or None: then decode it and submit its spans. Only without a tail sampler (it needs
        spans), with a store that has ``open_batch``, and for a message the C decoder takes
        whole (``otlp_native.scan``, which also counts its spans, without the GIL)."""
        if not self._takes_bodies():
            return None
        count = scan(body)
        return None if count is None else ProtobufRequest(body, count)

    def _takes_bodies(self) -> bool:
        return self.sampler is None and self._open_batch is not None

    async def submit(self, spans: list[Span] | ProtobufRequest) -> None:
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

    def _take_queued(self) -> list[_Pending] | None:
        """The next requests to add; None once stopping with nothing queued. With a tail
        sampler, an empty list after ``SAMPLER_TICK_S`` idle, so traces whose decision is due
        go out while no new spans arrive."""
        with self._wake:
            while not self._queue and not self._stopping:
                if self.sampler is None:
                    self._wake.wait()
                elif not self._wake.wait(SAMPLER_TICK_S) and not self._queue:
                    return []
            if not self._queue:
                return None
            taken: list[_Pending] = []
            count = 0
            while self._queue and (
                not taken or count + len(self._queue[0].spans) <= self.max_batch_spans
            ):
                item = self._queue.popleft()
                taken.append(item)
                count += len(item.spans)
            return taken

    def _run(self) -> None:
        """The batching thread (see the module docstring); it starts the writer thread and
        ends it once everything accepted is handed over."""
        writer = threading.Thread(target=self._write_loop, name="spanscope-store", daemon=True)
        writer.start()
        # protobuf_request() makes ProtobufRequests only when the store takes them as they are;
        # should one come otherwise, its spans are decoded here.
        takes_bodies = self._takes_bodies()
        try:
            while (taken := self._take_queued()) is not None:
                requests = [item for item in taken if takes_bodies and _is_body(item)]
                if requests:
                    self._add_requests(requests)
                    taken = [item for item in taken if not _is_body(item)]
                spans = list(chain.from_iterable(_spans_of(item.spans) for item in taken))
                if self.sampler is not None:
                    spans = self.sampler(spans)
                self._add_spans(taken, spans)
            flush = getattr(self.sampler, "flush", None)
            if flush is not None:  # decide the traces still waiting: they were accepted
                self._add_spans([], flush())
        finally:
            with self._ready_changed:
                self._encoding_done = True
                self._ready_changed.notify()
            writer.join()

    def _batch_for(self, spans: int) -> _Batch:
        """The open batch, or a new one if it has no room for ``spans`` more. Call it holding
        ``_ready_changed``."""
        batch = self._open
        if batch is None or (batch.size and batch.size + spans > self.max_batch_spans):
            columns = None if self._open_batch is None else self._open_batch()
            batch = self._open = _Batch(columns)
            self._ready.append(batch)
        return batch

    def _add_requests(self, items: list[_Pending]) -> None:
        """Fill the columns of protobuf requests into the open batch (in C, without the GIL,
        while the writer writes)."""
        with self._ready_changed:
            for item in items:
                request = item.spans
                assert isinstance(request, ProtobufRequest)
                batch = self._batch_for(request.spans)
                if batch.columns is not None:
                    try:
                        batch.columns.add_request(request.body)
                    except Exception:  # a bug, or no memory: the writer decodes them instead
                        log.exception("encoding a protobuf request failed")
                        batch.columns = None
                batch.bodies.append(request.body)
                batch.pending.append(item)
                batch.size += request.spans
            self._ready_changed.notify()

    def _add_spans(self, items: list[_Pending], spans: list[Span]) -> None:
        """Add ``spans`` (what ``items`` gave, after sampling) to the open batch, encoding them
        into its columns."""
        if not items and not spans:
            return
        with self._ready_changed:
            batch = self._batch_for(len(spans))
            if batch.columns is not None and spans:
                try:
                    batch.columns.add_spans(spans)
                except Exception:  # written alone: only their senders get the store's error
                    log.exception("encoding spans failed")
                    batch = _Batch(None)
                    self._ready.append(batch)
            batch.spans += spans
            batch.pending += items
            batch.size += len(spans)
            self._ready_changed.notify()

    def _take_ready(self) -> _Batch | None:
        """The oldest batch, closed now if it is the open one; None at the end."""
        with self._ready_changed:
            while not self._ready and not self._encoding_done:
                self._ready_changed.wait()
            if not self._ready:
                return None
            batch = self._ready.popleft()
            if batch is self._open:  # what comes now goes into a new one
                self._open = None
            return batch

    def _write_loop(self) -> None:
        while (batch := self._take_ready()) is not None:
            self._write(batch)

    def _write(self, batch: _Batch) -> None:
        started = time.perf_counter()
        error: Exception | None = None
        try:
            if batch.size:
                self.store.write(batch.contents())
        except Exception as exc:  # the store's failure is the senders' retryable error
            log.exception("store write failed")
            error = exc
        elapsed = time.perf_counter() - started
        count = sum(len(item.spans) for item in batch.pending)
        with self._wake:
            self._queued_spans -= count
            self.metrics.queue_spans = self._queued_spans
        self.metrics.observe_write(count, elapsed, failed=error is not None)
        # One wake-up per event loop, not per request: each call_soon_threadsafe writes to the
        # loop's self-pipe, which releases and re-takes the GIL (a wait of up to the switch
        # interval while the receivers hold it).
        by_loop: dict[asyncio.AbstractEventLoop, list[asyncio.Future[None]]] = {}
        for item in batch.pending:
            by_loop.setdefault(item.loop, []).append(item.future)
        for loop, futures in by_loop.items():
            loop.call_soon_threadsafe(_settle, futures, error)


def _decoded(body: bytes) -> list[Span]:
    return decode_spans(body, "otlp-proto", source="protobuf request")


def _is_body(item: _Pending) -> bool:
    return type(item.spans) is ProtobufRequest


def _spans_of(item: list[Span] | ProtobufRequest) -> list[Span]:
    return _decoded(item.body) if isinstance(item, ProtobufRequest) else item


def _settle(futures: list[asyncio.Future[None]], error: Exception | None) -> None:
    for future in futures:
        if future.done():  # the request was cancelled (client went away); the spans are stored
            continue
        if error is None:
            future.set_result(None)
        else:
            future.set_exception(WriteFailed(f"store write failed: {error}"))
