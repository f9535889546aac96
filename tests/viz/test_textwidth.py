"""The text-width tables against the fonts themselves, as Chromium measures them.

``spanscope.viz.fontwidths`` holds per-character advances of DejaVu Sans and Liberation Sans
(the larger of the two), regular and bold. Here Chromium measures every character of each table
in both fonts and in the stack the images ask for, at the table's weight, and whole names too
(kerning included): a table must never be narrower, nor much wider for the fonts it was made
from. Run this file as a script to print the tables again from the fonts of this machine.
"""

from __future__ import annotations

import sys

import pytest

from spanscope.viz.fontwidths import BOLD, REGULAR
from spanscope.viz.svg import FONT
from spanscope.viz.textwidth import text_width

FONTS = ['"DejaVu Sans"', '"Liberation Sans"', FONT]
# CSS weight -> the table for it (600, what the images ask for, picks the bold faces too)
WEIGHTS = {"normal": REGULAR, "600": BOLD}
NAMES = [
    "checkout-service",
    "WWW.MMM.gateway",
    "payment-authorisation-and-fraud-scoring",
    "Ελληνική-υπηρεσία",
    "служба-доставки",
    "café-crème-ÆØÅ",
    "AVAVAV To Ty Te Yo",  # pairs that kern
    "Dịch-vụ-thanh-toán-Ổn-định",
    "Հայերեն-ծառայություն",
    "שירות-תשלומים",
    "خدمة-الدفع-والفواتير",
    "≥ ∑ ⌘ ① ■ ★ ✓ №",
]

# Each character's advance at 1000 px, in every font asked for.
_MEASURE = """([blocks, fonts, weight]) => {
  const g = document.createElement('canvas').getContext('2d');
  const out = {};
  for (const font of fonts) {
    g.font = weight + ' 1000px ' + font;
    out[font] = blocks.map(([start, count]) => {
      const widths = [];
      for (let c = start; c < start + count; c++) {
        widths.push(g.measureText(String.fromCodePoint(c)).width);
      }
      return widths;
    });
  }
  return out;
}"""

_WORDS = """([names, font, weight]) => {
  const g = document.createElement('canvas').getContext('2d');
  g.font = weight + ' 11px ' + font;
  return names.map(n => g.measureText(n).width);
}"""


def _blocks() -> list[tuple[int, int]]:
    return [(start, len(values.split())) for start, values in REGULAR.items()]


def _measure(browser, weight: str) -> dict[str, list[list[float]]]:
    page = browser.new_page()
    page.set_content("<p>spanscope</p>")
    found = page.evaluate(_MEASURE, [_blocks(), FONTS, weight])
    page.close()
    return found


@pytest.mark.browser
@pytest.mark.parametrize("weight", WEIGHTS)
def test_the_table_is_the_wider_of_its_two_fonts_for_every_character(browser, weight):
    measured = _measure(browser, weight)
    assert list(WEIGHTS[weight]) == list(REGULAR)  # the same blocks at every weight
    for (start, _), *fonts in zip(_blocks(), *(measured[font] for font in FONTS[:2]), strict=True):
        table = [int(v) for v in WEIGHTS[weight][start].split()]
        for offset, value in enumerate(table):
            widest = max(font[offset] for font in fonts)
            assert abs(value - widest) <= 0.5, (weight, hex(start + offset), value, widest)


@pytest.mark.browser
@pytest.mark.parametrize("weight", WEIGHTS)
@pytest.mark.parametrize("font", FONTS)
def test_names_are_never_wider_than_the_estimate_nor_much_narrower(browser, font, weight):
    page = browser.new_page()
    page.set_content("<p>spanscope</p>")
    widths = page.evaluate(_WORDS, [NAMES, font, weight])
    page.close()
    for name, width in zip(NAMES, widths, strict=True):
        estimate = text_width(name, 11, bold=weight != "normal")
        assert width <= estimate + 0.01, (font, weight, name, width, estimate)
        # Liberation Sans (Arial's metrics) is the narrower of the two: within a fifth; joined
        # Arabic letters are narrower than alone (Liberation has none, a fallback draws them)
        floor = 0.6 if any("\u0600" <= c <= "\u06ff" for c in name) else 0.8
        assert width >= floor * estimate, (font, weight, name, width, estimate)


def _print_table() -> None:
    """Print the REGULAR and BOLD dicts of ``spanscope.viz.fontwidths`` from this machine's
    fonts (the larger of the two advances)."""
    import textwrap

    from tests.browser import chromium

    running = chromium()  # kept: the browser closes when the generator is collected
    browser = next(running)
    for weight, table in (("normal", "REGULAR"), ("600", "BOLD")):
        measured = _measure(browser, weight)
        print(f"{table}: dict[int, str] = {{")
        for index, (start, _) in enumerate(_blocks()):
            widths = [
                round(max(values))
                for values in zip(*(measured[f][index] for f in FONTS[:2]), strict=True)
            ]
            print(f"    0x{start:04X}: (")
            for line in textwrap.wrap(" ".join(map(str, widths)), 88):
                print(f'        "{line} "')
            print("    ),")
        print("}")


if __name__ == "__main__":
    sys.exit(_print_table())
