"""Tail sampling on the way in: real OTel SDK exporters send to a real server, whose tail sampler
keeps whole traces by policy; and ``spanscope serve --tail-sample`` end to end, into both stores."""

from __future__ import annotations

import os
import signal
import time

import httpx
import pytest
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import Status, StatusCode

from spanscope.sampling import PolicySet, TailSampler
from spanscope.store import open_store
from tests.cli.run import spanscope

from .conftest import serve_process, start_server, stop_server


def _send_two_traces(endpoint: str) -> tuple[str, str]:
    """One trace whose child fails, one that succeeds; returns (failed id, ok id)."""
    provider = TracerProvider(resource=Resource.create({"service.name": "checkout"}))
    provider.add_span_processor(SimpleSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
    tracer = provider.get_tracer("test")
    ids = []
    for fail in (True, False):
        with tracer.start_as_current_span("POST /checkout") as root:
            with tracer.start_as_current_span("charge") as child:
                if fail:
                    child.set_status(Status(StatusCode.ERROR, "card declined"))
            ids.append(f"{root.get_span_context().trace_id:032x}")
    provider.shutdown()
    return ids[0], ids[1]


def test_only_whole_error_traces_reach_the_store_once_their_decision_is_due(tmp_path):
    sampler = TailSampler(PolicySet.parse(["errors"]), decision_wait_ns=300_000_000)
    running, thread = start_server(tmp_path / "t.duckdb", sampler)
    store = running.store
    try:
        failed, ok = _send_two_traces(f"{running.http}/v1/traces")
        deadline = time.monotonic() + 20
        while len(store.get_trace(failed)) < 2:  # decided while no new spans arrive
            assert time.monotonic() < deadline, "the due trace was not written"
            time.sleep(0.1)
        assert store.get_trace(ok) == []
        assert {s.name for s in store.get_trace(failed)} == {"POST /checkout", "charge"}
        metrics = httpx.get(f"{running.ui}/metrics").text
        assert 'spanscope_tail_sampler_traces_total{decision="kept"} 1' in metrics
        assert 'spanscope_tail_sampler_traces_total{decision="dropped"} 1' in metrics
        assert 'spanscope_tail_sampler_kept_by_policy_total{policy="errors"} 1' in metrics
    finally:
        stop_server(running, thread)


def test_stopping_decides_and_writes_the_traces_still_waiting(tmp_path):
    sampler = TailSampler(PolicySet.parse(["errors"]), decision_wait_ns=3600 * 10**9)
    running, thread = start_server(tmp_path / "t.duckdb", sampler)
    try:
        failed, ok = _send_two_traces(f"{running.http}/v1/traces")
        time.sleep(0.3)
        assert running.store.get_trace(failed) == []  # still waiting for its hour
    finally:
        stop_server(running, thread)
    with open_store(tmp_path / "t.duckdb", read_only=True) as store:
        assert len(store.get_trace(failed)) == 2
        assert store.get_trace(ok) == []


@pytest.mark.parametrize("backend", ["duckdb", "clickhouse"])
def test_serve_tail_samples_into_either_store(tmp_path, backend):
    if backend == "clickhouse":
        pytest.importorskip("chdb")
        db = f"chdb:{tmp_path / 'ch'}"
    else:
        db = str(tmp_path / "t.duckdb")
    process, http_port, ui_port = serve_process(
        db, "--tail-sample", "errors", "--tail-sample", "drop:service=nobody",
        "--decision-wait", "200ms",
    )  # fmt: skip
    try:
        failed, ok = _send_two_traces(f"http://127.0.0.1:{http_port}/v1/traces")
        deadline = time.monotonic() + 30
        while True:
            found = httpx.get(f"http://127.0.0.1:{ui_port}/api/traces/{failed}")
            if found.status_code == 200 and len(found.json()["data"][0]["spans"]) == 2:
                break
            assert time.monotonic() < deadline, found.text
            time.sleep(0.2)
        assert httpx.get(f"http://127.0.0.1:{ui_port}/api/traces/{ok}").status_code == 404
        services = httpx.get(f"http://127.0.0.1:{ui_port}/api/services").json()["data"]
        assert services == ["checkout"]
    finally:
        os.kill(process.pid, signal.SIGTERM)
        code = process.wait(30)
        said = process.stderr.read().decode()  # type: ignore[union-attr]
        assert code == 0, said
    # The stop line tells what came in from what the store holds (it said "4 spans written").
    assert "stopped: 4 spans received since the start; the tail sampler kept 1 of 2 traces " in (
        said
    ), said


def test_a_bad_policy_is_refused_before_anything_starts(tmp_path):
    result = spanscope(
        "serve", "--db", str(tmp_path / "x.duckdb"), "--tail-sample", "latency>=soon"
    )
    assert result.returncode == 2
    assert "--tail-sample" in result.stderr and "invalid duration" in result.stderr
    assert "Traceback" not in result.stderr
