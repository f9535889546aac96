"""The pages of ``spanscope serve`` in real headless Chromium, against a real server on loopback
fed by the real OpenTelemetry SDK exporter and by OTLP protobuf posts of synthetic shop traces.

Every page must open without console errors and without any request leaving the server's
origin; what the pages show is checked against the server's own API answers. Screenshots go to
``test-artifacts/pages`` (not committed).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import SpanKind, Status, StatusCode

from spanscope.assembly import assemble_stored
from spanscope.formats import encode_spans
from spanscope.server.pages import LOOKBACKS, MAX_MAP_TRACES
from spanscope.store import TraceQuery
from spanscope.synthetic import generate_spans
from spanscope.viz.servicemap import service_graph
from tests.browser import record_errors

from .conftest import RunningServer, start_server, stop_server

ARTIFACTS = Path(__file__).parent.parent.parent / "test-artifacts" / "pages"
MINUTE_NS = 60 * 10**9


def _send_sdk_trace(server: RunningServer) -> str:
    """One small trace from the real SDK over OTLP/HTTP: a root and two children, one failed."""
    provider = TracerProvider(resource=Resource.create({"service.name": "sdk-client"}))
    provider.add_span_processor(
        SimpleSpanProcessor(OTLPSpanExporter(endpoint=f"{server.http}/v1/traces"))
    )
    tracer = provider.get_tracer("tests.pages")
    with tracer.start_as_current_span(
        "GET /health/deep", kind=SpanKind.SERVER, attributes={"http.response.status_code": 200}
    ) as root:
        with tracer.start_as_current_span("SELECT users", kind=SpanKind.CLIENT) as query:
            query.set_status(Status(StatusCode.ERROR, "connection reset"))
        with tracer.start_as_current_span("render"):
            time.sleep(0.002)
    provider.shutdown()
    return format(root.get_span_context().trace_id, "032x")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningServer, str]]:
    running, thread = start_server(tmp_path_factory.mktemp("pages") / "traces.duckdb")
    now = time.time_ns()
    # Three bursts of shop traffic spread over the last hour, so the scatter has a time axis;
    # seeds 14 and 87 give three checkouts that fail at the payment provider.
    for seed, minutes_ago in ((14, 42), (87, 21), (3, 4)):
        spans = list(generate_spans(20, seed=seed, start_ns=now - minutes_ago * MINUTE_NS))
        response = httpx.post(
            f"{running.http}/v1/traces",
            content=encode_spans(spans, "otlp-proto"),
            headers={"Content-Type": "application/x-protobuf"},
        )
        assert response.status_code == 200, response.text
    sdk_trace = _send_sdk_trace(running)
    yield running, sdk_trace
    stop_server(running, thread)


class Page:
    """A browser page on the server that records console errors and refuses every request
    that would leave the server's origin (the pages must be self-contained)."""

    def __init__(self, context, origin: str) -> None:
        self.origin = origin
        self.errors: list[str] = []
        self.outside: list[str] = []

        def guard(route) -> None:
            if route.request.url.startswith(origin + "/") or route.request.url.startswith("data:"):
                route.continue_()
            else:
                self.outside.append(route.request.url)
                route.abort()

        context.route("**/*", guard)
        self.page = context.new_page()
        record_errors(self.page, self.errors)

    def open(self, path: str, ready: str = "[data-ready='1']"):
        response = self.page.goto(self.origin + path)
        self.page.wait_for_selector(ready, state="attached", timeout=15_000)
        return response

    def search(self) -> None:
        """Press Find traces and wait for the answer to be drawn."""
        before = self.page.evaluate("document.body.dataset.searched || ''")
        self.page.click("#find")
        self.page.wait_for_function(
            "(b) => (document.body.dataset.searched || '') !== b", arg=before, timeout=15_000
        )

    def shot(self, name: str, full_page: bool = False) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        target = ARTIFACTS / f"{name}.png"
        self.page.screenshot(path=str(target), full_page=full_page)
        return target

    def assert_clean(self) -> None:
        assert self.errors == []
        assert self.outside == []


