"""``/api/v1/lint``, ``/api/v1/diff`` and ``/api/v1/flamegraph`` on a real server: the shop's current release is sent
over OTLP/HTTP for one hour of its clock, its next release (with the planted regression) for the
next hour, and the API compares the hours and checks the instrumentation. A read cut by its
limit is a sample spread over the window, and says so; a search listing stays newest first."""

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


def _first_starts(server, start_ns: int, end_ns: int) -> dict[str, int]:
    """Each stored trace of the window: its first span's start."""
    from spanscope.store import TraceQuery

    query = TraceQuery(start_time_min=start_ns, start_time_max=end_ns, num_traces=10_000)
    return {spans[0].trace_id: spans[0].start_ns for spans in server.store.find_traces(query)}


def test_a_cut_read_is_a_sample_of_the_whole_window_and_says_so(server):
    """``limit`` under the window's count: the analyses read the traces with the smallest
    sample keys, spread over the window, and say how many they read of how many matched."""
    from spanscope.store.codec import sample_key

    params = {**window(T0 + HOUR_NS, T0 + 2 * HOUR_NS), "limit": "50"}
    starts = _first_starts(server, T0 + HOUR_NS, T0 + 2 * HOUR_NS)
    first, last = min(starts.values()), max(starts.values())
    # Every trace has a frontend root: the sample is the 50 with the smallest sample keys.
    sample = sorted(starts, key=lambda trace_id: (sample_key(trace_id), trace_id))[:50]
    assert len(starts) == TRACES
    analysis = get(server, "/api/v1/analysis", {**params, "flamegraph": "slow"})
    assert analysis.status_code == 200, analysis.text
    summary = analysis.json()["report"]["summary"]
    assert summary["traces"] == 50
    assert summary["start_ns"] == min(starts[trace_id] for trace_id in sample)
    assert summary["start_ns"] < first + (last - first) // 5  # not the newest minutes
    for path in ("/api/v1/analysis", "/api/v1/lint", "/api/v1/flamegraph"):
        answer = get(server, path, params)
        assert answer.status_code == 200, answer.text
        assert answer.headers["Spanscope-Traces-Read"] == "50", path
        assert answer.headers["Spanscope-Traces-Matched"] == str(TRACES), path
    diff = get(server, "/api/v1/diff", params).json()
    for side in ("before", "after"):
        assert (diff[side]["read"], diff[side]["matched"]) == (50, TRACES), side
        assert diff[side]["traces"] <= 50
    # A read that fits says so: everything matched was read.
    whole = get(server, "/api/v1/lint", window(T0 + HOUR_NS, T0 + 2 * HOUR_NS))
    assert whole.headers["Spanscope-Traces-Read"] == whole.headers["Spanscope-Traces-Matched"]
    fits = get(server, "/api/v1/diff", window(T0 + HOUR_NS, T0 + 2 * HOUR_NS)).json()["after"]
    assert fits["read"] == fits["matched"] == TRACES


def test_a_search_listing_stays_newest_first(server):
    """Jaeger's search and the export list the most recent matching traces, not a sample."""
    from spanscope.assembly import group_by_trace
    from spanscope.formats import decode_spans
    from spanscope.store import TraceQuery

    params = {**window(T0 + HOUR_NS, T0 + 2 * HOUR_NS), "limit": "5"}
    newest = server.store.find_trace_ids(
        TraceQuery(
            service="frontend",
            start_time_min=T0 + HOUR_NS,
            start_time_max=T0 + 2 * HOUR_NS,
            num_traces=5,
        )
    )
    starts = _first_starts(server, T0 + HOUR_NS, T0 + 2 * HOUR_NS)
    assert min(starts[trace_id] for trace_id in newest) > sorted(starts.values())[-10]
    export = get(server, "/api/v1/export", {**params, "format": "otlp-json"})
    assert set(group_by_trace(decode_spans(export.content, "otlp-json"))) == set(newest)
    found = get(server, "/api/traces", params).json()["data"]
    assert {trace["traceID"] for trace in found} == set(newest)
