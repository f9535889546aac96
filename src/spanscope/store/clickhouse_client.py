"""How the ClickHouse store talks to ClickHouse: over its HTTP interface, or in process (chDB).

Both transports take SQL text and give back the bytes ClickHouse answers in the format the query
names; ``insert`` sends JSON lines into an ``INSERT ... SELECT ... FROM <rows>`` where ``<rows>``
is how that transport streams data best:

- ``HttpClient`` (``clickhouse://user:password@host:8123/database``; ``clickhouses://`` for TLS)
  POSTs the rows as the request body, read by the ``input()`` table function, with the query in
  the URL, as ClickHouse's own clients do. Errors come back as ``StoreError`` with ClickHouse's
  message. A read can be stopped from another thread: its connection is shut down, and the
  server, told so by ``CANCEL_READS_ON_CLOSE``, cancels the query.
- ``EmbeddedClient`` (``chdb:PATH``) runs the ClickHouse engine inside this process with chDB
  (an optional dependency: ``pip install chdb``), its data in the folder ``PATH``. chDB serves
  one data folder per process, so clients of the same folder share one engine; asking for a
  second folder raises ``StoreError``; ``create=False`` (reads) opens only a folder that holds
  ClickHouse data, making none. Rows go through a private temporary file read by
  ``file()``. Calls are serialised by a lock (one engine, many threads). A running query
  cannot be stopped; a stopped read that has not started yet does not.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import http.client
import os
import select
import socket
import ssl
import tempfile
import threading
from typing import Any, Protocol
from urllib.parse import unquote, urlencode, urlsplit

from spanscope.store.base import StoreError, StoreLockedError
from spanscope.store.read_group import Read

# The query setting (sent with reads over HTTP) by which the server cancels a read whose
# client closed the connection (Ctrl-C, a stopped read): without it ClickHouse computes the
# answer for no one. (Changing a setting needs a user with readonly other than 1; spanscope's
# reads set output settings already.)
CANCEL_READS_ON_CLOSE = {"cancel_http_readonly_queries_on_client_close": "1"}


class ClickHouseClient(Protocol):
    database: str

    def query(self, sql: str, read: Read | None = None) -> bytes:
        """Run ``sql``; its output in the format it names (empty when it returns nothing).
        ``read``: the query only reads, and ``read.interrupt()`` (from any thread) stops it
        as far as the transport can (a ``StoreError`` then, with ``read.stopped`` set)."""
        ...

    def insert(self, statement: str, structure: str, rows: bytes) -> None:
        """Run ``statement`` (an INSERT ... SELECT ... FROM {rows}) with ``{rows}`` standing
        for the JSON lines ``rows`` of columns ``structure``."""
        ...

    def close(self) -> None: ...

    @property
    def location(self) -> str:
        """Where the data is, for messages (no password)."""
        ...


def _sql_text(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


class HttpClient:
    """ClickHouse's HTTP interface (port 8123 by default).

    Plain ``http.client`` connections, kept alive and reused, rather than a pooled client: a
    read must be stoppable from another thread (``read.interrupt()``), which shuts down the
    socket the read waits on, and only a connection of one's own gives that socket."""

    def __init__(self, url: str, timeout_s: float = 60.0) -> None:
        parts = urlsplit(url)
        self._tls = parts.scheme == "clickhouses"
        self._host = parts.hostname or "localhost"
        self._port = parts.port or (8443 if self._tls else 8123)
        self._timeout_s = timeout_s
        self.database = parts.path.strip("/") or "otel"
        self._location = f"{parts.scheme}://{parts.hostname}:{self._port}/{self.database}"
        self._headers: dict[str, str] = {}
        if parts.username:
            pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
            self._headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
        self._idle: list[http.client.HTTPConnection] = []
        self._idle_lock = threading.Lock()
        self._closed = False

    @property
    def location(self) -> str:
        return self._location

    def _connection(self) -> http.client.HTTPConnection:
        """An idle connection the server has not closed, or a new one."""
        while True:
            with self._idle_lock:
                connection = self._idle.pop() if self._idle else None
            if connection is None:
                break
            sock = connection.sock
            # Readable while idle: the server closed it (its keep-alive timeout) or broke it.
            if sock is not None and not select.select([sock], [], [], 0)[0]:
                return connection
            connection.close()
        if self._tls:
            return http.client.HTTPSConnection(
                self._host, self._port, timeout=self._timeout_s,
                context=ssl.create_default_context(),
            )  # fmt: skip
        return http.client.HTTPConnection(self._host, self._port, timeout=self._timeout_s)

    def _post(self, params: dict[str, str], body: bytes, read: Read | None = None) -> bytes:
        connection = self._connection()
        kept = False
        try:
            if connection.sock is None:
                connection.connect()
                # Headers and a long query go out in two sends: without this the second
                # waits for the server's delayed ACK of the first (40 ms a query).
                sock: socket.socket = connection.sock  # type: ignore[assignment]  # connected
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if read is not None:
                read.when_interrupted(functools.partial(_cut, connection))
            connection.request("POST", "/?" + urlencode(params), body, self._headers)
            response = connection.getresponse()
            content = response.read()
            kept = not response.will_close
        except (OSError, http.client.HTTPException) as exc:
            why = "stopped" if read is not None and read.stopped else str(exc) or repr(exc)
            raise StoreError(f"{self._location}: cannot reach ClickHouse: {why}") from exc
        finally:
            # No stop of this read touches the connection from here on: kept, it serves other
            # requests. One that stopped it (even after its answer came) may have cut it.
            if read is not None and read.detach():
                kept = False
            # A connection given up on midway (an error, Ctrl-C, a stop) is closed: the server
            # then sees its client go, and cancels a read (CANCEL_READS_ON_CLOSE).
            if kept and not self._closed:
                with self._idle_lock:
                    self._idle.append(connection)
            else:
                connection.close()
        if response.status != 200:
            message = content.decode("utf-8", "replace").strip()
            raise StoreError(f"{self._location}: ClickHouse said: {message[:2000]}")
        return content

    def query(self, sql: str, read: Read | None = None) -> bytes:
        params = {"database": self.database}
        if read is not None:
            params.update(CANCEL_READS_ON_CLOSE)
        return self._post(params, sql.encode(), read)

    def insert(self, statement: str, structure: str, rows: bytes) -> None:
        sql = statement.replace("{rows}", f"input({_sql_text(structure)})")
        self._post({"database": self.database, "query": f"{sql} FORMAT JSONEachRow"}, rows)

    def close(self) -> None:
        self._closed = True
        with self._idle_lock:
            idle, self._idle = self._idle, []
        for connection in idle:
            connection.close()


