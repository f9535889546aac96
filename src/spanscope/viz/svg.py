"""Small helpers shared by the SVG images: the font stack, escaping, number formatting.

Labels are fitted by ``spanscope.viz.textwidth`` (the widths of the fonts ``FONT`` asks for).
"""

from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

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


def duration(ns: float) -> str:
    """A duration for people: 3 significant digits and the largest fitting unit."""
    value = abs(ns)
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("µs", 1e3)):
        if value >= scale:
            return f"{ns / scale:.3g} {unit}"
    return f"{ns:.0f} ns"
