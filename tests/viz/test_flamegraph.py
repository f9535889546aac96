"""Flame graph SVGs: valid XML, correct geometry, render and zoom in Chromium."""

from __future__ import annotations

import base64
import itertools
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spanscope.analysis.critical_path import critical_path
from spanscope.analysis.errors import is_error_span
from spanscope.analysis.profile import ProfileCollector, build_profile, folded_stacks
from spanscope.assembly import assemble
from spanscope.model import Span, Trace
from spanscope.synthetic import generate_spans
from spanscope.viz.flamegraph import (
    PAD,
    WIDTH,
    _pack,
    render_aggregate_flamegraph,
    render_flamegraph,
)
from tests.viz.conftest import fixture_traces

SVG = "{http://www.w3.org/2000/svg}"
SMARTTHINGS = "zipkin/zipkin-lens__testdata__smartthings-oauth-authorization.json"
KAFKA = "zipkin/zipkin-lens__testdata__messaging-kafka.json"


def _frames(svg: str):
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    return root, [g for g in root.iter(f"{SVG}g") if "f" in g.get("class", "").split()]


def _boxes(frames):
    for g in frames:
        rect = g.find(f"{SVG}rect")
        yield g, float(rect.get("x")), float(rect.get("width")), float(rect.get("y"))


def test_one_trace_boxes_are_spans_without_overlap_and_mark_the_critical_path():
    (trace,) = fixture_traces(SMARTTHINGS)
    _root, frames = _frames(render_flamegraph(trace))
    assert len(frames) == len(trace.spans)
    inner = WIDTH - 2 * PAD
    scale = inner / trace.duration_ns
    by_row: dict[float, list[tuple[float, float]]] = {}
    for g, x, width, y in _boxes(frames):
        x0, x1 = int(g.get("data-x0")), int(g.get("data-x1"))
        assert x == pytest.approx(PAD + x0 * scale, abs=0.01)
        assert width == pytest.approx((x1 - x0) * scale, abs=0.01)
        by_row.setdefault(y, []).append((x0, x1))
    for boxes in by_row.values():  # packed: nothing hides anything in the same row
        boxes.sort()
        for (_a0, a1), (b0, _b1) in itertools.pairwise(boxes):
            assert a1 <= b0
    marked = sorted(
        (int(rect.get("data-x0")), int(rect.get("data-x1")))
        for g in frames
        for rect in g.findall(f"{SVG}rect")
        if rect.get("class") == "cp"
    )
    origin = trace.start_ns
    assert marked == sorted((s.start_ns - origin, s.end_ns - origin) for s in critical_path(trace))
    errors = sum(1 for g in frames if "err" in g.get("class"))
    assert errors == sum(is_error_span(s) for s in trace.spans) > 0


def test_children_sit_below_their_parent():
    (trace,) = fixture_traces(KAFKA)
    _root, frames = _frames(render_flamegraph(trace))
    y_of = {}
    for g, _x, _w, y in _boxes(frames):
        y_of[(int(g.get("data-x0")), int(g.get("data-x1")), g.get("data-name"))] = y
    origin, end = trace.start_ns, trace.end_ns

    def key(span):
        return (span.start_ns - origin, max(span.end_ns or end, span.start_ns) - origin, span.name)

    for span in trace.spans:
        parent = trace.parent_of(span)
        if parent is not None:
            assert y_of[key(span)] > y_of[key(parent)]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 1000), st.integers(0, 500), st.integers(0, 30)),
        min_size=1,
        max_size=30,
    )
)
def test_packing_never_overlaps(items):
    """Any tree, any overlap: boxes in one row never overlap and children are below parents."""
    spans = [Span("a" * 32, f"{1:016x}", "root", 0, 2000)]
    for index, (start, length, parent) in enumerate(items, start=2):
        parent_id = f"{min(parent, index - 1) or 1:016x}"
        spans.append(Span("a" * 32, f"{index:016x}", f"s{index}", start, start + length, parent_id))
    (trace,) = assemble(spans)
    _root, frames = _frames(render_flamegraph(trace))
    rows: dict[float, list[tuple[int, int]]] = {}
    for g, _x, _w, y in _boxes(frames):
        rows.setdefault(y, []).append((int(g.get("data-x0")), int(g.get("data-x1"))))
    for boxes in rows.values():
        boxes.sort()
        for (_a0, a1), (b0, _b1) in itertools.pairwise(boxes):
            assert a1 <= b0


def _error_stacks(traces):
    profiles = ProfileCollector()
    for trace in traces:
        profiles.add(trace)
    return profiles.error_stacks(traces)


