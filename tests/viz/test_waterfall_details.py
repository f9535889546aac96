"""Opening the waterfall's span details on a trace whose root waits in thousands of gaps.

On a 50,000-span trace the first open took 160-240 ms: the root row drew one critical-path
line per section (2,500 lines a pixel wide, each with a shadow, built, laid out and painted
again because the panel narrows the time axis), the overview was drawn again with a canvas call
per span, and the page made the browser lay out three times in the click. These tests hold the
causes down without timing anything (the benchmark times it): how many lines a row draws and
that they still say where the path is, how many layouts a click makes, and that the overview is
drawn again at its new width and still shows every span.
"""

from __future__ import annotations

import json
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from spanscope.analysis.critical_path import critical_path
from spanscope.assembly import build_trace
from spanscope.model import Span, SpanKind, StatusCode
from spanscope.viz.waterfall import CHUNK, details_block, render_waterfall

pytestmark = pytest.mark.browser

TRACE_ID = "0af7651916cd43dd8448eb211c80319c"
CHILDREN = 3000
MS = 1_000_000


def _batch_trace():
    """A batch root calling ``CHILDREN`` jobs one after another with a gap before each: the
    root is on the critical path in every gap, CHILDREN + 1 sections. Job 1,500 fails."""
    root = Span(TRACE_ID, "ffffffffffffffb1", "nightly replay", 0, (CHILDREN * 3 + 2) * MS)
    root.kind, root.service_name = SpanKind.INTERNAL, "batch"
    spans = [root]
    for k in range(CHILDREN):
        child = Span(
            TRACE_ID,
            f"{k + 1:016x}",
            "replay order",
            (k * 3 + 2) * MS,
            (k * 3 + 4) * MS,
            parent_span_id=root.span_id,
            kind=SpanKind.CLIENT,
            service_name="replayer" if k % 2 else "orders-service-with-a-long-name",
        )
        if k == CHILDREN // 2:
            child.status_code = StatusCode.ERROR
        spans.append(child)
    return build_trace(TRACE_ID, spans)


@pytest.fixture
def batch(page, tmp_path):
    trace = _batch_trace()
    path = tmp_path / "batch.html"
    path.write_text(render_waterfall([trace]), encoding="utf-8")
    page.open(path)
    return trace


_LINES = """() => {
  const row = document.querySelector('#rows .row[data-row="0"]');
  return Array.from(row.querySelectorAll('.cp')).map(c => {
    const box = c.getBoundingClientRect();
    return [+c.dataset.s, +c.dataset.e, box.left, box.right];
  });
}"""


def _root_sections(trace):
    return [
        (s.start_ns - trace.start_ns, s.end_ns - trace.start_ns)
        for s in critical_path(trace)
        if s.span_id == trace.root.span_id
    ]


def _check_lines(lines, sections, v0, v1):
    """Drawn lines are in order, a pixel or more apart, and each is a run of whole sections:
    every section seen in the view is inside one line, which starts and ends where sections
    do."""
    starts = {s for s, _ in sections}
    ends = {e for _, e in sections}
    for (_, _, _, right), (_, _, left, _) in pairwise(lines):
        assert left - right >= 0.99
    for s, e, _, _ in lines:
        assert s in starts and e in ends and s < e
    for s, e in sections:
        if e < v0 or s > v1:
            continue
        assert sum(1 for ls, le, _, _ in lines if ls <= s and e <= le) == 1, (s, e)


def test_a_row_draws_at_most_a_line_per_two_pixels_and_keeps_every_section(page, batch):
    sections = _root_sections(batch)
    assert len(sections) == CHILDREN + 1
    state = page.page.evaluate("window.spanscope.state()")
    lines = page.page.evaluate(_LINES)
    # 3,001 sections on ~860 px: before, 3,001 elements; sub-pixel gaps are one line now
    assert 0 < len(lines) <= state["width"] / 2
    _check_lines(lines, sections, state["v0"], state["v1"])
    # zoomed in, the gaps are wider than a pixel: one line per section again, where it is
    for _ in range(5):
        page.page.click("#zoom-in")
    state = page.page.evaluate("window.spanscope.state()")
    lines = page.page.evaluate(_LINES)
    scale = state["width"] / (state["v1"] - state["v0"])
    edge = 4 / scale  # lines are drawn up to 4 px past the axis' ends
    shown = [(s, e) for s, e in sections if e >= state["v0"] - edge and s <= state["v1"] + edge]
    assert len(shown) > 20 and len(lines) == len(shown)
    _check_lines(lines, sections, state["v0"], state["v1"])
    origin = page.page.evaluate("document.getElementById('ruler').getBoundingClientRect().left")
    for s, e, left, right in lines[1:-1]:
        assert abs(left - origin - (s - state["v0"]) * scale) <= 1.5
        assert abs(right - left - max(1, (e - s) * scale)) <= 1.5
    assert page.errors == []


_OVERVIEW = """() => {
  const canvas = document.getElementById('minimap-canvas'), box = document.getElementById('minimap');
  // read a copy: reading the page's canvas again and again makes Chromium warn
  const copy = document.createElement('canvas');
  copy.width = canvas.width; copy.height = canvas.height;
  const g = copy.getContext('2d', {willReadFrequently: true});
  g.drawImage(canvas, 0, 0);
  const img = g.getImageData(0, 0, canvas.width, canvas.height).data;
  const colours = new Set();
  let painted = 0;
  for (let k = 0; k < img.length; k += 4) {
    if (img[k + 3] === 0) continue;
    painted++;
    colours.add('#' + [img[k], img[k + 1], img[k + 2]].map(v => v.toString(16).padStart(2, '0')).join(''));
  }
  const error = getComputedStyle(document.documentElement).getPropertyValue('--error').trim();
  return {width: canvas.width, box: Math.round(box.clientWidth * devicePixelRatio),
          painted, colours: Array.from(colours), error,
          services: window.spanscope.data.colors};
}"""


