"""The Monitor, Jaeger's metrics API and the search count the failures ``analyze --db`` counts,
on data that marks failures without a span status: an HTTP 5xx through the real OpenTelemetry
SDK's Zipkin exporter and the server's Zipkin receiver (Zipkin has no status; its ``error``
tag becomes one on reading), and an ``error`` attribute or a gRPC code through its OTLP
exporter, with no status set."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import httpx
import pytest
from click.testing import CliRunner
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.exporter.zipkin.json import ZipkinExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import SpanKind

from spanscope.cli import main

from .conftest import RunningServer, start_server, stop_server, wait_until_stored

S = 10**9
MS = 10**6
MINUTE_MS = 60_000
END_MS = (time.time_ns() // MS // MINUTE_MS - 1) * MINUTE_MS
START_NS = (END_MS - 5 * MINUTE_MS) * MS

# Per service, the attributes of its SERVER spans (one trace each, no status set): Jaeger and
# OpenTracing clients mark a failure with the ``error`` tag, HTTP and gRPC instrumentation
# with the status code. The gateway speaks Zipkin, billing OTLP.
PLAN: dict[str, list[dict]] = {
    "gateway": [
        {"http.status_code": 200},
        {"http.status_code": 200},
        {"http.status_code": 503},
        {"error": True, "http.status_code": 200},
        {"http.status_code": 404},
    ],
    "billing": [
        {"rpc.grpc.status_code": 0},
        {"rpc.grpc.status_code": 14},
        {"error": True},
        {"error": "false"},
        {},
    ],
}
FAILED = {"gateway": 2, "billing": 2}


def _exporter(server: RunningServer, service: str) -> ZipkinExporter | OTLPSpanExporter:
    if service == "gateway":
        return ZipkinExporter(endpoint=f"{server.zipkin}/api/v2/spans")
    return OTLPSpanExporter(endpoint=f"{server.http}/v1/traces")


def _failed(attributes: dict) -> bool:
    return (
        attributes.get("error") is True
        or attributes.get("http.status_code", 0) >= 500
        or attributes.get("rpc.grpc.status_code", 0) != 0
    )


def _send(server: RunningServer) -> tuple[int, set[str]]:
    """The PLAN's spans; how many, and the failed traces' ids."""
    sent, failed = 0, set()
    for service, tags in PLAN.items():
        provider = TracerProvider(resource=Resource.create({"service.name": service}))
        provider.add_span_processor(SimpleSpanProcessor(_exporter(server, service)))
        tracer = provider.get_tracer("test")
        for i, attributes in enumerate(tags):
            start = START_NS + (i + 1) * 20 * S
            span = tracer.start_span("GET /", kind=SpanKind.SERVER, start_time=start)
            span.set_attributes(attributes)
            span.end(end_time=start + 5 * MS)
            sent += 1
            if _failed(attributes):
                failed.add(f"{span.get_span_context().trace_id:032x}")
        provider.shutdown()
    return sent, failed


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningServer, set[str]]]:
    running, thread = start_server(tmp_path_factory.mktemp("errors") / "traces.duckdb")
    sent, failed = _send(running)
    wait_until_stored(running, sent)
    yield running, failed
    stop_server(running, thread)


def _get(server: RunningServer, path: str, **params) -> httpx.Response:
    answer = httpx.get(f"{server.ui}{path}", params=params, timeout=30)
    assert answer.status_code == 200, answer.text
    return answer


def _analyze_errors(server: RunningServer) -> dict[str, int]:
    """Error spans per service as ``analyze --db`` reports them, reading the server's store."""
    done = CliRunner().invoke(
        main,
        [
            "analyze",
            "--db",
            server.ui,
            "--since",
            str(START_NS // S),
            "--until",
            str(END_MS // 1000),
            "--json",
        ],
    )
    assert done.exit_code == 0, done.output
    report = json.loads(done.stdout)
    errors: dict[str, int] = {}
    for row in report["operations"]:
        errors[row["service"]] = errors.get(row["service"], 0) + row["errors"]
    return errors


def test_monitor_counts_the_failures_analyze_counts(served):
    server, _ = served
    assert _analyze_errors(server) == FAILED
    body = _get(server, "/api/v1/monitor", lookback="5m", end=END_MS).json()
    found = {row["service"]: (row["calls"], row["errors"]) for row in body["services"]}
    assert found == {service: (len(PLAN[service]), FAILED[service]) for service in PLAN}
    operations = _get(
        server, "/api/v1/monitor/operations", service="gateway", lookback="5m", end=END_MS
    ).json()["operations"]
    assert [(row["operation"], row["errors"]) for row in operations] == [("GET /", 2)]


def test_jaegers_metrics_api_counts_them(served):
    server, _ = served
    window = {"endTs": END_MS, "lookback": 5 * MINUTE_MS, "step": 5 * MINUTE_MS}
    family = _get(
        server,
        "/api/metrics/errors",
        service=list(PLAN),
        ratePer=5 * MINUTE_MS,
        **window,
    ).json()
    rates = {
        next(label["value"] for label in metric["labels"] if label["name"] == "service_name"): [
            point["gaugeValue"]["doubleValue"] for point in metric["metricPoints"]
        ]
        for metric in family["metrics"]
    }
    assert rates == {service: [FAILED[service] / len(PLAN[service])] for service in PLAN}


def test_error_true_search_finds_the_failed_traces(served):
    server, failed = served
    found = set()
    for service in PLAN:
        answer = _get(
            server,
            "/api/traces",
            service=service,
            tags=json.dumps({"error": "true"}),
            start=START_NS // 1000,
            end=END_MS * 1000,
            limit=100,
        ).json()
        found |= {trace["traceID"] for trace in answer["data"]}
    assert len(failed) == 4 and found == failed