@pytest.fixture
def page(browser, server) -> Iterator[Page]:
    running, _ = server
    context = browser.new_context(viewport={"width": 1400, "height": 860})
    wrapped = Page(context, running.ui)
    yield wrapped
    context.close()


def _api(server: RunningServer, path: str, **params) -> dict:
    response = httpx.get(f"{server.ui}{path}", params=params, timeout=60)
    assert response.status_code == 200, response.text
    return response.json()


def _rows(page: Page) -> list[str]:
    return page.page.eval_on_selector_all(
        "#trace-table tbody tr", "rows => rows.map(r => r.dataset.trace)"
    )


@pytest.mark.browser
def test_search_page_lists_the_stored_services(page: Page, server) -> None:
    running, _ = server
    page.open("/")
    options = page.page.eval_on_selector_all(
        "#service option", "opts => opts.map(o => o.value).filter(Boolean)"
    )
    assert options == _api(running, "/api/services")["data"]
    assert "sdk-client" in options and "frontend" in options
    assert page.page.inner_text("#store-meta") == f"{len(options)} services stored"
    page.page.select_option("#service", "checkout")
    page.page.wait_for_function("document.querySelectorAll('#operation option').length > 1")
    operations = page.page.eval_on_selector_all(
        "#operation option", "opts => opts.map(o => o.value).filter(Boolean)"
    )
    assert operations == _api(running, "/api/services/checkout/operations")["data"]
    page.shot("search-empty")
    page.assert_clean()


@pytest.mark.browser
def test_search_finds_what_the_api_finds_and_keeps_it_in_the_address(page: Page, server) -> None:
    running, _ = server
    page.open("/")
    page.page.select_option("#service", "frontend")
    page.page.select_option("#lookback", "1h")
    page.page.fill("#limit", "100")
    page.search()
    expected = _api(running, "/api/traces", service="frontend", lookback="1h", limit=100)["data"]
    assert len(expected) == 60
    assert sorted(_rows(page)) == sorted(doc["traceID"] for doc in expected)
    assert page.page.inner_text("#result-count") == "60 traces"
    assert "in the last hour" in page.page.inner_text("#result-meta")
    windows = page.page.eval_on_selector_all(
        "#lookback option", "os => os.map(o => [o.value, o.textContent])"
    )
    assert windows == [
        *([key, f"Last {window}"] for key, window in LOOKBACKS.items()),
        ["custom", "Custom range…"],
    ]
    assert page.page.locator("#scatter circle").count() == 60
    # Span counts and error counts per row are those of the API's traces.
    spans = {doc["traceID"]: len(doc["spans"]) for doc in expected}
    cells = page.page.eval_on_selector_all(
        "#trace-table tbody tr",
        "rows => rows.map(r => [r.dataset.trace, r.cells[3].innerText, r.cells[5].innerText])",
    )
    assert {trace: int(n) for trace, n, _ in cells} == spans
    failed = {trace for trace, _, errors in cells if errors != "0"}
    assert failed == {
        trace
        for trace, doc in ((d["traceID"], d) for d in expected)
        if any(
            {"key": "error", "type": "bool", "value": True} in span["tags"] for span in doc["spans"]
        )
    }
    assert len(failed) == 3
    assert page.page.locator("#scatter circle.err").count() == len(failed)
    query = parse_qs(urlsplit(page.page.url).query)
    assert query["service"] == ["frontend"] and query["limit"] == ["100"]
    assert query["lookback"] == ["1h"]
    page.shot("search-results")
    page.page.click("#theme")
    assert page.page.evaluate("document.documentElement.dataset.theme") == "dark"
    page.shot("search-results-dark")
    page.page.click("#theme")

    # A narrower search: operation and minimum duration, as the API answers it.
    page.page.select_option("#operation", "POST /api/checkout")
    page.page.fill("#min-duration", "50ms")
    page.search()
    narrow = _api(
        running,
        "/api/traces",
        service="frontend",
        operation="POST /api/checkout",
        minDuration="50ms",
        lookback="1h",
        limit=100,
    )["data"]
    assert 0 < len(narrow) < len(expected)
    assert sorted(_rows(page)) == sorted(doc["traceID"] for doc in narrow)
    # Back goes to the previous search, form and results.
    before = page.page.evaluate("document.body.dataset.searched")
    page.page.go_back()
    page.page.wait_for_function("(b) => document.body.dataset.searched !== b", arg=before)
    assert (
        page.page.input_value("#operation") == "" and page.page.input_value("#min-duration") == ""
    )
    assert len(_rows(page)) == len(expected)
    page.assert_clean()


