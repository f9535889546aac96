"""The service map: layout invariants, SVG content against the analysis, the HTML page."""

from __future__ import annotations

import random
import xml.etree.ElementTree as ET

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spanscope.analysis.dependencies import dependencies
from spanscope.assembly import assemble
from spanscope.synthetic import generate_spans
from spanscope.viz.layout import NODE_HEIGHT, layered_layout
from spanscope.viz.servicemap import render_servicemap_html, render_servicemap_svg
from tests.viz.conftest import fixture_traces

SVG = "{http://www.w3.org/2000/svg}"
KAFKA = "zipkin/zipkin-lens__testdata__messaging-kafka.json"


def _check_layout(nodes, edges, widths):
    layout = layered_layout(nodes, edges, widths)
    assert set(layout.positions) == set(nodes) | {n for e in edges for n in e}
    # boxes never overlap
    boxes = [
        (
            x - widths.get(n, 0) / 2,
            y - NODE_HEIGHT / 2,
            x + widths.get(n, 0) / 2,
            y + NODE_HEIGHT / 2,
        )
        for n, (x, y) in layout.positions.items()
    ]
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1]
        assert a[0] >= 0 and a[1] >= 0 and a[2] <= layout.width and a[3] <= layout.height
    # every edge but self-loops has a path from its source's right to its target's left;
    # edges that are not reversed to break a cycle run left to right
    for a, b in set(edges):
        if a == b:
            continue
        points = layout.paths[(a, b)]
        assert points[0][1] == pytest.approx(layout.positions[a][1])
        assert points[-1][1] == pytest.approx(layout.positions[b][1])
        if (a, b) not in layout.reversed_edges:
            assert points[-1][0] > points[0][0]
    # deterministic: shuffled input, same picture
    shuffled = list(edges)
    random.Random(1).shuffle(shuffled)
    again = layered_layout(list(reversed(nodes)), shuffled, widths)
    assert again.positions == layout.positions and again.paths == layout.paths
    return layout


@settings(max_examples=80, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 14), st.integers(0, 14)), max_size=40),
    st.integers(1, 15),
)
def test_layout_invariants_on_any_graph(edges, count):
    nodes = [f"svc-{i}" for i in range(count)]
    named = [(f"svc-{a}", f"svc-{b}") for a, b in edges]
    widths = {n: 80.0 + 7 * len(n) for n in nodes + [x for e in named for x in e]}
    _check_layout(nodes, named, widths)


def test_layout_of_a_hundred_services_stays_readable():
    rng = random.Random(7)
    nodes = [f"service-{i:03d}" for i in range(100)]
    edges = set()
    for i in range(1, 100):  # a call tree, plus shared back ends and a few cycles
        edges.add((nodes[rng.randrange(max(0, i - 12), i)], nodes[i]))
    for _ in range(40):
        a, b = rng.sample(range(100), 2)
        edges.add((nodes[min(a, b)], nodes[max(a, b)]))
    edges |= {(nodes[60], nodes[10]), (nodes[99], nodes[98])}
    widths = {n: 150.0 for n in nodes}
    layout = _check_layout(nodes, sorted(edges), widths)
    assert len(layout.layers) <= 30
    assert layout.crossings < len(edges) * 4


def test_svg_shows_every_service_and_dependency_from_the_analysis():
    traces = assemble(generate_spans(200, seed=3))
    svg = render_servicemap_svg(traces)
    root = ET.fromstring(svg)
    nodes = {
        g.get("data-name") for g in root.iter(f"{SVG}g") if "node" in g.get("class", "").split()
    }
    drawn = {
        (g.get("data-from"), g.get("data-to")): (
            int(g.get("data-calls")),
            int(g.get("data-errors")),
        )
        for g in root.iter(f"{SVG}g")
        if "edge" in g.get("class", "").split()
    }
    edges = dependencies(traces)
    assert drawn == {(e.parent, e.child): (e.call_count, e.error_count) for e in edges}
    assert {s.service_name for t in traces for s in t.spans} <= nodes
    assert nodes == {s.service_name for t in traces for s in t.spans} | {
        n for e in edges for n in (e.parent, e.child)
    }
    # error-heavy edges stand out: red-ish and drawn last (on top)
    failing = [g for g in root.iter(f"{SVG}g") if g.get("class", "").split() == ["edge", "err"]]
    assert failing
    for g in failing:
        stroke = g.find(f"{SVG}path").get("stroke")
        assert stroke != "#8a94a3"


@pytest.mark.browser
def test_servicemap_page_and_svg_render_with_hover(page, tmp_path):
    traces = assemble(generate_spans(200, seed=3))
    html = tmp_path / "map.html"
    html.write_text(render_servicemap_html(traces), encoding="utf-8")
    page.open(html)
    edges = dependencies(traces)
    assert page.page.locator("#map g.edge").count() == len(edges)
    assert page.page.locator("#edges tbody tr").count() == len(edges)
    page.page.locator("#map g.node[data-name='checkout']").hover()
    lit = page.page.locator("#map g.edge.on").count()
    assert lit == sum(1 for e in edges if "checkout" in (e.parent, e.child))
    assert page.page.locator("#tip").is_visible()
    assert "checkout" in page.page.locator("#tip").inner_text()
    page.shot("servicemap-hover", full_page=True)
    # the table sorts by a click on its header
    page.page.click("#edges th[data-k='2']")
    calls = [
        int(v.replace(",", ""))
        for v in page.page.locator("#edges tbody td:nth-child(3)").all_inner_texts()
    ]
    assert calls == sorted(calls, reverse=True)
    assert page.errors == []

    (kafka,) = fixture_traces(KAFKA)
    svg = tmp_path / "kafka.svg"
    svg.write_text(render_servicemap_svg([kafka]), encoding="utf-8")
    page.page.goto(svg.as_uri())
    page.page.wait_for_selector("svg.servicemap")
    assert page.page.locator("g.node").count() >= 2
    page.shot("servicemap-kafka")
    assert page.errors == []
