"""The Monitor page (``/monitor``) in headless Chromium against a real server on loopback whose
store was filled through the real OTLP/HTTP receiver: 50 services over a day (96 buckets), one
of them failing lately and one slowing down; charts drawn, incident order, operations table,
clicks and keys that open Search, the empty state, dark theme and an 800 px window.
Screenshots go to ``test-artifacts/pages/`` for a person to look at."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from spanscope.model import Span, SpanKind, StatusCode
from tests.browser import open_page
from tests.viz.conftest import CONTRAST

from .conftest import RunningServer, post_spans, start_server, stop_server, wait_until_stored

pytestmark = pytest.mark.browser
S = 10**9
MS = 10**6
STEP = 15 * 60 * S  # what the page picks for 24 h
SERVICES = [f"svc-{i:02d}" for i in range(50)]
FAILING, SLOWING = "svc-07", "svc-12"
ARTIFACTS = Path(__file__).parent.parent.parent / "test-artifacts" / "pages"


def _spans(now: int) -> list[Span]:
    spans = []
    n = 0
    for bucket in range(95):  # the last 95 quarter-hours, ending 5 minutes ago
        at = now - 5 * 60 * S - (95 - bucket) * STEP + 60 * S
        late = bucket >= 85
        for s, service in enumerate(SERVICES):
            for op, name in enumerate(("GET /a", "POST /b")):
                n += 1
                duration = (5 + s % 7 + op * 20) * MS
                if service == SLOWING and late:
                    duration *= 8
                spans.append(
                    Span(
                        trace_id=f"{n:032x}",
                        span_id=f"{n:016x}",
                        name=name,
                        start_ns=at + s * S,
                        end_ns=at + s * S + duration,
                        kind=SpanKind.SERVER,
                        service_name=service,
                        status_code=StatusCode.ERROR
                        if service == FAILING and late and op == 1
                        else StatusCode.UNSET,
                    )
                )
    return spans


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    running, thread = start_server(tmp_path_factory.mktemp("monitor-page") / "traces.duckdb")
    spans = _spans(time.time_ns())
    post_spans(running, spans)
    wait_until_stored(running, len(spans))
    yield running
    stop_server(running, thread)


@pytest.fixture(scope="module")
def empty_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    running, thread = start_server(tmp_path_factory.mktemp("monitor-empty") / "traces.duckdb")
    yield running
    stop_server(running, thread)


def _shot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)


def test_a_row_of_three_charts_per_service_in_incident_order(browser, server):
    context, page, errors = open_page(browser, server.ui + "/monitor?lookback=24h")
    _shot(page, "monitor-24h.png")
    names = page.locator("button.mon-svc b").all_inner_texts()
    assert len(names) == 50
    # the one that fails first, then the one whose p95 grew, then the busiest (all equal here)
    assert names[:2] == [FAILING, SLOWING]
    charts = page.locator("svg.mon-chart")
    assert charts.count() == 150
    # every chart has a drawn path over the day (not a flat or empty one)
    drawn = page.evaluate(
        """() => [...document.querySelectorAll('svg.mon-chart path')].map(p => {
            const box = p.getBBox(); return [p.getAttribute('class'), box.width, box.height]; })"""
    )
    for kind, width, _ in drawn:
        assert width > 250, (kind, width)
    assert any(kind == "err" and height > 10 for kind, _, height in drawn)
    meta = page.inner_text("#mon-meta")
    assert "50 services" in meta and "15 min" in meta
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d – \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$", meta)
    assert errors == []
    context.close()


def test_quantile_and_sort_are_kept_in_the_address(browser, server):
    context, page, errors = open_page(browser, server.ui + "/monitor?lookback=24h&q=p99&sort=name")
    assert page.inner_text("#lat-head").lower() == "p99 latency"
    names = page.locator("button.mon-svc b").all_inner_texts()
    assert names == sorted(SERVICES)
    page.click("#quantiles button[data-v='p50']")
    assert "q=p50" in page.url
    assert page.inner_text("#lat-head").lower() == "p50 latency"
    page.click("#windows button[data-v='1h']")
    page.wait_for_selector("[data-ready='1']", state="attached")
    assert "lookback=1h" in page.url
    assert errors == []
    context.close()


def test_operations_table_sorts_and_opens_search(browser, server):
    context, page, errors = open_page(browser, server.ui + "/monitor?lookback=24h")
    page.click(f"button.mon-svc[data-svc='{FAILING}']")
    page.wait_for_selector("#ops table")
    assert f"service={FAILING}" in page.url
    rows = page.locator("#ops tbody tr")
    assert rows.count() == 2
    assert rows.first.locator("td").first.inner_text() == "POST /b"  # most impact first
    cells = rows.first.locator("td").all_inner_texts()
    assert cells[3].endswith("%") and float(cells[3][:-1]) > 0  # its error rate
    page.click("#ops th button[data-key='operation']")
    assert rows.first.locator("td").first.inner_text() == "GET /a"
    _shot(page, "monitor-operations.png")
    page.click("#ops tbody tr >> nth=1 >> a")
    page.wait_for_url("**/?*")
    params = parse_qs(urlparse(page.url).query)
    assert params["service"] == [FAILING] and params["operation"] == ["POST /b"]
    assert params["lookback"] == ["custom"] and int(params["end"][0]) > int(params["start"][0])
    page.wait_for_selector("[data-ready='1']", state="attached")
    assert errors == []
    context.close()


def test_an_open_service_links_to_its_analysis(browser, server):
    context, page, errors = open_page(browser, server.ui + "/monitor?lookback=24h")
    page.click(f"button.mon-svc[data-svc='{FAILING}']")
    page.wait_for_selector("#ops table")
    link = page.locator(".mon-why a")
    assert link.get_attribute("href") == f"/analysis?service={FAILING}&lookback=24h"
    link.click()
    page.wait_for_url("**/analysis?*")
    page.wait_for_selector("body[data-ready='1']", state="attached")
    page.wait_for_selector("#found:not([hidden])", state="attached")
    assert page.locator("#headline li").count() >= 1
    assert errors == []
    context.close()


def test_a_chart_point_opens_search_for_its_bucket(browser, server):
    context, page, errors = open_page(browser, server.ui + "/monitor?lookback=24h")
    chart = page.locator(f"svg.mon-chart[data-svc='{FAILING}'][data-kind='err']")
    box = chart.bounding_box()
    # the last full bucket with spans (the newest one is still filling and empty)
    spot = {"x": box["width"] * (1 - 2.5 / 97), "y": box["height"] / 2}
    chart.hover(position=spot)
    tip = page.inner_text("#tip")
    assert "errors" in tip
    chart.click(position=spot)
    page.wait_for_url("**/?*")
    params = parse_qs(urlparse(page.url).query)
    assert params["service"] == [FAILING] and params["tags"] == ["error=true"]
    start, end = int(params["start"][0]), int(params["end"][0])
    assert 0 < end - start <= STEP // 1000  # one bucket, in microseconds
    # the tip names that bucket in UTC, as the command line and Search do, with its day (the
    # window is 24 h)
    bucket = f"{_utc(start, '%Y-%m-%d %H:%M:%S')}–{_utc(end)} UTC"
    assert tip.startswith(bucket), (tip, bucket)
    # Search ran that query: the bucket's failed call (one POST /b error per bucket) is found
    page.wait_for_selector("#found:not([hidden])", timeout=30_000)
    assert page.inner_text("#result-count") == "1 trace"
    assert errors == []
    context.close()


def test_keyboard_reaches_a_bucket_and_opens_it(browser, server):
    context, page, errors = open_page(browser, server.ui + "/monitor?lookback=24h")
    chart = page.locator(f"svg.mon-chart[data-svc='{SLOWING}'][data-kind='lat']")
    chart.focus()
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowLeft")
    assert not page.locator("#tip").is_hidden()
    page.keyboard.press("Enter")
    page.wait_for_url("**/?*")
    params = parse_qs(urlparse(page.url).query)
    assert params["service"] == [SLOWING] and "tags" not in params
    assert errors == []
    context.close()


def test_empty_store_says_so(browser, empty_server):
    context, page, errors = open_page(browser, empty_server.ui + "/monitor")
    assert page.locator("#mon-empty").is_visible()
    assert "No spans in this window" in page.inner_text("#mon-empty")
    assert page.locator("svg.mon-chart").count() == 0
    _shot(page, "monitor-empty.png")
    assert errors == []
    context.close()


def test_dark_theme_at_800_px_fits_and_reads(browser, server):
    url = server.ui + f"/monitor?lookback=24h&service={FAILING}"
    context, page, errors = open_page(browser, url, width=800, scheme="dark")
    page.wait_for_selector("#ops table")
    _shot(page, "monitor-800-dark.png")
    assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background != "rgb(255, 255, 255)"
    for selector in ("#quantiles button[aria-pressed='true']", "button.mon-svc b", ".mon-meta"):
        ratio = page.locator(selector).first.evaluate(CONTRAST)
        assert ratio >= 4.5, f"{selector}: contrast {ratio:.2f}"
    assert errors == []
    context.close()


def test_an_address_edited_by_hand_falls_back_to_the_defaults(browser, server):
    # values no control can choose: the page draws the default view, not an error or nothing
    url = server.ui + "/monitor?lookback=100000000d&kind=sideways&q=p42&sort=%3Cb%3E"
    context, page, errors = open_page(browser, url)
    assert page.locator("#mon-error").is_hidden()
    assert page.input_value("#kind") == "server" and page.input_value("#sort") == "incident"
    assert page.inner_text("#lat-head").lower() == "p95 latency"
    assert page.locator("button.mon-svc b").count() > 0
    page.select_option("#sort", "name")  # the address written back holds only real choices
    assert "kind=server" in page.url and "sort=name" in page.url and "p42" not in page.url
    assert errors == []
    context.close()


def _utc(micros: int, form: str = "%H:%M:%S") -> str:
    return datetime.fromtimestamp(micros / 1e6, tz=UTC).strftime(form)
