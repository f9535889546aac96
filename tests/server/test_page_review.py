"""What a user saw wrong on the pages of ``spanscope serve``, each checked in headless Chromium
against a real server on loopback fed with synthetic shop traces over OTLP/HTTP."""

from __future__ import annotations

import time
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import httpx
import pytest

from spanscope.synthetic import generate_spans
from tests.browser import open_page
from tests.viz.conftest import CONTRAST

from .conftest import RunningServer, post_spans, start_server, stop_server

pytestmark = pytest.mark.browser
MINUTE_NS = 60 * 10**9
ARTIFACTS = Path(__file__).parent.parent.parent / "test-artifacts" / "pages"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    running, thread = start_server(tmp_path_factory.mktemp("review") / "traces.duckdb")
    now = time.time_ns()
    # A release 45 minutes ago and the next one (with its planted regression) 10 minutes ago:
    # two 30-minute windows for Compare.
    for seed, minutes_ago, next_release in ((14, 45, False), (15, 10, True)):
        spans = generate_spans(
            200, seed=seed, start_ns=now - minutes_ago * MINUTE_NS, next_release=next_release
        )
        post_spans(running, spans)
    yield running
    stop_server(running, thread)


_open = partial(open_page, height=800)


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


def _trace_id(server: RunningServer) -> str:
    response = httpx.get(
        f"{server.ui}/api/traces", params={"service": "frontend", "limit": 1}, timeout=60
    )
    return response.json()["data"][0]["traceID"]


_HEADER = """() => {
  const head = document.querySelector('header');
  const h1 = head.querySelector('h1');
  const line = parseFloat(getComputedStyle(h1).lineHeight) || h1.getBoundingClientRect().height;
  return {
    truncated: h1.scrollWidth > h1.clientWidth + 1,
    h1Lines: Math.round(h1.getBoundingClientRect().height / line),
    past: [...head.querySelectorAll('a, button, summary')]
      .filter(el => el.getBoundingClientRect().right > innerWidth + 1).map(el => el.textContent),
    overflow: document.documentElement.scrollWidth > innerWidth,
  };
}"""


@pytest.mark.parametrize("path", ["/trace/{trace}", "/services"])
def test_top_bar_fits_an_800_px_window(browser, server, path):
    # At 800 px the served waterfall squeezed its title to "frontend: POST /api/…" and its
    # facts into a column five lines high beside the links; the service map's title took four
    # lines and its last lookback button ("7d") was past the window's edge.
    url = server.ui + path.format(trace=_trace_id(server))
    context, page, errors = _open(browser, url, width=800, scheme="dark")
    state = page.evaluate(_HEADER)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"review-topbar-{path.split('/')[1]}.png"))
    assert not state["truncated"]
    assert state["h1Lines"] == 1
    assert state["past"] == []
    assert not state["overflow"]
    assert errors == []
    context.close()


def test_compare_bars_give_each_change_in_its_own_unit(browser, server):
    # Every bar's figure was in ms, so small changes read "−0.00602 ms" next to "+24.7 ms".
    context, page, errors = _open(browser, server.ui + "/compare?service=frontend&lookback=30m")
    page.wait_for_selector("svg.bars g.row")
    figures = page.locator("svg.bars g.row text.soft").all_text_contents()
    page.screenshot(path=str(ARTIFACTS / "review-compare-units.png"), full_page=True)
    assert figures
    for figure in figures:
        sign, number, unit = figure[0], figure[1:].split(" ")[0], figure.split(" ")[1]
        assert sign in "+−±" and unit in ("s", "ms", "µs", "ns"), figure
        assert 1 <= float(number) < 1000 or unit in ("s", "ns"), figure
    assert errors == []
    context.close()


def test_quality_counts_read_as_english(browser, server):
    # The summary said "1 info rules".
    context, page, errors = _open(browser, server.ui + "/quality?service=frontend&lookback=1h")
    page.wait_for_selector("#rules .card")
    badges = page.locator(".badge").all_inner_texts()
    page.screenshot(path=str(ARTIFACTS / "review-quality-counts.png"))
    assert any(text.lower() == "1 info rule" for text in badges), badges
    text = page.inner_text("body").lower()
    for wrong in ("1 info rules", "1 error rules", "1 warning rules", " 1 spans", " 1 traces"):
        assert wrong not in text
    assert errors == []
    context.close()


