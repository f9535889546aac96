"""The write pipeline over a real DuckDB store: what queues up during a write is encoded
meanwhile and stored by the next write, as one transaction; a full queue refuses at once;
OTLP protobuf requests go to the store as they are when it can take them (and are decoded to
spans when it cannot)."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Coroutine
from typing import Any

import msgspec
import pytest

from spanscope.formats import decode_spans, encode_spans
from spanscope.server.metrics import Metrics
from spanscope.server.pipeline import Overloaded, ProtobufRequest, WritePipeline
from spanscope.store.duckdb_store import DuckDBStore
from spanscope.synthetic import generate_spans


class GatedStore(DuckDBStore):
    """A real store whose first write waits until the test opens the gate."""

    def __init__(self, path) -> None:
        super().__init__(path)
        self.gate = threading.Event()
        self.writing = threading.Event()  # the first write has begun (and waits for the gate)
        self.writes: list[int] = []

    def write(self, spans) -> None:
        if not self.writes:
            self.writing.set()
            self.gate.wait(30)
        self.writes.append(len(spans) if isinstance(spans, list) else spans.size)
        super().write(spans)


def _requests(count: int, size: int) -> list[list]:
    spans = list(generate_spans(count * size // 4, seed=5))[: count * size]
    return [
        [
            msgspec.structs.replace(span, trace_id=f"{n + 1:016x}{span.trace_id[16:]}")
            for span in spans[n * size : (n + 1) * size]
        ]
        for n in range(count)
    ]


def _wait_for(condition, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def _run(pipeline: WritePipeline, main: Callable[[], Coroutine[Any, Any, None]]) -> None:
    """Start the pipeline, run ``main`` on an event loop, and stop it (which drains it)."""
    pipeline.start()
    try:
        asyncio.run(main())
    finally:
        pipeline.stop()


def _encoded(pipeline: WritePipeline, requests: int):
    return lambda: sum(len(chunk.pending) for chunk in pipeline._ready) == requests


def test_requests_queued_during_a_write_go_in_one_next_write(tmp_path):
    store = GatedStore(tmp_path / "traces.duckdb")
    pipeline = WritePipeline(store, Metrics())
    requests = _requests(11, 100)

    async def main() -> None:
        first = asyncio.create_task(pipeline.submit(requests[0]))
        assert await asyncio.to_thread(store.writing.wait, 20)  # the writer holds batch 1
        rest = []
        for wave in (requests[1:6], requests[6:]):  # two waves, into the one open batch
            rest += [asyncio.create_task(pipeline.submit(spans)) for spans in wave]
            # The requests are encoded as they arrive, while the first write waits.
            await asyncio.to_thread(_wait_for, _encoded(pipeline, len(rest)))
        assert len(pipeline._ready) == 1
        assert not any(task.done() for task in [first, *rest])
        store.gate.set()
        await asyncio.gather(first, *rest)

    _run(pipeline, main)
    assert store.writes == [100, 1000]
    (stored,) = store._con.execute("SELECT count(*) FROM otel_traces").fetchone()
    assert stored == 1100
    for spans in (requests[0], requests[-1]):
        trace_id = spans[0].trace_id
        expected = sorted(
            (s for s in spans if s.trace_id == trace_id), key=lambda s: (s.start_ns, s.span_id)
        )
        assert store.get_trace(trace_id) == expected
    store.close()


def test_full_queue_refuses_at_once_and_keeps_what_it_accepted(tmp_path):
    store = GatedStore(tmp_path / "traces.duckdb")
    pipeline = WritePipeline(store, Metrics(), capacity_spans=150)
    first, second = _requests(2, 100)

    async def main() -> None:
        accepted = asyncio.create_task(pipeline.submit(first))
        await asyncio.to_thread(_wait_for, lambda: pipeline._queued_spans == 100)
        with pytest.raises(Overloaded):
            await pipeline.submit(second)
        store.gate.set()
        await accepted

    _run(pipeline, main)
    assert store._con.execute("SELECT count(*) FROM otel_traces").fetchone() == (100,)
    assert pipeline.metrics.spans_refused == 100
    store.close()


def _protobuf_bodies(count: int, size: int) -> list[bytes]:
    return [encode_spans(spans, "otlp-proto") for spans in _requests(count, size)]


class SpanOnlyStore:
    """A real DuckDB store seen through ``write`` alone, as a store without ``open_batch``
    (the columns path) is."""

    def __init__(self, path) -> None:
        self.duckdb = DuckDBStore(path)

    def write(self, spans) -> None:
        self.duckdb.write(spans)


def test_protobuf_requests_are_taken_as_they_are_only_when_the_store_can(tmp_path):
    body = _protobuf_bodies(1, 10)[0]
    with DuckDBStore(tmp_path / "a.duckdb") as store:
        request = WritePipeline(store, Metrics()).protobuf_request(body)
        assert isinstance(request, ProtobufRequest)
        assert len(request) == len(decode_spans(body, "otlp-proto")) > 0
        assert WritePipeline(store, Metrics()).protobuf_request(body[:-3]) is None  # truncated
        # A tail sampler needs spans.
        sampled = WritePipeline(store, Metrics(), sampler=lambda spans: spans)
        assert sampled.protobuf_request(body) is None
    store = SpanOnlyStore(tmp_path / "b.duckdb")
    assert WritePipeline(store, Metrics()).protobuf_request(body) is None
    store.duckdb.close()


def test_protobuf_requests_and_span_lists_mixed_in_one_write(tmp_path):
    # Protobuf requests and span lists queued during one write are encoded by both paths and
    # stored by one next write; the store then holds exactly their spans.
    store = GatedStore(tmp_path / "traces.duckdb")
    pipeline = WritePipeline(store, Metrics())
    bodies = _protobuf_bodies(6, 100)
    lists = [decode_spans(body, "otlp-proto") for body in bodies]

    async def main() -> None:
        first = asyncio.create_task(pipeline.submit(lists[0]))
        assert await asyncio.to_thread(store.writing.wait, 20)  # the writer holds batch 1
        rest = [
            asyncio.create_task(
                pipeline.submit(pipeline.protobuf_request(body) if n % 2 else lists[n])
            )
            for n, body in enumerate(bodies[1:], start=1)
        ]
        await asyncio.to_thread(_wait_for, _encoded(pipeline, len(rest)))
        store.gate.set()
        await asyncio.gather(first, *rest)

    _run(pipeline, main)
    assert store.writes == [100, 500]
    expected = [span for spans in lists for span in spans]
    for trace_id in {span.trace_id for span in expected}:
        assert store.get_trace(trace_id) == sorted(
            (s for s in expected if s.trace_id == trace_id), key=lambda s: (s.start_ns, s.span_id)
        )
    assert store.stats().spans == 600
    store.close()


def test_a_protobuf_request_for_a_store_without_the_columns_path_is_decoded(tmp_path):
    store = SpanOnlyStore(tmp_path / "traces.duckdb")
    pipeline = WritePipeline(store, Metrics())
    body = _protobuf_bodies(1, 50)[0]
    _run(pipeline, lambda: pipeline.submit(ProtobufRequest(body, 50)))
    assert store.duckdb.stats().spans == 50
    store.duckdb.close()


class _FaultyBatch:
    """A real store batch that fails as a bug or a full memory would: on every protobuf body
    (``fail_bodies``), or on span lists whose first span is named ``poison``."""

    def __init__(self, batch, fail_bodies: bool) -> None:
        self.batch = batch
        self.fail_bodies = fail_bodies

    def add_request(self, body: bytes) -> None:
        if self.fail_bodies:
            raise MemoryError("injected")
        self.batch.add_request(body)

    def add_spans(self, spans) -> None:
        if spans and spans[0].name == "poison":
            raise ValueError("injected")
        self.batch.add_spans(spans)

    def finish(self):
        return self.batch.finish()


class FaultyStore(GatedStore):
    def __init__(self, path, fail_bodies: bool) -> None:
        super().__init__(path)
        self.fail_bodies = fail_bodies

    def open_batch(self):  # type: ignore[override]  # the real batch, with faults injected
        return _FaultyBatch(super().open_batch(), self.fail_bodies)


@pytest.mark.parametrize("fail_bodies", [True, False])
def test_what_fails_to_encode_is_written_as_spans_and_nothing_accepted_is_lost(
    tmp_path, fail_bodies
):
    # Bodies whose columns fail: their whole batch is written as model spans. A span list whose
    # encoding fails: it is written alone (only its senders would see the store's answer).
    store = FaultyStore(tmp_path / "traces.duckdb", fail_bodies)
    pipeline = WritePipeline(store, Metrics())
    bodies = _protobuf_bodies(5, 100)
    lists = [decode_spans(body, "otlp-proto") for body in bodies]
    lists[4] = [msgspec.structs.replace(span, name="poison") for span in lists[4]]

    async def main() -> None:
        first = asyncio.create_task(pipeline.submit(lists[0]))
        assert await asyncio.to_thread(store.writing.wait, 20)  # the writer holds batch 1
        requests = [pipeline.protobuf_request(body) for body in bodies[1:4]]
        rest = [pipeline.submit(request) for request in requests if request is not None]
        rest.append(pipeline.submit(lists[4]))
        tasks = [asyncio.create_task(submit) for submit in rest]
        await asyncio.to_thread(_wait_for, _encoded(pipeline, 4))
        store.gate.set()
        await asyncio.gather(first, *tasks)  # every sender is told its spans are stored

    _run(pipeline, main)
    assert store.writes == ([100, 400] if fail_bodies else [100, 300, 100])
    expected = [span for spans in lists for span in spans]
    for trace_id in {span.trace_id for span in expected}:
        assert store.get_trace(trace_id) == sorted(
            (s for s in expected if s.trace_id == trace_id), key=lambda s: (s.start_ns, s.span_id)
        )
    store.close()
