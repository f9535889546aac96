"""A trace page's comparison with the typical request of its endpoint reads the endpoint's
other requests only up to a budget of spans: an endpoint of big traces costs a read or two, and
a small trace's page does not read them all. Real server, real DuckDB file, real Chromium."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from spanscope.model import Span
from spanscope.server.trace_page import PEER_SPANS, PEERS

from .conftest import RunningServer, post_spans, start_server, stop_server
from .test_pages import Page

MS = 10**6
BIG = 2_000  # spans of each big request: PEER_SPANS / BIG of them fit the budget
BIG_REQUESTS = 30


def _request(number: int, spans: int, start_ns: int, ms: int) -> list[Span]:
    trace_id = f"{number + 1:032x}"
    root = Span(trace_id, f"{number + 1:08x}00000000", "GET /batch", start_ns, start_ns + ms * MS,
                service_name="batch")  # fmt: skip
    children = [
        Span(
            trace_id,
            f"{number + 1:08x}{i + 1:08x}",
            "step",
            start_ns + MS,
            start_ns + 2 * MS,
            root.span_id,
            service_name="worker",
        )
        for i in range(spans - 1)
    ]
    return [root, *children]


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[RunningServer]:
    running, thread = start_server(tmp_path_factory.mktemp("peers") / "traces.duckdb")
    now = time.time_ns() - 10 * 60 * 10**9
    spans = []
    for n in range(BIG_REQUESTS):
        spans += _request(n, BIG, now + n * 10**9, ms=10 + n)
    spans += _request(1000, 3, now + 40 * 10**9, ms=5)  # the small one
    post_spans(running, spans)
    yield running
    stop_server(running, thread)


@pytest.mark.browser
def test_a_small_trace_among_big_ones_reads_about_the_budget(browser, server) -> None:
    assert BIG_REQUESTS > PEERS // 2 and BIG * BIG_REQUESTS > 3 * PEER_SPANS
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = Page(context, server.ui)
    page.open(f"/trace/{1001:032x}")
    row = page.page.locator("#why .why-row", has_text="typical request")
    text = row.inner_text()
    # The small request and the big ones read until the budget was passed: a few, not 30.
    requests = int(text.split("median of ")[1].split(",")[0])
    assert 1 + PEER_SPANS // BIG <= requests <= 2 + PEER_SPANS // BIG
    page.assert_clean()
    context.close()
