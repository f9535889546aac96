"""``ServerStore``: a running server's store read over HTTP gives the store's own answers.

A real server on loopback over a real DuckDB file, fed through its OTLP/HTTP receiver; every
read of ``ServerStore`` is compared with the same read of the server's store object itself.
"""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator

import httpx
import msgspec
import pytest

from spanscope.model import SpanKind
from spanscope.store import StoreError, TraceQuery, open_store, server_store
from spanscope.store.metrics_sql import MetricsQuery
from spanscope.store.server_store import ServerStore
from spanscope.synthetic import generate_spans
from tests.server.conftest import RunningServer, post_spans, start_server, stop_server

T0 = 1_764_150_000_000_000_000
MINUTE = 60 * 10**9


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    running, thread = start_server(tmp_path_factory.mktemp("served") / "traces.duckdb")
    post_spans(running, generate_spans(300, seed=3, start_ns=T0))
    yield running
    stop_server(running, thread)


@pytest.fixture
def remote(served: RunningServer) -> Iterator[ServerStore]:
    store = open_store(served.ui, read_only=True)
    assert isinstance(store, ServerStore)
    with store:
        yield store


SEARCHES = [
    TraceQuery(service="frontend", start_time_min=T0, num_traces=1000),
    TraceQuery(service="payment", tags={"error": "true"}, num_traces=50),
    TraceQuery(service="checkout", operation="shop.payment/Charge", duration_min=30_000_000),
    TraceQuery(service="inventory", span_kind=SpanKind.CLIENT, num_traces=5),
    TraceQuery(service="nobody"),
]


@pytest.mark.parametrize("query", SEARCHES, ids=range(len(SEARCHES)))
def test_searches_answer_as_the_store_does(
    served: RunningServer, remote: ServerStore, query: TraceQuery
) -> None:
    local_traces = served.store.find_traces(query)
    assert remote.find_trace_ids(query) == served.store.find_trace_ids(query)
    assert remote.find_traces(query) == local_traces
    if query.service != "nobody":
        assert local_traces, "the search should find something"


