"""The legend of the flame graph images: which colour is which service, and the marks.

Contract: ``legend_svg(services, critical, width, pad)`` -> ``(parts, rows)``: SVG elements for
``(name, colour)`` service keys, then the critical-path key (when ``critical``) and the error
key, in rows from ``LEGEND_Y``, ``LEGEND_ROW`` px apart, never past ``pad`` from either edge and
never on top of each other. Each key is a ``<g class="key" data-key=...>`` holding its swatch
and a ``text.legend``. Widths come from ``spanscope.viz.textwidth`` (an upper bound for the
fonts the image asks for), as no font can be measured when the file is written; the keys used to
be placed by a guessed 6.6 px per character, so long names ran into the next key and short ones
left gaps.
"""

from __future__ import annotations

from collections.abc import Sequence

from spanscope.viz.palette import ERROR_COLOR
from spanscope.viz.svg import FONT, attr, esc
from spanscope.viz.textwidth import fit_width, text_width

LEGEND_Y = 48  # top of the first row
LEGEND_ROW = 16  # each further row moves what is below the legend down as much
LEGEND_ROWS = 4
LEGEND_SIZE = 11  # px, as flamegraph.css sets .legend
LEGEND_NAME = 260  # px: a longer service name is cut in the legend
LEGEND_GAP = 12  # px between keys


def legend_svg(
    services: Sequence[tuple[str, str]], critical: bool, width: float, pad: float
) -> tuple[list[str], int]:
    """The legend of an image ``width`` px wide (see the module contract): keys left to right,
    a new row when the next would come closer than ``pad`` to the right edge. Past
    ``LEGEND_ROWS`` rows the last service keys give way to "+N more services" (its tooltip
    names them). A name longer than ``LEGEND_NAME`` px is cut; its key's tooltip has it whole.
    Returns the SVG parts and the number of rows."""
    names = [(fit_width(name, LEGEND_NAME, LEGEND_SIZE), name, color) for name, color in services]
    keys = [("service", label, name, color) for label, name, color in names]
    extra = [("critical", "critical path", "", "")] if critical else []
    extra.append(("error", "error", "", ""))
    count = len(keys)
    first = _flow([*keys, *extra], width, pad)
    if first[-1][1] >= LEGEND_ROWS:  # start from the keys the rows hold, then give way
        count = sum(1 for _, row in first[: len(keys)] if row < LEGEND_ROWS)
    while True:
        more = len(keys) - count
        tail = [("more", f"+{more} more services", "", "")] if more else []
        placed = _flow([*keys[:count], *tail, *extra], width, pad)
        if placed[-1][1] < LEGEND_ROWS or count == 0:
            break
        count -= 1
    hidden = [name for _, _, name, _ in keys[count:]]
    parts = []
    for (kind, label, name, color), (x, row) in zip(
        [*keys[:count], *tail, *extra], placed, strict=True
    ):
        top = LEGEND_Y + row * LEGEND_ROW
        text_x = x + (20 if kind == "critical" else 14)
        if kind == "service":
            swatch = f'<rect x="{x:.1f}" y="{top}" width="10" height="10" rx="2" fill="{color}"/>'
        elif kind == "critical":
            swatch = (
                f'<rect class="cp-key" x="{x:.1f}" y="{top + 4}" width="16" height="3" '
                f'fill="#111827"/>'
            )
        elif kind == "error":
            swatch = (
                f'<rect class="err-key" x="{x:.1f}" y="{top}" width="10" height="10" rx="2" '
                f'fill="none" stroke="{ERROR_COLOR}" stroke-width="1.5"/>'
            )
        else:
            swatch, text_x = "", x
        tip = name if kind == "service" else ", ".join(hidden[:50]) if kind == "more" else ""
        title = f"<title>{esc(tip)}</title>" if tip and (tip != label or kind == "more") else ""
        parts.append(
            f'<g class="key" data-key="{kind}">{title}{swatch}'
            f'<text class="legend" x="{text_x:.1f}" y="{top + 9}" font-family={attr(FONT)}>'
            f"{esc(label)}</text></g>"
        )
    return parts, placed[-1][1] + 1


def _flow(
    keys: Sequence[tuple[str, str, str, str]], width: float, pad: float
) -> list[tuple[float, int]]:
    """Where each legend key goes: (x, row), left to right, wrapping at the right padding."""
    placed = []
    x, row = float(pad), 0
    for kind, label, _, _ in keys:
        swatch = 20 if kind == "critical" else 0 if kind == "more" else 14
        size = swatch + text_width(label, LEGEND_SIZE)
        if x > pad and x + size > width - pad:
            x, row = float(pad), row + 1
        placed.append((x, row))
        x += size + LEGEND_GAP
    return placed
