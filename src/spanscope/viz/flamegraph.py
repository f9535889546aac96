"""Flame graphs as SVG: one trace's span tree, or critical-path time folded over many traces.

Contract:
- ``render_flamegraph(trace) -> str``: an SVG where each span is a box under its parent
  (root on top, read like the waterfall), x = time since the trace start and width = duration.
  Spans that overlap in time under one parent (parallel calls) are packed into extra rows, so no
  box ever hides another. Critical-path sections (``spanscope.analysis.critical_path``) are a
  two-toned strip along the bottom of their box; error spans (``spanscope.analysis.errors``) get
  a red outline. Unclosed spans run to the end of the trace.
- ``traces_flamegraph(traces, endpoint=..., slow=...) -> (svg, stacks, traces)``: the
  aggregate graph of many traces' critical paths, one endpoint's or all, all requests or the
  slowest 5% (what ``spanscope flamegraph --aggregate`` and ``serve``'s Analysis page draw);
  ``profile_flamegraph(profiles, traces, ...)`` draws the same from a ``ProfileCollector``
  those traces went through already (the analyzer's), so nothing is walked twice;
- ``render_aggregate_flamegraph(stacks, error_stacks=..., subtitle=...) -> str``: a classic
  flame graph of folded stacks (``spanscope.analysis.profile.folded_stacks``: ``"svc:op;svc:op"``
  -> critical-path ns); ``error_stacks`` (``ProfileCollector.error_stacks``, named as the
  profile names its stacks) are marked. A box's width is the sum of the stacks under it,
  children sorted widest first, so the widest box is what to fix first.

In both, a box's label is its name, cut with "…" where it would come closer than ``LABEL_PAD``
to either side of the box (widths from ``spanscope.viz.textwidth``, an upper bound of the fonts).

Both are plain images (they render in ``<img>``); opened directly, the embedded script adds
click-to-zoom, a reset button, a detail line on hover, and fits the graph to the window's width
(never narrower than its legend). Colours follow
``spanscope.viz.palette``; the page colours are the shared theme tokens (``assets/theme.css``),
so the graph is dark where the browser prefers dark, opened directly or shown as an image.
"""

from __future__ import annotations

import bisect
import heapq
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from spanscope.model import Span, Trace
from spanscope.viz.legend import LEGEND_ROW, legend_svg
from spanscope.viz.page import asset
from spanscope.viz.palette import ERROR_COLOR, service_colors
from spanscope.viz.svg import FONT, attr, duration, esc
from spanscope.viz.textwidth import fit_width, text_width

if TYPE_CHECKING:
    from spanscope.analysis.profile import ProfileCollector

WIDTH = 1200
ROW = 18
PAD = 10
HEADER = 86  # title, subtitle, legend (one row), then the hover details line
DETAILS_Y = 76
FOOTER = 12
TITLE_SIZE = 15  # px, bold, as flamegraph.css sets .title
TITLE_GAP = 16  # px between the title and the reset button
RESET = "Reset zoom"
RESET_SIZE = 12  # px, as flamegraph.css sets .reset
LABEL_SIZE = 11  # px, as flamegraph.css sets the boxes' text
LABEL_PAD = 3  # px between a box's label and either side of the box


@dataclass
class Frame:
    """One box: ``x0``/``x1`` in the graph's own units (ns), ``row`` from the top."""

    x0: float
    x1: float
    row: int
    label: str
    service: str
    tooltip: str
    error: bool = False
    critical: list[tuple[float, float]] = field(default_factory=list)


def _text_color(hex_color: str) -> str:
    r, g, b = (int(hex_color[i : i + 2], 16) for i in (1, 3, 5))
    return "#ffffff" if 0.299 * r + 0.587 * g + 0.114 * b < 140 else "#1c2430"