def test_one_trace_and_the_catalogue_answer_as_the_store_does(
    served: RunningServer, remote: ServerStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(server_store, "_PAGE", 7)  # many pages from the 300 traces held
    trace_id = served.store.find_trace_ids(TraceQuery(service="frontend", num_traces=1))[0]
    assert remote.get_trace(trace_id.upper()) == served.store.get_trace(trace_id)
    assert remote.get_trace("0" * 31 + "1") == []
    # many pages of ids, with repeated, unknown and reordered ones among them
    ids = served.store.find_trace_ids(TraceQuery(service="frontend", num_traces=1000))
    asked = ["0" * 31 + "1", *reversed(ids), ids[0], *ids[:300]]
    assert remote.get_traces(asked) == served.store.get_traces(asked)
    assert [trace[0].trace_id for trace in remote.get_traces(asked)] == list(reversed(ids))
    assert remote.services() == served.store.services()
    for kind in (None, SpanKind.SERVER, SpanKind.CLIENT):
        assert remote.operations("checkout", kind) == served.store.operations("checkout", kind)
    end = T0 + 10 * MINUTE
    for self_calls in (False, True):
        assert remote.dependencies(end, 10 * MINUTE, self_calls) == served.store.dependencies(
            end, 10 * MINUTE, self_calls
        )
    assert remote.stats() == served.store.stats()


@pytest.mark.parametrize(
    "query",
    [
        MetricsQuery(T0, T0 + 10 * MINUTE, MINUTE),
        MetricsQuery(T0, T0 + 10 * MINUTE, 10 * MINUTE, span_kind=None),
        MetricsQuery(
            T0,
            T0 + 5 * MINUTE,
            30 * 10**9,
            span_kind=(SpanKind.CLIENT, SpanKind.SERVER),
            services=("checkout",),
            group_by_operation=True,
        ),
    ],
)
def test_metrics_answer_as_the_store_does(
    served: RunningServer, remote: ServerStore, query: MetricsQuery
) -> None:
    summary = served.store.metrics_summary(query)
    assert summary
    assert remote.metrics_summary(query) == summary
    assert remote.metrics_series(query) == served.store.metrics_series(query)
    assert remote.metrics_summary_and_series(query) == served.store.metrics_summary_and_series(
        query
    )


def test_writes_are_refused_with_the_way_to_send_spans(remote: ServerStore) -> None:
    with pytest.raises(StoreError, match=r"read-only.*receivers"):
        remote.write([])
    with pytest.raises(StoreError, match="retention"):
        remote.enforce_retention(max_age_ns=1)


def test_a_bad_trace_id_is_named(remote: ServerStore) -> None:
    with pytest.raises(ValueError, match="trace id"):
        remote.get_trace("not-hex")


@pytest.mark.parametrize(
    ("method", "body", "status", "words"),
    [
        ("drop_everything", b"\x80", 404, "unknown store method"),
        ("find_traces", b"\x80", 404, "unknown store method"),  # pages only: get_traces
        ("find_trace_ids", b"\xc1garbage", 400, "bad arguments"),
        ("find_trace_ids", msgspec.msgpack.encode({"query": {"num_traces": 0}}), 400, "num_traces"),
        ("operations", msgspec.msgpack.encode({"service": 7}), 400, "service"),
        ("services", msgspec.msgpack.encode({"extra": 1}), 400, "extra"),
        ("get_traces", msgspec.msgpack.encode({"trace_ids": ["xyz"]}), 400, "xyz"),
        (
            "metrics_summary",
            msgspec.msgpack.encode({"query": {"start_ns": 5, "end_ns": 1, "step_ns": 1}}),
            400,
            "window is empty",
        ),
        ("stats", b"\x80" + b" " * (2 << 20), 413, "body over"),
        (
            "find_trace_ids",
            msgspec.msgpack.encode({"query": {"num_traces": 10**9}}),
            400,
            "at most 1,000,000 traces a search",
        ),
        (
            "find_trace_ids",
            msgspec.msgpack.encode({"query": {"tags": {f"k{i}": "v" for i in range(101)}}}),
            400,
            "at most 100 tags",
        ),
        (
            "get_traces",
            msgspec.msgpack.encode({"trace_ids": [f"{i:032x}" for i in range(1, 1002)]}),
            400,
            "at most 1,000 traces a call",
        ),
    ],
)
def test_hostile_calls_get_a_clear_answer(
    served: RunningServer, method: str, body: bytes, status: int, words: str
) -> None:
    answer = httpx.post(f"{served.ui}/api/v1/store/{method}", content=body, timeout=30)
    assert answer.status_code == status
    assert words in answer.json()["error"]["message"]
    # the server is unharmed
    assert httpx.get(f"{served.ui}/healthz").status_code == 200


def test_nobody_listening_is_a_clear_store_error() -> None:
    with (
        ServerStore("http://127.0.0.1:9") as store,  # discard: nothing listens there
        pytest.raises(StoreError, match="no spanscope server answers there"),
    ):
        store.services()


class _Answers(http.server.BaseHTTPRequestHandler):
    """Another web server: every POST gets ``status`` with a page of its own."""

    status = 404

    def do_POST(self) -> None:
        self.send_response(self.status)
        self.send_header("Content-Type", "text/html")
        self.end_headers()
        self.wfile.write(b"<html>not here</html>")

    def log_message(self, *args: object) -> None:
        pass


@pytest.mark.parametrize(("status", "words"), [(404, "not a spanscope server"), (200, "not ours")])
def test_another_kind_of_web_server_is_named(status: int, words: str) -> None:
    handler = type("Handler", (_Answers,), {"status": status})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with (
            ServerStore(f"http://127.0.0.1:{server.server_address[1]}") as store,
            pytest.raises(StoreError, match=words),
        ):
            store.services()
    finally:
        server.shutdown()


def test_a_closed_store_says_so(served: RunningServer) -> None:
    from spanscope.store import StoreClosedError

    store = ServerStore(served.ui)
    store.close()
    store.close()
    with pytest.raises(StoreClosedError):
        store.services()
