"""The Analysis, Compare and Quality pages in real headless Chromium, against a real server on loopback:
the shop's current release sent over OTLP/HTTP for the hour before last, its next release (with
the planted regression) for the last hour. What the pages draw is checked against the API's
answers; no console error, no request leaves the server's origin."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from spanscope.server.trace_page import PEERS, PEERS_WINDOW_NS
from spanscope.synthetic import generate_spans

from .conftest import RunningServer, post_spans, start_server, stop_server
from .test_pages import Page, _api

HOUR_NS = 3600 * 10**9
TRACES = 600


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[RunningServer]:
    running, thread = start_server(tmp_path_factory.mktemp("insight-pages") / "traces.duckdb")
    now = time.time_ns()
    # Each release's traces take about 12 s of its clock, well inside its hour.
    post_spans(running, generate_spans(TRACES, seed=1, start_ns=now - 2 * HOUR_NS + 60 * 10**9))
    post_spans(
        running,
        generate_spans(TRACES, seed=5, start_ns=now - HOUR_NS + 60 * 10**9, next_release=True),
    )
    yield running
    stop_server(running, thread)


@pytest.fixture
def page(browser, server) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    yield Page(context, server.ui)
    context.close()


def _opens_trace(page: Page, link, trace_id: str) -> None:
    """Clicking ``link`` opens the trace page of ``trace_id``, drawn."""
    link.click()
    page.page.wait_for_url(f"**/trace/{trace_id}")
    page.page.wait_for_selector("body[data-ready='1']", state="attached")
    assert page.page.evaluate("window.spanscope.state()")["trace"] == trace_id


@pytest.mark.browser
def test_compare_page_draws_the_diff_and_links_the_new_error(page: Page, server) -> None:
    page.open("/compare?service=frontend&lookback=1h")
    api = _api(server, "/api/v1/diff", service="frontend", lookback="1h", limit="1500")
    assert api["before"]["traces"] == api["after"]["traces"] == TRACES
    shown = page.page.eval_on_selector_all("#headline li", "items => items.map(i => i.textContent)")
    assert shown == api["headline"]
    assert f"{TRACES} traces in the last hour" in page.page.inner_text("#sides")
    card = page.page.locator('[data-endpoint="frontend: POST /api/checkout"]')
    assert card.count() == 1
    # The bar that grew most is the stock query, drawn to the right (slower).
    rows = card.locator("g.row").evaluate_all(
        "rows => rows.map(r => [r.dataset.service, r.dataset.operation, +r.dataset.delta,"
        " r.querySelector('rect').getAttribute('class')])"
    )
    grew = max(rows, key=lambda row: row[2])
    assert grew[:2] == ["inventory", "SELECT shop.stock"] and grew[3] == "up"
    page.shot("compare", full_page=True)
    # The new error's example opens its trace.
    link = page.page.locator("tr.error-row", has_text="CarrierRateLimited").locator("a")
    _opens_trace(page, link, link.get_attribute("href").rsplit("/", 1)[1])
    page.assert_clean()


@pytest.mark.browser
def test_cut_pages_say_they_read_a_sample_of_each_window(page: Page, server) -> None:
    """A limit under a window's count: Analysis says it read a sample, spread over the
    window, of how many; Compare says so for each side, from its answer's counts."""
    api = _api(server, "/api/v1/diff", service="frontend", lookback="1h", limit="100")
    assert [(api[side]["read"], api[side]["matched"]) for side in ("after", "before")] == [
        (100, TRACES),
        (100, TRACES),
    ]
    page.open("/compare?service=frontend&lookback=1h&limit=100")
    notes = page.page.eval_on_selector_all(
        "#sides .capped", "notes => notes.map(n => n.textContent)"
    )
    assert [note.split(" read up to")[0] for note in notes] == [
        f"{side}: a sample of 100 of {TRACES} traces with a matching span in the window, "
        "spread over it"
        for side in ("after", "before")
    ]
    page.open("/analysis?service=frontend&lookback=1h&limit=100")
    assert f"a sample of 100 of {TRACES} traces with a matching span in the window" in (
        page.page.inner_text("#sides .capped")
    )
    page.open("/analysis?service=frontend&lookback=1h&limit=1500")  # everything fits
    assert page.page.locator("#sides .capped").count() == 0
    page.assert_clean()


@pytest.mark.browser
def test_an_address_without_a_window_compares_the_default_one(page: Page, server) -> None:
    page.open("/compare?service=frontend")
    assert f"{TRACES} traces in the last hour" in page.page.inner_text("#sides")
    assert page.page.input_value("#lookback") == "1h"
    page.assert_clean()


