"""Hostile parameters against the metrics endpoints (Jaeger's ``/api/metrics/*`` and the Monitor
page's ``/api/v1/monitor*``) on real servers on loopback, over a DuckDB store and over ClickHouse
(chDB): a huge lookback, step 0, an end in the year 3000, a thousand and ten thousand services,
a quantile that is not a number, an answer of millions of points. Each is a quick 400 in
Jaeger's error envelope naming the parameter, never a 500 or a hang, and the server answers
normally afterwards."""

from __future__ import annotations

import http.client
import time
from collections.abc import Iterator
from urllib.parse import urlparse

import httpx
import pytest

from spanscope.model import Span, SpanKind
from spanscope.server.jaeger_metrics_api import MAX_POINTS
from spanscope.server.metrics_params import LATEST_MS, MAX_SERVICES

from .conftest import RunningServer, post_spans, start_server, stop_server, wait_until_stored

S = 10**9
MS = 10**6
NOW_MS = time.time_ns() // MS
YEAR_3000_MS = 32_503_680_000_000
# Twelve operations of one service, a span a minute each over the last hour.
OPERATIONS = [f"GET /item/{i}" for i in range(12)]


def _spans() -> list[Span]:
    spans = []
    for minute in range(60):
        for op, name in enumerate(OPERATIONS):
            n = len(spans) + 1
            start = (NOW_MS - (60 - minute) * 60_000) * MS + op * S
            spans.append(
                Span(
                    trace_id=f"{n:032x}",
                    span_id=f"{n:016x}",
                    name=name,
                    start_ns=start,
                    end_ns=start + (op + 1) * MS,
                    kind=SpanKind.SERVER,
                    service_name="shop",
                )
            )
    return spans


@pytest.fixture(scope="module", params=["duckdb", "clickhouse"])
def server(request, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    if request.param == "duckdb":
        location = tmp_path_factory.mktemp("limits") / "traces.duckdb"
    else:
        from tests.store.clickhouse_engine import clickhouse_url

        location = clickhouse_url()
    running, thread = start_server(location)
    spans = _spans()
    post_spans(running, spans)
    wait_until_stored(running, len(spans))
    yield running
    stop_server(running, thread)


def _get(server: RunningServer, path: str, params) -> httpx.Response:
    return httpx.get(f"{server.ui}{path}", params=params, timeout=30)


def _assert_refused(response: httpx.Response, name: str) -> str:
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["data"] is None and body["errors"][0]["code"] == 400
    message = body["errors"][0]["msg"]
    assert message.startswith(f"unable to parse param '{name}': "), message
    return message


MANY = [("service", f"svc-{i}") for i in range(MAX_SERVICES + 1)]
CALLS = "/api/metrics/calls"


@pytest.mark.parametrize(
    ("path", "params", "name", "says"),
    [
        ("/api/v1/monitor", {"lookback": "100000000d"}, "lookback", "before 1970"),
        ("/api/v1/monitor", {"lookback": "1h", "end": YEAR_3000_MS}, "end", "2262"),
        ("/api/v1/monitor", {"lookback": "1h", "end": -5}, "end", "1970-01-01"),
        ("/api/v1/monitor", {"lookback": "1h", "end": 10**30}, "end", "2262"),
        ("/api/v1/monitor", MANY, "service", f"at most {MAX_SERVICES}"),
        ("/api/v1/monitor/operations", MANY, "service", f"at most {MAX_SERVICES}"),
        ("/api/metrics/latencies", {"service": "shop", "quantile": "abc"}, "quantile", "number"),
        ("/api/metrics/latencies", {"service": "shop", "quantile": "nan"}, "quantile", "one of"),
        (CALLS, {"service": "shop", "step": "0"}, "step", "positive"),
        (CALLS, {"service": "shop", "endTs": YEAR_3000_MS}, "endTs", "2262"),
        (CALLS, {"service": "shop", "lookback": 10**20}, "lookback", f"at most {LATEST_MS}"),
        (CALLS, {"service": "shop", "step": 10**20}, "step", f"at most {LATEST_MS}"),
        (CALLS, {"service": "shop", "ratePer": LATEST_MS + 1}, "ratePer", "at most"),
        (CALLS, {"service": "shop", "endTs": 1}, "lookback", "before 1970"),
        # the lookback fits after 1970, the 10 min summed before its first point does not
        (CALLS, {"service": "shop", "endTs": 4_000_000, "lookback": 3_500_000}, "ratePer", "1970"),
        (CALLS, [*MANY, ("quantile", "0.5")], "service", f"at most {MAX_SERVICES}"),
    ],
)
def test_hostile_parameters_are_400_in_jaegers_envelope(server, path, params, name, says):
    message = _assert_refused(_get(server, path, params), name)
    assert says in message


def test_latencies_have_no_rate_window_before_them(server):
    # the same window as the refused calls above: latencies look at each step alone
    params = {"service": "shop", "endTs": 4_000_000, "lookback": 3_500_000, "quantile": "0.5"}
    response = _get(server, "/api/metrics/latencies", params)
    assert response.status_code == 200, response.text
    assert response.json()["metrics"] == []


def test_an_answer_of_too_many_points_is_refused_before_it_is_built(server):
    # 12 operations x 20,000 one-second steps would be 240,000 points
    window = {"service": "shop", "endTs": NOW_MS, "lookback": 20_000_000 - 599_000}
    grouped = {**window, "step": 1000, "groupByOperation": "true", "ratePer": 600_000}
    assert len(OPERATIONS) * 20_000 > MAX_POINTS
    message = _assert_refused(_get(server, CALLS, grouped), "step")
    assert "12 series" in message and f"at most {MAX_POINTS}" in message
    # by service alone it is one series of 20,000 points: answered
    answer = _get(server, CALLS, {**grouped, "groupByOperation": "false"})
    assert answer.status_code == 200, answer.text
    (metric,) = answer.json()["metrics"]
    assert len(metric["metricPoints"]) == 20_000 - 599
    assert sum(p["gaugeValue"]["doubleValue"] for p in metric["metricPoints"]) > 0


def test_ten_thousand_services_are_refused_by_the_http_layer_and_the_server_goes_on(server):
    # 10,000 service= values make a request line of ~110 kB, longer than uvicorn reads: it
    # answers 400 itself before the API sees the request.
    # (httpx refuses to send so long a URL: a plain HTTP/1.1 client does)
    query = "&".join(f"service=s{i}" for i in range(10_000))
    connection = http.client.HTTPConnection(urlparse(server.ui).netloc, timeout=30)
    connection.request("GET", f"/api/v1/monitor?{query}")
    assert connection.getresponse().status == 400
    connection.close()
    again = _get(server, "/api/v1/monitor", {"lookback": "1h", "end": NOW_MS})
    assert again.status_code == 200
    (shop,) = again.json()["services"]
    assert shop["calls"] == 60 * len(OPERATIONS)


def test_the_widest_accepted_windows_still_answer(server):
    # the whole representable time (1970 to 2262) and a window ending at its last millisecond
    whole = _get(server, "/api/v1/monitor", {"lookback": "106751d", "end": LATEST_MS})
    assert whole.status_code == 200, whole.text
    body = whole.json()
    assert body["buckets"] <= 101 and body["start_ns"] >= 0
    assert [row["calls"] for row in body["services"]] == [60 * len(OPERATIONS)]
    latest = _get(server, CALLS, {"service": "shop", "endTs": LATEST_MS, "step": 60_000})
    assert latest.status_code == 200, latest.text
