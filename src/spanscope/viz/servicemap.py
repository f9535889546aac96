"""The service map: who calls whom, how often, how often it fails, how slow, as SVG or HTML.

Contract:
- ``render_servicemap_svg(traces) -> str``: a static SVG. Nodes are services (colour from
  ``spanscope.viz.palette``, dealt over the services that reported spans as every page deals
  them; peers nobody traced, such as a database named by ``db.system``, are dashed and grey),
  edges are the calls from ``spanscope.analysis.dependencies`` with their count, error rate and
  p99. Width grows with the call count (log scale), colour goes from grey to red with
  the error rate, so error-heavy edges stand out. Layout: ``spanscope.viz.layout`` (layered, left
  to right, deterministic). Every node and edge has a ``<title>`` for a native tooltip.
- ``render_servicemap_html(traces) -> str``: one self-contained page with the same SVG inline,
  hover highlighting (a node lights up its calls) and a sortable table of every edge.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from spanscope import __version__
from spanscope.model import Trace
from spanscope.viz.layout import NODE_HEIGHT, layered_layout
from spanscope.viz.page import asset, render_page, text
from spanscope.viz.palette import ERROR_COLOR, service_colors
from spanscope.viz.svg import FONT, attr, duration, esc
from spanscope.viz.textwidth import fit_width, text_width

UNKNOWN = "(unknown service)"
PEER_COLOR = "#a3abb8"  # the accent of a peer nobody traced
# Text sizes as servicemap.css sets them; widths come from spanscope.viz.textwidth (an upper
# bound of the fonts the image asks for), so no text runs out of its box or over another.
NAME_SIZE = 12.5  # px, bold: a node's service name
SUB_SIZE = 11.0  # px: the line under it
KEY_SIZE = 12.0  # px: the colour key's labels
EDGE_SIZE = 10.5  # px: an edge's label, bold when the edge has errors
NAME_MAX = 220.0  # px: a longer service name is cut (the node's tooltip has it whole)
NODE_MIN = 104.0  # px: the narrowest node
NODE_LEFT = 16.0  # px from a node's left side to its text (past the colour accent)
NODE_RIGHT = 14.0  # px from its text to its right side


@dataclass
class ServiceNode:
    name: str
    spans: int  # spans the service reported itself; 0 for a peer nobody traced
    error_spans: int


@dataclass
class ServiceEdge:
    parent: str
    child: str
    calls: int
    errors: int
    p50_ns: int
    p99_ns: int

    @property
    def error_rate(self) -> float:
        return self.errors / self.calls if self.calls else 0.0


def service_graph(traces: Sequence[Trace]) -> tuple[list[ServiceNode], list[ServiceEdge]]:
    """Nodes and edges of the map: edges from ``spanscope.analysis.dependencies``, nodes are
    every service that reported spans plus every peer an edge names."""
    from spanscope.analysis.dependencies import dependencies
    from spanscope.analysis.errors import is_error_span

    nodes: dict[str, ServiceNode] = {}
    for trace in traces:
        for span in trace.spans:
            name = span.service_name or UNKNOWN
            node = nodes.get(name)
            if node is None:
                node = nodes[name] = ServiceNode(name, 0, 0)
            node.spans += 1
            if is_error_span(span):
                node.error_spans += 1
    edges = [
        ServiceEdge(
            e.parent or UNKNOWN, e.child or UNKNOWN, e.call_count, e.error_count, e.p50_ns, e.p99_ns
        )
        for e in dependencies(traces)
    ]
    for edge in edges:
        for name in (edge.parent, edge.child):
            nodes.setdefault(name, ServiceNode(name, 0, 0))
    return sorted(nodes.values(), key=lambda n: n.name), edges


def _node_sub(node: ServiceNode) -> str:
    if not node.spans:
        return "not traced"
    rate = node.error_spans / node.spans
    return f"{node.spans:,} span{'' if node.spans == 1 else 's'}" + (
        f" · {_rate(rate)} err" if node.error_spans else ""
    )


def _rate(rate: float) -> str:
    if rate <= 0:
        return "0%"
    if rate < 0.001:
        return "<0.1%"
    return f"{rate:.1%}" if rate < 0.1 else f"{rate:.0%}"


def _mix(a: str, b: str, t: float) -> str:
    pairs = zip(
        (int(a[i : i + 2], 16) for i in (1, 3, 5)),
        (int(b[i : i + 2], 16) for i in (1, 3, 5)),
        strict=True,
    )
    return "#" + "".join(f"{round(x + (y - x) * t):02x}" for x, y in pairs)


def _edge_color(rate: float) -> str:
    """Grey without errors; towards amber up to 1% errors, then towards red up to 10%, so a
    rare failure shows without shouting and an error-heavy edge cannot be missed."""
    if rate <= 0:
        return "#8a94a3"
    if rate < 0.01:
        return _mix("#b59a6a", "#f0a202", rate / 0.01)
    return _mix("#f0a202", ERROR_COLOR, min(1.0, (rate - 0.01) / 0.09))


def _edge_label(edge: ServiceEdge) -> str:
    parts = [f"{edge.calls:,} call{'' if edge.calls == 1 else 's'}"]
    if edge.errors:
        parts.append(f"{_rate(edge.error_rate)} err")
    parts.append(f"p99 {duration(edge.p99_ns)}")
    return " · ".join(parts)


def _curve(points: list[tuple[float, float]]) -> str:
    """A smooth path through ``points`` with horizontal tangents at each point."""
    (x, y), rest = points[0], points[1:]
    path = f"M{x:.1f},{y:.1f}"
    for nx, ny in rest:
        mid = (x + nx) / 2
        path += f" C{mid:.1f},{y:.1f} {mid:.1f},{ny:.1f} {nx:.1f},{ny:.1f}"
        x, y = nx, ny
    return path


Box = tuple[float, float, float, float]  # left, top, right, bottom
LABEL_STEP = 13.0  # one label line
LABEL_PAD = 2.0  # px kept free either side of an edge label (its halo is 1.5 px)


def _box(x: float, y: float, width: float, height: float) -> Box:
    return (x - width / 2, y - height / 2, x + width / 2, y + height / 2)


def _overlaps(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _place_labels(
    wanted: list[tuple[ServiceEdge, float, float]], obstacles: list[Box]
) -> list[tuple[ServiceEdge, float, float]]:
    """Each edge label at its wanted point or the nearest free spot above or below it, so no
    two labels and no label and service box overlap; the busiest and failing calls choose
    first. A label with no free spot within three lines is left out (its numbers are in the
    edge's tooltip and the table)."""
    placed: list[Box] = []
    result = []
    for edge, x, y in sorted(wanted, key=lambda w: (-w[0].errors, -w[0].calls)):
        width = text_width(_edge_label(edge), EDGE_SIZE, bold=edge.errors > 0) + 2 * LABEL_PAD
        for step in (0, -1, 1, -2, 2, -3, 3):
            top = y + step * LABEL_STEP
            box = (x - width / 2, top - 10, x + width / 2, top + 3)  # baseline at ``top``
            if not any(_overlaps(box, other) for other in placed + obstacles):
                placed.append(box)
                result.append((edge, x, top))
                break
    return result


def _colour_key(x: float, y: float) -> str:
    """What the edge colours mean, as a row of line samples with their labels."""
    out = []
    for label, rate in (("no errors", 0.0), ("1% failed", 0.01), ("10% or more failed", 0.10)):
        out.append(
            f'<g class="ekey"><line x1="{x:.0f}" y1="{y - 4:.0f}" x2="{x + 18:.0f}" '
            f'y2="{y - 4:.0f}" stroke="{_edge_color(rate)}" stroke-width="3" '
            f'stroke-linecap="round"/><text class="sub" x="{x + 24:.0f}" y="{y:.0f}">'
            f"{label}</text></g>"
        )
        x += 24 + text_width(label, KEY_SIZE) + 18
    return "".join(out)


def render_servicemap_svg(
    traces: Sequence[Trace], *, title: str = "Service map", color_names: Iterable[str] = ()
) -> str:
    """The service map as a standalone SVG (see the module contract)."""
    nodes, edges = service_graph(traces)
    return _svg(nodes, edges, title, color_names)


def _svg(
    nodes: list[ServiceNode],
    edges: list[ServiceEdge],
    title: str,
    color_names: Iterable[str] = (),
) -> str:
    # Colours are dealt over the services that reported spans (and ``color_names``), as the
    # waterfall and flame graph deal them, so a service has one colour on every page; a peer
    # nobody traced is grey.
    colors = service_colors([*(node.name for node in nodes if node.spans), *color_names])
    for node in nodes:
        colors.setdefault(node.name, PEER_COLOR)
    subs = {node.name: _node_sub(node) for node in nodes}
    # A node's text room: its name (cut at NAME_MAX), or its line under it if that is wider,
    # which a cut name then uses too; the box is that plus the margins.
    rooms = {
        node.name: max(
            NODE_MIN - NODE_LEFT - NODE_RIGHT,
            min(text_width(node.name, NAME_SIZE, bold=True), NAME_MAX),
            text_width(subs[node.name], SUB_SIZE),
        )
        for node in nodes
    }
    labels = {name: fit_width(name, room, NAME_SIZE, bold=True) for name, room in rooms.items()}
    # rounded up to the 0.1 px the file is written in, so the written box keeps the room
    widths = {
        name: math.ceil((room + NODE_LEFT + NODE_RIGHT) * 10) / 10 for name, room in rooms.items()
    }
    layout = layered_layout(
        [node.name for node in nodes], [(e.parent, e.child) for e in edges], widths
    )
    header = 74.0  # title, subtitle, colour key
    width = max(layout.width, 520.0)
    height = layout.height + header + 36
    max_calls = max((edge.calls for edge in edges), default=1)
    show_labels = len(edges) <= 80
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="{width:.0f}" '
        f'height="{height:.0f}" viewBox="0 0 {width:.0f} {height:.0f}" class="servicemap" '
        f"font-family={attr(FONT)}>",
        f"<style>{asset('servicemap.css')}</style>",
        "<defs>"
        + "".join(
            f'<marker id="arrow-{key}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="9" '
            f'markerHeight="9" markerUnits="userSpaceOnUse" orient="auto">'
            f'<path d="M0,0 L10,5 L0,10 z" fill="{color}"/></marker>'
            for key, color in (("ok", "#8a94a3"), ("err", ERROR_COLOR), ("warn", "#f0a202"))
        )
        + "</defs>",
        f'<rect class="bg" width="{width:.0f}" height="{height:.0f}" fill="#ffffff"/>',
        f'<text class="title" x="24" y="26">{esc(title)}</text>',
        f'<text class="sub" x="24" y="44">{len(nodes)} services · {len(edges)} dependencies · '
        f"edge width = calls, colour = error rate</text>",
        _colour_key(24.0, 62.0),
        f'<g transform="translate(0,{header:.0f})">',
        '<g class="edges">',
    ]
    labels_at: list[tuple[ServiceEdge, float, float]] = []
    for edge in sorted(edges, key=lambda e: (e.error_rate, e.calls)):
        points = layout.paths.get((edge.parent, edge.child))
        color = _edge_color(edge.error_rate)
        marker = "ok" if not edge.errors else ("err" if edge.error_rate >= 0.05 else "warn")
        stroke = 1.2 + 4.8 * math.log1p(edge.calls) / math.log1p(max_calls)
        tooltip = f"{edge.parent} → {edge.child}\n{_edge_label(edge)}, p50 {duration(edge.p50_ns)}"
        out.append(
            f'<g class="edge{" err" if edge.errors else ""}" data-from={attr(edge.parent)} '
            f'data-to={attr(edge.child)} data-calls="{edge.calls}" '
            f'data-errors="{edge.errors}" data-p99="{edge.p99_ns}"><title>{esc(tooltip)}</title>'
        )
        if points is None:  # a service calling itself
            x, y = layout.positions[edge.parent]
            half = widths[edge.parent] / 2
            path = f"M{x + half - 18:.1f},{y - NODE_HEIGHT / 2:.1f} c0,-34 30,-34 18,{-2:.1f}"
            label_at = (x + half, y - NODE_HEIGHT / 2 - 30)
        else:
            path = _curve(points)
            # the middle of the middle segment: where fanned-out edges are furthest apart
            middle = (len(points) - 1) // 2
            (ax, ay), (bx, by) = points[middle], points[middle + 1]
            label_at = ((ax + bx) / 2, (ay + by) / 2 - 5)
        out.append(
            f'<path d="{path}" fill="none" stroke="{color}" stroke-width="{stroke:.2f}" '
            f'stroke-opacity="0.85" marker-end="url(#arrow-{marker})"/>'
            f'<path class="hit" d="{path}" fill="none" stroke="transparent" stroke-width="12"/>'
        )
        labels_at.append((edge, *label_at))
        out.append("</g>")
    out.append("</g>")
    if show_labels:
        # Labels go in a layer of their own above every line: drawn inside each edge's group,
        # a later edge's line crossed an earlier edge's numbers.
        node_boxes = [
            _box(x, y, widths[name], NODE_HEIGHT) for name, (x, y) in layout.positions.items()
        ]
        out.append('<g class="elabels">')
        for edge, x, y in _place_labels(labels_at, node_boxes):
            label = _edge_label(edge)
            out.append(
                f'<text class="elabel{" err" if edge.errors else ""}" '
                f"data-from={attr(edge.parent)} data-to={attr(edge.child)} "
                f'x="{x:.1f}" y="{y:.1f}" text-anchor="middle">{esc(label)}</text>'
            )
        out.append("</g>")
    if not nodes:  # an empty frame alone looks broken: say why it is empty
        out.append(
            f'<text class="sub" x="{width / 2:.0f}" y="{layout.height / 2 + 10:.0f}" '
            'text-anchor="middle">No services in these traces.</text>'
        )
    out.append('<g class="nodes">')
    for node in nodes:
        x, y = layout.positions[node.name]
        w = widths[node.name]
        traced = node.spans > 0
        sub = subs[node.name]
        tooltip = (
            f"{node.name}\n{node.spans:,} spans, {node.error_spans:,} with errors"
            if traced
            else f"{node.name}\nnamed by callers; it reported no spans"
        )
        cls = "node" + ("" if traced else " peer") + (" err" if node.error_spans else "")
        out.append(
            f'<g class="{cls}" data-name={attr(node.name)}><title>{esc(tooltip)}</title>'
            f'<rect x="{x - w / 2:.1f}" y="{y - NODE_HEIGHT / 2:.1f}" width="{w:.1f}" '
            f'height="{NODE_HEIGHT:.0f}" rx="8"/>'
            f'<rect class="accent" x="{x - w / 2:.1f}" y="{y - NODE_HEIGHT / 2:.1f}" width="6" '
            f'height="{NODE_HEIGHT:.0f}" rx="3" fill="{colors[node.name]}"/>'
            f'<text class="nname" x="{x - w / 2 + NODE_LEFT:.1f}" y="{y - 3:.1f}">'
            f"{esc(labels[node.name])}</text>"
            f'<text class="nsub{" err" if node.error_spans else ""}" '
            f'x="{x - w / 2 + NODE_LEFT:.1f}" '
            f'y="{y + 13:.1f}">{esc(sub)}</text></g>'
        )
    out.append("</g></g></svg>")
    return "\n".join(out) + "\n"


