"""Helpers for the page tests: one headless Chromium per test module, pages that collect their
console errors, and a place for screenshots (``test-artifacts/viz``, not committed)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from spanscope.assembly import assemble
from spanscope.formats import read_spans
from spanscope.model import Trace
from tests.browser import chromium, record_errors

FIXTURES = Path(__file__).parent.parent / "fixtures"
ARTIFACTS = Path(__file__).parent.parent.parent / "test-artifacts" / "viz"


def fixture_traces(name: str) -> list[Trace]:
    """The traces of one third-party fixture file, read and assembled as the CLI does."""
    return assemble(read_spans(FIXTURES / name))


# JS for ``locator.evaluate``: the WCAG contrast ratio of an element's text against the first
# opaque background behind it (the server's page tests use it too).
CONTRAST = """(el) => {
  const rgb = s => (s.match(/[\\d.]+/g) || []).map(Number);
  const lum = c => {
    const [r, g, b] = c.slice(0, 3).map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  let bg = null;
  for (let n = el; n && !bg; n = n.parentElement) {
    const c = rgb(getComputedStyle(n).backgroundColor);
    if (c.length === 3 || (c.length === 4 && c[3] === 1)) bg = c;
  }
  const fg = rgb(getComputedStyle(el).color);
  const [a, b] = [lum(fg), lum(bg || [255, 255, 255])].sort((x, y) => y - x);
  return (a + 0.05) / (b + 0.05);
}"""


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    yield from chromium()


class Page:
    """A browser page that records console errors, page errors and failed requests."""

    def __init__(self, page) -> None:
        self.page = page
        self.errors: list[str] = []
        record_errors(page, self.errors)
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
