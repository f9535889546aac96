"""Jaeger's metrics API (``/api/metrics/*``) and the Monitor page's API (``/api/v1/monitor``)
on a real server on loopback, filled by the real OpenTelemetry SDK's OTLP/HTTP exporter with
spans of known times, durations and statuses; answers in Jaeger's shapes, bad parameters 400."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime

import httpx
import pytest
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import SpanKind, Status, StatusCode

from .conftest import RunningServer, start_server, stop_server

S = 10**9
MS = 10**6
MINUTE_MS = 60_000
# Five whole minutes ending at END (ms): minute i is [END - (5 - i) min, END - (4 - i) min).
END_MS = (time.time_ns() // MS // MINUTE_MS - 2) * MINUTE_MS
START_NS = (END_MS - 5 * MINUTE_MS) * MS


def _send(server: RunningServer) -> int:
    """Per minute: checkout 'GET /cart' x6 (10..60 ms; the last minute one error), in the last
    minute also 'POST /pay' x4 at 100 ms (two errors); stock 'reserve' x3 (5 ms); one CLIENT
    span of checkout a minute. Returns how many spans were sent."""
    sent = 0
    for service, plan in (("checkout", _checkout), ("stock", _stock)):
        provider = TracerProvider(resource=Resource.create({"service.name": service}))
        exporter = OTLPSpanExporter(endpoint=f"{server.http}/v1/traces")
        provider.add_span_processor(SimpleSpanProcessor(exporter))
        tracer = provider.get_tracer("test")
        for minute in range(5):
            base = START_NS + minute * 60 * S
            for name, kind, offset, duration, error in plan(minute):
                span = tracer.start_span(name, kind=kind, start_time=base + offset)
                if error:
                    span.set_status(Status(StatusCode.ERROR, "failed"))
                span.end(end_time=base + offset + duration)
                sent += 1
        provider.shutdown()
    return sent


def _checkout(minute: int):
    for i in range(6):
        yield "GET /cart", SpanKind.SERVER, i * S, (i + 1) * 10 * MS, minute == 4 and i == 0
    yield "call stock", SpanKind.CLIENT, 30 * S, 3 * MS, False
    if minute == 4:
        for i in range(4):
            yield "POST /pay", SpanKind.SERVER, (10 + i) * S, 100 * MS, i < 2


def _stock(minute: int):
    for i in range(3):
        yield "reserve", SpanKind.SERVER, (20 + i) * S, 5 * MS, False


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    running, thread = start_server(tmp_path_factory.mktemp("monitor") / "traces.duckdb")
    sent = _send(running)
    deadline = time.monotonic() + 30
    while running.store.stats().spans < sent:  # the writer stores batches in the background
        assert time.monotonic() < deadline, "spans were not stored"
        time.sleep(0.05)
    yield running
    stop_server(running, thread)


def _get(server: RunningServer, path: str, **params) -> httpx.Response:
    return httpx.get(f"{server.ui}{path}", params=params, timeout=30)


def _window(**extra) -> dict:
    return {"endTs": END_MS, "lookback": 5 * MINUTE_MS, "step": MINUTE_MS, **extra}


def _points(metric: dict) -> list[tuple[int, float]]:
    return [
        (
            round(datetime.fromisoformat(p["timestamp"].replace("Z", "+00:00")).timestamp()) * 1000,
            p["gaugeValue"]["doubleValue"],
        )
        for p in metric["metricPoints"]
    ]


def _labels(metric: dict) -> dict[str, str]:
    return {label["name"]: label["value"] for label in metric["labels"]}


def test_calls_per_second_per_service(server):
    response = _get(
        server, "/api/metrics/calls", service=["checkout", "stock"], **_window(ratePer=MINUTE_MS)
    )
    assert response.status_code == 200, response.text
    family = response.json()
    assert (family["name"], family["type"]) == ("service_call_rate", "GAUGE")
    assert "calls/sec" in family["help"]
    by_service = {_labels(m)["service_name"]: _points(m) for m in family["metrics"]}
    ends = [END_MS - (4 - i) * MINUTE_MS for i in range(5)]  # a point is stamped at its step's end
    assert by_service["checkout"] == [(t, 6 / 60) for t in ends[:4]] + [(ends[4], 10 / 60)]
    assert by_service["stock"] == [(t, 3 / 60) for t in ends]


def test_rate_per_sums_the_window_before_each_point(server):
    response = _get(server, "/api/metrics/calls", service="stock", **_window())  # ratePer 10 min
    (metric,) = response.json()["metrics"]
    values = [value for _, value in _points(metric)]
    assert values == pytest.approx([3 * (i + 1) / 600 for i in range(5)])


def test_errors_are_a_fraction_of_calls_grouped_by_operation(server):
    params = _window(ratePer=MINUTE_MS, groupByOperation="true")
    response = _get(server, "/api/metrics/errors", service="checkout", **params)
    family = response.json()
    assert family["name"] == "service_operation_error_rate"
    found = {_labels(m)["operation"]: _points(m) for m in family["metrics"]}
    assert set(found) == {"GET /cart", "POST /pay"}  # SERVER spans only: no 'call stock'
    assert [value for _, value in found["GET /cart"]] == [0, 0, 0, 0, 1 / 6]
    assert found["POST /pay"] == [(END_MS, 0.5)]  # steps without calls have no error point
    assert all(_labels(m)["service_name"] == "checkout" for m in family["metrics"])


def test_latency_quantiles_in_milliseconds(server):
    response = _get(
        server, "/api/metrics/latencies", service="checkout", quantile="0.5", **_window()
    )
    family = response.json()
    assert family["name"] == "service_latencies" and "0.5th quantile" in family["help"]
    (metric,) = family["metrics"]
    values = [value for _, value in _points(metric)]
    # 10..60 ms: the median is 35 ms; with four 100 ms calls added (10 values) it is 55 ms.
    assert values == pytest.approx([35, 35, 35, 35, 55])


def test_span_kind_choice(server):
    for kind in ("SPAN_KIND_CLIENT", "client"):
        response = _get(
            server,
            "/api/metrics/calls",
            service="checkout",
            spanKind=kind,
            **_window(ratePer=MINUTE_MS),
        )
        (metric,) = response.json()["metrics"]
        assert [value for _, value in _points(metric)] == [1 / 60] * 5


def test_minstep_in_jaegers_envelope(server):
    body = _get(server, "/api/metrics/minstep").json()
    assert body == {"data": 1000, "total": 0, "limit": 0, "offset": 0, "errors": None}


@pytest.mark.parametrize(
    ("path", "params", "name"),
    [
        ("/api/metrics/calls", {}, "service"),
        ("/api/metrics/calls", {"service": "a", "step": "soon"}, "step"),
        ("/api/metrics/calls", {"service": "a", "step": "0"}, "step"),
        ("/api/metrics/errors", {"service": "a", "lookback": "-5"}, "lookback"),
        ("/api/metrics/errors", {"service": "a", "endTs": "yesterday"}, "endTs"),
        ("/api/metrics/calls", {"service": "a", "ratePer": "1.5"}, "ratePer"),
        ("/api/metrics/calls", {"service": "a", "groupByOperation": "maybe"}, "groupByOperation"),
        ("/api/metrics/calls", {"service": "a", "spanKind": "SPAN_KIND_SIDEWAYS"}, "spanKind"),
        ("/api/metrics/latencies", {"service": "a"}, "quantile"),
        ("/api/metrics/latencies", {"service": "a", "quantile": "0.42"}, "quantile"),
        ("/api/metrics/calls", {"service": "a", "step": "1", "lookback": "86400000"}, "step"),
        ("/api/v1/monitor", {"lookback": "forever"}, "lookback"),
        ("/api/v1/monitor/operations", {}, "service"),
    ],
)
def test_bad_parameters_are_400_naming_them(server, path, params, name):
    response = _get(server, path, **params)
    assert response.status_code == 400
    body = response.json()
    assert body["data"] is None and body["errors"][0]["code"] == 400
    assert f"'{name}'" in body["errors"][0]["msg"]


def test_monitor_document_for_the_page(server):
    response = _get(server, "/api/v1/monitor", lookback="5m", end=END_MS)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["step_ns"] == 5 * S and body["end_ns"] == END_MS * MS
    assert body["buckets"] == 60 and body["span_kind"] == "server"
    checkout, stock = body["services"]  # incident order: the service with errors first
    assert (checkout["service"], checkout["calls"], checkout["errors"]) == ("checkout", 34, 3)
    assert (stock["service"], stock["calls"], stock["errors"]) == ("stock", 15, 0)
    assert checkout["rps"] == pytest.approx(34 / 300)
    assert sum(checkout["series"]["calls"]) == 34 and sum(checkout["series"]["errors"]) == 3
    assert len(checkout["series"]["p95"]) == 60
    assert checkout["series"]["p95"][0] is not None and checkout["series"]["p95"][3] is None
    operations = _get(
        server, "/api/v1/monitor/operations", service="checkout", lookback="5m", end=END_MS
    ).json()
    rows = {row["operation"]: row for row in operations["operations"]}
    assert rows["GET /cart"]["calls"] == 30 and rows["POST /pay"]["errors"] == 2
    # impact: GET /cart 5 x 210 ms = 1050 ms, POST /pay 400 ms of 1450 ms
    assert rows["GET /cart"]["impact"] == pytest.approx(1050 / 1450)
    assert [row["operation"] for row in operations["operations"]] == ["GET /cart", "POST /pay"]


def test_monitor_empty_window(server):
    body = _get(server, "/api/v1/monitor", lookback="15m", end=END_MS - 3600_000).json()
    assert body["services"] == [] and body["buckets"] == 90


def test_page_is_linked_from_every_page(server):
    for path in ("/", "/compare", "/quality", "/monitor"):
        html = _get(server, path).text
        assert 'href="/monitor"' in html, path
    assert 'class="ss-link active" href="/monitor"' in _get(server, "/monitor").text


def test_what_jaeger_ui_sends(server):
    # Jaeger UI's Monitor tab: one service, quantile 0.5/0.75/0.95, 1 min steps, 10 min rate
    # window, a lower-case span kind, then the same grouped by operation.
    query = (
        f"service=checkout&quantile=0.95&endTs={END_MS}&lookback={5 * MINUTE_MS}"
        f"&step={MINUTE_MS}&ratePer={10 * MINUTE_MS}&spanKind=server"
    )
    for path, name in (
        ("latencies", "service_latencies"),
        ("calls", "service_call_rate"),
        ("errors", "service_error_rate"),
    ):
        family = httpx.get(f"{server.ui}/api/metrics/{path}?{query}", timeout=30).json()
        assert family["name"] == name and len(family["metrics"]) == 1
        grouped = httpx.get(
            f"{server.ui}/api/metrics/{path}?{query}&groupByOperation=true", timeout=30
        ).json()
        assert grouped["name"] == name.replace("service_", "service_operation_")
        assert {_labels(m)["operation"] for m in grouped["metrics"]} == {"GET /cart", "POST /pay"}


@pytest.fixture(scope="module")
def chdb_server() -> Iterator[RunningServer]:
    from tests.store.clickhouse_engine import clickhouse_url

    running, thread = start_server(clickhouse_url())
    sent = _send(running)
    deadline = time.monotonic() + 60
    while running.store.stats().spans < sent:
        assert time.monotonic() < deadline, "spans were not stored"
        time.sleep(0.1)
    yield running
    stop_server(running, thread)


def test_clickhouse_store_serves_the_same_answers(server, chdb_server):
    for path, params in (
        ("/api/metrics/latencies", _window(service="checkout", quantile="0.75")),
        ("/api/metrics/errors", _window(service="checkout", groupByOperation="1")),
        ("/api/metrics/calls", _window(service=["checkout", "stock"])),
        ("/api/v1/monitor", {"lookback": "5m", "end": END_MS}),
        ("/api/v1/monitor/operations", {"lookback": "5m", "end": END_MS, "service": "checkout"}),
    ):
        duck, house = _get(server, path, **params), _get(chdb_server, path, **params)
        assert duck.status_code == house.status_code == 200
        assert duck.json() == house.json(), path


def test_openapi_describes_the_monitor_endpoints_and_their_parameters_work(server):
    paths = _get(server, "/api/v1/openapi.json").json()["paths"]
    for path in ("/api/v1/monitor", "/api/v1/monitor/operations"):
        described = {p["name"] for p in paths[path]["get"]["parameters"]}
        assert described == {"service", "lookback", "end", "spanKind"}, path
        answer = _get(
            server, path, service="checkout", lookback="5m", end=END_MS, spanKind="server"
        )
        assert answer.status_code == 200, (path, answer.text)
    assert _get(server, "/api/v1/monitor", lookback="soon").status_code == 400