@pytest.mark.browser
def test_a_shared_address_restores_the_search_and_sorts(page: Page, server) -> None:
    running, sdk_trace = server
    page.open("/?service=sdk-client&lookback=6h&limit=5&tags=span.kind%3Dserver", "[data-searched]")
    assert page.page.input_value("#service") == "sdk-client"
    assert page.page.input_value("#lookback") == "6h"
    assert page.page.input_value("#tags") == "span.kind=server"
    assert page.page.input_value("#limit") == "5"
    assert _rows(page) == [sdk_trace]
    row = page.page.locator("#trace-table tbody tr").first
    assert "sdk-client: GET /health/deep" in row.inner_text()
    assert row.locator("td").nth(5).inner_text() == "1"  # the failed query span

    # A custom range around the burst of 21 minutes ago, in Jaeger's microseconds.
    now_us = time.time_ns() // 1000
    start, end = now_us - 30 * 60 * 10**6, now_us - 10 * 60 * 10**6
    page.open(
        f"/?service=frontend&lookback=custom&start={start}&end={end}&limit=100", "[data-searched]"
    )
    assert page.page.is_visible("#custom-range")
    assert page.page.input_value("#lookback") == "custom"
    burst = _api(running, "/api/traces", service="frontend", start=start, end=end, limit=100)
    assert len(burst["data"]) == 20
    assert sorted(_rows(page)) == sorted(doc["traceID"] for doc in burst["data"])
    assert page.page.inner_text("#result-meta").startswith("from ")

    page.open("/?service=checkout&lookback=1h&limit=30", "[data-searched]")
    page.page.click("#trace-table th[data-key='dur']")
    durations = page.page.eval_on_selector_all(
        "#trace-table tbody tr", "rows => rows.map(r => r.querySelector('.durbar').style.width)"
    )
    widths = [float(width.rstrip("%")) for width in durations]
    found = _api(running, "/api/traces", service="checkout", lookback="1h", limit=30)["data"]
    assert len(widths) == len(found) > 10
    assert widths == sorted(widths, reverse=True) and widths[0] == 100
    page.page.click("#trace-table th[data-key='dur']")
    durations = page.page.eval_on_selector_all(
        "#trace-table tbody tr", "rows => rows.map(r => r.querySelector('.durbar').style.width)"
    )
    assert [float(width.rstrip("%")) for width in durations] == sorted(widths)
    page.assert_clean()