def test_search_results_fit_an_800_px_window(browser, server):
    # The results table was 30 px wider than its frame, which hid the Errors column.
    url = server.ui + "/?service=frontend&lookback=1h&limit=20"
    context, page, errors = _open(browser, url, width=800)
    page.wait_for_selector("table.traces tbody tr")
    fit = page.evaluate(
        """() => {
          const table = document.querySelector('table.traces'), frame = table.parentElement;
          const edge = frame.getBoundingClientRect().right;
          return {
            table: table.scrollWidth, frame: frame.clientWidth,
            past: [...table.querySelectorAll('th')]
              .filter(th => th.getBoundingClientRect().right > edge + 1).map(th => th.textContent),
          };
        }"""
    )
    page.locator("table.traces").scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "review-search-800.png"))
    assert fit["past"] == [] and fit["table"] <= fit["frame"], fit
    assert errors == []
    context.close()


def test_quality_of_no_traces_says_there_was_nothing_to_check(browser, server):
    # A service with no traces in the window scored "100.0% of 0 spans" and "these traces pass
    # every rule": a clean bill of health for nothing.
    url = server.ui + "/quality?service=no-such-service&lookback=15m"
    context, page, errors = _open(browser, url)
    page.wait_for_selector("#found:not([hidden])")
    verdict = page.inner_text("#verdict")
    page.screenshot(path=str(ARTIFACTS / "review-quality-empty.png"))
    assert "No traces" in verdict and "no-such-service" in verdict
    assert "100" not in verdict
    assert "pass every rule" not in page.inner_text("#found")
    assert not page.locator("#scores").is_visible()
    assert errors == []
    context.close()


def test_a_card_that_found_nothing_keeps_its_padding(browser, server):
    # "Nothing found: these traces pass every rule." touched its card's left border: the
    # muted-text rule reset the card body's padding. The card is the one quality.js writes.
    context, page, errors = _open(browser, server.ui + "/quality")
    gap = page.evaluate(
        """() => {
          const rules = document.getElementById('rules');
          rules.innerHTML = '<div class="card"><div class="card-body none">Nothing found</div></div>';
          document.getElementById('found').hidden = false;
          const card = rules.firstChild, body = card.firstChild;
          const range = document.createRange(); range.selectNodeContents(body);
          return range.getBoundingClientRect().left - card.getBoundingClientRect().left;
        }"""
    )
    assert gap >= 8
    assert errors == []
    context.close()


def test_the_theme_chosen_on_one_page_holds_on_the_others(browser, server):
    # The light / dark switch was forgotten on the next page (and the service map, which has
    # no switch, followed only the system's preference).
    context, page, errors = _open(browser, server.ui + "/")
    page.click("#theme")
    assert page.evaluate("document.documentElement.dataset.theme") == "dark"
    dark = page.evaluate("getComputedStyle(document.body).backgroundColor")
    for path in ("/compare", "/services", f"/trace/{_trace_id(server)}", "/"):
        page.goto(server.ui + path)
        page.wait_for_selector("[data-ready='1']", state="attached", timeout=15_000)
        assert page.evaluate("getComputedStyle(document.body).backgroundColor") == dark, path
    # and back to light, everywhere
    page.click("#theme")
    page.goto(server.ui + "/services")
    page.wait_for_selector("[data-ready='1']", state="attached", timeout=15_000)
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(255, 255, 255)"
    assert errors == []
    context.close()


def test_a_service_keeps_its_colour_from_the_map_to_a_trace(browser, server):
    # Colours were dealt out in name order over whatever services a page had, so "frontend"
    # was one colour on the service map and another on a trace of three services.
    context, page, errors = _open(browser, server.ui + "/services")
    on_map = page.evaluate(
        """() => Object.fromEntries([...document.querySelectorAll('#map g.node')].map(
          g => [g.dataset.name, g.querySelector('rect.accent').getAttribute('fill')]))"""
    )
    trace_id = httpx.get(
        f"{server.ui}/api/traces",
        params={"service": "product-catalog", "limit": 1},
        timeout=60,
    ).json()["data"][0]["traceID"]
    page.goto(f"{server.ui}/trace/{trace_id}")
    page.wait_for_selector("[data-ready='1']", state="attached", timeout=15_000)
    in_trace = page.evaluate(
        """() => Object.fromEntries([...document.querySelectorAll('#legend .chip')].map(c => {
          const rgb = getComputedStyle(c.querySelector('.dot')).backgroundColor.match(/\\d+/g);
          return [c.textContent.replace(/[\\d,]+$/, '').trim(),
                  '#' + rgb.slice(0, 3).map(v => (+v).toString(16).padStart(2, '0')).join('')];
        }))"""
    )
    assert len(in_trace) >= 2
    assert in_trace == {name: on_map[name] for name in in_trace}
    assert errors == []
    context.close()
