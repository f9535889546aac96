"""Stopping a ClickHouse store's reads (``reads_in`` + ``ReadGroup.stop``, ``stop_reads``), as
a DuckDB store's are: what a server does when a store call's client goes away, or it stops.

- The setting that makes a ClickHouse server cancel a read whose HTTP client closed the
  connection is checked on the real engine (chDB is ClickHouse): it exists under that name and
  is accepted as a query setting.
- Over HTTP, a stop shuts the read's connection down. No ClickHouse server runs here, so the
  server side is a thin HTTP front on the real engine (chDB) that runs what it is sent, except
  a query naming ``HOLD``: that one it holds, answering nothing, until the client closes the
  connection. The front stands in for a server busy with a long query ONLY to test our
  client's side of a stop: that the read ends at once, that the connection is closed (which
  is what the server acts on) and that the request asked for the cancel.
- chDB cannot stop a running query (its engine takes no interrupt; its streaming cancel waits
  for the end): a stop refuses the group's reads that have not started, e.g. one waiting for
  the engine behind another query.
"""

from __future__ import annotations

import contextlib
import select
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar
from urllib.parse import parse_qs, urlsplit

import httpx
import msgspec
import pytest

from spanscope.store import StoreError, TraceQuery, open_store
from spanscope.store.clickhouse_client import CANCEL_READS_ON_CLOSE, HttpClient, _Engine
from spanscope.store.read_group import Read, ReadGroup, ReadsStoppedError
from spanscope.synthetic import generate_spans
from tests.server.conftest import start_server, stop_server

from .clickhouse_engine import clickhouse_url

HOLD = "held-by-the-front"
STOP_LIMIT_S = 3.0


class _Front(BaseHTTPRequestHandler):
    held = threading.Event()  # a HOLD query arrived
    left = threading.Event()  # and its client closed the connection
    held_params: ClassVar[dict[str, str]] = {}

    def log_message(self, *args) -> None:
        pass

    def do_POST(self) -> None:
        params = {k: v[0] for k, v in parse_qs(urlsplit(self.path).query).items()}
        sql = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
        if HOLD in sql:
            _Front.held_params = params
            _Front.held.set()
            self.connection.settimeout(60)
            with contextlib.suppress(OSError):  # nothing more comes: returns when it closes
                self.connection.recv(1)
            _Front.left.set()
            self.close_connection = True
            return
        try:
            with _Engine.lock:
                result = _Engine.session.query(sql, "TabSeparated")
            status, answer = 200, result.bytes() if result is not None else b""
        except Exception as exc:  # the engine's error, as ClickHouse answers it
            status, answer = 500, f"Code: 62. DB::Exception: {exc}".encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)


@pytest.fixture(scope="module")
def front() -> Iterator[tuple[str, str]]:
    """(host:port of the front, a database holding a few traces)."""
    url = clickhouse_url()
    with open_store(url) as store:  # the process's engine, kept running for the front
        store.write(list(generate_spans(5, seed=6)))
        httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Front)
        thread = threading.Thread(target=httpd.serve_forever, daemon=True)
        thread.start()
        yield f"127.0.0.1:{httpd.server_address[1]}", url.rsplit("=", 1)[1]
        httpd.shutdown()


@pytest.fixture
def fresh_front() -> None:
    _Front.held.clear()
    _Front.left.clear()
    _Front.held_params = {}


def test_the_cancel_setting_exists_and_is_accepted_by_clickhouse() -> None:
    with open_store(clickhouse_url()) as store:
        for name, value in CANCEL_READS_ON_CLOSE.items():
            found = store.client.query(
                f"SELECT name, type FROM system.settings WHERE name = '{name}'"
            )
            assert found.decode().split("\t")[0] == name
            assert store.client.query(f"SELECT 42 SETTINGS {name} = {value}") == b"42\n"
        with pytest.raises(StoreError, match="Unknown setting"):  # (a misspelt one is not)
            store.client.query("SELECT 1 SETTINGS cancel_http_readonly_queries_on_close = 1")


def _search_in(store, group: ReadGroup, outcome: dict[str, object]) -> threading.Thread:
    def search() -> None:
        with store.reads_in(group):
            try:
                outcome["found"] = store.find_trace_ids(TraceQuery(service=HOLD))
            except StoreError as exc:
                outcome["error"] = exc

    thread = threading.Thread(target=search)
    thread.start()
    return thread