def _overview_ok(page):
    # the overview is drawn again after the frame that shows the change
    page.page.evaluate(
        "new Promise(r => requestAnimationFrame(() => setTimeout(() => setTimeout(r))))"
    )
    seen = page.page.evaluate(_OVERVIEW)
    assert seen["width"] == seen["box"]
    # every span has a pixel: the root's full-width row, the jobs, the failed one in red
    assert seen["painted"] >= seen["width"]
    assert seen["error"].lower() in seen["colours"]
    assert set(seen["colours"]) <= {c.lower() for c in seen["services"]} | {seen["error"].lower()}
    return seen


def test_opening_details_lays_out_once_and_redraws_the_overview(page, batch):
    before = page.page.evaluate("document.getElementById('minimap-canvas').width")
    cdp = page.page.context.new_cdp_session(page.page)
    events: list[dict] = []
    done: list[bool] = []
    cdp.on("Tracing.dataCollected", lambda e: events.extend(e["value"]))
    cdp.on("Tracing.tracingComplete", lambda e: done.append(True))
    # the pointer is on the row first, so the hover it causes is laid out before the click
    target = "#rows .row[data-row='3'] .label"
    page.page.hover(target)
    page.page.evaluate("new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
    cdp.send(
        "Tracing.start",
        {
            "categories": "devtools.timeline,disabled-by-default-devtools.timeline.stack",
            "transferMode": "ReportEvents",
        },
    )
    page.page.click(target)
    page.page.wait_for_selector("#details:not([hidden])")
    cdp.send("Tracing.end")
    page.page.wait_for_function("true")
    while not done:
        page.page.wait_for_timeout(20)
    clicks = [
        e
        for e in events
        if e.get("name") == "EventDispatch"
        and e.get("ph") == "X"
        and e.get("args", {}).get("data", {}).get("type") == "click"
    ]
    assert len(clicks) == 1
    start, end = clicks[0]["ts"], clicks[0]["ts"] + clicks[0]["dur"]
    layouts = [e for e in events if e.get("name") == "Layout" and start <= e.get("ts", -1) <= end]
    # the panel narrows the time axis: one layout to measure it, none forced after the writes
    # (before, the overview read its width after them and focusing laid out again: three)
    assert len(layouts) <= 1, [json.dumps(e.get("args", {}))[:300] for e in layouts]
    title = page.page.locator("#details-title").inner_text()
    assert "replay order" in title
    after = _overview_ok(page)
    assert after["width"] < before
    # a click on another row while the panel is open lays out nothing new for the axis
    page.page.click("#rows .row[data-row='6'] .label")
    assert page.page.evaluate("window.spanscope.state().selected") == 6
    assert _overview_ok(page)["width"] == after["width"]
    page.shot("details-open-batch")
    page.page.click("#details-close")
    assert _overview_ok(page)["width"] == before
    assert page.errors == []


@given(
    st.lists(
        st.dictionaries(st.sampled_from("amrew"), st.text(max_size=12), max_size=3),
        max_size=9,
    ),
    st.lists(st.text(max_size=8), max_size=4),
    st.integers(min_value=1, max_value=4),
)
def test_the_details_block_is_one_json_value_whose_parts_can_be_cut_out(rows, strs, chunk):
    """Any text (astral characters take two UTF-16 units) keeps the offsets right."""
    details = {"v": 1, "keys": ["at", *strs], "strs": strs, "resources": [{"at": [1]}]}
    details["traces"] = [rows[:3], rows[3:]]
    text = details_block(details, chunk)
    tables, *parts = json.loads(text)
    assert [row for part in parts for row in part] == rows
    assert [len(part) for part in parts[:-1]] == [chunk] * (len(parts) - 1)
    assert {k: v for k, v in tables.items() if k not in ("at", "chunk")} == {
        k: v for k, v in details.items() if k != "traces"
    }
    units = text.encode("utf-16-le")  # JavaScript's string indexes

    def cut(a: int, b: int) -> str:
        return units[2 * a : 2 * b].decode("utf-16-le")

    assert text.startswith('[{"at":[')
    assert json.loads(cut(1, tables["at"][0] - 1)) == tables
    for k, part in enumerate(parts):
        assert json.loads(cut(tables["at"][k], tables["at"][k + 1] - 1)) == part


@pytest.mark.browser
def test_a_first_details_panel_parses_only_its_part_of_the_details(page, tmp_path):
    # Without idle time the warm-up never runs: what the click parses is all that is parsed.
    page.page.add_init_script("window.requestIdleCallback = undefined;")
    spans = _batch_trace()
    path = tmp_path / "batch.html"
    path.write_text(render_waterfall([spans]), encoding="utf-8")
    page.open(path)
    assert page.page.evaluate("window.spanscope.state().detailBlocks") == [0, -1]
    page.page.click("#rows .row[data-row='3'] .label")
    parsed, blocks = page.page.evaluate("window.spanscope.state().detailBlocks")
    assert (parsed, blocks) == (1, -(-(CHILDREN + 1) // CHUNK))
    assert "replay order" in page.page.locator("#details-title").inner_text()
    assert "ffffffffffffffb1" in page.page.locator("#details-body").inner_text()  # its parent
    # a search needs every span's text: then every part is parsed, and finds the last span
    page.page.fill("#search", f"{CHILDREN:016x}")
    page.page.press("#search", "Enter")
    assert page.page.evaluate("window.spanscope.state().detailBlocks") == [blocks, blocks]
    assert page.page.evaluate("window.spanscope.state().matches") == 1
    assert page.errors == []
