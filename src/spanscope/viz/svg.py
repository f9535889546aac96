"""Small helpers shared by the SVG images: escaping, label fitting, number formatting.

Label widths are estimated (no font metrics are available when writing a file): ``CHAR_PX`` is
the average advance of the sans-serif font at 11 px, slightly generous so labels never spill
out of their box; the scripts embedded in the images re-fit labels with real metrics on zoom.
"""

from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

CHAR_PX = 6.6
FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif'


def esc(value: str) -> str:
    """Escape text for XML content; control characters XML 1.0 forbids become spaces."""
    return escape(_clean(value))


def attr(value: str) -> str:
    """A quoted XML attribute value."""
    return quoteattr(_clean(value))


# Control characters XML 1.0 forbids (all below 0x20 except tab and line breaks) become spaces.
_CONTROL = {code: " " for code in range(32) if chr(code) not in "\t\n\r"}


def _clean(value: str) -> str:
    return value.translate(_CONTROL)


def fit(label: str, width_px: float, char_px: float = CHAR_PX) -> str:
    """``label`` cut with an ellipsis to fit ``width_px``; empty if not even 3 characters fit."""
    room = int((width_px - 6) / char_px)
    if room >= len(label):
        return label
    if room < 3:
        return ""
    return label[: room - 1] + "…"


def duration(ns: float) -> str:
    """A duration for people: 3 significant digits and the largest fitting unit."""
    value = abs(ns)
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("µs", 1e3)):
        if value >= scale:
            return f"{ns / scale:.3g} {unit}"
    return f"{ns:.0f} ns"