def _cut(connection: http.client.HTTPConnection) -> None:
    """End the request ``connection`` is waiting on, from another thread: a shutdown wakes the
    reading thread's blocked ``recv`` (closing the socket would not)."""
    sock = connection.sock
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


class _Engine:
    """The process's one chDB engine and the folder it serves."""

    lock = threading.Lock()
    path: str | None = None
    session: Any = None
    users = 0


def _check_exists(given: str, path: str) -> None:
    """Raise ``StoreError`` unless ``path`` (``given`` so in the URL) is a ClickHouse data
    folder: starting the engine makes the folder and its ``tmp/``, and a read must leave no
    store behind where there was none (``--db chdb:typo``)."""
    if not os.path.exists(path):
        raise StoreError(f"chdb:{given}: no such store")
    if not os.path.isdir(path):
        raise StoreError(f"chdb:{given}: not a store: a chDB store is a folder, this is a file")
    _check_unlocked(path)  # (a folder another process runs may hold no data yet)
    if not os.path.isdir(os.path.join(path, "metadata")):
        raise StoreError(
            f"chdb:{given}: not a store: the folder holds no ClickHouse data (no metadata/)"
        )


def _check_unlocked(path: str) -> None:
    """Raise ``StoreLockedError`` when another process runs ClickHouse on the folder ``path``.

    ClickHouse holds an ``flock`` on the folder's ``status`` file (which names its pid) while it
    runs; chDB then fails with only "Error initializing EmbeddedServer", so the lock is asked
    here, without waiting, and let go at once."""
    import fcntl

    status = os.path.join(path, "status")
    try:
        handle = os.open(status, os.O_RDONLY)
    except OSError:
        return  # a new folder: nobody runs on it
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        with open(handle, encoding="utf-8", errors="replace", closefd=False) as file:
            pid = next(
                (line.split(":", 1)[1].strip() for line in file if line.startswith("PID:")), ""
            )
        who = f"process {pid}" if pid else "another process"
        raise StoreLockedError(
            f"chdb:{path}: {who} runs ClickHouse on this folder (perhaps a 'spanscope serve "
            "--db chdb:...'), and chDB lets one process use a folder at a time: read it through "
            "that server (--db http://127.0.0.1:16686, the UI address it printed) or stop it"
        ) from None
    finally:
        os.close(handle)  # (closing also lets go of a lock taken)