@pytest.mark.browser
def test_clicking_a_row_opens_the_trace_waterfall(page: Page, server) -> None:
    running, _ = server
    page.open("/?service=checkout&operation=shop.checkout%2FPlaceOrder&lookback=1h&limit=3")
    page.page.wait_for_selector("#trace-table tbody tr")
    trace_id = _rows(page)[0]
    page.page.locator("#trace-table tbody tr").first.locator("td.num").first.click()
    page.page.wait_for_url(f"**/trace/{trace_id}")
    page.page.wait_for_selector("body[data-ready='1']", state="attached")
    stored = _api(running, f"/api/traces/{trace_id}")["data"][0]["spans"]
    state = page.page.evaluate("window.spanscope.state()")
    assert state["trace"] == trace_id and state["n"] == len(stored) > 1
    assert page.page.locator("#rows .row").count() > 1
    # The links added to the waterfall: back to the same search, downloads, analysis.
    back = page.page.get_attribute("a[data-search-link]", "href")
    assert back is not None and "operation=shop.checkout%2FPlaceOrder" in back
    downloads = page.page.eval_on_selector_all(
        ".ss-menu-list a", "links => links.map(a => a.getAttribute('href'))"
    )
    assert len(downloads) == 6
    for href in downloads:
        assert httpx.get(running.ui + href).status_code == 200
    page.page.click("details.ss-menu summary")
    page.shot("trace-downloads")
    page.page.keyboard.press("Escape")
    analysis = page.page.get_attribute("a[href$='/analysis']", "href")
    assert _api(running, analysis)["trace_id"] == trace_id
    page.shot("trace")
    page.page.click("a[data-search-link]")
    page.page.wait_for_selector("[data-searched]", state="attached")
    assert _rows(page)[0] == trace_id
    page.assert_clean()


@pytest.mark.browser
def test_clicking_a_scatter_dot_opens_its_trace(page: Page, server) -> None:
    page.open("/?service=payment&lookback=1h&limit=50", "[data-searched]")
    dot = page.page.locator("#scatter circle").last  # drawn last: on top of any overlap
    trace_id = dot.get_attribute("data-trace")
    dot.hover()
    assert page.page.is_visible("#tooltip")
    assert trace_id in page.page.inner_text("#tooltip")
    assert page.page.locator(f"#trace-table tr.hot[data-trace='{trace_id}']").count() == 1
    page.shot("search-scatter-hover")
    dot.click()
    page.page.wait_for_url(f"**/trace/{trace_id}")
    page.page.wait_for_selector("body[data-ready='1']", state="attached")
    assert page.page.evaluate("window.spanscope.state().trace") == trace_id
    page.assert_clean()


@pytest.mark.browser
def test_service_map_shows_the_stored_services(page: Page, server) -> None:
    running, _ = server
    page.open("/services?lookback=1h", "#map svg")
    nodes = set(page.page.eval_on_selector_all("#map g.node", "ns => ns.map(n => n.dataset.name)"))
    stored = set(_api(running, "/api/services")["data"])
    assert stored <= nodes  # plus peers nobody traced (postgresql, redis, ...)
    hour_ns = 60 * MINUTE_NS
    stored_traces = running.store.find_trace_ids(  # type: ignore[attr-defined]
        TraceQuery(start_time_min=time.time_ns() - hour_ns, num_traces=10_000)
    )
    assert len(stored_traces) >= 61
    assert f"Built from all {len(stored_traces)} traces" in page.page.inner_text(".ss-note")
    assert page.page.locator(".ss-seg.active").inner_text() == "1h"
    page.shot("services", full_page=True)

    page.open("/services?lookback=15m&limit=5", "#map svg")
    assert "a sample of 5 of " in page.page.inner_text(".ss-note")
    page.page.click(".ss-link >> text=Search")
    page.page.wait_for_selector("body[data-ready='1']", state="attached")
    assert urlsplit(page.page.url).path == "/"
    page.assert_clean()


