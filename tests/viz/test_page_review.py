"""What a user saw wrong on the standalone pages (waterfall, service map), each checked in
headless Chromium on real data: the shop of ``spanscope.synthetic`` and third-party fixtures."""

from __future__ import annotations

import pytest

from spanscope.assembly import assemble
from spanscope.synthetic import generate_spans
from spanscope.viz.servicemap import render_servicemap_html
from spanscope.viz.waterfall import render_waterfall
from tests.viz.conftest import CONTRAST, fixture_traces

OAUTH = "zipkin/zipkin-lens__testdata__smartthings-oauth-authorization.json"
ASCEND = "zipkin/zipkin-lens__testdata__ascend.json"
SINGLE_SERVICE = "zipkin/zipkin-lens__testdata__envoy.json"  # one span, no remote peer


def _waterfall(page, tmp_path, traces, width: int = 1400):
    path = tmp_path / "page.html"
    path.write_text(render_waterfall(traces), encoding="utf-8")
    page.page.set_viewport_size({"width": width, "height": 800})
    return page.open(path)


pytestmark = pytest.mark.browser

# For each edge label: is it the topmost thing at its own centre (no edge line or other label
# painted over it), and the boxes of any two labels that overlap.
_LABELS = """() => {
  const labels = [...document.querySelectorAll('#map .elabel')];
  const boxes = labels.map(l => l.getBoundingClientRect());
  const covered = labels.filter((l, i) => {
    const b = boxes[i];
    const top = document.elementFromPoint(b.x + b.width / 2, b.y + b.height / 2);
    return !(top === l || l.contains(top));
  }).map(l => l.textContent);
  const overlaps = [];
  boxes.forEach((a, i) => boxes.slice(i + 1).forEach((b, j) => {
    if (a.x < b.right && b.x < a.right && a.y < b.bottom && b.y < a.bottom)
      overlaps.push([labels[i].textContent, labels[i + 1 + j].textContent]);
  }));
  return {count: labels.length, covered, overlaps};
}"""


def test_servicemap_edge_labels_are_never_painted_over(page, tmp_path):
    # The shop and a real Zipkin trace of 8 services: fan-outs whose labels met lines and
    # each other (a later edge's line was drawn over an earlier edge's label).
    traces = assemble(generate_spans(300, seed=1)) + fixture_traces(OAUTH)
    html = tmp_path / "map.html"
    html.write_text(render_servicemap_html(traces), encoding="utf-8")
    page.page.set_viewport_size({"width": 1600, "height": 900})
    page.open(html)
    state = page.page.evaluate(_LABELS)
    page.shot("review-servicemap-labels")
    assert state["count"] == page.page.locator("#map g.edge").count()
    assert state["covered"] == []
    assert state["overlaps"] == []
    # "1 calls" read wrong: one call is singular
    labels = page.page.locator("#map .elabel").all_text_contents()
    assert not [t for t in labels if t.startswith("1 calls")]
    assert [t for t in labels if t.startswith("1 call ·")]
    subs = page.page.locator("#map .nsub").all_text_contents()
    assert "1 span" in subs and "1 spans" not in subs
    # hovering a label is hovering its call: the edge lights up and the numbers show
    first = page.page.locator("#map .elabel").first
    first.hover()
    assert page.page.locator("#map g.edge.on").count() == 1
    assert page.page.locator("#tip").is_visible()
    assert page.errors == []


def test_waterfall_says_when_no_span_matches_and_clears_the_filters(page, tmp_path):
    # A search that matched nothing left an empty grid with only "0 of 175 spans match" in
    # the toolbar corner: it looked like the page had broken.
    _waterfall(page, tmp_path, fixture_traces(OAUTH))
    empty = page.page.locator("#no-match")
    assert empty.is_hidden()
    page.page.fill("#search", "no-such-span-anywhere")
    empty.wait_for(state="visible")
    assert "no-such-span-anywhere" in empty.inner_text()
    assert page.page.locator("#rows .row:visible").count() == 0
    page.shot("review-waterfall-no-match")
    page.page.click("#no-match button")
    empty.wait_for(state="hidden")
    assert page.page.input_value("#search") == ""
    assert page.page.inner_text("#match-count") == "175 spans"
    assert page.page.locator("#rows .row:visible").count() > 10

    # ascend has no failed span: "Errors only" finds nothing, and says which filter did it
    _waterfall(page, tmp_path, fixture_traces(ASCEND))
    page.page.check("#errors-only")
    empty.wait_for(state="visible")
    assert "error" in empty.inner_text()
    page.page.click("#no-match button")
    assert not page.page.is_checked("#errors-only")
    assert page.page.locator("#rows .row:visible").count() == 8
    assert page.errors == []


