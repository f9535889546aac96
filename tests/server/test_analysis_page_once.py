"""The Analysis page reads its search from the store once: the report and both flame graphs
(the slowest 5% and all requests) come in one answer of ``/api/v1/analysis?flamegraph=slow,all``.

Real server on loopback over a real DuckDB file, the shop's traces sent over OTLP/HTTP, real
headless Chromium. The store's trace reads are counted at the store boundary (its own
``find_traces``, ``find_trace_ids``, ``sample_trace_ids``, ``get_traces`` and ``get_trace``,
wrapped on the running store), never by replacing the analysis. What the page shows is checked against the plain API:
the report of ``/api/v1/analysis`` and the SVG of ``/api/v1/flamegraph``."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator

import httpx
import pytest

from spanscope.synthetic import generate_spans

from .conftest import RunningServer, post_spans, start_server, stop_server
from .test_pages import Page, _api

MINUTE_NS = 60 * 10**9
TRACES = 400
READS = ("find_traces", "find_trace_ids", "sample_trace_ids", "get_traces", "get_trace")
# One read of a search: its sample of trace ids, then their traces.
ONE_READ = {"sample_trace_ids": 1, "get_traces": 1}


class StoreReads:
    """Counts the trace reads of a running store, and can make each one wait ``delay`` s (a
    store with a large window to read) before it reads."""

    def __init__(self, store) -> None:
        self.counts: Counter[str] = Counter()
        self.delay = 0.0
        self.delay_for: dict[str, float] = {}  # a service's searches wait this long instead
        self._lock = threading.Lock()
        for name in READS:
            setattr(store, name, self._counted(name, getattr(store, name)))

    def _counted(self, name: str, read):
        def counted(*args, **kwargs):
            with self._lock:
                self.counts[name] += 1
            service = getattr(args[0], "service", None) if args else None
            delay = self.delay_for.get(service, self.delay) if service else self.delay
            if delay:
                time.sleep(delay)
            return read(*args, **kwargs)

        return counted

    def total(self) -> int:
        with self._lock:
            return sum(self.counts.values())

    def reset(self) -> None:
        with self._lock:
            self.counts.clear()


@pytest.fixture(scope="module")
def served(tmp_path_factory) -> Iterator[tuple[RunningServer, StoreReads]]:
    running, thread = start_server(tmp_path_factory.mktemp("analysis-once") / "traces.duckdb")
    # Twenty minutes ago: the page's window and the API's a moment later hold the same traces.
    start = time.time_ns() - 20 * MINUTE_NS
    post_spans(running, generate_spans(TRACES, seed=11, start_ns=start, next_release=True))
    deadline = time.monotonic() + 60
    while (
        _api(running, "/api/traces", service="frontend", lookback="1h", limit="1500")["total"]
        < TRACES
    ):
        assert time.monotonic() < deadline, "the traces were not stored"
        time.sleep(0.1)
    reads = StoreReads(running.store)
    yield running, reads
    stop_server(running, thread)


@pytest.fixture
def page(browser, served) -> Iterator[Page]:
    running, reads = served
    reads.delay = 0.0
    reads.delay_for = {}
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    yield Page(context, running.ui)
    context.close()


SEARCH = {"service": "frontend", "lookback": "1h", "limit": "1500"}


def _svg(running: RunningServer, **params: str) -> str:
    answer = httpx.get(f"{running.ui}/api/v1/flamegraph", params={**SEARCH, **params}, timeout=60)
    assert answer.status_code == 200, answer.text
    return answer.text


def _shown_svg(page: Page) -> str:
    """The SVG the flame graph image shows (its blob URL, read in the page)."""
    page.page.wait_for_function("document.getElementById('flame').complete")
    assert page.page.evaluate("document.getElementById('flame').naturalWidth") > 0
    return page.page.evaluate("fetch(document.getElementById('flame').src).then(r => r.text())")


def test_the_api_answers_the_report_and_both_flame_graphs_from_one_read(served) -> None:
    running, reads = served
    reads.reset()
    both = _api(running, "/api/v1/analysis", **SEARCH, flamegraph="slow,all")
    assert reads.counts == ONE_READ
    assert set(both) == {"report", "flamegraphs"} and list(both["flamegraphs"]) == ["slow", "all"]
    plain = _api(running, "/api/v1/analysis", **SEARCH)
    assert both["report"] == plain
    assert plain["summary"]["traces"] == TRACES
    # The very pictures /api/v1/flamegraph (and so `flamegraph --aggregate`) draws.
    assert both["flamegraphs"]["slow"] == _svg(running, slow="true")
    assert both["flamegraphs"]["all"] == _svg(running)
    assert "the slowest 5% of each endpoint's requests" in both["flamegraphs"]["slow"]
    one = _api(running, "/api/v1/analysis", **SEARCH, flamegraph="all")
    assert list(one["flamegraphs"]) == ["all"] and one["report"] == plain


def test_an_empty_window_has_no_flame_graphs_and_a_bad_kind_is_refused(served) -> None:
    running, _ = served
    empty = _api(running, "/api/v1/analysis", **{**SEARCH, "lookback": "5m"}, flamegraph="slow")
    assert empty["report"]["summary"]["traces"] == 0 and empty["flamegraphs"] == {}
    answer = httpx.get(
        f"{running.ui}/api/v1/analysis", params={**SEARCH, "flamegraph": "slow,fast"}, timeout=60
    )
    assert answer.status_code == 400
    assert answer.json()["error"]["message"] == (
        "bad 'flamegraph' 'fast': expected slow, all or slow,all"
    )


@pytest.mark.browser
def test_the_page_reads_the_store_once_and_shows_the_api_s_report(page: Page, served) -> None:
    running, reads = served
    reads.reset()
    page.open("/analysis?service=frontend&lookback=1h")
    assert reads.counts == ONE_READ
    shown_svg = _shown_svg(page)
    shown = page.page.eval_on_selector_all(
        "#headline li .said", "items => items.map(i => i.textContent)"
    )
    frames = page.page.eval_on_selector_all(
        "#fix-first tbody tr", "rows => rows.map(r => r.dataset.frame)"
    )
    slowest = page.page.eval_on_selector_all(
        "#slowest tbody tr a", "links => links.map(a => a.getAttribute('href'))"
    )
    endpoints = page.page.locator("#endpoints tbody tr").count()
    kinds = page.page.eval_on_selector_all(
        "#anti-patterns tbody tr", "rows => rows.map(r => r.dataset.kind)"
    )
    sides = page.page.inner_text("#sides")
    # The slowest 5% is drawn first; the other button draws all requests with no new read.
    assert page.page.get_attribute("#flame", "data-kind") == "slow"
    page.page.click("[data-flame='all']")
    page.page.wait_for_function("document.getElementById('flame').dataset.kind === 'all'")
    all_svg = _shown_svg(page)
    assert page.page.get_attribute("#flame-open", "href") == page.page.get_attribute(
        "#flame", "src"
    )
    page.page.click("[data-flame='slow']")
    assert _shown_svg(page) == shown_svg
    assert reads.counts == ONE_READ, "switching the flame graph read the store"
    page.assert_clean()

    # The same as the API's report and flame graphs of the same search.
    report = _api(running, "/api/v1/analysis", **SEARCH)
    assert shown == [h["text"] for h in report["headline"]] and shown
    assert frames == [f"{f['service']}: {f['operation']}" for f in report["fix_first"]][:10]
    assert slowest == [f"/trace/{t['trace_id']}" for t in report["slowest_traces"]]
    assert endpoints == min(len(report["endpoints"]), 10)
    assert kinds == [a["kind"] for a in report["anti_patterns"]][:10] and kinds
    assert f"{TRACES} traces" in sides and "the last hour" in sides
    assert shown_svg == _svg(running, slow="true")
    assert all_svg == _svg(running)


@pytest.mark.browser
def test_the_page_shows_progress_while_its_one_request_runs(page: Page, served) -> None:
    _, reads = served
    reads.delay = 2.5  # a large window: the read takes a while
    reads.reset()
    page.page.goto(page.origin + "/analysis?service=frontend&lookback=1h")
    progress = page.page.locator("#progress")
    progress.wait_for(state="visible", timeout=10_000)
    assert "Reading and analysing the traces of frontend in the last hour" in progress.inner_text()
    page.page.wait_for_selector("#progress .elapsed", timeout=5_000)  # it counts the seconds
    assert page.page.locator("#found").is_hidden()
    page.page.wait_for_selector("body[data-ready='1']", state="attached", timeout=30_000)
    assert progress.is_hidden() and page.page.locator("#found").is_visible()
    # Again: the last results stay, dimmed, under the progress line until the new ones come.
    page.page.click("#go")
    progress.wait_for(state="visible", timeout=10_000)
    assert page.page.locator("#found.stale").is_visible()
    assert page.page.locator("#fix-first").is_visible()
    page.page.wait_for_selector("body[data-ready='1']", state="attached", timeout=30_000)
    assert progress.is_hidden() and page.page.locator("#found.stale").count() == 0
    assert reads.counts == {
        "sample_trace_ids": 2,
        "get_traces": 2,
    }  # one per run, none for the flame graphs
    page.assert_clean()


@pytest.mark.browser
def test_a_run_started_before_the_last_one_leaves_its_line_alone(page: Page, served) -> None:
    """Back while a run reads starts another run at once (the Analyze button waits, the
    browser's history does not). The line says what the latest run reads; the one before stops
    counting, and its late answer neither hides the new line nor replaces the new results."""
    _, reads = served
    page.page.goto(page.origin + "/analysis?service=checkout&lookback=1h")
    page.page.wait_for_selector("body[data-ready='1']", state="attached", timeout=30_000)
    reads.delay_for = {"frontend": 6.0, "checkout": 2.5}
    page.page.select_option("#service", "frontend")
    page.page.click("#go")
    progress = page.page.locator("#progress")
    progress.wait_for(state="visible", timeout=10_000)
    page.page.wait_for_timeout(500)  # half a second out of step with frontend's clock
    page.page.go_back()  # checkout again, while frontend is still being read
    page.page.wait_for_function(
        "document.getElementById('progress').textContent.includes('of checkout')", timeout=5_000
    )
    seen = set()
    for _ in range(50):  # 2.5 s of the line while checkout is read: frontend's clock ticks
        if progress.is_visible():
            seen.add(progress.inner_text().split(" in ")[0])
        page.page.wait_for_timeout(50)
    assert seen <= {"Reading and analysing the traces of checkout"}, seen
    page.page.wait_for_function("document.getElementById('progress').hidden", timeout=20_000)
    checkout = page.page.locator("#sections").inner_html()
    page.page.wait_for_timeout(4_500)  # frontend's answer comes late
    assert progress.is_hidden()
    assert page.page.locator("#sections").inner_html() == checkout
    assert page.page.locator("#found.stale").count() == 0


@pytest.mark.browser
def test_the_flame_graph_opens_on_its_own_and_zooms(page: Page, served) -> None:
    _, reads = served
    page.open("/analysis?service=frontend&lookback=1h")
    reads.reset()
    with page.page.context.expect_page() as opened:
        page.page.click("#flame-open")
    graph = opened.value
    graph.wait_for_selector("svg.flamegraph g.f")
    assert graph.url.startswith("blob:" + page.origin)
    assert "the slowest 5% of each endpoint" in graph.text_content("svg .sub")
    assert graph.get_attribute("#reset", "visibility") == "hidden"
    graph.locator("g.f").nth(1).click()  # the script in the SVG runs: a click zooms
    assert graph.get_attribute("#reset", "visibility") == "visible"
    assert reads.total() == 0
    page.assert_clean()
