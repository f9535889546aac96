"""What an SRE working an incident on ``spanscope serve``'s pages found wrong, each checked in
headless Chromium against a real server on loopback fed with synthetic shop traces over
OTLP/HTTP: a page that read a sample of its window says so, and of how many, the search page shows
times in UTC as the Monitor page that links to it does (in a browser in another zone too), the
narrow search page scrolls as one page, and the trace page does not scroll into blank space."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from spanscope.synthetic import generate_spans
from tests.browser import record_errors

from .conftest import RunningServer, post_spans, start_server, stop_server

pytestmark = pytest.mark.browser
MINUTE_NS = 60 * 10**9
TRACES = 200
LIMIT = 50


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    running, thread = start_server(tmp_path_factory.mktemp("incident") / "traces.duckdb")
    # 200 requests (about 4 s of the shop's clock) from a whole minute about 30 minutes ago: one
    # burst inside the last hour, its times the same against the clock's round ticks each run.
    start_ns = (time.time_ns() - 30 * MINUTE_NS) // MINUTE_NS * MINUTE_NS
    spans = generate_spans(TRACES, seed=3, start_ns=start_ns)
    post_spans(running, spans)
    yield running
    stop_server(running, thread)


def _open(browser, url: str, *, width: int = 1400, height: int = 900, zone: str = "UTC"):
    context = browser.new_context(viewport={"width": width, "height": height}, timezone_id=zone)
    page = context.new_page()
    errors: list[str] = []
    record_errors(page, errors)
    page.goto(url)
    page.wait_for_selector("body[data-ready='1']", state="attached", timeout=30_000)
    return context, page, errors


def _api(server: RunningServer, path: str, **params: str) -> dict:
    answer = httpx.get(server.ui + path, params=params, timeout=60)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_analysis_says_it_read_a_sample_of_its_window(browser, server):
    # 'in the last hour' over 50 of 200 traces read as every request of the hour: the page says
    # it read a sample (spread over the window, by trace id), and of how many.
    query = {"service": "frontend", "lookback": "1h", "limit": str(LIMIT)}
    summary = _api(server, "/api/v1/analysis", **query)["summary"]
    assert summary["traces"] == LIMIT
    context, page, errors = _open(browser, server.ui + "/analysis?" + _qs(query))
    sides = page.inner_text("#sides")
    assert f"a sample of {LIMIT} of {TRACES} traces with a matching span in the window" in sides
    assert errors == []
    # With room for every trace of the window, no such note.
    page.goto(server.ui + "/analysis?" + _qs({**query, "limit": "1500"}))
    page.wait_for_selector("body[data-ready='1']", state="attached")
    assert f"{TRACES} traces" in page.inner_text("#sides")
    assert page.locator("#sides .capped").count() == 0
    context.close()


def test_a_cut_analysis_reads_up_to_the_command_lines_limit_in_one_click(browser, server):
    # The pages were held to the Jaeger search's 1,500 traces, where analyze --db reads
    # 10,000: a busy hour could only ever be read as its newest minutes.
    query = {"service": "frontend", "lookback": "1h"}
    for path in ("/api/v1/analysis", "/api/v1/lint", "/api/v1/diff"):
        _api(server, path, **query, limit="10000")
    refused = httpx.get(server.ui + "/api/traces", params={**query, "limit": "10000"})
    assert refused.status_code == 400 and "1..1500" in refused.text
    context, page, errors = _open(
        browser, server.ui + "/analysis?" + _qs({**query, "limit": str(LIMIT)})
    )
    page.click("#sides .capped a.read-more")
    page.wait_for_url("**limit=10000**")
    page.wait_for_selector("body[data-ready='1']", state="attached")
    page.wait_for_function(
        "document.querySelector('#sides') && /200 traces/.test(document.querySelector('#sides').innerText)"
    )
    assert page.locator("#sides .capped").count() == 0
    assert page.input_value("#limit") == "10000"
    assert errors == []
    context.close()


@pytest.mark.parametrize("path", ["/compare", "/quality"])
def test_compare_and_quality_say_they_read_a_sample(browser, server, path):
    query = {"service": "frontend", "lookback": "1h", "limit": str(LIMIT)}
    context, page, errors = _open(browser, server.ui + path + "?" + _qs(query))
    where = "#sides" if path == "/compare" else "#verdict"
    page.wait_for_selector(f"{where} .capped", timeout=10_000)
    assert f"a sample of {LIMIT} of {TRACES} traces with a matching span" in page.inner_text(where)
    assert errors == []
    context.close()


def _qs(params: dict[str, str]) -> str:
    return str(httpx.QueryParams(params))


def test_search_shows_utc_times_as_the_monitor_that_links_to_it(browser, server):
    # A Monitor point opens Search for its bucket; in a browser in Berlin the search said
    # 'from 12:45' for the 11:45 UTC bucket, its rows and From / To fields an hour off too.
    trace = _api(server, "/api/traces", service="frontend", limit="1")["data"][0]
    start_us = min(span["startTime"] for span in trace["spans"])
    bucket_us = start_us // 60_000_000 * 60_000_000
    url = (
        f"{server.ui}/?service=frontend&lookback=custom&start={bucket_us}"
        f"&end={bucket_us + 60_000_000}&limit=5"
    )
    context, page, errors = _open(browser, url, zone="Europe/Berlin")
    clock = time.strftime("%H:%M", time.gmtime(bucket_us / 1e6))
    assert f"from {clock}:00.000 to " in page.inner_text("#results")
    # (Chromium drops ':00' seconds from the field's value.)
    field = time.strftime("%Y-%m-%dT%H:%M", time.gmtime(bucket_us / 1e6))
    assert page.input_value("#start") in {field, field + ":00"}
    first_row = page.locator("table.traces tbody tr td.when").first.inner_text()
    row_clock = first_row.split(".")[0]
    assert row_clock[:5] in {clock, time.strftime("%H:%M", time.gmtime(bucket_us / 1e6 + 60))}
    # Submitting the form unchanged keeps the same window (the fields are read as UTC).
    page.click("#find")
    page.wait_for_selector("body[data-ready='1']", state="attached")
    assert f"start={bucket_us}" in page.url
    assert errors == []
    context.close()


def test_narrow_search_page_scrolls_as_one_with_its_form_whole(browser, server):
    # At 800 px the form sat above the results in a box of what the results left of the
    # window's height, its Find button hidden under the fields.
    url = f"{server.ui}/?service=frontend&lookback=1h&limit=20"
    context, page, errors = _open(browser, url, width=800, height=700)
    form = page.evaluate(
        "(() => { const f = document.querySelector('.sidebar');"
        " return {scroll: f.scrollHeight, client: f.clientHeight}; })()"
    )
    assert form["scroll"] <= form["client"] + 1, form
    page.locator("#find").scroll_into_view_if_needed()
    assert page.locator("#find").is_visible()
    assert page.locator("table.traces tbody tr").count() == 20
    assert errors == []
    context.close()


def test_trace_page_does_not_scroll_into_blank_space(browser, server):
    # The column splitter, a window's height tall from below the header, made the page
    # 300 px taller than the window: the wheel over the header scrolled it into white.
    trace_id = _api(server, "/api/traces", service="frontend", limit="1")["data"][0]["traceID"]
    for width in (1600, 800):
        context, page, errors = _open(browser, f"{server.ui}/trace/{trace_id}", width=width)
        height = page.evaluate("document.documentElement.scrollHeight")
        assert height <= page.evaluate("innerHeight"), (width, height)
        assert errors == []
        context.close()


def test_a_stopped_server_is_named_not_failed_to_fetch(browser, tmp_path):
    # With the server stopped, Refresh on the Monitor page said "Could not load the metrics:
    # Failed to fetch" beside the old charts, and the Analysis page just "Failed to fetch".
    running, thread = start_server(tmp_path / "traces.duckdb")
    post_spans(running, generate_spans(20, seed=4, start_ns=time.time_ns() - 5 * MINUTE_NS))
    host = running.ui.removeprefix("http://")
    monitor, page, _ = _open(browser, running.ui + "/monitor")
    analysis, other, _ = _open(browser, running.ui + "/analysis?service=frontend&lookback=15m")
    stop_server(running, thread)
    page.click("#refresh")
    page.wait_for_function("document.body.innerText.includes('did not answer')", timeout=10_000)
    assert f"spanscope serve at {host} did not answer" in page.inner_text("body")
    other.click("#go")
    other.wait_for_selector("#form-error:not([hidden])", timeout=10_000)
    assert f"spanscope serve at {host} did not answer" in other.inner_text("#form-error")
    monitor.close()
    analysis.close()


_TICKS_OUT = """() => {
  const svg = document.getElementById('scatter'), width = svg.viewBox.baseVal.width;
  return [...svg.querySelectorAll('.axis text')].map(t => t.getBBox())
    .filter(b => b.x < 0 || b.x + b.width > width + 0.5).length;
}"""


def test_search_scatter_time_labels_stay_inside_the_chart(browser, server):
    # The last time label, centred on its tick near the right edge, was cut ("11:45:09.5").
    # Where the last tick falls depends on when the newest trace found started: searches that
    # end just after each of 16 traces' starts put it at 16 places between two ticks.
    traces = _api(server, "/api/traces", service="frontend", limit="200")["data"]
    starts = sorted(min(span["startTime"] for span in t["spans"]) for t in traces)
    context, page, errors = _open(browser, server.ui + "/", width=1400)
    cut = {}
    for end in starts[100:116]:
        page.goto(
            f"{server.ui}/?service=frontend&lookback=custom&start={starts[0]}&end={end + 1}&limit=5"
        )
        page.wait_for_selector("body[data-ready='1']", state="attached")
        cut[end] = page.evaluate(_TICKS_OUT)
    assert errors == []
    context.close()
    assert not any(cut.values()), cut


def test_a_short_id_shared_by_several_traces_lists_them_as_links(browser, server):
    # "Give more digits (5cc2e1fe..., 5c6c1fc2..., ...)": ids to copy and paste back, one by
    # one; now links to open.
    ids = [
        t["traceID"] for t in _api(server, "/api/traces", service="frontend", limit="200")["data"]
    ]
    prefix = max({i[0] for i in ids}, key=lambda c: sum(i.startswith(c) for i in ids))
    context, page = _open_error(browser, f"{server.ui}/trace?id={prefix}")
    assert page.inner_text("#error-heading") == "Give more digits"
    links = page.locator(".error-links a")
    assert 2 <= links.count() <= 10
    first = links.first.inner_text()
    assert first.startswith(prefix) and first in ids
    links.first.click()
    page.wait_for_url(f"**/trace/{first}")
    page.wait_for_selector("body[data-ready='1']", state="attached")
    # Zeros alone are the start of an id, not a bad id ("'0' is not a trace id: all zeros").
    page.goto(f"{server.ui}/trace?id=0")
    assert page.inner_text("#error-heading") != "Not a trace id"
    context.close()


def _open_error(browser, url: str):
    """An error page (it has no ready mark: it is whole once loaded)."""
    context = browser.new_context(viewport={"width": 1200, "height": 800})
    page = context.new_page()
    page.goto(url)
    return context, page


def test_search_links_bring_its_range_to_compare_and_quality(browser, server):
    # A Monitor bucket opens Search for its minute; "Compare with before" and "Check
    # instrumentation" then compared and checked the last hour instead (only "Why slow?" kept
    # the range).
    traces = _api(server, "/api/traces", service="frontend", limit="200")["data"]
    first_us = min(min(span["startTime"] for span in t["spans"]) for t in traces)
    start_us = first_us // 60_000_000 * 60_000_000
    end_us = first_us + 2_000_000  # the first 2 s of the burst: about half of its traces
    search = f"{server.ui}/?service=frontend&lookback=custom&start={start_us}&end={end_us}&limit=5"
    context, page, errors = _open(browser, search)
    diff = _api(
        server,
        "/api/v1/diff",
        service="frontend",
        start=str(start_us),
        end=str(end_us),
        limit="1500",
    )
    assert 0 < diff["after"]["traces"] < TRACES
    page.click("#compare-link")
    page.wait_for_url("**/compare?**")
    page.wait_for_selector("#sides .capped, #headline li, #headline p", timeout=30_000)
    page.wait_for_selector("body[data-ready='1']", state="attached")
    sides = page.inner_text("#sides")
    assert f"after: {diff['after']['traces']} traces in " in sides
    assert time.strftime("%H:%M:%S", time.gmtime(start_us / 1e6)) in sides
    assert "The search's" in page.locator("#lookback option:checked").inner_text()
    page.go_back()
    page.wait_for_selector("body[data-ready='1']", state="attached")
    lint = _api(
        server,
        "/api/v1/lint",
        service="frontend",
        start=str(start_us),
        end=str(end_us),
        limit="1500",
    )
    page.click("#quality-link")
    page.wait_for_url("**/quality?**")
    page.wait_for_selector("#verdict .big", timeout=30_000)
    assert f"in {lint['traces']} traces" in page.inner_text("#verdict")
    assert errors == []
    context.close()


def test_service_map_leads_to_the_traces_of_a_service_and_of_a_failing_call(browser, server):
    # The map was a dead end in an incident: a red call to a payment provider, and no way from
    # it to its failed traces but retyping the service into Search.
    context, page, errors = _open(browser, server.ui + "/services?lookback=1h")
    page.locator("g.node[data-name='checkout']").click()
    page.wait_for_url("**/?service=checkout&lookback=1h")
    page.wait_for_selector("body[data-ready='1']", state="attached")
    assert page.locator("table.traces tbody tr").count() > 0
    page.go_back()
    page.wait_for_selector("body[data-ready='1']", state="attached")
    failing = page.locator("#edges tbody tr[data-from]").first  # failed calls sort first
    parent, child = failing.get_attribute("data-from"), failing.get_attribute("data-to")
    assert int(failing.locator("td").nth(3).get_attribute("data-v")) > 0
    failing.click()
    page.wait_for_url("**/?service=*")
    page.wait_for_selector("body[data-ready='1']", state="attached")
    asked = httpx.URL(page.url).params
    traced = _api(server, "/api/services")["data"]
    assert asked["service"] == (child if child in traced else parent)
    assert asked["tags"] == "error=true" and asked["lookback"] == "1h"
    assert page.locator("table.traces tbody tr").count() > 0
    assert errors == []
    context.close()


def test_trace_page_column_title_stays_on_its_line_with_details_open(browser, server):
    # At 800 px with a span's details open, "SERVICE & OPERATION" wrapped in its 28 px header
    # and its second line lay over the first span's row.
    trace_id = _api(server, "/api/traces", service="frontend", limit="1")["data"][0]["traceID"]
    context, page, errors = _open(browser, f"{server.ui}/trace/{trace_id}", width=800)
    page.locator("#rows-inner .row").first.click()
    page.keyboard.press("Enter")
    page.wait_for_selector("#details:not([hidden])")
    lines = page.evaluate(
        """(() => {
          const head = document.querySelector('.col-head');
          const walk = document.createTreeWalker(head, NodeFilter.SHOW_TEXT);
          while (walk.nextNode() && !/Service/.test(walk.currentNode.data)) {}
          const range = document.createRange();
          range.selectNodeContents(walk.currentNode);
          const tops = new Set([...range.getClientRects()].map(r => Math.round(r.top)));
          return tops.size;
        })()"""
    )
    assert lines == 1
    assert errors == []
    context.close()


@pytest.mark.parametrize("path", ["/compare", "/quality"])
def test_compare_and_quality_say_they_are_reading_and_dim_the_last_results(browser, server, path):
    # Switched to 15 minutes, the Compare page showed the last hour's figures, undimmed, under
    # a form that said 15 minutes until the new answer came, with only a pale button to tell.
    # (The answer is held on its way to the page while the page is looked at.)
    context, page, errors = _open(browser, f"{server.ui}{path}?service=frontend&lookback=1h")
    held = []
    page.route("**/api/v1/*", lambda route: held.append(route))
    page.select_option("#lookback", "15m")
    page.click("#go")
    page.wait_for_selector("#progress:not([hidden])", timeout=5_000)
    assert "Reading and " in page.inner_text("#progress")
    assert "15 minutes" in page.inner_text("#progress")
    assert "stale" in page.get_attribute("#found", "class")
    while not held:
        page.wait_for_timeout(20)
    held[0].continue_()
    page.unroute("**/api/v1/*")
    page.wait_for_selector("body[data-ready='1']", state="attached")
    assert page.locator("#progress").is_hidden()
    assert "stale" not in (page.get_attribute("#found", "class") or "")
    assert errors == []
    context.close()


@pytest.mark.parametrize("path", ["/analysis", "/compare", "/quality"])
def test_a_new_window_can_be_asked_while_the_last_is_read(browser, server, path):
    # The button stayed disabled for the whole read: an SRE who picked the wrong window waited
    # for it (seconds to tens of seconds) or reloaded. Now the new run goes, and the old
    # answer, held here until the new one is drawn, is not drawn over it.
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    held = []

    def hold_first(route):
        if held:
            route.continue_()
        else:
            held.append(route)

    page.route("**/api/v1/*", hold_first)
    page.goto(f"{server.ui}{path}?service=frontend&lookback=1h")
    while not held:
        page.wait_for_timeout(20)
    page.select_option("#lookback", "15m")
    page.click("#go", timeout=2_000)
    page.wait_for_function("document.body.dataset.ready === '1'", timeout=30_000)
    held[0].continue_()
    page.wait_for_timeout(1000)  # the held answer has come by now
    assert "lookback=1h" in held[0].request.url
    shown = page.inner_text("#sides" if path != "/quality" else "#verdict")
    assert "15 minutes" in shown and "last hour" not in shown, shown
    assert page.locator("#progress").is_hidden()
    context.close()


def test_compare_takes_the_readme_s_base_offset_in_its_address(browser, server):
    url = f"{server.ui}/compare?service=frontend&lookback=1h&baseOffset=1d"
    context, page, errors = _open(browser, url)
    assert page.input_value("#baseline") == "1d"
    assert "a day earlier" in page.inner_text("#sides")
    assert errors == []
    context.close()


def test_monitor_says_when_a_service_stopped_getting_calls(browser, server):
    # The shop's burst was 30 minutes ago and nothing since: in the last hour every row drew
    # half an hour of zero calls under "0.056 req/s", and nothing said the calls had stopped.
    summary = _api(server, "/api/v1/monitor", lookback="1h")
    row = next(r for r in summary["services"] if r["service"] == "frontend")
    last = max(i for i, calls in enumerate(row["series"]["calls"]) if calls)
    until_ns = summary["start_ns"] + (last + 1) * summary["step_ns"]
    context, page, errors = _open(browser, server.ui + "/monitor?lookback=1h")
    shown = page.locator(".mon-row[data-svc='frontend'] .mon-cell").first.inner_text()
    assert f"no calls since {time.strftime('%H:%M:%S', time.gmtime(until_ns / 1e9))} UTC" in shown
    # Over 6 hours the burst is in the window's last quarter: nothing to say.
    page.goto(server.ui + "/monitor?lookback=6h")
    page.wait_for_selector("body[data-ready='1']", state="attached")
    page.wait_for_selector(".mon-row[data-svc='frontend']")
    assert page.locator(".silent").count() == 0
    assert errors == []
    context.close()


def test_monitor_error_chart_opens_a_bucket_without_errors_as_all_its_traces(browser, server):
    # A click on the error chart where nothing failed opened Search with error=true: "No traces
    # found". Now that bucket opens its traces; a bucket with failures still opens those.
    summary = _api(server, "/api/v1/monitor", lookback="1h")
    row = next(r for r in summary["services"] if r["service"] == "cart")
    assert row["errors"] == 0
    bucket = next(i for i, calls in enumerate(row["series"]["calls"]) if calls)
    context, page, errors = _open(browser, server.ui + "/monitor?lookback=1h")
    chart = page.locator("svg[data-svc='cart'][data-kind='err']")
    box = chart.bounding_box()
    page.mouse.click(
        box["x"] + (bucket + 0.5) / summary["buckets"] * box["width"], box["y"] + box["height"] / 2
    )
    page.wait_for_url("**/?service=cart*")
    assert "tags" not in httpx.URL(page.url).params
    page.wait_for_selector("body[data-ready='1']", state="attached")
    assert page.locator("table.traces tbody tr").count() > 0
    assert errors == []
    context.close()


def test_a_bad_id_is_named_once(server):
    # It said "'zzz' is not a trace id: invalid trace id 'zzz': expected up to 32 hex digits".
    answer = httpx.get(f"{server.ui}/trace?id=zzz", timeout=30)
    assert answer.status_code == 400
    message = answer.text.split('id="error-message">')[1].split("</p>")[0]
    assert message.count("zzz") == 1, message
    assert "hex digits" in message