def test_error_badges_are_readable_in_the_dark_theme(page, tmp_path):
    # The "!" of a failed span was white on the dark theme's light red: 2.8:1.
    page.page.emulate_media(color_scheme="dark")
    _waterfall(page, tmp_path, fixture_traces(OAUTH))
    page.page.check("#errors-only")
    badge = page.page.locator("#rows .badge.error").first
    badge.wait_for()
    assert badge.evaluate(CONTRAST) >= 4.5
    assert page.errors == []


# The characters after which the text of ``td`` goes on to a new line.
_BREAKS = """(td) => {
  const breaks = [];
  const walker = document.createTreeWalker(td, NodeFilter.SHOW_TEXT);
  let top = null, last = "";
  for (let node; (node = walker.nextNode());) {
    for (let i = 0; i < node.length; i++) {
      const range = document.createRange();
      range.setStart(node, i); range.setEnd(node, i + 1);
      const rect = range.getBoundingClientRect();
      if (top !== null && rect.top > top + 2) breaks.push(last);
      top = rect.top; last = node.data[i];
    }
  }
  return breaks;
}"""


def test_attribute_keys_wrap_between_their_parts(page, tmp_path):
    # "network.local.address" was cut as "network.local.addres" + "s" in the details panel.
    _waterfall(page, tmp_path, fixture_traces(OAUTH), width=1600)
    page.page.click("#rows .row[data-span-id='bb44efaef3c5c894']")
    key = page.page.locator("#details-body .kv td:first-child", has_text="network.local.address")
    assert key.inner_text().replace("\n", "") == "network.local.address"
    breaks = key.evaluate(_BREAKS)
    page.shot("review-waterfall-details-keys")
    assert breaks and set(breaks) <= {".", "_", "-", "/"}
    assert page.errors == []


def test_trace_list_works_from_the_keyboard(page, tmp_path):
    # Tab went from the filter box to the scrolling table and no further: no trace could be
    # opened, nor a column sorted, without a mouse.
    traces = assemble(generate_spans(40, seed=2))
    _waterfall(page, tmp_path, traces)
    page.page.focus("#list-search")
    focused = []
    for _ in range(12):
        page.page.keyboard.press("Tab")
        focused.append(page.page.evaluate("document.activeElement.dataset.key || ''"))
        if page.page.evaluate("document.activeElement.dataset.key") == "n":
            break
    assert focused[-1] == "n", focused
    page.page.keyboard.press("Enter")
    spans = [
        int(t) for t in page.page.locator("#trace-table tbody td:nth-child(4)").all_inner_texts()
    ]
    assert spans == sorted(spans, reverse=True)
    while not page.page.evaluate("document.activeElement.matches('#trace-table tbody tr')"):
        page.page.keyboard.press("Tab")
    first = page.page.evaluate("document.activeElement.dataset.trace")
    assert first == page.page.locator("#trace-table tbody tr").first.get_attribute("data-trace")
    page.page.keyboard.press("ArrowDown")
    second = page.page.evaluate("document.activeElement.dataset.trace")
    assert second == page.page.locator("#trace-table tbody tr").nth(1).get_attribute("data-trace")
    page.page.keyboard.press("Enter")
    page.page.wait_for_selector("#trace-view:not([hidden])")
    assert page.page.evaluate("window.spanscope.state().trace") == second
    assert page.errors == []


def test_trace_list_keeps_every_column_in_an_800_px_window(page, tmp_path):
    # At 800 px the list was 1,032 px wide: Services, Errors and Data problems were past the
    # window's edge.
    _waterfall(page, tmp_path, assemble(generate_spans(60, seed=2)), width=800)
    fit = page.page.evaluate(
        """() => {
          const table = document.getElementById('trace-table');
          const edge = table.parentElement.getBoundingClientRect().right;
          const start = table.querySelector('tbody td:nth-child(2)');
          const line = parseFloat(getComputedStyle(start).lineHeight);
          return {
            past: [...table.querySelectorAll('th')]
              .filter(th => th.getBoundingClientRect().right > edge + 1).map(th => th.textContent),
            startLines: Math.round((start.clientHeight - 14) / line),
          };
        }"""
    )
    page.shot("review-trace-list-800")
    assert fit["past"] == []
    assert fit["startLines"] <= 2  # the date over its time, at most
    assert page.errors == []