def _title(title: str) -> str:
    """The title, cut where it would come closer than ``TITLE_GAP`` to the reset button (the
    whole title is its tooltip then, and the script fits it again to the window)."""
    room = WIDTH - 2 * PAD - text_width(RESET, RESET_SIZE) - TITLE_GAP
    shown = fit_width(title, room, TITLE_SIZE, bold=True)
    tip = f"<title>{esc(title)}</title>" if shown != title else ""
    return (
        f'<text class="title" x="{PAD}" y="22" data-name={attr(title)} data-gap="{TITLE_GAP}" '
        f"font-family={attr(FONT)}>{esc(shown)}{tip}</text>"
    )


def _svg(
    frames: Sequence[Frame],
    total: float,
    title: str,
    subtitle: str,
    kind: str,
    services: Iterable[str] = (),
) -> str:
    colors = service_colors([*services, *(frame.service for frame in frames)])
    shown = sorted({frame.service for frame in frames})
    rows = max((frame.row for frame in frames), default=0) + 1
    inner = WIDTH - 2 * PAD
    legend, legend_rows = legend_svg(
        [(name, colors[name]) for name in shown], kind == "trace", WIDTH, PAD
    )
    below = (legend_rows - 1) * LEGEND_ROW  # what the legend's extra rows push down
    header = HEADER + below
    height = header + rows * ROW + FOOTER
    scale = inner / total if total > 0 else 0.0
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="{WIDTH}" '
        f'height="{height}" viewBox="0 0 {WIDTH} {height}" class="flamegraph" '
        f'data-kind="{kind}" data-total="{total:.0f}" data-width="{inner}" data-pad="{PAD}" '
        f'data-label-pad="{LABEL_PAD}">',
        f"<style><![CDATA[{asset('theme.css')}{asset('flamegraph.css')}]]></style>",
        f'<rect class="bg" x="0" y="0" width="{WIDTH}" height="{height}" fill="#ffffff"/>',
        _title(title),
        f'<text class="sub" x="{PAD}" y="40" font-family={attr(FONT)}>{esc(subtitle)}</text>',
        f'<text id="reset" class="reset" x="{WIDTH - PAD}" y="22" text-anchor="end" '
        f'visibility="hidden" font-family={attr(FONT)}>{RESET}</text>',
    ]
    out.extend(legend)
    out.append(f'<g id="frames" font-family={attr(FONT)}>')
    for frame in frames:
        px0 = PAD + frame.x0 * scale
        # Even boxes too thin to see are written: zooming in brings them back.
        width = max((frame.x1 - frame.x0) * scale, 0.0)
        y = header + frame.row * ROW
        fill = colors[frame.service]
        stroke = (
            f' stroke="{ERROR_COLOR}" stroke-width="1.5"'
            if frame.error
            else ' stroke="#ffffff" stroke-width="0.5"'
        )
        cls = "f err" if frame.error else "f"
        out.append(
            f'<g class="{cls}" data-x0="{frame.x0:.0f}" data-x1="{frame.x1:.0f}" '
            f"data-name={attr(frame.label)}><title>{esc(frame.tooltip)}</title>"
            f'<rect x="{px0:.2f}" y="{y}" width="{width:.2f}" height="{ROW - 1}" rx="2" '
            f'fill="{fill}"{stroke}/>'
        )
        for start, end in frame.critical:
            cx = PAD + start * scale
            out.append(
                f'<rect class="cp" data-x0="{start:.0f}" data-x1="{end:.0f}" x="{cx:.2f}" '
                f'y="{y + ROW - 5}" width="{max((end - start) * scale, 0.5):.2f}" height="3" '
                f'fill="#111827"/>'
            )
        # Cut by the fonts' widths (an upper bound), so a label never runs out of its box;
        # the script fits them again with the browser's own font when the graph is zoomed.
        room = width - 2 * LABEL_PAD
        label = fit_width(frame.label, room, LABEL_SIZE) if room > 0 else ""
        out.append(
            f'<text x="{px0 + LABEL_PAD:.2f}" y="{y + 12.5}" fill="{_text_color(fill)}">'
            f"{esc(label)}</text></g>"
        )
    out.append("</g>")
    # Above the boxes, not under them: under a tall graph it was out of sight (the script
    # also brings it down to the top of the window when the reader has scrolled).
    out.append(
        f'<text id="details" class="sub" x="{PAD}" y="{DETAILS_Y + below}" '
        f"font-family={attr(FONT)}>Click a box to zoom, hover for details.</text>"
    )
    out.append(f"<script><![CDATA[{asset('flamegraph.js')}]]></script>")
    out.append("</svg>")
    return "\n".join(out) + "\n"


