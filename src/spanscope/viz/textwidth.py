"""Text widths for the SVG images, without a browser: advances of the fonts they ask for.

Contract: ``text_width(text, size_px, bold=False)`` is the width in px that ``text`` takes in
the images' sans-serif stack (``spanscope.viz.svg.FONT``) at ``size_px`` (``bold``: at
font-weight 600 or more, which picks the fonts' Bold faces), meant as an upper bound: labels
placed by it never overlap or run past an edge. ``fit_width(text, width_px, size_px,
bold=False)`` is ``text``, or its longest prefix plus "…", whose ``text_width`` is at most
``width_px`` ("" if not even one character and the ellipsis fit).

The widths are per-character advances (``spanscope.viz.fontwidths``): the larger of DejaVu
Sans (what ``system-ui`` and ``sans-serif`` are on most Linux desktops, and among the widest
sans fonts) and Liberation Sans (the metrics of Arial and Helvetica), as Chromium measures them,
plus half a unit as they are rounded; for Latin, Greek, Cyrillic, Armenian, Hebrew, Arabic,
Georgian, punctuation and most symbols; regular and bold measured apart (bold is 1-26% wider
across Basic Latin and up to twice as wide elsewhere, so no one factor is both safe and close).
Segoe UI, San Francisco and Roboto are narrower, so there a label ends a little early rather
than late. Outside the tables: combining marks and format characters take no room, Hangul 0.92
em and other characters an em (Noto Sans CJK draws both so, at either weight; scripts with no
font on the measuring machine, such as Thai or Devanagari, are a guess), emoji 1.3 em (Noto
Color Emoji: 1.25). Kerning and ligatures only narrow a word, so a sum of advances stays an
upper bound (joined Arabic letters are narrower than alone too)."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from functools import lru_cache

from spanscope.viz.fontwidths import BOLD, REGULAR

ELLIPSIS = "…"

# the tables: (first code point of a block) -> advances of it and the characters after it
_TABLE = REGULAR
_BOLD_TABLE = BOLD


def _advances(table: dict[int, str]) -> dict[int, int]:
    return {
        start + offset: int(value)
        for start, values in table.items()
        for offset, value in enumerate(values.split())
    }


def _em_of(advances: dict[int, int]) -> Callable[[str], float]:
    """The advance in em of one character, by ``advances`` and the rules for the rest."""

    @lru_cache(maxsize=4096)
    def em(char: str) -> float:
        code = ord(char)
        category = unicodedata.category(char)
        if category in ("Mn", "Me", "Cf") or unicodedata.combining(char):
            return 0.0
        known = advances.get(code)
        if known:  # a 0 in the table is a code point the fonts do not have: the rules below
            # plus half a unit: the table is rounded to 1/1000 em, and a bound must not be
            return (known + 0.5) / 1000
        if code >= 0x1F000:
            return 1.3
        if 0xAC00 <= code <= 0xD7A3 or 0x1100 <= code <= 0x11FF:
            return 0.92  # Hangul, as Noto Sans CJK (Source Han Sans) draws it at any weight
        return 1.0

    return em


_em = _em_of(_advances(_TABLE))
_em_bold = _em_of(_advances(_BOLD_TABLE))


@lru_cache(maxsize=8192)
def _width_em(text: str, bold: bool) -> float:
    # Cached whole: a trace's names repeat (one operation, many spans), and a flame graph
    # asks for each box's name.
    return sum(map(_em_bold if bold else _em, text))


def text_width(text: str, size_px: float, *, bold: bool = False) -> float:
    """Width of ``text`` in px at ``size_px``, in the bold table when ``bold`` (font-weight 600
    or more) (see the module contract)."""
    return _width_em(text, bold) * size_px


def fit_width(text: str, width_px: float, size_px: float, *, bold: bool = False) -> str:
    """``text``, or its longest prefix and "…", within ``width_px`` (see the module contract)."""
    if _width_em(text, bold) * size_px <= width_px:
        return text
    em = _em_bold if bold else _em
    room = width_px - em(ELLIPSIS) * size_px
    if room < 0:
        return ""
    used = 0.0
    for index, char in enumerate(text):
        used += em(char) * size_px
        if used > room:
            return text[:index].rstrip() + ELLIPSIS if index else ""
    return text  # not reached: the whole text was wider than the room