@pytest.mark.browser
def test_service_map_reads_a_sample_spread_over_the_window(page: Page, server) -> None:
    """With more traces in the window than its limit, the map draws the sample the Analysis,
    Compare and Quality pages read (``Store.sample_trace_ids``), not the newest traces, and
    says so as they do, with a link that reads up to the most it may."""
    running, _ = server
    page.open("/services?lookback=1h&limit=5", "#map svg")
    now = time.time_ns()
    query = TraceQuery(start_time_min=now - 60 * MINUTE_NS, start_time_max=now, num_traces=5)
    ids, matched = running.store.sample_trace_ids(query)  # type: ignore[attr-defined]
    note = page.page.inner_text(".ss-note")
    assert f"a sample of 5 of {matched} traces with a matching span in the last hour" in note
    assert "chosen by trace id" in page.page.get_attribute(".ss-note .capped", "title")
    more = page.page.get_attribute(".ss-note a.read-more", "href")
    assert parse_qs(urlsplit(more).query) == {"lookback": ["1h"], "limit": [str(MAX_MAP_TRACES)]}
    shown = page.page.eval_on_selector_all(
        "tr[data-from]",
        "rows => rows.map(r => [r.dataset.from, r.dataset.to, +r.cells[2].dataset.v])",
    )

    def calls(trace_ids: list[str]) -> dict[tuple[str, str], int]:
        spans = [found for found in running.store.get_traces(trace_ids) if found]
        _, edges = service_graph(list(assemble_stored(spans)))
        return {(edge.parent, edge.child): edge.calls for edge in edges}

    assert {(parent, child): n for parent, child, n in shown} == calls(ids)
    newest = running.store.find_trace_ids(query)  # type: ignore[attr-defined]
    assert calls(newest) != calls(ids)  # (the test tells the two reads apart)
    page.assert_clean()


@pytest.mark.browser
def test_bad_input_shows_clear_messages(page: Page, server) -> None:
    page.open("/?service=frontend&lookback=1h&tags=a%3D%22unterminated", "[data-searched]")
    assert page.page.is_visible("#form-error")
    assert "tags" in page.page.inner_text("#form-error")
    # The only console line is the browser noting the API's 400 answer.
    assert all("status of 400" in error for error in page.errors)
    page.errors.clear()

    response = page.open("/trace/not-hex", "#error-heading")
    assert response.status == 400
    assert page.page.inner_text("#error-heading") == "Not a trace id"
    assert "not-hex" in page.page.inner_text("#error-message")
    page.shot("error-bad-id")
    response = page.open("/trace/" + "ab" * 16, "#error-heading")
    assert response.status == 404
    assert page.page.inner_text("#error-heading") == "Trace not found"
    page.shot("error-unknown-trace")
    assert all("status of 40" in error for error in page.errors)
    assert page.outside == []


def test_error_pages_are_html_and_apis_keep_their_errors(server) -> None:
    running, _ = server
    for path, status in (
        ("/trace/xyz", 400),
        ("/trace/" + "0" * 40, 400),
        ("/trace/ffffffffffffffff", 404),
        ("/no/such/page", 404),
        ("/services?lookback=soon", 400),
        ("/services?limit=0", 400),
        ("/services?limit=\u00b2", 400),  # a digit to str.isdigit, not to int
    ):
        response = httpx.get(running.ui + path)
        assert response.status_code == status, path
        assert response.headers["content-type"].startswith("text/html")
        assert "<h1" in response.text and "Traceback" not in response.text
    api = httpx.get(running.ui + "/api/traces/xyz")
    assert api.status_code == 400 and api.json()["errors"][0]["code"] == 400
    assert httpx.get(running.ui + "/api/nope").status_code == 404
    assert httpx.get(running.ui + "/v1/traces").status_code == 405  # still the receiver's
    assert httpx.get(running.ui + "/favicon.ico").headers["content-type"] == "image/svg+xml"


def test_pages_load_nothing_from_elsewhere(server) -> None:
    running, sdk_trace = server
    for path in ("/", f"/trace/{sdk_trace}", "/services", "/nope"):
        html = httpx.get(running.ui + path).text
        assert "@import" not in html and "//cdn" not in html, path
        # The only absolute URLs are XML namespace names (inline SVG), which load nothing.
        for scheme in ("http://", "https://"):
            at = html.find(scheme)
            while at >= 0:
                assert html.startswith("http://www.w3.org/", at), (path, html[at - 40 : at + 60])
                at = html.find(scheme, at + 1)