def test_a_stopped_group_ends_its_read_over_http_at_once(front, fresh_front) -> None:
    address, database = front
    with open_store(f"clickhouse://{address}/{database}", read_only=True) as store:
        group = ReadGroup()
        outcome: dict[str, object] = {}
        searching = _search_in(store, group, outcome)
        assert _Front.held.wait(30), "the search did not reach the front"
        stopping = time.monotonic()
        group.stop()
        searching.join(30)
        took = time.monotonic() - stopping
        assert not searching.is_alive()
        assert took < STOP_LIMIT_S, f"stopped {took:.1f} s after the stop"
        error = outcome.get("error")
        assert isinstance(error, ReadsStoppedError), outcome
        assert "its reader went away" in str(error)
        assert _Front.left.wait(STOP_LIMIT_S), "the connection stayed open"
        for name, value in CANCEL_READS_ON_CLOSE.items():
            assert _Front.held_params.get(name) == value, _Front.held_params
        # the store reads on, outside the group, on a new connection
        assert store.services()
        assert not store._reads.running


def test_stop_reads_ends_reads_over_http_and_refuses_later_ones(front, fresh_front) -> None:
    address, database = front
    with open_store(f"clickhouse://{address}/{database}", read_only=True) as store:
        outcome: dict[str, object] = {}
        searching = _search_in(store, ReadGroup(), outcome)
        assert _Front.held.wait(30)
        store.stop_reads()
        searching.join(30)
        assert not searching.is_alive()
        assert isinstance(outcome.get("error"), ReadsStoppedError), outcome
        assert "the store is closing" in str(outcome["error"])
        with pytest.raises(ReadsStoppedError, match="the store is closing"):
            store.services()


def test_a_served_store_call_whose_client_left_closes_its_clickhouse_request(
    front, fresh_front
) -> None:
    """The store API of a serve over ClickHouse (HTTP): a call whose client gives up has its
    request to ClickHouse closed (the server cancels the query), and the next call, which
    waits for its turn, is answered."""
    address, database = front
    running, thread = start_server(f"clickhouse://{address}/{database}")
    try:
        body = msgspec.msgpack.encode({"query": {"service": HOLD, "num_traces": 20}})
        with pytest.raises(httpx.ReadTimeout):  # gives up: Ctrl-C on the reading command
            httpx.post(
                f"{running.ui}/api/v1/store/find_trace_ids",
                content=body,
                headers={"content-type": "application/msgpack"},
                timeout=1.0,
            )
        assert _Front.held.is_set()
        assert _Front.left.wait(STOP_LIMIT_S), "the server kept waiting for ClickHouse"
        started = time.monotonic()
        answer = httpx.post(f"{running.ui}/api/v1/store/services", timeout=30.0)
        assert answer.status_code == 200, answer.text
        assert msgspec.msgpack.decode(answer.content)
        assert time.monotonic() - started < STOP_LIMIT_S
    finally:
        stop_server(running, thread)


def test_chdb_refuses_a_stopped_groups_read_waiting_for_the_engine() -> None:
    """A stopped read does not start: it waited for the engine behind a 2 s query, and ends
    when that one does instead of running its own 2 s after it."""
    with open_store(clickhouse_url()) as store:
        busy = threading.Thread(target=store.client.query, args=("SELECT sleep(2)",))
        busy.start()
        # The engine runs it once it holds the engine's lock (a running chDB query cannot be
        # stopped: a read that took the lock first would run its 2 s).
        deadline = time.monotonic() + 30
        while not _Engine.lock.locked():
            assert busy.is_alive() and time.monotonic() < deadline, "the query did not start"
            time.sleep(0.001)
        group = ReadGroup()
        outcome: dict[str, object] = {}

        def read() -> None:
            with store.reads_in(group):
                try:
                    outcome["rows"] = store._rows("SELECT sleep(2)")
                except StoreError as exc:
                    outcome["error"] = exc

        reading = threading.Thread(target=read)
        started = time.monotonic()
        reading.start()
        deadline = time.monotonic() + 10
        while not store._reads.running and time.monotonic() < deadline:
            time.sleep(0.01)
        group.stop()  # returns once the read has ended
        reading.join(30)
        busy.join(30)
        took = time.monotonic() - started
        error = outcome.get("error")
        assert isinstance(error, ReadsStoppedError), outcome
        assert "query not run" in str(error.__cause__)
        assert took < 3.5, f"the stopped read ran too ({took:.1f} s)"
        assert store.services() is not None  # and others read on