def test_aggregate_widths_match_the_profile():
    traces = assemble(generate_spans(150, seed=5))
    endpoint = ("frontend", "POST /api/checkout")
    stacks = folded_stacks(build_profile(traces), endpoint=endpoint)
    svg = render_aggregate_flamegraph(stacks, error_stacks=_error_stacks(traces))
    _root, frames = _frames(svg)
    total = sum(value for _stack, value in stacks)
    inner = WIDTH - 2 * PAD
    prefix_total: dict[tuple[str, ...], int] = {}
    for stack, value in stacks:
        parts = tuple(stack.split(";"))
        for depth in range(1, len(parts) + 1):
            prefix_total[parts[:depth]] = prefix_total.get(parts[:depth], 0) + value
    assert len(frames) == len(prefix_total)
    widest = max(prefix_total.items(), key=lambda item: (len(item[0]) > 1, item[1]))
    names_seen = set()
    for g, _x, width, _y in _boxes(frames):
        value = int(g.get("data-x1")) - int(g.get("data-x0"))
        assert width == pytest.approx(value / total * inner, abs=0.02)
        names_seen.add((g.get("data-name"), value))
    # every prefix's critical-path time appears as exactly one box of that width
    assert sorted(names_seen) == sorted((p[-1], v) for p, v in prefix_total.items())
    assert widest[1] > 0
    # payment fails in the shop: its frames are marked
    assert any("err" in g.get("class") and "payment" in g.get("data-name") for g in frames)


def _trace_and_aggregate_svgs(tmp_path: Path) -> tuple[Path, Path]:
    """A trace's flame graph (smartthings) and an aggregated one (150 shop traces, with error
    marks), written as files."""
    (trace,) = fixture_traces(SMARTTHINGS)
    one = tmp_path / "one.svg"
    one.write_text(render_flamegraph(trace), encoding="utf-8")
    traces = assemble(generate_spans(150, seed=5))
    agg = tmp_path / "agg.svg"
    agg.write_text(
        render_aggregate_flamegraph(
            folded_stacks(build_profile(traces)), error_stacks=_error_stacks(traces)
        ),
        encoding="utf-8",
    )
    return one, agg


@pytest.mark.browser
def test_flamegraphs_render_zoom_and_work_as_images(page, tmp_path):
    one, agg = _trace_and_aggregate_svgs(tmp_path)
    for path in (one, agg):
        page.open(path, "svg[data-ready='1']")
        assert page.page.locator("g.f").count() > 0
        page.shot(f"flamegraph-{path.stem}")
        # click a narrow frame: it fills the width, reset restores
        frame = page.page.locator("g.f").nth(6)
        frame.click()
        rect = frame.locator("rect").first
        # opened directly, the graph takes the window's width (1400 px here)
        inner = float(page.page.locator("svg").first.get_attribute("data-width"))
        assert inner == 1400 - 2 * PAD
        assert float(rect.get_attribute("width")) == pytest.approx(inner, abs=0.1)
        assert page.page.locator("#reset").get_attribute("visibility") == "visible"
        frame.hover()
        assert frame.get_attribute("data-name") in page.page.locator("#details").text_content()
        page.shot(f"flamegraph-{path.stem}-zoomed")
        page.page.locator("#reset").click()
        assert float(rect.get_attribute("width")) < inner

    # as a plain image: the browser decodes it (no script needed)
    html = tmp_path / "img.html"
    html.write_text(f'<img id="a" src="{one.name}"><img id="b" src="{agg.name}">', encoding="utf-8")
    page.page.goto(html.as_uri())
    page.page.wait_for_load_state("load")
    sizes = page.page.evaluate(
        "[...document.images].map(i => [i.complete, i.naturalWidth, i.naturalHeight])"
    )
    assert all(done and w == WIDTH and h > 80 for done, w, h in sizes)
    assert page.errors == []


def _chain_and_fan(depth: int, fan: int) -> Trace:
    """A root with a chain ``depth`` calls deep, then ``fan`` calls all running at once."""
    spans = [Span("b" * 32, f"{1:016x}", "root", 0, 10 * (depth + fan))]
    for level in range(1, depth):
        spans.append(Span("b" * 32, f"{level + 1:016x}", "deep", level, 2 * depth - level,
                          f"{level:016x}"))  # fmt: skip
    for index in range(fan):
        spans.append(Span("b" * 32, f"{depth + index + 1:016x}", "fan", 2 * depth + index,
                          10 * (depth + fan), f"{1:016x}"))  # fmt: skip
    (trace,) = assemble(spans)
    return trace


def test_deep_and_wide_traces_pack_row_per_level_and_row_per_parallel_call():
    """20,000 nested calls and 20,000 parallel ones (a row-by-row packing took minutes on
    these): the chain takes one row per level, each parallel call a row of its own below the
    chain's top level, which is free again when they start."""
    depth, fan = 20_000, 20_000
    trace = _chain_and_fan(depth, fan)
    rows = _pack(trace, trace.end_ns)
    assert rows[f"{1:016x}"] == 0
    assert [rows[f"{level + 1:016x}"] for level in range(1, depth)] == list(range(1, depth))
    fan_rows = sorted(rows[f"{depth + index + 1:016x}"] for index in range(fan))
    assert fan_rows == list(range(1, fan + 1))  # the chain ended before the first one starts


