"""Backpressure, crash safety and hostile input against a real server on loopback."""

from __future__ import annotations

import gzip
import os
import signal
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import grpc
import httpx
import pytest

from spanscope.formats import encode_spans
from spanscope.model import Span
from spanscope.store import open_store
from spanscope.synthetic import generate_spans

from .conftest import RunningServer, serve_process, start_server, stop_server

PROTOBUF = {"Content-Type": "application/x-protobuf"}


def _batches(count: int, traces_per_batch: int, seed: int) -> list[list[Span]]:
    spans = list(generate_spans(count * traces_per_batch, seed=seed))
    by_trace: dict[str, list[Span]] = {}
    for span in spans:
        by_trace.setdefault(span.trace_id, []).append(span)
    traces = list(by_trace.values())
    return [
        [span for trace in traces[i : i + traces_per_batch] for span in trace]
        for i in range(0, len(traces), traces_per_batch)
    ]


def test_flood_beyond_capacity_is_refused_and_nothing_accepted_is_lost(tmp_path: Path) -> None:
    server, thread = start_server(tmp_path / "flood.duckdb", queue_spans=1500)
    try:
        batches = _batches(48, 60, seed=11)  # about 500 spans per request
        url = f"{server.http}/v1/traces"

        def send(batch: list[Span]) -> tuple[int, str, list[str]]:
            response = httpx.post(
                url, content=encode_spans(batch, "otlp-proto"), headers=PROTOBUF, timeout=120
            )
            return (
                response.status_code,
                response.headers.get("Retry-After", ""),
                [span.span_id for span in batch],
            )

        with ThreadPoolExecutor(max_workers=16) as pool:
            results = list(pool.map(send, batches))
        statuses = [status for status, _, _ in results]
        assert set(statuses) <= {200, 429}
        assert 429 in statuses, "a flood of 16 senders against a 1500-span queue is refused"
        assert all(retry == "1" for status, retry, _ in results if status == 429)
        accepted = {sid for status, _, ids in results if status == 200 for sid in ids}
        assert accepted
        metrics = httpx.get(f"{server.ui}/metrics").text
        assert "spanscope_spans_refused_total 0" not in metrics
    finally:
        stop_server(server, thread)
    with open_store(tmp_path / "flood.duckdb", read_only=True) as store:
        stored = {row[0] for row in store._con.execute("SELECT SpanId FROM otel_traces").fetchall()}
    assert stored == accepted


def test_accepted_spans_survive_kill_9(tmp_path: Path) -> None:
    db = tmp_path / "crash.duckdb"
    process, http_port, _ = serve_process(str(db))
    try:
        accepted: set[str] = set()
        for batch in _batches(10, 40, seed=5):
            response = httpx.post(
                f"http://127.0.0.1:{http_port}/v1/traces",
                content=encode_spans(batch, "otlp-proto"),
                headers=PROTOBUF,
            )
            assert response.status_code == 200
            accepted.update(span.span_id for span in batch)
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.wait(30)
    with open_store(db, read_only=True) as store:
        stored = {row[0] for row in store._con.execute("SELECT SpanId FROM otel_traces").fetchall()}
    assert accepted <= stored


@pytest.fixture
def small_server(tmp_path: Path):
    server, thread = start_server(tmp_path / "hostile.duckdb", max_body_bytes=1_000_000)
    yield server
    stop_server(server, thread)


def _post(server: RunningServer, body: bytes, **headers: str) -> httpx.Response:
    return httpx.post(f"{server.http}/v1/traces", content=body, headers=headers)


def test_hostile_http_payloads_get_clear_errors_and_the_server_keeps_serving(
    small_server: RunningServer,
) -> None:
    good = encode_spans(next(iter(_batches(1, 3, seed=1))), "otlp-proto")
    cases = [
        (good[: len(good) // 2], PROTOBUF, 400, "not valid OTLP protobuf"),
        (b"\x0a\xff\xff\xff\xff\x0f" + b"x" * 20, PROTOBUF, 400, "not valid OTLP protobuf"),
        (b'{"resourceSpans": [', {"Content-Type": "application/json"}, 400, "otlp_http request"),
        (b"[" * 100_000 + b"]" * 100_000, {"Content-Type": "application/json"}, 400, ""),
        (
            b'{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"zz","spanId":"01",'
            b'"name":"x","startTimeUnixNano":"1","endTimeUnixNano":"2"}]}]}]}',
            {"Content-Type": "application/json"},
            400,
            "traceId",
        ),
        (b"x" * 2_000_000, PROTOBUF, 413, "limit"),
        (
            gzip.compress(b"\x00" * 50_000_000),
            {**PROTOBUF, "Content-Encoding": "gzip"},
            413,
            "decompressed",
        ),
        (b"not gzip", {**PROTOBUF, "Content-Encoding": "gzip"}, 400, "gzip"),
        (good, {**PROTOBUF, "Content-Encoding": "br"}, 400, "Content-Encoding"),
        (good, {"Content-Type": "text/plain"}, 415, "Content-Type"),
    ]
    for body, headers, status, words in cases:
        response = _post(small_server, body, **headers)
        assert response.status_code == status, (status, response.text[:200])
        assert words in response.text or words in response.content.decode("latin-1")
    zipkin = httpx.post(
        f"{small_server.zipkin}/api/v2/spans",
        content=b'[{"traceId":"BADID","id":"1","name":"x"}]',
        headers={"Content-Type": "application/json"},
    )
    assert zipkin.status_code == 400 and "BADID" in zipkin.text
    assert httpx.get(f"{small_server.ui}/healthz").status_code == 200
    assert _post(small_server, good, **PROTOBUF).status_code == 200
    metrics = httpx.get(f"{small_server.ui}/metrics").text
    assert 'spanscope_bad_requests_total{receiver="otlp_http"} 10' in metrics
    assert 'spanscope_bad_requests_total{receiver="zipkin_v2"} 1' in metrics


def test_garbage_over_grpc_is_invalid_argument(small_server: RunningServer) -> None:
    with grpc.insecure_channel(small_server.grpc) as channel:
        export = channel.unary_unary(
            "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
            request_serializer=lambda raw: raw,
            response_deserializer=lambda raw: raw,
        )
        with pytest.raises(grpc.RpcError) as error:
            export(b"\x0a\x05abc", timeout=10)
        assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "not valid OTLP protobuf" in (error.value.details() or "")
    assert httpx.get(f"{small_server.ui}/healthz").status_code == 200


def test_bad_query_parameters_are_400_not_500(small_server: RunningServer) -> None:
    ui = small_server.ui
    for path, params in [
        ("/api/traces", {}),
        ("/api/traces", {"service": "a", "limit": "-1"}),
        ("/api/traces", {"service": "a", "minDuration": "fast"}),
        ("/api/traces", {"service": "a", "tags": "{not json"}),
        ("/api/traces", {"service": "a", "start": "yesterday"}),
        ("/api/traces/not-an-id", {}),
        ("/api/operations", {"service": "a", "spanKind": "sideways"}),
        ("/api/dependencies", {"endTs": "soon"}),
    ]:
        response = httpx.get(f"{ui}{path}", params=params)
        assert response.status_code == 400, (path, params, response.text)
        assert response.json()["errors"][0]["msg"]