class _KeepAlive(BaseHTTPRequestHandler):
    """A keep-alive HTTP front that answers a query with its length, and holds a query naming
    ``WAIT`` until ``release`` is set. ``opened``: the connections it accepted."""

    protocol_version = "HTTP/1.1"
    opened: ClassVar[list[socket.socket]] = []
    waiting = threading.Event()  # a WAIT query arrived
    release = threading.Event()

    def log_message(self, *args) -> None:
        pass

    def setup(self) -> None:
        super().setup()
        _KeepAlive.opened.append(self.connection)

    def do_POST(self) -> None:
        sql = self.rfile.read(int(self.headers["Content-Length"]))
        if b"WAIT" in sql:
            _KeepAlive.waiting.set()
            _KeepAlive.release.wait(30)
        answer = b"%d\n" % len(sql)
        with contextlib.suppress(OSError):  # (a client that cut its connection)
            self.wfile.write(
                b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(answer), answer)
            )


@pytest.fixture
def keep_alive() -> Iterator[HttpClient]:
    """A client of a fresh ``_KeepAlive`` front."""
    _KeepAlive.opened = []
    _KeepAlive.waiting.clear()
    _KeepAlive.release.clear()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _KeepAlive)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    client = HttpClient(f"clickhouse://127.0.0.1:{httpd.server_address[1]}/otel")
    try:
        yield client
    finally:
        _KeepAlive.release.set()
        client.close()
        httpd.shutdown()
        httpd.server_close()


def test_http_connections_are_kept_alive_and_one_the_server_closed_is_not_reused(
    keep_alive: HttpClient,
) -> None:
    """The client keeps its own connections now (to be able to cut them): a second query goes
    over the first one's connection, and once the server has closed it (its keep-alive
    timeout) the next query opens a new one instead of failing."""
    client, opened = keep_alive, _KeepAlive.opened
    long_sql = "SELECT 1 " + " " * 5000  # (headers and body in two sends)
    for _ in range(5):
        assert client.query(long_sql) == b"%d\n" % len(long_sql)
    assert len(opened) == 1
    for connection in opened:
        connection.shutdown(socket.SHUT_RDWR)
    deadline = time.monotonic() + 10
    while not select.select([client._idle[0].sock], [], [], 0)[0]:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    assert client.query("SELECT 2") == b"8\n"
    assert len(opened) == 2


def test_a_finished_read_stopped_later_leaves_the_next_request_on_its_connection_alone(
    keep_alive: HttpClient,
) -> None:
    """A read that has finished gives its connection back for reuse; a stop that comes after
    that (``ReadGroup.stop`` interrupts every 20 ms until the read leaves the group, which is
    after its query returned) must not cut the connection under the request now using it.
    Before, it shut that request's socket: "cannot reach ClickHouse: Remote end closed
    connection without response", and not a stopped read, a real error."""
    client = keep_alive
    first = Read()
    assert client.query("SELECT 1", first) == b"8\n"
    outcome: dict[str, object] = {}
    second = Read()

    def query() -> None:
        try:
            outcome["answer"] = client.query("SELECT 'WAIT'", second)
        except StoreError as exc:
            outcome["error"] = exc

    querying = threading.Thread(target=query)
    querying.start()
    try:
        assert _KeepAlive.waiting.wait(30), "the second query did not reach the front"
        first.interrupt()  # the late stop, while the second query waits for its answer
    finally:
        _KeepAlive.release.set()
        querying.join(30)
    assert len(_KeepAlive.opened) == 1  # (the second query did reuse the first's connection)
    assert outcome == {"answer": b"13\n"}
    assert first.stopped and not second.stopped
    assert client.query("SELECT 3") == b"8\n"  # and the connection serves on


def test_a_read_stopped_as_its_answer_came_does_not_give_its_connection_back(
    keep_alive: HttpClient,
) -> None:
    """A stop that comes after the answer was read but before the request let go of its read
    (here: exactly then) may have shut the connection down: it is closed, not kept for the
    next request (which would fail on it), and the answer still counts. After the request,
    stops do not cut anything."""

    class StoppedAsItEnds(Read):
        def detach(self) -> bool:
            self.interrupt()  # the stop's moment: the answer is in, the cut still attached
            return super().detach()

    read = StoppedAsItEnds()
    assert keep_alive.query("SELECT 1", read) == b"8\n"
    assert read.stopped
    assert keep_alive._idle == []
    assert keep_alive.query("SELECT 2") == b"8\n"  # on a new connection
    assert len(_KeepAlive.opened) == 2
    late = Read()
    assert keep_alive.query("SELECT 3", late) == b"8\n"
    assert len(keep_alive._idle) == 1
    late.interrupt()  # after the request: nothing to cut
    assert not select.select([keep_alive._idle[0].sock], [], [], 0)[0]
    assert keep_alive.query("SELECT 4") == b"8\n"
    assert len(_KeepAlive.opened) == 2