# ---- one trace ---------------------------------------------------------------------------------


def render_flamegraph(trace: Trace, *, services: Iterable[str] = ()) -> str:
    """One trace as an SVG flame graph (see the module contract)."""
    from spanscope.analysis.critical_path import critical_path
    from spanscope.analysis.errors import is_error_span

    origin = trace.start_ns
    trace_end = trace.end_ns
    sections: dict[str, list[tuple[float, float]]] = {}
    for section in critical_path(trace):
        sections.setdefault(section.span_id, []).append(
            (section.start_ns - origin, section.end_ns - origin)
        )
    rows = _pack(trace, trace_end)
    frames = []
    for span in trace.spans:
        end = span.end_ns if span.end_ns else trace_end
        end = max(end, span.start_ns)
        error = is_error_span(span)
        service = span.service_name or "(unknown service)"
        state = " · never ended" if span.end_ns == 0 else ""
        frames.append(
            Frame(
                x0=span.start_ns - origin,
                x1=end - origin,
                row=rows[span.span_id],
                label=span.name,
                service=service,
                tooltip=(
                    f"{service}: {span.name}\n{duration(end - span.start_ns)}{state}, "
                    f"starts at +{duration(span.start_ns - origin)}"
                    + (" · error" if error else "")
                    + (
                        f"\ncritical path {duration(sum(e - s for s, e in sections[span.span_id]))}"
                        if span.span_id in sections
                        else ""
                    )
                ),
                error=error,
                critical=sections.get(span.span_id, []),
            )
        )
    frames.sort(key=lambda frame: (frame.row, frame.x0))
    root = trace.root
    title = f"{root.service_name or '?'}: {root.name}"
    subtitle = (
        f"trace {trace.trace_id} · {duration(trace.duration_ns)} · {len(trace.spans):,} spans"
        " · width = duration, root on top"
    )
    return _svg(frames, max(trace_end - origin, 1), title, subtitle, "trace", services)


def _pack(trace: Trace, trace_end: int) -> dict[str, int]:
    """Row of each span: under its parent, with children that overlap in time moved to extra
    rows. Each child's whole subtree is placed as one block (its time extent x its height),
    first fit from the top; iterative so deep traces do not hit the recursion limit."""

    def end_of(span: Span) -> int:
        return max(span.end_ns if span.end_ns else trace_end, span.start_ns)

    order: list[Span] = []
    stack = list(trace.roots)
    while stack:
        span = stack.pop()
        order.append(span)
        stack.extend(trace.children_of(span))
    extent: dict[str, tuple[int, int]] = {}
    height: dict[str, int] = {}
    offsets: dict[str, int] = {}
    for span in reversed(order):  # children before parents
        kids = trace.children_of(span)
        lo, hi = span.start_ns, end_of(span)
        for kid in kids:
            k0, k1 = extent[kid.span_id]
            lo, hi = min(lo, k0), max(hi, k1)
        extent[span.span_id] = (lo, hi)
        height[span.span_id] = 1 + _place(kids, extent, height, offsets)
    rows: dict[str, int] = {}
    _place(trace.roots, extent, height, offsets)
    for span in order:  # parents before children
        parent = trace.parent_of(span)
        base = rows[parent.span_id] + 1 if parent is not None and parent.span_id in rows else 0
        rows[span.span_id] = base + offsets[span.span_id]
    return rows