def test_first_fit_reuses_rows_freed_before_a_block_starts():
    """Two calls at once (one with a child) take rows 1 and 2-3; a later call with a child
    fits in rows 1-2, free again when it starts, rather than below them."""
    spans = [
        Span("c" * 32, f"{1:016x}", "root", 0, 100),
        Span("c" * 32, f"{2:016x}", "a", 0, 10, f"{1:016x}"),
        Span("c" * 32, f"{3:016x}", "b", 0, 10, f"{1:016x}"),
        Span("c" * 32, f"{4:016x}", "b-child", 1, 9, f"{3:016x}"),
        Span("c" * 32, f"{5:016x}", "c", 20, 30, f"{1:016x}"),
        Span("c" * 32, f"{6:016x}", "c-child", 21, 29, f"{5:016x}"),
    ]
    (trace,) = assemble(spans)
    rows = _pack(trace, trace.end_ns)
    assert [rows[f"{index:016x}"] for index in range(1, 7)] == [0, 1, 2, 3, 1, 2]


def _rgb(css: str) -> tuple[int, ...]:
    return tuple(int(float(v)) for v in css[css.index("(") + 1 : css.index(")")].split(",")[:3])


def _contrast(a, b) -> float:
    def lum(rgb):
        c = [v / 255 for v in rgb]
        c = [v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4 for v in c]
        return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2]

    high, low = sorted((lum(a), lum(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


# The colour of the image's top-left pixel, read back through a canvas from a screenshot (a
# file:// image would taint the canvas; a data: PNG does not).
_PIXEL = """async (png) => {
  const img = new Image(); img.src = "data:image/png;base64," + png; await img.decode();
  const c = document.createElement("canvas"); c.width = img.width; c.height = img.height;
  const g = c.getContext("2d"); g.drawImage(img, 0, 0);
  return Array.from(g.getImageData(3, 3, 1, 1).data.slice(0, 3));
}"""


@pytest.mark.browser
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_flamegraphs_follow_the_browser_colour_scheme_opened_and_as_images(page, tmp_path, scheme):
    one, agg = _trace_and_aggregate_svgs(tmp_path)
    page.page.emulate_media(color_scheme=scheme)
    expected_bg = (18, 21, 27) if scheme == "dark" else (255, 255, 255)
    for path in (one, agg):
        page.open(path, "svg[data-ready='1']")
        colours = page.page.evaluate(
            "[...document.querySelectorAll('rect.bg, text.title, text.sub, text.legend')]"
            ".map(e => [e.getAttribute('class'), getComputedStyle(e).fill])"
        )
        bg = _rgb(colours[0][1])
        assert colours[0][0] == "bg" and bg == expected_bg
        for cls, fill in colours[1:]:
            assert _contrast(_rgb(fill), bg) >= 4.5, (scheme, path.name, cls, fill)
        # the critical-path key of a trace's graph is seen on the background too
        if path is one:
            key = page.page.locator("rect.cp-key")
            core, edge = key.evaluate("e => [getComputedStyle(e).fill, getComputedStyle(e).stroke]")
            assert max(_contrast(_rgb(core), bg), _contrast(_rgb(edge), bg)) >= 3
        page.shot(f"flamegraph-{path.stem}-{scheme}")

    # as an image the browser still decodes it, and draws it in the same scheme
    html = tmp_path / "img.html"
    html.write_text(f'<img id="a" src="{one.name}"><img id="b" src="{agg.name}">', encoding="utf-8")
    page.page.goto(html.as_uri())
    page.page.wait_for_load_state("load")
    for name in ("a", "b"):
        image = page.page.locator(f"#{name}")
        assert image.evaluate("i => i.complete && i.naturalWidth") == WIDTH
        png = base64.b64encode(image.screenshot()).decode("ascii")
        assert tuple(page.page.evaluate(_PIXEL, png)) == expected_bg
    assert page.errors == []


def test_the_slowest_requests_graph_says_how_many_and_marks_only_their_errors():
    from spanscope.model import StatusCode
    from spanscope.viz.flamegraph import traces_flamegraph
    from tests.analysis.builders import build, span

    def request(n: int, ms: float, failed: bool) -> object:
        error = {"status_code": StatusCode.ERROR} if failed else {}
        t = f"{n + 1:x}"
        return build(
            span(f"r{t}", None, 0, ms + 2, service="web", operation="GET /", trace=t),
            span(f"q{t}", f"r{t}", 1, ms + 1, service="db", operation="SELECT", trace=t, **error),
        )

    # 57 fast requests, some failing in the database; the 3 slowest never fail.
    traces = [request(n, 5, failed=n % 10 == 0) for n in range(57)]
    traces += [request(57 + n, 500, failed=False) for n in range(3)]
    every, _, used_all = traces_flamegraph(traces)
    slowest, _, used_slow = traces_flamegraph(traces, slow=True)
    assert (used_all, used_slow) == (60, 3)
    assert "60 traces" in every and 'class="f err"' in every
    assert "the slowest 5% of each endpoint's requests: 3 of 60" in slowest
    assert 'class="f err"' not in slowest
