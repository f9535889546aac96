"""Headless Chromium for the page tests (``tests/viz``, ``tests/server``) and the waterfall
benchmark: Debian's ``/usr/bin/chromium`` driven by playwright, launched the same way everywhere
(``launch``), and the console errors a page reports. pytest is imported only by the fixture
body, so the benchmark can use ``launch`` without it."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from typing import Any

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


def launch(playwright: Any) -> Any:
    """Debian's Chromium, headless, from a started ``sync_playwright()``."""
    return playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)


def chromium() -> Iterator[object]:
    """Yield a launched browser and close it after; skip the test if Chromium is missing.
    Meant as the body of a module-scoped fixture (one browser per test module)."""
    if shutil.which(CHROMIUM) is None:
        import pytest

        pytest.skip("Debian's chromium is not installed (make system-deps)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = launch(playwright)
        yield browser
        browser.close()


def record_errors(page, errors: list[str]) -> None:
    """Append each console error or warning and each uncaught page error of ``page``."""
    page.on(
        "console",
        lambda m: (
            errors.append(f"console {m.type}: {m.text}") if m.type in ("error", "warning") else None
        ),
    )
    page.on("pageerror", lambda e: errors.append(f"page error: {e}"))


def open_page(
    browser: Any,
    url: str,
    *,
    width: int = 1400,
    height: int = 900,
    scheme: str = "light",
    timeout_ms: int = 30_000,
) -> tuple[Any, Any, list[str]]:
    """A new context and page at ``url`` once it marks itself ready (``data-ready='1'``), and
    the list its console errors go to (``record_errors``). Close the context after."""
    context = browser.new_context(viewport={"width": width, "height": height}, color_scheme=scheme)
    page = context.new_page()
    errors: list[str] = []
    record_errors(page, errors)
    page.goto(url)
    page.wait_for_selector("[data-ready='1']", state="attached", timeout=timeout_ms)
    return context, page, errors