@pytest.mark.browser
def test_compare_form_keeps_the_query_in_the_address(page: Page, server) -> None:
    page.open("/compare")
    assert page.page.locator("#empty").is_visible()
    page.page.select_option("#service", "frontend")
    page.page.select_option("#baseline", "1d")  # a day earlier: nothing was sent then
    page.page.click("#go")
    page.page.wait_for_function(
        "document.body.dataset.ready === '1' && !document.getElementById('found').hidden"
    )
    assert "baseline=1d" in page.page.url and "service=frontend" in page.page.url
    assert "One side has no traces" in page.page.text_content("#headline")
    page.assert_clean()


@pytest.mark.browser
def test_quality_page_scores_services_and_explains_rules(page: Page, server) -> None:
    page.open("/quality?service=frontend&lookback=2h")
    api = _api(server, "/api/v1/lint", service="frontend", lookback="2h", limit="1500")
    services = page.page.eval_on_selector_all(
        "#scores g.service", "gs => gs.map(g => [g.dataset.service, +g.dataset.score])"
    )
    assert services == [[s["service"], s["score"]] for s in api["services"]]
    rules = page.page.eval_on_selector_all(".rule-card", "cs => cs.map(c => c.dataset.rule)")
    assert rules == [rule["id"] for rule in api["rules"]] == ["deprecated-attribute"]
    assert "rpc.system → rpc.system.name" in page.page.text_content(".rule-card")
    page.shot("quality", full_page=True)
    page.page.click("#theme")
    assert page.page.evaluate("document.documentElement.dataset.theme") == "dark"
    page.assert_clean()


@pytest.mark.browser
def test_analysis_page_draws_the_report_and_links_its_traces(page: Page, server) -> None:
    page.open("/analysis?service=frontend&lookback=1h")
    api = _api(server, "/api/v1/analysis", service="frontend", lookback="1h", limit="1500")
    assert api["summary"]["traces"] == TRACES
    shown = page.page.eval_on_selector_all(
        "#headline li",
        "items => items.map(i => [i.dataset.kind, i.querySelector('.said').textContent,"
        " i.querySelector('a')?.getAttribute('href') || ''])",
    )
    assert shown == [
        [h["kind"], h["text"], f"/trace/{h['example_trace_id']}" if h["example_trace_id"] else ""]
        for h in api["headline"]
    ]
    assert shown[0][0] == "slow" and "failed" in [item[0] for item in shown]
    sides = page.page.inner_text("#sides")
    assert f"{TRACES} traces" in sides and "the last hour" in sides
    # What to fix first: the report's ranking, row for row.
    frames = page.page.eval_on_selector_all(
        "#fix-first tbody tr", "rows => rows.map(r => r.dataset.frame)"
    )
    assert frames == [f"{f['service']}: {f['operation']}" for f in api["fix_first"]][:10]
    kinds = page.page.eval_on_selector_all(
        "#anti-patterns tbody tr", "rows => rows.map(r => r.dataset.kind)"
    )
    assert kinds == [a["kind"] for a in api["anti_patterns"]][:10] and kinds
    # The flame graph of the slowest 5% is drawn, and the other button draws all requests.
    flame = page.page.locator("#flame")
    page.page.wait_for_function("document.getElementById('flame').complete")
    assert flame.evaluate("img => img.naturalWidth") > 0
    assert flame.get_attribute("data-kind") == "slow"
    page.page.click("[data-flame]:not(.on)")
    page.page.wait_for_function(
        "(img => img.complete && img.dataset.kind === 'all')(document.getElementById('flame'))"
    )
    assert flame.evaluate("img => img.naturalWidth") > 0
    assert page.page.get_attribute("#flame-open", "href") == flame.get_attribute("src")
    page.shot("analysis", full_page=True)
    # The slowest request opens its trace.
    slowest = api["slowest_traces"][0]["trace_id"]
    _opens_trace(page, page.page.locator("#slowest tbody tr").first.locator("a"), slowest)
    page.assert_clean()


@pytest.mark.browser
def test_why_slow_from_a_search_keeps_its_range_and_operation(page: Page, server) -> None:
    # The hour before last, as a custom range: the current release's traces only.
    now_us = time.time_ns() // 1000
    start, end = now_us - 2 * HOUR_NS // 1000, now_us - HOUR_NS // 1000
    page.open(
        f"/?service=frontend&operation=POST+/api/checkout&lookback=custom&start={start}&end={end}"
    )
    page.page.wait_for_selector("[data-searched]", state="attached")
    page.page.click("#why-link")
    page.page.wait_for_url("**/analysis?*")
    page.page.wait_for_selector("#found:not([hidden])", state="attached")
    assert f"start={start}" in page.page.url and "operation=POST" in page.page.url
    api = _api(
        server, "/api/v1/analysis", service="frontend", operation="POST /api/checkout",
        lookback="custom", start=str(start), end=str(end), limit="1500",
    )  # fmt: skip
    sides = page.page.inner_text("#sides")
    assert f"{api['summary']['traces']} traces" in sides and "touching POST /api/checkout" in sides
    assert " UTC" in sides
    assert [e["operation"] for e in api["endpoints"]] == ["POST /api/checkout"]
    shown = page.page.eval_on_selector_all(
        "#headline li .said", "items => items.map(i => i.textContent)"
    )
    assert shown == [h["text"] for h in api["headline"]]
    page.assert_clean()