def test_servicemap_has_a_legend_for_its_edge_colours(page, tmp_path):
    # The map said "colour = error rate" but not which colour meant what.
    from spanscope.viz.servicemap import _edge_color

    traces = assemble(generate_spans(300, seed=1))
    html = tmp_path / "map.html"
    html.write_text(render_servicemap_html(traces), encoding="utf-8")
    page.open(html)
    legend = page.page.evaluate(
        """() => [...document.querySelectorAll('#map .ekey')].map(g => ({
          stroke: g.querySelector('line').getAttribute('stroke'),
          text: g.querySelector('text').textContent,
          box: g.getBoundingClientRect().toJSON(),
        }))"""
    )
    page.shot("review-servicemap-legend")
    assert [item["stroke"] for item in legend] == [
        _edge_color(0.0),
        _edge_color(0.01),
        _edge_color(0.10),
    ]
    assert all(item["text"] for item in legend)
    # clear of the title and subtitle, and inside the map
    frame, *texts = page.page.evaluate(
        """() => [...document.querySelectorAll('#map svg, #map svg > text')]
          .map(e => e.getBoundingClientRect().toJSON())"""
    )
    assert len(texts) == 2  # title and subtitle
    for item in legend:
        b = item["box"]
        assert frame["left"] <= b["left"] and b["right"] <= frame["right"]
        for t in texts:
            assert (
                b["right"] <= t["left"]
                or t["right"] <= b["left"]
                or (b["bottom"] <= t["top"] or t["bottom"] <= b["top"])
            )
    assert page.errors == []


def test_flame_graph_details_show_where_the_reader_is(page, tmp_path):
    # The hover details were written under the graph: on a tall graph (this trace is 32 spans
    # deep) hovering a box near the top changed a line far below the window.
    from spanscope.viz.flamegraph import render_flamegraph

    (trace,) = fixture_traces(OAUTH)
    path = tmp_path / "flame.svg"
    path.write_text(render_flamegraph(trace), encoding="utf-8")
    page.page.set_viewport_size({"width": 1300, "height": 500})
    page.open(path, "svg[data-ready='1']")
    inside = """() => { const r = document.getElementById('details').getBoundingClientRect();
      return r.top >= 0 && r.bottom <= innerHeight; }"""
    assert page.page.evaluate(inside)  # the hint is seen before any hover
    top = page.page.locator("g.f").first
    top.hover()
    assert page.page.evaluate(inside)
    assert top.get_attribute("data-name") in page.page.locator("#details").text_content()
    # scrolled down to a deep box, the details come along
    deep = page.page.locator("g.f").nth(160)
    deep.scroll_into_view_if_needed()
    deep.hover(force=True)
    assert page.page.evaluate(inside)
    assert deep.get_attribute("data-name") in page.page.locator("#details").text_content()
    page.shot("review-flamegraph-details")
    assert page.errors == []


def test_servicemap_without_calls_says_so(page, tmp_path):
    # With no traces in the window (spanscope serve's /services) the page drew an empty frame
    # and a table of headers only.
    html = tmp_path / "map.html"
    html.write_text(render_servicemap_html([]), encoding="utf-8")
    page.open(html)
    assert "No services" in page.page.locator("#map svg").text_content()
    assert "No calls" in page.page.inner_text("#edges tbody")
    page.page.click("#edges th[data-k='2']")  # sorting an empty table is no error
    page.shot("review-servicemap-empty")

    # one service calling nobody: a map of one box, and the table says why it is empty
    (trace,) = fixture_traces(SINGLE_SERVICE)
    assert len({span.service_name for span in trace.spans}) == 1
    html.write_text(render_servicemap_html([trace]), encoding="utf-8")
    page.open(html)
    assert page.page.locator("#map g.node").count() == 1
    assert "No calls" in page.page.inner_text("#edges tbody")
    assert page.errors == []


_FLAME_FIT = """() => {
  const boxes = [...document.querySelectorAll('g.f rect:first-of-type')].map(r => r.getBoundingClientRect());
  return {
    overflow: document.documentElement.getBoundingClientRect().width > innerWidth,
    right: Math.max(...boxes.map(b => b.right)),
    rootWidth: boxes[0].width,
    legendRight: Math.max(...[...document.querySelectorAll('text.legend')].map(t => t.getBoundingClientRect().right)),
    width: innerWidth,
  };
}"""


@pytest.mark.parametrize("width", [800, 1600])
def test_flame_graph_opened_directly_fits_the_window(page, tmp_path, width):
    # A fixed 1,200 px: cut off in an 800 px window, a third of a 1,600 px one left empty.
    from spanscope.viz.flamegraph import render_flamegraph

    traces = assemble(generate_spans(30, seed=2))
    slowest = max(traces, key=lambda t: t.duration_ns)
    path = tmp_path / "flame.svg"
    path.write_text(render_flamegraph(slowest), encoding="utf-8")
    page.page.set_viewport_size({"width": width, "height": 600})
    page.open(path, "svg[data-ready='1']")
    fit = page.page.evaluate(_FLAME_FIT)
    page.shot(f"review-flamegraph-{width}")
    assert not fit["overflow"]
    assert fit["right"] <= width and fit["legendRight"] <= width
    assert fit["right"] >= width - 40  # the graph uses the room it has
    # zoom and reset still map frames to the full width
    frame = page.page.locator("g.f").nth(3)
    frame.click()
    inner = float(page.page.locator("svg").first.get_attribute("data-width"))
    assert inner == width - 20
    assert float(frame.locator("rect").first.get_attribute("width")) == pytest.approx(inner)
    page.page.locator("#reset").click()
    assert page.page.evaluate(_FLAME_FIT)["rootWidth"] == pytest.approx(fit["rootWidth"], abs=0.5)
    assert page.errors == []


