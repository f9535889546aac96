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
