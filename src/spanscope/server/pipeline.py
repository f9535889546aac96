"""The write pipeline: receivers -> bounded queue -> [tail sampler] -> one writer -> store.

Contract (like the Collector's ``ConsumeTraces``): ``await pipeline.submit(spans)`` takes
ownership of ``spans``; it returns only once they are durably in the store (so a receiver may
answer success), and raises ``Overloaded`` at once when accepting them would exceed the queue's
capacity (the receiver answers 429/503 or RESOURCE_EXHAUSTED: a retryable refusal, never a
silent drop). ``WriteFailed`` means the store refused the batch (also retryable).

One batching thread coalesces the batches that queued up while the previous write ran into one
batch (DuckDB appends are much cheaper per span in big batches) and encodes it with
``store.prepare`` when the store has it; one writer thread owns the store's write side and
writes it. Encoding batch N+1 overlaps DuckDB inserting batch N, which releases the GIL; batch
N+1 is taken only once the writer has started on N, so it holds everything that queued up
meanwhile. ``start`` and ``stop`` are idempotent; ``stop`` drains what was accepted before
returning.

OTLP protobuf requests skip the model spans when nothing needs them (no tail sampler, and a
store with ``request_columns``, the DuckDB store): the receiver checks and counts the body
(``protobuf_request``: the C decoder's ``scan``, without the GIL) and submits it as a
``ProtobufRequest``; the batching thread fills the columns of each body as it arrives into the
one open column batch (C, without the GIL); the writer takes that batch with the rest of what
is ready, finishes it (one Arrow table: a fixed Python cost per write, not per span) and writes
it. This took the serving process from ~15 to ~8 us of CPU a span (see
``spanscope.store.otlp_columns``); any other body is decoded to spans by the receiver, so bad
payloads get the decoder's errors as before.

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
from typing import Protocol

from spanscope.formats import decode_spans
from spanscope.formats.otlp_native import scan
from spanscope.model import Span
from spanscope.server.metrics import Metrics

log = logging.getLogger(__name__)

# With a tail sampler: how long the batching thread waits idle before asking it for the traces
# whose decision came due.
SAMPLER_TICK_S = 0.5


class SpanWriter(Protocol):
    """What the pipeline needs of a store. A store may also offer ``prepare(spans)``, whose
    result ``write`` accepts: the pipeline then encodes requests while the store writes;
    ``merge(prepared)``, one prepared batch from several, so that what was encoded during a
    write is stored by the next one; and ``request_columns()``, an object that ``add``s OTLP
    protobuf bodies (``ProtobufRequest``) one by one and ``finish``es as ``prepare`` of their
    spans would, without model spans."""

    def write(self, spans: Sequence[Span]) -> None: ...


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
    # Encoded chunks waiting for the writer (see _run).
    _ready: deque[_Encoded] = field(default_factory=deque)
    _ready_changed: threading.Condition = field(default_factory=threading.Condition)
    _encoding_done: bool = False
    # The chunk of protobuf requests being filled (in _ready; see _add_requests).
    _open: _Encoded | None = None

    def __post_init__(self) -> None:
        if self.capacity_spans <= 0:
            raise ValueError("capacity_spans must be positive")
        self._wake = threading.Condition(self._lock)

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
        spans), with a store that has ``request_columns``, and for a message the C decoder
        takes whole (``otlp_native.scan``, which also counts its spans, without the GIL)."""
        if self.sampler is not None or getattr(self.store, "request_columns", None) is None:
            return None
        count = scan(body)
        return None if count is None else ProtobufRequest(body, count)

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

    def _take_batch(self) -> list[_Pending] | None:
        """The next requests to encode; None once stopping with nothing queued. With a tail
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
            taken, count = [], 0
            while self._queue and (
                not taken or count + len(self._queue[0].spans) <= self.max_batch_spans
            ):
                item = self._queue.popleft()
                taken.append(item)
                count += len(item.spans)
            return taken

    def _run(self) -> None:
        """Two stages on two threads. This one encodes what the receivers queued, as it
        arrives (``store.prepare``: Python work holding the GIL), into ``_Encoded`` chunks; the
        writer thread takes ALL the chunks ready when it finishes a write and stores them as
        one batch (``store.merge``), inside DuckDB, which releases the GIL. So encoding
        overlaps writing, and each write holds everything that arrived during the previous
        one: the biggest batch the load allows (DuckDB's cost per span falls steeply with batch
        size), without waiting for a batch to fill."""
        writer = threading.Thread(target=self._write_loop, name="spanscope-store", daemon=True)
        writer.start()
        prepare = getattr(self.store, "prepare", None)
        # protobuf_request() makes ProtobufRequests only when the store takes them as they are;
        # should one come otherwise, its spans are decoded here.
        as_bodies = (
            self.sampler is None and getattr(self.store, "request_columns", None) is not None
        )
        try:
            while (taken := self._take_batch()) is not None:
                raw = [item for item in taken if as_bodies and type(item.spans) is ProtobufRequest]
                if raw:
                    taken = [item for item in taken if type(item.spans) is not ProtobufRequest]
                    self._add_requests(raw)
                spans = list(chain.from_iterable(_spans_of(item.spans) for item in taken))
                if self.sampler is not None:
                    spans = self.sampler(spans)
                if taken or spans:
                    self._encode(prepare, taken, spans)
            flush = getattr(self.sampler, "flush", None)
            if flush is not None:  # decide the traces still waiting: they were accepted
                self._encode(prepare, [], flush())
        finally:
            with self._ready_changed:
                self._encoding_done = True
                self._ready_changed.notify()
            writer.join()

    def _encode(self, prepare, taken: list[_Pending], spans: list[Span]) -> None:
        batch: object = spans
        prepared = False
        if prepare is not None and spans:
            try:
                batch = prepare(spans)
                prepared = True
            except Exception:  # let write() report it, with the same retryable answer
                log.exception("encoding a batch failed")
        self._hand_over(_Encoded(taken, batch, len(spans), prepared))

    def _hand_over(self, chunk: _Encoded) -> None:
        with self._ready_changed:
            self._ready.append(chunk)
            self._ready_changed.notify()

    def _add_requests(self, items: list[_Pending]) -> None:
        """Fill the columns of protobuf requests into the open chunk (``store.request_columns``,
        in C without the GIL, while the writer writes), which the writer finishes and writes
        as one Arrow table: its fixed costs, in Python and in DuckDB's scan, are paid once a
        write instead of once a request."""
        with self._ready_changed:
            chunk = self._open
            if chunk is None or chunk.size >= self.max_batch_spans:
                chunk = self._open = _Encoded([], self.store.request_columns(), 0, False)  # type: ignore
                self._ready.append(chunk)
            for item in items:
                if chunk.batch is not None:
                    try:
                        chunk.batch.add(item.spans.body)  # type: ignore[union-attr]
                    except Exception:  # a bug, or no memory: the writer decodes them instead
                        log.exception("encoding a protobuf request failed")
                        chunk.batch = None
                chunk.pending.append(item)
                chunk.size += len(item.spans)
            self._ready_changed.notify()

    def _finish_requests(self, chunks: list[_Encoded]) -> _Encoded:
        """The protobuf requests of ``chunks`` (normally one) as one encoded chunk; their
        bodies decoded to spans should their columns have failed."""
        if len(chunks) == 1 and chunks[0].batch is not None:
            try:
                return _Encoded.joined(chunks, chunks[0].batch.finish())  # type: ignore
            except Exception:  # a bug, or no memory: the senders were told it is readable
                log.exception("encoding protobuf requests failed; decoding them to spans")
        bodies = [item.spans.body for chunk in chunks for item in chunk.pending]  # type: ignore
        spans = list(chain.from_iterable(map(_decoded, bodies)))
        pending = [item for chunk in chunks for item in chunk.pending]
        try:
            return _Encoded(pending, self.store.prepare(spans), len(spans), True)  # type: ignore
        except Exception:  # let write() report it, with the same retryable answer
            log.exception("encoding a batch failed")
            return _Encoded(pending, spans, len(spans), False)

    def _take_ready(self) -> list[_Encoded] | None:
        """The chunks ready now, up to ``max_batch_spans`` (at least one); None at the end."""
        with self._ready_changed:
            while not self._ready and not self._encoding_done:
                self._ready_changed.wait()
            if not self._ready:
                return None
            taken, count = [], 0
            while self._ready and (
                not taken or count + self._ready[0].size <= self.max_batch_spans
            ):
                chunk = self._ready.popleft()
                if chunk is self._open:  # what comes now goes into a new one
                    self._open = None
                taken.append(chunk)
                count += chunk.size
            return taken

    def _write_loop(self) -> None:
        merge = getattr(self.store, "merge", None)
        while (chunks := self._take_ready()) is not None:
            requests = [chunk for chunk in chunks if _is_requests(chunk)]
            if requests:
                chunks = [chunk for chunk in chunks if not _is_requests(chunk)]
                chunks.insert(0, self._finish_requests(requests))
            prepared = [chunk for chunk in chunks if chunk.prepared]
            groups = [chunk for chunk in chunks if not chunk.prepared]
            if merge is not None and len(prepared) > 1:
                try:
                    joined = merge(chunk.batch for chunk in prepared)
                except Exception:  # write them one by one then; the senders are answered
                    log.exception("merging encoded batches failed")
                    groups[:0] = prepared
                else:
                    groups.insert(0, _Encoded.joined(prepared, joined))
            else:
                groups[:0] = prepared
            for group in groups:
                self._write(group)

    def _write(self, chunk: _Encoded) -> None:
        started = time.perf_counter()
        error: Exception | None = None
        try:
            if chunk.size:
                self.store.write(chunk.batch)  # type: ignore[arg-type]
        except Exception as exc:  # the store's failure is the senders' retryable error
            log.exception("store write failed")
            error = exc
        elapsed = time.perf_counter() - started
        count = sum(len(item.spans) for item in chunk.pending)
        with self._wake:
            self._queued_spans -= count
            self.metrics.queue_spans = self._queued_spans
        self.metrics.observe_write(count, elapsed, failed=error is not None)
        # One wake-up per event loop, not per request: each call_soon_threadsafe writes to the
        # loop's self-pipe, which releases and re-takes the GIL (a wait of up to the switch
        # interval while the receivers hold it).
        by_loop: dict[asyncio.AbstractEventLoop, list[asyncio.Future[None]]] = {}
        for item in chunk.pending:
            by_loop.setdefault(item.loop, []).append(item.future)
        for loop, futures in by_loop.items():
            loop.call_soon_threadsafe(_settle, futures, error)


@dataclass
class _Encoded:
    """Requests taken from the queue and their spans, encoded by ``store.prepare`` when
    ``prepared`` (else the span list itself; ``None`` for protobuf requests that the writer
    encodes). ``size`` counts the spans to write (after sampling)."""

    pending: list[_Pending]
    batch: object
    size: int
    prepared: bool

    @classmethod
    def joined(cls, chunks: list[_Encoded], batch: object) -> _Encoded:
        pending = [item for chunk in chunks for item in chunk.pending]
        return cls(pending, batch, sum(chunk.size for chunk in chunks), True)


def _decoded(body: bytes) -> list[Span]:
    return decode_spans(body, "otlp-proto", source="protobuf request")


def _is_requests(chunk: _Encoded) -> bool:
    """Whether the chunk holds protobuf requests (filled columns, or None if that failed)."""
    return not chunk.prepared and not isinstance(chunk.batch, list)


def _spans_of(item: list[Span] | ProtobufRequest) -> list[Span]:
    return _decoded(item.body) if type(item) is ProtobufRequest else item


def _settle(futures: list[asyncio.Future[None]], error: Exception | None) -> None:
    for future in futures:
        if future.done():  # the request was cancelled (client went away); the spans are stored
            continue
        if error is None:
            future.set_result(None)
        else:
            future.set_exception(WriteFailed(f"store write failed: {error}"))