def render_servicemap_html(
    traces: Sequence[Trace], *, title: str = "Service map", color_names: Iterable[str] = ()
) -> str:
    """The service map as one self-contained HTML page (see the module contract);
    ``color_names``: more service names to deal the colours over (``spanscope serve`` gives
    every stored service, so a service has one colour on all its pages)."""
    nodes, edges = service_graph(traces)
    svg = _svg(nodes, edges, title, color_names)
    rows = "".join(
        f"<tr data-from={attr(e.parent)} data-to={attr(e.child)}>"
        f"<td>{esc(e.parent)}</td><td>{esc(e.child)}</td>"
        f'<td class="num" data-v="{e.calls}">{e.calls:,}</td>'
        f'<td class="num" data-v="{e.errors}">{e.errors:,}</td>'
        f'<td class="num{" err" if e.errors else ""}" data-v="{e.error_rate:.6f}">'
        f"{_rate(e.error_rate)}</td>"
        f'<td class="num" data-v="{e.p50_ns}">{esc(duration(e.p50_ns))}</td>'
        f'<td class="num" data-v="{e.p99_ns}">{esc(duration(e.p99_ns))}</td></tr>'
        for e in sorted(edges, key=lambda e: (-e.errors, -e.calls, e.parent, e.child))
    ) or (
        '<tr class="none"><td colspan="7">No calls between services in these traces'
        + (": each trace stays inside one service." if nodes else ".")
        + "</td></tr>"
    )
    return render_page(
        "servicemap.html",
        {
            "TITLE": text(f"{title} · spanscope"),
            "HEADING": text(title),
            "VERSION": text(__version__),
            "META": text(
                f"{len(nodes)} services · {len(edges)} dependencies · {len(traces):,} traces"
            ),
            "CSS": asset("servicemap-page.css"),
            "SVG": svg.split("\n", 1)[1] if svg.startswith("<?xml") else svg,
            "ROWS": rows,
            "JS": asset("servicemap.js"),
        },
    )
