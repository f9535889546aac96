"""Query parameters of the Jaeger and native APIs that ``str.isdigit`` takes for numbers but
``int`` refuses ("²", "³"): each is a 400 in the API's own error shape, never a 500."""

from __future__ import annotations

import httpx
import pytest

from .conftest import RunningServer

SUPERSCRIPT_TWO = "\u00b2"


@pytest.mark.parametrize(
    ("path", "params", "named"),
    [
        ("/api/traces", {"service": "a", "limit": SUPERSCRIPT_TWO}, "limit"),
        ("/api/traces", {"service": "a", "end": SUPERSCRIPT_TWO}, "end"),
        ("/api/dependencies", {"endTs": SUPERSCRIPT_TWO}, "endTs"),
        ("/api/dependencies", {"lookback": SUPERSCRIPT_TWO}, "lookback"),
    ],
)
def test_jaeger_api_refuses_digits_int_cannot_read(
    live_server: RunningServer, path: str, params: dict, named: str
) -> None:
    response = httpx.get(f"{live_server.ui}{path}", params=params, timeout=10)
    assert response.status_code == 400, response.text
    assert named in response.json()["errors"][0]["msg"]


def test_native_api_names_a_bad_trace_id(live_server: RunningServer) -> None:
    for path in ("/api/v1/traces/xyz", "/api/v1/traces/xyz/analysis"):
        response = httpx.get(f"{live_server.ui}{path}", timeout=10)
        assert response.status_code == 400, response.text
        assert "xyz" in response.json()["error"]["message"]


HUGE_DAYS = "99999999d"  # 274,000 years: before 1970 from now, past 2262 as a duration
PAST_2262_US = "99999999999999999999"


@pytest.mark.parametrize(
    ("path", "params", "words"),
    [
        ("/api/traces", {"service": "a", "lookback": HUGE_DAYS}, "before 1970"),
        ("/api/traces", {"service": "a", "end": PAST_2262_US}, "'end'"),
        ("/api/traces", {"service": "a", "start": PAST_2262_US}, "'start'"),
        ("/api/traces", {"service": "a", "minDuration": "999999999999d"}, "minDuration"),
        ("/api/v1/analysis", {"service": "a", "lookback": HUGE_DAYS}, "before 1970"),
        ("/api/v1/export", {"service": "a", "lookback": HUGE_DAYS}, "before 1970"),
        ("/api/v1/lint", {"service": "a", "lookback": HUGE_DAYS}, "before 1970"),
        ("/api/v1/diff", {"service": "a", "lookback": HUGE_DAYS}, "before 1970"),
        ("/api/v1/diff", {"service": "a", "baseOffset": HUGE_DAYS}, "before 1970"),
        ("/api/dependencies", {"endTs": PAST_2262_US}, "endTs"),
    ],
)
def test_windows_outside_1970_to_2262_are_named(
    live_server: RunningServer, path: str, params: dict, words: str
) -> None:
    response = httpx.get(f"{live_server.ui}{path}", params=params, timeout=10)
    assert response.status_code == 400, response.text
    body = response.json()
    message = body["errors"][0]["msg"] if "errors" in body else body["error"]["message"]
    assert words in message


def test_a_dependencies_lookback_past_1970_means_all_of_it(live_server: RunningServer) -> None:
    response = httpx.get(
        f"{live_server.ui}/api/dependencies", params={"lookback": "9" * 18}, timeout=10
    )
    assert response.status_code == 200, response.text
    assert response.json()["data"] == []
