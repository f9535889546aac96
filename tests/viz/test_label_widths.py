"""Labels in the flame graph boxes and on the service map, as headless Chromium draws them.

Labels used to be cut by a guessed advance per character (6.6 px in the boxes, 7.9 px for the
map's bold names, 6.0 px for its edge labels): wide names ("WWW", capitals, "—") ran out of
their box and narrow ones ("iiil", "/", ".") were cut with room to spare. Now the images are
written with ``spanscope.viz.textwidth`` and the flame graph's script fits labels again with
the browser's font when it zooms or takes the window's width. For names made to be hard (wide,
narrow, long, mixed scripts), each label's ``getBBox()`` must lie inside its box (less the
padding the image keeps), and a cut label must keep all but at most one of the characters
that fit: how many fit is measured here by the same SVG text, ``getComputedTextLength()``.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

from spanscope.assembly import build_trace
from spanscope.model import Span, SpanKind, StatusCode, Trace
from spanscope.viz.flamegraph import (
    LABEL_PAD,
    TITLE_GAP,
    render_aggregate_flamegraph,
    render_flamegraph,
)
from spanscope.viz.servicemap import (
    NODE_LEFT,
    NODE_RIGHT,
    render_servicemap_html,
    render_servicemap_svg,
)
from spanscope.viz.textwidth import ELLIPSIS

WIDE = ["WWWWWWWWWWWWWWWWWWWWWWWW", "MMMM—MMMM—MMMM—MMMM", "ÆŒÆŒ-GATEWAY-ŒÆŒÆ", "@@@%%%@@@%%%"]
NARROW = [
    "iiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiil",
    "/./././././././././././.",
    "ll.jj.ff.tt.rr.ii.ll",
]
LONG = [
    "checkout-service-with-an-extremely-long-name-from-a-helm-release-production-eu-west-1",
    "GET /api/v1/users/{id}/orders/{order_id}/items?expand=all&page=2&size=100",
]
MIXED = [
    "Ελληνική-υπηρεσία-πληρωμών",
    "служба-доставки-заказов",
    "日本語の注文サービス",
    "注文-order-주문-처리",
    "deploy-🚀-rollout",
    "café-crème-ÆØÅ-ŒŠŽ",
    "e\u0301-combining-marks",
    "AVAVAVAV To Ty Te Yo",  # pairs that kern
    "Dịch-vụ-thanh-toán-Ổn-định",
    "Հայերեն-ծառայություն",
    "שירות-תשלומים-ראשי",
    "≥∑⌘①■★✓№-symbols",
]
NAMES = WIDE + NARROW + LONG + MIXED
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
# Box widths in px (the trace lasts as many ns as the graph has px): from too narrow for
# anything to wide enough for every name.
BOXES = [4, 9, 14, 20, 28, 38, 50, 66, 86, 110, 140, 180, 230]


def _flame_trace() -> Trace:
    """A root over the whole graph; under it, for each name, a span holding one child per box
    width, one after another (the name spans overlap in time, so each gets its own rows)."""
    total = 1180  # the graph's inner width: one ns per px
    root = Span(TRACE_ID, "f" * 16, NAMES[0], 0, total)
    root.kind, root.service_name = SpanKind.SERVER, "frontend"
    spans = [root]
    for k, name in enumerate(NAMES):
        holder = Span(TRACE_ID, f"{k + 1:08x}{0:08x}", name, 0, sum(BOXES), root.span_id)
        holder.service_name = f"svc-{k % 5}"
        spans.append(holder)
        start = 0
        for j, width in enumerate(BOXES):
            child = Span(
                TRACE_ID, f"{k + 1:08x}{j + 1:08x}", name, start, start + width, holder.span_id
            )
            child.service_name = f"svc-{(k + j) % 5}"
            spans.append(child)
            start += width
    return build_trace(TRACE_ID, spans)


# For each label under ``selector``: its box (the group's first rect), its text's box and
# advance, and how many code points of the whole name fit in the box less the padding with an
# ellipsis, measured by a copy of the text element (same class and place, so the same font),
# with or without kerning.
_LABELS = """([selector, textSelector, nameAttr, left, right, kerning]) => {
  const out = [];
  for (const g of document.querySelectorAll(selector)) {
    if (g.style.display === 'none') continue;
    const rect = g.querySelector('rect'), text = g.querySelector(textSelector);
    const box = rect.getBBox(), tb = text.getBBox();
    const name = nameAttr ? g.getAttribute(nameAttr) : text.textContent;
    const room = box.width - left - right;
    const probe = text.cloneNode(false);
    probe.style.fontKerning = kerning ? 'auto' : 'none';
    text.parentNode.appendChild(probe);
    const width = s => { probe.textContent = s; return probe.getComputedTextLength(); };
    const chars = Array.from(name);
    let fit = chars.length;
    if (width(name) > room) {
      fit = 0;
      while (fit < chars.length && width(chars.slice(0, fit + 1).join('') + '\\u2026') <= room) fit++;
    }
    probe.remove();
    const start = +text.getAttribute('x');
    out.push({name: name, label: text.textContent, fit: fit, room: room,
              boxLeft: box.x, boxRight: box.x + box.width, boxTop: box.y, boxBottom: box.y + box.height,
              left: tb.x, right: tb.x + tb.width, top: tb.y, bottom: tb.y + tb.height,
              start: start, end: start + text.getComputedTextLength()});
  }
  return out;
}"""


def _check_labels(labels: list[dict], left: float, right: float) -> None:
    assert labels
    for item in labels:
        label, name = item["label"], item["name"]
        where = (label, name, {k: round(v, 3) for k, v in item.items() if isinstance(v, float)})
        if label:
            # the text's box inside the box (it holds the glyphs' ink: a bold "%" reaches 0.4 px
            # past its advance)...
            assert item["left"] >= item["boxLeft"] and item["right"] <= item["boxRight"], where
            assert item["top"] >= item["boxTop"] and item["bottom"] <= item["boxBottom"], where
            # ...and its advance inside the padding (0.02 px: coordinates are written rounded)
            assert item["start"] >= item["boxLeft"] + left - 0.02, where
            assert item["end"] <= item["boxRight"] - right + 0.02, where
        if label == name:
            continue
        kept = len(label[: -len(ELLIPSIS)]) if label.endswith(ELLIPSIS) else 0
        assert not label or name.startswith(label[:-1]), where
        # a cut label keeps all but at most one of the characters that fit ("" if one fits);
        # rstrip: a cut that ends in a space drops the space
        assert kept >= len(name[: item["fit"]].rstrip()) - 1, where


def _static(svg: str) -> str:
    """The image as an <img> shows it: without its script, the labels as written."""
    return re.sub(r"<script>.*?</script>", "", svg, flags=re.S)


def _stacks() -> list[tuple[str, int]]:
    """Folded stacks for the many-trace flame graph: each name as a service and as an
    operation, under a root, with shares that give boxes from a few px to most of the width."""
    stacks = [("frontend:GET /", 400)]
    for k, name in enumerate(NAMES):
        stacks.append((f"frontend:GET /;{name}:{NAMES[-1 - k]}", 2 + 9 * k))
        stacks.append((f"frontend:GET /;{name}:{NAMES[-1 - k]};svc:{name}", 1 + k))
    return stacks


@pytest.mark.browser
@pytest.mark.parametrize("kind", ["trace", "aggregate"])
def test_flame_graph_box_labels_as_written_fit_their_boxes(page, tmp_path, kind):
    graph = (
        render_flamegraph(_flame_trace())
        if kind == "trace"
        else render_aggregate_flamegraph(_stacks())
    )
    path = tmp_path / f"hostile-{kind}.svg"
    path.write_text(_static(graph), encoding="utf-8")
    page.open(path, "svg")
    # what fits is measured without kerning: the file is cut by a sum of advances (kerning
    # only narrows a word), so a name dense in kerning pairs ("AVAV") may lose one more
    # character there; the script, which measures with kerning, gets it exact
    labels = page.page.evaluate(_LABELS, ["g.f", "text", "data-name", LABEL_PAD, LABEL_PAD, False])
    if kind == "trace":
        assert len(labels) == 1 + len(NAMES) * (1 + len(BOXES))
    _check_labels(labels, LABEL_PAD, LABEL_PAD)
    # whole labels and cut ones (the many-trace graph's 21 names share one row: most are cut)
    least = len(NAMES) if kind == "trace" else 1
    assert sum(item["label"] == item["name"] for item in labels) >= least
    assert sum(item["label"].endswith(ELLIPSIS) for item in labels) >= least
    page.shot(f"flamegraph-hostile-labels-{kind}")
    assert page.errors == []


@pytest.mark.browser
@pytest.mark.parametrize("window", [900, 1600])
def test_flame_graph_box_labels_fitted_by_the_script_fit_their_boxes(page, tmp_path, window):
    """Opened directly, the graph takes the window's width and its script fits every label
    again, with the browser's font; and again after a click zooms to a box."""
    path = tmp_path / "hostile.svg"
    path.write_text(render_flamegraph(_flame_trace()), encoding="utf-8")
    page.page.set_viewport_size({"width": window, "height": 900})
    page.open(path, "svg[data-ready='1']")
    assert page.page.evaluate("document.documentElement.getAttribute('width')") == str(window)
    args = ["g.f", "text", "data-name", LABEL_PAD, LABEL_PAD, True]
    _check_labels(page.page.evaluate(_LABELS, args), LABEL_PAD, LABEL_PAD)
    # zoom to the box of a long name holding boxes of every width: now twice as wide or more
    page.page.locator(f"g.f[data-name='{LONG[0]}']").first.click()
    zoomed = page.page.evaluate(_LABELS, args)
    assert any(item["name"] == LONG[0] and item["label"] == LONG[0] for item in zoomed)
    _check_labels(zoomed, LABEL_PAD, LABEL_PAD)
    page.shot(f"flamegraph-hostile-labels-zoomed-{window}")
    assert page.errors == []