def _place(
    spans: Iterable[Span],
    extent: dict[str, tuple[int, int]],
    height: dict[str, int],
    offsets: dict[str, int],
) -> int:
    """Place each span's block (its extent, ``height`` rows) at the first offset from the top
    where that many rows are all free when it starts; return the rows used.

    The blocks come in order of start, so a row freed before one block starts stays free for
    every later one: blocks in use wait in a heap by the time they end, and rows free again
    are kept as maximal gaps above ``frontier``, below which every row is free. First fit is
    then the first gap tall enough, or the frontier: a chain 30,000 deep or 50,000 parallel
    calls are placed in time proportional to their size (a row-by-row scan took minutes)."""
    in_use: list[tuple[int, int, int]] = []  # heap of (free again at, first row, rows)
    gaps: list[tuple[int, int]] = []  # sorted (first row, rows), free, above the frontier
    frontier = used = 0
    for span in sorted(spans, key=lambda s: extent[s.span_id][0]):
        start, end = extent[span.span_id]
        while in_use and in_use[0][0] <= start:
            _, first, count = heapq.heappop(in_use)
            frontier = _free(gaps, first, count, frontier)
        need = height[span.span_id]
        for index, (first, count) in enumerate(gaps):
            if count >= need:
                offset = first
                if count == need:
                    del gaps[index]
                else:
                    gaps[index] = (first + need, count - need)
                break
        else:
            offset = frontier
            frontier += need
            used = max(used, frontier)
        heapq.heappush(in_use, (end, offset, need))
        offsets[span.span_id] = offset
    return used


def _free(gaps: list[tuple[int, int]], first: int, count: int, frontier: int) -> int:
    """Rows ``first .. first + count - 1`` are free again: merge them into ``gaps`` (and into
    the free rows from ``frontier`` down); return the frontier."""
    index = bisect.bisect_left(gaps, (first, 0))
    if index and gaps[index - 1][0] + gaps[index - 1][1] == first:  # joins the gap above
        index -= 1
        first, count = gaps[index][0], gaps[index][1] + count
        del gaps[index]
    if index < len(gaps) and first + count == gaps[index][0]:  # and the one below
        count += gaps[index][1]
        del gaps[index]
    if first + count == frontier:
        return first
    gaps.insert(index, (first, count))
    return frontier


# ---- many traces -------------------------------------------------------------------------------


def render_aggregate_flamegraph(
    stacks: Sequence[tuple[str, int]],
    *,
    error_stacks: Iterable[str] = (),
    title: str = "Critical-path flame graph",
    subtitle: str = "",
    services: Iterable[str] = (),
) -> str:
    """Folded stacks as a classic flame graph (see the module contract)."""
    errors = set(error_stacks)
    tree: dict[str, _Node] = {}
    for stack, value in stacks:
        if value <= 0:
            continue
        level = tree
        path = ""
        for frame in stack.split(";"):
            path = f"{path};{frame}" if path else frame
            child = level.get(frame)
            if child is None:
                child = level[frame] = _Node(path)
            child.total += value
            level = child.children
            leaf = child
        leaf.own += value  # a stack has at least one frame
    total = sum(node.total for node in tree.values())
    frames: list[Frame] = []
    queue = [(tree, 0.0, 0)]
    while queue:
        level, x, row = queue.pop()
        for name, node in sorted(level.items(), key=lambda item: (-item[1].total, item[0])):
            service = name.partition(":")[0]
            share = node.total / total if total else 0.0
            frames.append(
                Frame(
                    x0=x,
                    x1=x + node.total,
                    row=row,
                    label=name,
                    service=service,
                    tooltip=(
                        f"{name}\n{duration(node.total)} on the critical path ({share:.1%})"
                        + (f", {duration(node.own)} in this operation itself" if node.own else "")
                        + (" · errors seen here" if node.path in errors else "")
                    ),
                    error=node.path in errors,
                )
            )
            queue.append((node.children, x, row + 1))
            x += node.total
    frames.sort(key=lambda frame: (frame.row, frame.x0))
    subtitle = subtitle or f"{duration(total)} of critical-path time"
    subtitle += " · width = critical-path time"
    return _svg(frames, max(total, 1), title, subtitle, "aggregate", services)