@pytest.mark.browser
def test_analysis_of_an_empty_window_says_so(page: Page, server) -> None:
    page.open("/analysis?service=frontend&lookback=15m")  # the last traces are ~58 min old
    assert "0 traces" in page.page.inner_text("#sides")
    assert "choose a longer window" in page.page.text_content("#headline")
    assert page.page.inner_html("#sections") == ""
    page.page.click("#theme")
    assert page.page.evaluate("document.documentElement.dataset.theme") == "dark"
    page.assert_clean()


@pytest.mark.browser
def test_analysis_form_shows_the_server_s_refusal(page: Page, server) -> None:
    page.open("/analysis?service=frontend&lookback=1h&limit=0")
    page.page.wait_for_selector("#form-error:not([hidden])")
    assert "limit" in page.page.text_content("#form-error")
    assert page.page.locator("#empty").is_visible()
    assert page.outside == []


@pytest.mark.browser
def test_a_trace_page_compares_its_request_with_the_typical_one(page: Page, server) -> None:
    # The slowest checkout of the last hour, and the others of its endpoint within half an
    # hour of it, as the Jaeger API finds them (the most recent first).
    found = _api(
        server, "/api/traces", service="frontend", operation="POST /api/checkout",
        lookback="1h", limit="1500",
    )["data"]  # fmt: skip

    def root_of(trace: dict) -> dict:
        return next(s for s in trace["spans"] if not s["references"])

    slowest = max(found, key=lambda t: root_of(t)["duration"])
    start = root_of(slowest)["startTime"]
    around = _api(
        server, "/api/traces", service="frontend", operation="POST /api/checkout",
        start=str(start - PEERS_WINDOW_NS // 1000), end=str(start + PEERS_WINDOW_NS // 1000),
        limit=str(PEERS + 1),
    )["data"]  # fmt: skip
    peers = [t for t in around if t["traceID"] != slowest["traceID"]][:PEERS]
    requests = sorted(
        (root_of(t)["duration"], t["traceID"]) for t in [slowest, *peers]
    )  # durations in µs: ties by id as the store's ns would be, to within a µs
    typical_id = requests[(len(requests) - 1) // 2][1]

    page.open(f"/trace/{slowest['traceID']}")
    row = page.page.locator("#why .why-row", has_text="typical request")
    assert f"median of {len(requests)}," in row.inner_text()
    link = row.locator("a.go")
    assert link.get_attribute("href") == f"/trace/{typical_id}"
    changes = row.locator(".more, .less").all_inner_texts()
    assert changes and changes[0].startswith("+")
    _opens_trace(page, link, typical_id)
    page.assert_clean()


@pytest.mark.browser
def test_every_page_links_to_analysis_compare_and_quality(page: Page, server) -> None:
    for path in ("/", "/analysis", "/compare", "/quality"):
        page.open(path)
        links = page.page.eval_on_selector_all(
            ".ss-nav a", "as => as.map(a => a.getAttribute('href'))"
        )
        assert {"/analysis", "/compare", "/quality"} <= set(links), path
    page.assert_clean()


@pytest.mark.browser
def test_a_search_links_to_its_service_s_analysis_compare_and_quality(page: Page, server) -> None:
    page.open("/?service=frontend&lookback=1h&limit=5")
    page.page.wait_for_selector("[data-searched]", state="attached")
    assert (
        page.page.get_attribute("#compare-link", "href") == "/compare?service=frontend&lookback=1h"
    )
    assert page.page.get_attribute("#why-link", "href") == "/analysis?service=frontend&lookback=1h"
    page.page.click("#quality-link")
    page.page.wait_for_url("**/quality?service=frontend&lookback=1h")
    page.page.wait_for_selector(".rule-card", state="attached", timeout=15_000)
    page.assert_clean()


@pytest.mark.browser
def test_an_unknown_service_in_the_address_is_marked_not_stored_as_search_does(
    page: Page, server
) -> None:
    chosen = "#service option:checked"
    for path in ("/", "/analysis", "/compare", "/quality"):
        page.open(f"{path}?service=no-such-service&lookback=1h")
        assert page.page.eval_on_selector(chosen, "o => [o.value, o.textContent]") == [
            "no-such-service",
            "no-such-service (not stored)",
        ], path
        # a stored service is named alone, and the window's choice gets no such note
        page.open(f"{path}?service=frontend&lookback=1h")
        assert page.page.eval_on_selector(chosen, "o => o.textContent") == "frontend", path
        assert "not stored" not in page.page.inner_text("#lookback"), path
    assert page.errors == [] and page.outside == []