@pytest.mark.browser
def test_hostile_names_are_shown_as_text(page: Page, server) -> None:
    running, _ = server
    service = '<img id="pwn" src=x onerror="document.body.dataset.pwned=1">'
    name = "it's \"quoted\" </script><b id='pwn2'>bold</b>"
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    provider.add_span_processor(
        SimpleSpanProcessor(OTLPSpanExporter(endpoint=f"{running.http}/v1/traces"))
    )
    with provider.get_tracer("tests.pages").start_as_current_span(name) as span:
        trace_id = format(span.get_span_context().trace_id, "032x")
    provider.shutdown()

    page.open("/")
    page.page.select_option("#service", service)
    page.page.wait_for_function("document.querySelectorAll('#operation option').length > 1")
    page.page.select_option("#operation", name)
    page.search()
    assert _rows(page) == [trace_id]
    assert f"{service}: {name}" in page.page.inner_text("#trace-table tbody tr")
    page.page.locator("#scatter circle").hover()
    assert name in page.page.inner_text("#tooltip")
    assert page.page.locator("#pwn, #pwn2").count() == 0
    assert page.page.evaluate("document.body.dataset.pwned") is None
    page.page.locator("#trace-table tbody tr a").click()
    page.page.wait_for_selector("body[data-ready='1']", state="attached")
    assert page.page.evaluate("window.spanscope.state().trace") == trace_id
    assert page.page.locator("#pwn, #pwn2").count() == 0
    # Back on the search page, the address brings the same hostile query back intact.
    page.page.click("a[data-search-link]")
    page.page.wait_for_selector("[data-searched]", state="attached")
    assert page.page.input_value("#operation") == name
    assert _rows(page) == [trace_id]
    page.assert_clean()


def test_a_trace_opens_from_a_whole_id_or_the_start_of_one(server) -> None:
    running, sdk_trace = server
    for path in (
        f"/trace?id={sdk_trace}",
        f"/trace?id=%20{sdk_trace[:12]}%E2%80%A6",  # as copied from a table: " 8e8bdfe2a873…"
        f"/trace/{sdk_trace[:12]}",
        f"/trace/{sdk_trace.upper()}",
    ):
        answer = httpx.get(running.ui + path, follow_redirects=False)
        assert answer.status_code == 303, path
        assert answer.headers["location"] == f"/trace/{sdk_trace}", path
    assert httpx.get(running.ui + "/trace?id=", follow_redirects=False).headers["location"] == "/"
    found = _api(running, "/api/traces", service="frontend", lookback="2h", limit="100")
    ids = [trace["traceID"] for trace in found["data"]]
    ids.append(sdk_trace)
    firsts = [i.lstrip("0")[:1] for i in ids]
    shared = next(c for c in firsts if firsts.count(c) > 1)
    answer = httpx.get(running.ui + f"/trace?id={shared}")
    assert answer.status_code == 400 and "Give more digits" in answer.text
    unknown = next(p for p in ("fffff0", "eeeee0", "ddddd0") if not any(
        i.lstrip("0").startswith(p) for i in ids))  # fmt: skip
    answer = httpx.get(running.ui + f"/trace?id={unknown}")
    assert answer.status_code == 404 and f"nor one whose id starts with {unknown}" in answer.text


@pytest.mark.browser
def test_the_navigation_opens_a_pasted_trace_id(page: Page, server) -> None:
    _running, sdk_trace = server
    page.open("/monitor")
    page.page.fill(".ss-find-input", f" {sdk_trace[:10]}…")
    page.page.press(".ss-find-input", "Enter")
    page.page.wait_for_url(f"**/trace/{sdk_trace}")
    page.page.wait_for_selector("body[data-ready='1']", state="attached")
    # The trace page's own strip has the box too.
    assert page.page.locator(".ss-nav .ss-find-input").count() == 1
    page.assert_clean()
