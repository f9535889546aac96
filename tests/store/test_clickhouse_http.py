"""The ClickHouse HTTP transport, as ClickHouse's HTTP interface documents it: the query in the
``query`` parameter with the rows as the POST body (read by ``input()``), or the query as the
body; ``database`` as a parameter; basic auth; errors as non-200 answers with ClickHouse's text.

No ClickHouse server new enough for the collector's schema installs here (Debian ships 18.16,
without ``Map``), so the server side is a thin HTTP front on the real engine (chDB) that does
what the server does with such requests: runs the SQL, turning ``input(structure)`` into the
request body. Everything the store sends crosses real HTTP on loopback.
"""

from __future__ import annotations

import base64
import os
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from spanscope.store import StoreError, TraceQuery, open_store
from spanscope.store.clickhouse_client import _Engine
from spanscope.synthetic import generate_spans

from .clickhouse_engine import clickhouse_url

seen_auth: list[str] = []


class _Front(BaseHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass

    def do_POST(self) -> None:
        params = {k: v[0] for k, v in parse_qs(urlsplit(self.path).query).items()}
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        seen_auth.append(self.headers.get("Authorization", ""))
        sql = params.get("query") or body.decode()
        handle, name = tempfile.mkstemp(suffix=".jsonl")
        try:
            if "query" in params:
                with os.fdopen(handle, "wb") as out:
                    out.write(body)
                sql = sql.removesuffix(" FORMAT JSONEachRow")
                start = sql.index("input('")
                end = sql.index("')", start) + 2
                structure = sql[start + len("input(") : end - 1]
                sql = f"{sql[:start]}file('{name}', JSONEachRow, {structure}){sql[end:]}"
            else:
                os.close(handle)
            with _Engine.lock:
                result = _Engine.session.query(sql, "TabSeparated")
            status, answer = 200, result.bytes() if result is not None else b""
        except Exception as exc:  # the engine's error, as ClickHouse answers it
            status, answer = 500, f"Code: 62. DB::Exception: {exc}".encode()
        finally:
            os.unlink(name)
        self.send_response(status)
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)


@pytest.fixture(scope="module")
def server():
    with open_store(clickhouse_url()):  # starts the process's engine for the front to use
        httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Front)
        thread = threading.Thread(target=httpd.serve_forever, daemon=True)
        thread.start()
        yield f"127.0.0.1:{httpd.server_address[1]}"
        httpd.shutdown()


def test_the_store_works_over_http(server):
    database = clickhouse_url().rsplit("=", 1)[1]
    spans = list(generate_spans(20, seed=4))
    with open_store(f"clickhouse://reader:s%40cret@{server}/{database}") as store:
        store.write(spans)
        trace_id = spans[0].trace_id
        expected = sorted(
            (s for s in spans if s.trace_id == trace_id), key=lambda s: (s.start_ns, s.span_id)
        )
        assert store.get_trace(trace_id) == expected
        assert store.find_trace_ids(TraceQuery(service="payment", num_traces=50))
        assert store.stats().spans == len(spans)
    assert base64.b64encode(b"reader:s@cret").decode() in seen_auth[-1]


def test_clickhouse_errors_come_back_as_store_errors(server):
    database = clickhouse_url().rsplit("=", 1)[1]
    with (
        open_store(f"clickhouse://{server}/{database}") as store,
        pytest.raises(StoreError, match=r"ClickHouse said: .*DB::Exception"),
    ):
        store.client.query("SELECT no_such_column FROM system.one")