def _map_traces() -> list[Trace]:
    """The names as services in a call tree (each calls up to three others, so the fanned-out
    edges' labels compete for room); every third call fails (bold edge labels)."""
    traces = []
    names = [*NAMES, "x"]  # and one short name: its node is as narrow as nodes get
    for k, callee in enumerate(names[1:]):
        caller = names[k // 3]
        trace_id = f"{k + 1:032x}"
        parent = Span(trace_id, f"{k + 1:08x}{1:08x}", "call", 0, 5_000_000)
        parent.kind, parent.service_name = SpanKind.CLIENT, caller
        child = Span(trace_id, f"{k + 1:08x}{2:08x}", "serve", 100, 4_000_000, parent.span_id)
        child.kind, child.service_name = SpanKind.SERVER, callee
        if k % 3 == 0:
            child.status_code = StatusCode.ERROR
        traces.append(build_trace(trace_id, [parent, child]))
    return traces


# Every edge label, node and colour-key entry of the map under ``scope``, in page coordinates.
_MAP_BOXES = """(scope) => {
  const r = e => { const b = e.getBoundingClientRect(); return {left: b.left, right: b.right, top: b.top, bottom: b.bottom}; };
  const all = selector => Array.from(document.querySelectorAll(scope + ' ' + selector));
  return {
    image: r(document.querySelector(scope)),
    labels: all('text.elabel').map(t => Object.assign(r(t), {text: t.textContent})),
    nodes: all('g.node > rect:first-of-type').map(r),
    keys: all('g.ekey').map(r),
  };
}"""


def _apart(a: dict, b: dict) -> bool:
    return (
        a["right"] <= b["left"] + 0.01
        or b["right"] <= a["left"] + 0.01
        or a["bottom"] <= b["top"] + 0.01
        or b["bottom"] <= a["top"] + 0.01
    )


@pytest.mark.browser
@pytest.mark.parametrize("kind", ["svg", "html"])
def test_service_map_names_and_edge_labels_fit(page, tmp_path, kind):
    """The map as an image and inside its page (whose own styles must not change its text)."""
    render = render_servicemap_svg if kind == "svg" else render_servicemap_html
    path = tmp_path / f"hostile-map.{kind}"
    path.write_text(render(_map_traces()), encoding="utf-8")
    page.page.set_viewport_size({"width": 1400, "height": 900})
    page.open(path, "svg.servicemap" if kind == "svg" else "[data-ready='1']")
    scope = "svg.servicemap"
    # node names (bold) and the line under them, each inside its node less the margins
    node = [f"{scope} g.node", "text.nname", "data-name", NODE_LEFT, NODE_RIGHT, False]
    names = page.page.evaluate(_LABELS, node)
    assert len(names) == len(NAMES) + 1
    _check_labels(names, NODE_LEFT, NODE_RIGHT)
    assert any(item["label"] != item["name"] for item in names)  # LONG[0] is cut
    subs = page.page.evaluate(_LABELS, [node[0], "text.nsub", None, *node[3:]])
    _check_labels(subs, NODE_LEFT, NODE_RIGHT)
    assert all(item["label"] == item["name"] for item in subs)  # never cut: the node fits it
    # edge labels: never on each other, on a node, nor past the image's edge
    boxes = page.page.evaluate(_MAP_BOXES, scope)
    labels, nodes = boxes["labels"], boxes["nodes"]
    assert len(labels) >= len(NAMES) // 2
    assert any("err" in label["text"] for label in labels)  # bold ones among them
    for index, label in enumerate(labels):
        assert label["left"] >= boxes["image"]["left"] - 0.01, label
        assert label["right"] <= boxes["image"]["right"] + 0.01, label
        for other in labels[index + 1 :] + nodes:
            assert _apart(label, other), (label, other)
    for a, b in zip(boxes["keys"], boxes["keys"][1:], strict=False):
        assert a["right"] <= b["left"], (a, b)
    page.shot(f"servicemap-hostile-labels-{kind}")
    assert page.errors == []


def test_images_with_fitted_labels_are_the_same_bytes_every_time():
    """Widths are sums of table entries in a fixed order: no float or cache makes two runs
    differ (a fresh process too: the caches start empty there)."""
    import subprocess
    import sys

    script = (
        "import hashlib; from tests.viz.test_label_widths import _flame_trace, _map_traces; "
        "from spanscope.viz.flamegraph import render_flamegraph; "
        "from spanscope.viz.servicemap import render_servicemap_svg; "
        "print(hashlib.sha256((render_flamegraph(_flame_trace()) + "
        "render_servicemap_svg(_map_traces())).encode()).hexdigest())"
    )
    runs = {
        subprocess.run(
            [sys.executable, "-c", script],
            capture_output=True,
            text=True,
            check=True,
            cwd=Path(__file__).parents[2],  # the checkout: ``tests`` is importable there
        ).stdout
        for _ in range(2)
    }
    here = render_flamegraph(_flame_trace()) + render_servicemap_svg(_map_traces())
    again = render_flamegraph(_flame_trace()) + render_servicemap_svg(_map_traces())
    assert here == again
    assert runs == {hashlib.sha256(here.encode()).hexdigest() + "\n"}


_TITLE = """() => {
  const title = document.querySelector('text.title'), reset = document.getElementById('reset');
  const t = title.getBBox(), r = reset.getBBox(), tip = title.querySelector('title');
  const shown = Array.from(title.childNodes).filter(n => n.nodeType === Node.TEXT_NODE).map(n => n.nodeValue).join('');
  return {shown: shown, tip: tip ? tip.textContent : '', right: t.x + t.width, resetLeft: r.x};
}"""


@pytest.mark.browser
@pytest.mark.parametrize("window", [0, 700, 1600])
def test_a_long_title_keeps_clear_of_the_reset_button(page, tmp_path, window):
    """As written (0: the image without its script), and fitted again by the script to a
    narrow and a wide window."""
    name = " ".join([LONG[1], *WIDE])
    root = Span(TRACE_ID, "f" * 16, name, 0, 1000)
    root.kind, root.service_name = SpanKind.SERVER, "frontend"
    svg = render_flamegraph(build_trace(TRACE_ID, [root]))
    path = tmp_path / "long-title.svg"
    path.write_text(_static(svg) if not window else svg, encoding="utf-8")
    if window:
        page.page.set_viewport_size({"width": window, "height": 600})
    page.open(path, "svg" if not window else "svg[data-ready='1']")
    found = page.page.evaluate(_TITLE)
    whole = f"frontend: {name}"
    assert found["tip"] == whole
    assert found["shown"].endswith(ELLIPSIS) and whole.startswith(found["shown"][:-1])
    assert found["right"] <= found["resetLeft"] - TITLE_GAP + 0.5, found
    assert found["right"] >= found["resetLeft"] - TITLE_GAP - 40, found  # uses its room
    assert page.errors == []