class EmbeddedClient:
    """The ClickHouse engine in this process (chDB), data in the folder ``path``."""

    def __init__(self, path: str, database: str = "otel", create: bool = True) -> None:
        try:
            from chdb import session as chdb_session
        except ImportError:
            raise StoreError(
                "chdb: URLs need the embedded ClickHouse engine: pip install chdb "
                "(or point spanscope at a ClickHouse server with clickhouse://host:8123)"
            ) from None
        given, path = path, os.path.abspath(path)
        with _Engine.lock:
            running = _Engine.session is not None and _Engine.path == path
            if not create and not running:  # (the folder this process runs the engine on is one)
                _check_exists(given, path)
            if _Engine.session is not None and _Engine.path != path:
                raise StoreError(
                    f"chdb:{path}: this process already runs embedded ClickHouse on "
                    f"{_Engine.path}; one data folder per process"
                )
            if _Engine.session is None:
                os.makedirs(path, exist_ok=True)
                _check_unlocked(path)
                try:
                    _Engine.session = chdb_session.Session(path)
                except Exception as exc:  # chDB raises plain RuntimeErrors
                    raise StoreError(f"chdb:{path}: cannot start ClickHouse: {exc}") from exc
                _Engine.path = path
            _Engine.users += 1
        self.database = database
        self._path = path
        self._closed = False

    @property
    def location(self) -> str:
        return f"chdb:{self._path}/{self.database}"

    def query(self, sql: str, read: Read | None = None) -> bytes:
        """A running chDB query cannot be stopped (its engine takes no interrupt, and its
        streaming cancel waits for the query to end: measured, chDB 4.4): a stopped ``read``
        only does not start, e.g. when it waited for the engine behind another."""
        with _Engine.lock:
            if _Engine.session is None:
                raise StoreError(f"{self.location}: the embedded engine was closed")
            if read is not None and read.stopped:
                raise StoreError(f"{self.location}: query not run: stopped")
            try:
                result = _Engine.session.query(sql, "TabSeparated")
            except Exception as exc:
                raise StoreError(f"{self.location}: ClickHouse said: {exc}") from exc
        return result.bytes() if result is not None else b""

    def insert(self, statement: str, structure: str, rows: bytes) -> None:
        handle, name = tempfile.mkstemp(prefix="spanscope-ch-", suffix=".jsonl")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(rows)
            source = f"file({_sql_text(name)}, JSONEachRow, {_sql_text(structure)})"
            self.query(statement.replace("{rows}", source))
        finally:
            os.unlink(name)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        with _Engine.lock:
            _Engine.users -= 1
            if _Engine.users == 0 and _Engine.session is not None:
                _Engine.session.close()
                _Engine.session = None
                _Engine.path = None


def embedded_location(url: str) -> tuple[str, str]:
    """The data folder (as given) and database of a ``chdb:PATH[?database=D]`` URL."""
    rest = url.removeprefix("chdb:").removeprefix("//")
    path, _, query = rest.partition("?")
    database = "otel"
    for pair in filter(None, query.split("&")):
        key, _, value = pair.partition("=")
        if key == "database" and value:
            database = value
    return path, database


def connect(url: str, create: bool = True) -> ClickHouseClient:
    """A client for ``clickhouse://...``, ``clickhouses://...`` or ``chdb:PATH[?database=D]``;
    ``create=False``: a ``chdb:`` folder that is not there already is a ``StoreError`` ("no
    such store"), and none is made (a server's databases are never made by connecting)."""
    if url.startswith(("clickhouse://", "clickhouses://")):
        return HttpClient(url)
    if url.startswith("chdb:"):
        path, database = embedded_location(url)
        if not path:
            raise StoreError("chdb: URL needs a data folder, e.g. chdb:traces-ch")
        return EmbeddedClient(path, database, create=create)
    raise StoreError(f"{url}: not a ClickHouse URL (clickhouse://host:8123/db or chdb:PATH)")
