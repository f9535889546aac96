"""Headless Chromium for the page tests (``tests/viz``, ``tests/server``): Debian's
``/usr/bin/chromium`` driven by playwright, launched the same way everywhere, and the console
errors a page reports."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest

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


def chromium() -> Iterator[object]:
    """Yield a launched browser and close it after; skip the test if Chromium is missing.
    Meant as the body of a module-scoped fixture (one browser per test module)."""
    if shutil.which(CHROMIUM) is None:
        pytest.skip("Debian's chromium is not installed (make system-deps)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
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
