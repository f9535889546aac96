"""``/api/v1/lint``, ``/api/v1/diff`` and ``/api/v1/flamegraph`` on a real server: the shop's current release is sent
over OTLP/HTTP for one hour of its clock, its next release (with the planted regression) for the
next hour, and the API compares the hours and checks the instrumentation."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import jsonschema
import pytest

from spanscope.synthetic import generate_spans

from .conftest import post_spans, start_server, stop_server

HOUR_NS = 3600 * 10**9
T0 = 1_764_150_000_000_000_000
TRACES = 400
SCHEMA = json.loads(
    (Path(__file__).resolve().parents[2] / "schemas/lint-report.schema.json").read_text()
)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    running, thread = start_server(tmp_path_factory.mktemp("insight") / "traces.duckdb")
    post_spans(running, generate_spans(TRACES, seed=1, start_ns=T0))
    # A second in: windows include both ends, and the first trace starts at the window start.
    post_spans(
        running, generate_spans(TRACES, seed=2, start_ns=T0 + HOUR_NS + 10**9, next_release=True)
    )
    yield running
    stop_server(running, thread)


def window(start_ns: int, end_ns: int) -> dict[str, str]:
    return {
        "service": "frontend",
        "limit": "1500",
        "start": str(start_ns // 1000),
        "end": str(end_ns // 1000),
    }


def get(server, path: str, params: dict[str, str]) -> httpx.Response:
    return httpx.get(f"{server.ui}{path}", params=params, timeout=60)


def test_diff_of_the_second_hour_against_the_first(server):
    # The default baseline is the window just before, of the same length.
    answer = get(server, "/api/v1/diff", window(T0 + HOUR_NS, T0 + 2 * HOUR_NS))
    assert answer.status_code == 200, answer.text
    result = answer.json()
    assert result["before"]["traces"] == result["after"]["traces"] == TRACES
    (checkout,) = [e for e in result["endpoints"] if e["operation"] == "POST /api/checkout"]
    grew = max(checkout["contributors"], key=lambda frame: frame["delta_ns"])
    assert (grew["service"], grew["operation"]) == ("inventory", "SELECT shop.stock")
    assert any(line.startswith("new error: CarrierRateLimited") for line in result["headline"])
    explicit = get(
        server,
        "/api/v1/diff",
        {
            **window(T0 + HOUR_NS, T0 + 2 * HOUR_NS),
            "baseStart": str(T0 // 1000),
            "baseEnd": str((T0 + HOUR_NS) // 1000),
        },
    )
    offset = get(
        server, "/api/v1/diff", {**window(T0 + HOUR_NS, T0 + 2 * HOUR_NS), "baseOffset": "1h"}
    )
    assert explicit.json() == result == offset.json()


def test_the_same_window_against_itself_changes_nothing(server):
    answer = get(
        server,
        "/api/v1/diff",
        {
            **window(T0, T0 + HOUR_NS),
            "baseStart": str(T0 // 1000),
            "baseEnd": str((T0 + HOUR_NS) // 1000),
        },
    )
    assert answer.status_code == 200
    assert answer.json()["headline"] == []


def test_lint_of_a_search(server):
    answer = get(server, "/api/v1/lint", window(T0, T0 + 2 * HOUR_NS))
    assert answer.status_code == 200, answer.text
    report = answer.json()
    jsonschema.validate(report, SCHEMA)
    assert report["traces"] == 2 * TRACES
    assert {rule["id"] for rule in report["rules"]} == {"deprecated-attribute"}


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"baseStart": "1"}, "baseStart"),
        ({"baseOffset": "soon"}, "baseOffset"),
        ({"baseStart": "20", "baseEnd": "10"}, "empty"),
        ({"baseStart": "²", "baseEnd": "10"}, "baseStart"),  # a digit to str.isdigit only
    ],
)
def test_bad_baselines_get_the_api_error_shape(server, params, message):
    answer = get(server, "/api/v1/diff", {**window(T0, T0 + HOUR_NS), **params})
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert error["status"] == 400 and message in error["message"]


def test_openapi_describes_them(server):
    paths = httpx.get(f"{server.ui}/api/v1/openapi.json", timeout=10).json()["paths"]
    assert {"/api/v1/lint", "/api/v1/diff", "/api/v1/flamegraph"} <= set(paths)


def test_flame_graph_of_a_search_is_the_command_s(server, tmp_path):
    """``/api/v1/flamegraph`` draws what ``spanscope flamegraph --aggregate`` draws of the same
    traces: the second hour exported, then drawn by the command."""
    from spanscope.assembly import assemble
    from spanscope.formats import read_spans
    from spanscope.viz.flamegraph import traces_flamegraph

    params = window(T0 + HOUR_NS, T0 + 2 * HOUR_NS)
    export = get(server, "/api/v1/export", {**params, "format": "otlp-json"})
    assert export.status_code == 200
    (tmp_path / "hour.json").write_bytes(export.content)
    traces = assemble(read_spans(str(tmp_path / "hour.json")))
    services = httpx.get(f"{server.ui}/api/services", timeout=10).json()["data"]
    for extra, endpoint, slow in (
        ({}, None, False),
        ({"slow": "true"}, None, True),
        ({"endpoint": "frontend:POST /api/checkout"}, ("frontend", "POST /api/checkout"), False),
    ):
        answer = get(server, "/api/v1/flamegraph", {**params, **extra})
        assert answer.status_code == 200, answer.text
        assert answer.headers["content-type"].startswith("image/svg+xml")
        expected, stacks, used = traces_flamegraph(
            traces, endpoint=endpoint, slow=slow, services=services
        )
        assert stacks > 3 and used <= TRACES
        assert answer.text == expected


@pytest.mark.parametrize(
    ("params", "status", "message"),
    [
        ({"slow": "maybe"}, 400, "slow"),
        ({"endpoint": "no-colon"}, 400, "SERVICE:OPERATION"),
        ({"endpoint": "frontend:GET /nowhere"}, 404, "no trace has the root"),
    ],
)
def test_flame_graph_refusals_say_why(server, params, status, message):
    answer = get(server, "/api/v1/flamegraph", {**window(T0, T0 + HOUR_NS), **params})
    assert answer.status_code == status
    assert message in answer.json()["error"]["message"]
    empty = get(server, "/api/v1/flamegraph", window(T0 - 3 * HOUR_NS, T0 - 2 * HOUR_NS))
    assert empty.status_code == 404 and "no traces" in empty.json()["error"]["message"]
