"""Every third-party trace fixture becomes pages and images that render without errors.

Files that are not traces or are broken on purpose are skipped: whatever ``read_spans`` refuses
with an ``InputError`` (the format tests check those messages)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from spanscope.assembly import assemble
from spanscope.errors import InputError
from spanscope.formats import read_spans
from spanscope.viz.flamegraph import render_flamegraph
from spanscope.viz.servicemap import render_servicemap_html, render_servicemap_svg
from spanscope.viz.waterfall import render_waterfall
from tests.viz.conftest import FIXTURES, Page

pytestmark = pytest.mark.browser


def _trace_files() -> list[Path]:
    found = []
    for path in sorted(FIXTURES.rglob("*")):
        if not path.is_file() or path.suffix == ".md":
            continue
        try:
            for _span in read_spans(path):
                pass
        except InputError:
            continue
        except Exception:  # a reader bug: keep the file so its test fails with the traceback
            pass
        found.append(path)
    return found


TRACE_FILES = _trace_files()


def test_there_are_fixtures_to_draw():
    assert len(TRACE_FILES) >= 60


@pytest.fixture(scope="module")
def shared_page(browser):
    """One page for the whole module: these tests only load files, so they can share it."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.route("http://**/*", lambda route: route.abort())
    context.route("https://**/*", lambda route: route.abort())
    yield Page(context.new_page())
    context.close()


@pytest.mark.parametrize(
    "path", TRACE_FILES, ids=[str(p.relative_to(FIXTURES)) for p in TRACE_FILES]
)
def test_fixture_pages_render(shared_page, tmp_path, path):
    page = shared_page
    page.errors.clear()
    traces = [t for t in assemble(read_spans(path)) if t.spans]
    assert traces
    waterfall = tmp_path / "waterfall.html"
    waterfall.write_text(render_waterfall(traces), encoding="utf-8")
    page.open(waterfall)
    if len(traces) == 1:
        state = page.page.evaluate("window.spanscope.state()")
        assert state["n"] == state["visible"] == len(traces[0].spans)
    else:
        assert page.page.locator("#trace-table tbody tr").count() == len(traces)
        page.page.locator("#trace-table tbody tr").first.click()
        page.page.wait_for_selector("#trace-view:not([hidden])")
    page.page.locator("#rows .row").first.click()  # details of the first span
    assert page.page.locator("#details").is_visible()

    servicemap = tmp_path / "map.html"
    servicemap.write_text(render_servicemap_html(traces), encoding="utf-8")
    page.open(servicemap)
    assert page.errors == []


def test_fixture_images_render(shared_page, tmp_path):
    """Flame graphs of every fixture trace and a service map per fixture: well-formed XML, and
    Chromium decodes each as an image."""
    page = shared_page
    page.errors.clear()
    images = []
    for number, path in enumerate(TRACE_FILES):
        traces = [t for t in assemble(read_spans(path)) if t.spans]
        svgs = [render_flamegraph(trace) for trace in traces]
        svgs.append(render_servicemap_svg(traces))
        for index, svg in enumerate(svgs):
            ET.fromstring(svg)  # well-formed XML
            target = tmp_path / f"{number}-{index}.svg"
            target.write_text(svg, encoding="utf-8")
            images.append(target)
    gallery = tmp_path / "images.html"
    gallery.write_text("".join(f'<img src="{p.name}">' for p in images), encoding="utf-8")
    page.page.goto(gallery.as_uri())
    page.page.wait_for_load_state("load")
    decoded = page.page.evaluate("[...document.images].map(i => i.complete && i.naturalWidth)")
    assert len(decoded) == len(images) and all(decoded)
    assert page.errors == []
