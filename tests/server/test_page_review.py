"""What a user saw wrong on the pages of ``spanscope serve``, each checked in headless Chromium
against a real server on loopback fed with synthetic shop traces over OTLP/HTTP."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from spanscope.formats import encode_spans
from spanscope.synthetic import generate_spans
from tests.browser import chromium, record_errors
from tests.viz.conftest import CONTRAST

from .conftest import RunningServer, start_server, stop_server

pytestmark = pytest.mark.browser
MINUTE_NS = 60 * 10**9


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    running, thread = start_server(tmp_path_factory.mktemp("review") / "traces.duckdb")
    spans = list(generate_spans(30, seed=14, start_ns=time.time_ns() - 10 * MINUTE_NS))
    response = httpx.post(
        f"{running.http}/v1/traces",
        content=encode_spans(spans, "otlp-proto"),
        headers={"Content-Type": "application/x-protobuf"},
    )
    assert response.status_code == 200, response.text
    yield running
    stop_server(running, thread)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    yield from chromium()


def _open(browser, url: str, *, width: int = 1400, scheme: str = "light"):
    context = browser.new_context(viewport={"width": width, "height": 800}, color_scheme=scheme)
    page = context.new_page()
    errors: list[str] = []
    record_errors(page, errors)
    page.goto(url)
    page.wait_for_selector("[data-ready='1']", state="attached", timeout=15_000)
    return context, page, errors


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_filled_buttons_are_readable_in_both_themes(browser, server, scheme):
    # White text on the dark theme's light blue accent was 2.6:1, below WCAG's 4.5:1.
    for path, selector in (
        ("/", "#find"),
        ("/compare", "#go"),
        ("/quality", "#go"),
        ("/services", ".ss-seg.active"),
    ):
        context, page, errors = _open(browser, server.ui + path, scheme=scheme)
        element = page.locator(selector).first
        assert element.is_visible(), path
        ratio = element.evaluate(CONTRAST)
        assert ratio >= 4.5, f"{path} {selector} in {scheme}: contrast {ratio:.2f}"
        assert errors == []
        context.close()