def traces_flamegraph(
    traces: Sequence[Trace],
    *,
    endpoint: tuple[str, str] | None = None,
    slow: bool = False,
    services: Iterable[str] = (),
) -> tuple[str, int, int]:
    """The critical-path flame graph of ``traces`` (``render_aggregate_flamegraph`` of their
    profile), of the requests to ``endpoint`` (root service and operation, named as the report
    names it: ``GET /users/<num>`` for names with ids in them) or of all; ``slow``: of the
    slowest 5% of each endpoint's requests, errors marked where those requests met them.
    Returns the SVG, how many stacks and how many traces it draws; ``LookupError`` when no
    trace has the endpoint as its root."""
    from spanscope.analysis.profile import ProfileCollector

    profiles = ProfileCollector()
    for trace in traces:
        profiles.add(trace)
    return profile_flamegraph(profiles, traces, endpoint=endpoint, slow=slow, services=services)


def profile_flamegraph(
    profiles: ProfileCollector,
    traces: Sequence[Trace],
    *,
    endpoint: tuple[str, str] | None = None,
    slow: bool = False,
    services: Iterable[str] = (),
) -> tuple[str, int, int]:
    """``traces_flamegraph`` from a collector that has had ``traces`` added already, in that
    order (``Analyzer.profiles`` after ``Analyzer.add`` of each, with the default slow fraction
    and name folding): the same picture, without walking their critical paths again. How
    ``serve``'s Analysis page gets its report and its flame graphs from one read of the
    store."""
    from spanscope.analysis.errors import error_ids
    from spanscope.analysis.profile import folded_stacks

    folding = profiles.folding()
    if endpoint is not None:
        traces = [
            t
            for t in traces
            if t.roots
            and (t.root.service_name, folding.fold(t.root.service_name, t.root.name)) == endpoint
        ]
        if not traces:
            raise LookupError(f"no trace has the root {endpoint[0]}:{endpoint[1]}")
    profile = profiles.profile(folding)
    stacks = folded_stacks(profile, slow=slow, endpoint=endpoint)
    scope = f"{endpoint[0]}:{endpoint[1]}" if endpoint is not None else "all endpoints"
    drawn, used = traces, len(traces)
    subtitle = f"{len(traces):,} traces"
    if slow:
        # Errors are marked where the slowest requests met them, as the boxes are theirs.
        chosen = [e for e in profile.endpoints if endpoint in (None, (e.service, e.operation))]
        shortest = {(e.service, e.operation): e.slow_min_duration_ns for e in chosen}

        def among_slowest(trace: Trace) -> bool:
            if not trace.roots:
                return False
            root = trace.root
            key = (root.service_name, folding.fold(root.service_name, root.name))
            return key in shortest and root.duration_ns >= shortest[key]

        drawn = [trace for trace in traces if among_slowest(trace)]
        used = sum(e.slow_traces for e in chosen)
        share = f"{profile.slow_fraction:.0%}"
        subtitle = f"the slowest {share} of each endpoint's requests: {used:,} of {len(traces):,}"
    # Only traces with an error span can name an error stack: the others are not walked.
    failed = [trace for trace in drawn if error_ids(trace)]
    svg = render_aggregate_flamegraph(
        stacks,
        error_stacks=profiles.error_stacks(failed, folding),
        title=f"Critical-path flame graph · {scope}",
        subtitle=subtitle,
        services=services,
    )
    return svg, len(stacks), used


@dataclass
class _Node:
    path: str
    total: int = 0
    own: int = 0
    children: dict[str, _Node] = field(default_factory=dict)
