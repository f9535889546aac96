"""Helpers for the page tests: one headless Chromium per test module, pages that collect their
console errors, and a place for screenshots (``test-artifacts/viz``, not committed)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from spanscope.assembly import assemble
from spanscope.formats import read_spans
from spanscope.model import Trace

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
FIXTURES = Path(__file__).parent.parent / "fixtures"
ARTIFACTS = Path(__file__).parent.parent.parent / "test-artifacts" / "viz"


def fixture_traces(name: str) -> list[Trace]:
    """The traces of one third-party fixture file, read and assembled as the CLI does."""
    return assemble(read_spans(FIXTURES / name))


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if shutil.which(CHROMIUM) is None:
        pytest.skip("Debian's chromium is not installed (make system-deps)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


class Page:
    """A browser page that records console errors, page errors and failed requests."""

    def __init__(self, page) -> None:
        self.page = page
        self.errors: list[str] = []
        page.on(
            "console",
            lambda m: (
                self.errors.append(f"console {m.type}: {m.text}")
                if m.type in ("error", "warning")
                else None
            ),
        )
        page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))
        page.on("requestfailed", lambda r: self.errors.append(f"request failed: {r.url}"))

    def open(self, path: Path, ready: str = "[data-ready='1']") -> Page:
        self.page.goto(path.resolve().as_uri())
        self.page.wait_for_selector(ready, state="attached", timeout=15_000)
        return self

    def shot(self, name: str, full_page: bool = False) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        target = ARTIFACTS / f"{name}.png"
        self.page.screenshot(path=str(target), full_page=full_page)
        return target


@pytest.fixture
def page(browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1400, "height": 860})
    # Pages must work with no network at all: any request leaving file:// fails the test.
    context.route("http://**/*", lambda route: route.abort())
    context.route("https://**/*", lambda route: route.abort())
    wrapped = Page(context.new_page())
    yield wrapped
    context.close()
