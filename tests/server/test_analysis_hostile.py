"""The Analysis page with names no one should write: 10,000-character span names and markup in
them stay text, inside the page's width. Real server, real DuckDB file, real Chromium."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from spanscope.model import Span, StatusCode

from .conftest import RunningServer, post_spans, start_server, stop_server
from .test_pages import Page

MS = 10**6
HUGE = "GET /" + "<b>x</b>" * 1_250  # 10,000 characters of markup


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[RunningServer]:
    running, thread = start_server(tmp_path_factory.mktemp("hostile") / "traces.duckdb")
    now = time.time_ns() - 5 * 60 * 10**9
    spans = []
    for n in range(30):
        trace_id, start = f"{n + 1:032x}", now + n * 10**9
        spans += [
            Span(trace_id, f"{n + 1:016x}", HUGE, start, start + (10 + n) * MS,
                 service_name="web", status_code=StatusCode.ERROR if n % 7 == 0 else
                 StatusCode.UNSET),
            Span(trace_id, f"{n + 101:016x}", HUGE + "'\"", start + MS, start + (9 + n) * MS,
                 f"{n + 1:016x}", service_name="db"),
        ]  # fmt: skip
    post_spans(running, spans)
    yield running
    stop_server(running, thread)


@pytest.mark.browser
@pytest.mark.parametrize("width", [800, 1600])
def test_huge_names_with_markup_stay_text_inside_the_page(browser, server, width) -> None:
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = Page(context, server.ui)
    page.open("/analysis?service=web&lookback=1h")
    page.page.wait_for_selector("#found:not([hidden])", state="attached")
    assert page.page.locator("#headline li").count() >= 1
    assert page.page.locator("#sections b:has-text('x')").count() == 0  # no markup took effect
    assert "<b>x</b>" in page.page.inner_text("#headline")
    assert page.page.evaluate("document.documentElement.scrollWidth") <= width
    sections = page.page.evaluate("document.getElementById('sections').scrollWidth")
    assert sections <= page.page.evaluate("document.getElementById('results').clientWidth")
    page.assert_clean()
    context.close()