def test_a_bar_as_wide_as_the_view_still_shows_its_duration(page, tmp_path):
    # The duration went right of a bar, or left of it, or nowhere: the root (and any span
    # zoomed past both edges) had no figure at all.
    _waterfall(page, tmp_path, fixture_traces(ASCEND), width=800)
    root = page.page.locator("#rows .row").first
    dur = root.locator(".dur")
    assert dur.is_visible()
    assert dur.inner_text() == "38.8 ms"
    track = root.locator(".track").bounding_box()
    box = dur.bounding_box()
    assert track["x"] <= box["x"] and box["x"] + box["width"] <= track["x"] + track["width"]
    assert dur.evaluate(CONTRAST) >= 4.5
    page.shot("review-waterfall-root-duration")
    assert page.errors == []


def test_trace_list_says_when_no_trace_matches(page, tmp_path):
    # Filtering the list down to nothing left the column headers alone.
    _waterfall(page, tmp_path, assemble(generate_spans(20, seed=2)))
    page.page.fill("#list-search", "no-such-trace")
    body = page.page.locator("#trace-table tbody")
    assert "No trace matches" in body.inner_text() and "no-such-trace" in body.inner_text()
    body.locator("tr").first.click()  # the message is no link to a trace
    assert page.page.evaluate("location.hash") == ""
    page.page.fill("#list-search", "")
    assert body.locator("tr[data-trace]").count() == 20
    assert page.errors == []


def test_footer_lists_the_keys_of_the_view_shown(page, tmp_path):
    # The trace list's footer listed the waterfall's keys (collapse/expand, zoom), none of
    # which do anything there.
    _waterfall(page, tmp_path, assemble(generate_spans(20, seed=2)))
    keys = page.page.locator("#footer .keys")
    assert "collapse" not in keys.inner_text() and "Enter" in keys.inner_text()
    page.page.locator("#trace-table tbody tr").first.click()
    page.page.wait_for_selector("#trace-view:not([hidden])")
    assert "collapse" in keys.inner_text() and "zoom" in keys.inner_text()
    page.page.keyboard.press("Backspace")
    page.page.wait_for_selector("#list-view:not([hidden])")
    assert "collapse" not in keys.inner_text()
    assert page.errors == []


def test_flame_graph_works_from_the_keyboard(page, tmp_path):
    # Boxes could only be zoomed and read with a mouse.
    from spanscope.viz.flamegraph import render_flamegraph

    (trace,) = fixture_traces(ASCEND)
    path = tmp_path / "flame.svg"
    path.write_text(render_flamegraph(trace), encoding="utf-8")
    page.open(path, "svg[data-ready='1']")
    page.page.keyboard.press("Tab")
    page.page.keyboard.press("Tab")
    focused = page.page.evaluate(
        "document.activeElement.matches('g.f') && document.activeElement.dataset.name"
    )
    assert focused
    assert focused in page.page.locator("#details").text_content()
    page.page.keyboard.press("Enter")
    assert page.page.locator("#reset").get_attribute("visibility") == "visible"
    inner = float(page.page.locator("svg").first.get_attribute("data-width"))
    width = page.page.evaluate(
        "+document.activeElement.querySelector('rect').getAttribute('width')"
    )
    assert width == pytest.approx(inner, abs=0.1)
    page.page.keyboard.press("Escape")
    assert page.page.locator("#reset").get_attribute("visibility") == "hidden"
    assert page.errors == []


def test_search_text_is_built_while_the_page_is_idle(page, tmp_path):
    # On a 50,000-span trace the first search took 180-380 ms: it parsed the details block and
    # built the text of every span only then. The page now does it in idle moments after it
    # is drawn, a slice at a time, so the first search is as quick as the next.
    traces = assemble(generate_spans(400, seed=4))
    _waterfall(page, tmp_path, traces)
    page.page.locator("#trace-table tbody tr").first.click()
    # polled by timer: polling on every frame would leave the page never idle
    page.page.wait_for_function(
        "window.spanscope.state() && window.spanscope.state().searchReady", polling=100
    )
    page.page.fill("#search", "select")
    page.page.wait_for_function(
        "document.getElementById('match-count').textContent.includes('match')"
    )
    assert page.errors == []
