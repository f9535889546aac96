"""Query parameters of the Jaeger and native APIs that ``str.isdigit`` takes for numbers but
``int`` refuses ("²", "³"): each is a 400 in the API's own error shape, never a 500."""

from __future__ import annotations

import base64
import json
from datetime import datetime
from pathlib import Path

import httpx
import pytest

from spanscope.model import Event, Span

from .conftest import RunningServer, post_spans, wait_until_stored

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


JAEGER_FIXTURES = Path(__file__).parent.parent / "fixtures" / "jaeger"
UICONV = "internal__uimodel__converter__v1__json__fixtures__"


def _epoch_ns(rfc3339: str) -> int:
    """Jaeger's domain times ("2017-01-26T16:46:31.639875139-05:00") in ns since the epoch."""
    whole, _, rest = rfc3339.partition(".")
    digits = rest[: len(rest) - len(rest.lstrip("0123456789"))]
    zone = rest[len(digits) :]
    seconds = datetime.fromisoformat(whole + zone).timestamp()
    return int(seconds) * 10**9 + int(digits.ljust(9, "0"))


def _domain_span(raw: dict, trace_id: str, span_id: str, duration_ns: int) -> Span:
    start = _epoch_ns(raw["startTime"])
    return Span(
        trace_id=trace_id,
        span_id=span_id,
        name=raw["operationName"],
        start_ns=start,
        end_ns=start + duration_ns,
        service_name="service-x",
        events=[Event(_epoch_ns(log["timestamp"]), "log") for log in raw.get("logs", [])],
    )


def test_span_times_are_jaegers(live_server: RunningServer) -> None:
    """Jaeger's query service gives a span's start and duration each truncated to the
    microsecond (the duration from nanoseconds, not end minus start): its domain -> UI
    converter fixtures hold spans starting 139 ns past a microsecond, and a 9,999,877 ns span
    starting there is 9,999 us in Jaeger, where end minus start reads 10,000."""
    domain = json.loads((JAEGER_FIXTURES / f"{UICONV}domain_01.json").read_bytes())["spans"]
    ui = json.loads((JAEGER_FIXTURES / f"{UICONV}ui_01.json").read_bytes())["spans"]
    # The fixture holds span 2 twice (with logs, then without): the first of each id is sent.
    by_id: dict[str, dict] = {}
    for raw in domain:
        by_id.setdefault(base64.b64decode(raw["spanId"]).hex(), raw)
    expected: dict[str, tuple] = {}
    for span in ui:
        expected.setdefault(span["spanID"], _times(span))
    spans = [
        _domain_span(raw, "1".zfill(32), span_id, int(raw["duration"].removesuffix("ns")))
        for span_id, raw in by_id.items()
    ]
    spans.append(_domain_span(domain[0], "2".zfill(32), "9".zfill(16), 9_999_877))
    post_spans(live_server, spans)
    wait_until_stored(live_server, len(spans))

    def times(trace_id: str) -> list[tuple]:
        answer = httpx.get(f"{live_server.ui}/api/traces/{trace_id}", timeout=10)
        assert answer.status_code == 200, answer.text
        return sorted(_times(span) for span in answer.json()["data"][0]["spans"])

    assert times("1".zfill(32)) == sorted(expected.values())
    [(_, start, duration, _)] = times("2".zfill(32))
    assert (start, duration) == (1485467191639875, 9999)


def _times(span: dict) -> tuple:
    logs = tuple(log["timestamp"] for log in span["logs"])
    return (span["spanID"], span["startTime"], span["duration"], logs)
