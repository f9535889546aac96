"""The flame graph legend in headless Chromium: keys never overlap or run past the image's
edge, whatever the service names (short, long, wide capitals, non-ASCII), light and dark.

The legend used to place each key by a guessed 6.6 px per character: wide names ran into the
next key, narrow ones left gaps, and services past the first row were left out. Each key's box
here is the union of its swatch's and its text's ``getBBox()`` as Chromium lays them out.
"""

from __future__ import annotations

from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from spanscope.assembly import build_trace
from spanscope.model import Span, SpanKind
from spanscope.viz.flamegraph import PAD, WIDTH, render_aggregate_flamegraph, render_flamegraph
from spanscope.viz.legend import LEGEND_GAP, LEGEND_SIZE
from spanscope.viz.textwidth import ELLIPSIS, fit_width, text_width

SHORT = ["a", "db", "api", "web", "io", "m", "W", "ui"]
LONG = [
    "checkout-service-with-an-extremely-long-name-from-a-helm-release-production-eu-west-1",
    "WWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWW",
    "MMMM-GATEWAY-MMMM-ROUTER-MMMM",
    "iiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiii-lllllllll",
    "payment-authorisation-and-fraud-scoring",
    "OrderHistoryQueryServiceImplementation",
]
NON_ASCII = [
    "zahlungsdienst-größe",
    "Ελληνική-υπηρεσία-πληρωμών",
    "служба-доставки-заказов",
    "日本語の注文サービス",
    "café-crème-ÆØÅ-ŒŠŽ",
    "e\u0301-combining-marks",
    "emoji-🚀-service",
]
CASES = {
    "short": SHORT,
    "long": LONG,
    "non-ascii": NON_ASCII,
    "many": [f"svc-{k:02d}-{'x' * (k % 9)}" for k in range(60)] + LONG[:2] + NON_ASCII[:3],
}
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"


def _trace(services: list[str]):
    """A root calling one span of each service, one after another."""
    root = Span(TRACE_ID, "a" * 16, "GET /", 0, 1000 * (len(services) + 1))
    root.kind, root.service_name = SpanKind.SERVER, services[0]
    spans = [root]
    for k, service in enumerate(services):
        span = Span(TRACE_ID, f"{k + 1:016x}", "work", 1000 * k + 10, 1000 * k + 900, root.span_id)
        span.service_name = service
        spans.append(span)
    return build_trace(TRACE_ID, spans)


# A key is a text.legend and the swatch drawn just before it (the old legend had no groups).
_KEYS = """() => Array.from(document.querySelectorAll('text.legend')).map(text => {
  const prev = text.previousElementSibling;
  const swatch = prev && prev.tagName === 'rect' ? prev : null;
  const cls = swatch ? swatch.getAttribute('class') || '' : '';
  const kind = !swatch ? 'more' : cls === 'cp-key' ? 'critical' : cls === 'err-key' ? 'error' : 'service';
  const boxes = [text, swatch].filter(Boolean).map(e => e.getBBox());
  const title = text.parentNode.querySelector(':scope > title');
  return {
    kind: kind,
    label: text.textContent,
    title: title ? title.textContent : '',
    left: Math.min(...boxes.map(b => b.x)),
    right: Math.max(...boxes.map(b => b.x + b.width)),
    top: Math.min(...boxes.map(b => b.y)),
    bottom: Math.max(...boxes.map(b => b.y + b.height)),
    textWidth: text.getBBox().width,
    baseline: +text.getAttribute('y'),
  };
})"""

_BELOW = """() => {
  const details = document.getElementById('details').getBBox();
  const boxes = Array.from(document.querySelectorAll('g.f > rect:first-of-type')).map(r => r.getBBox().y);
  return {detailsTop: details.y, detailsBottom: details.y + details.height, framesTop: Math.min(...boxes)};
}"""


def _overlap(a: dict, b: dict) -> bool:
    return (
        a["left"] < b["right"]
        and b["left"] < a["right"]
        and a["top"] < b["bottom"]
        and (b["top"] < a["bottom"])
    )


@pytest.mark.browser
@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("case", list(CASES))
def test_legend_keys_never_overlap_or_leave_the_image(page, tmp_path, scheme, case):
    services = CASES[case]
    page.page.emulate_media(color_scheme=scheme)
    graphs = {
        "trace": render_flamegraph(_trace(services)),
        "aggregate": render_aggregate_flamegraph(
            [(f"{name}:op", 1000 + k) for k, name in enumerate(services)]
        ),
    }
    for kind, svg in graphs.items():
        path = tmp_path / f"{case}-{kind}.svg"
        path.write_text(svg, encoding="utf-8")
        page.open(path, "svg[data-ready='1']")
        keys = page.page.evaluate(_KEYS)
        assert keys[-1]["kind"] == "error"
        assert (kind == "trace") == any(k["kind"] == "critical" for k in keys)
        for index, key in enumerate(keys):
            # inside the image's own width (as an <img> it is 1,200 px whatever the window)
            assert key["left"] >= PAD - 0.5 and key["right"] <= WIDTH - PAD + 0.5, key
            for other in keys[index + 1 :]:
                assert not _overlap(key, other), (key, other)
        # every service is named: whole, cut with its whole name in the tooltip, or counted
        named = {k["title"] or k["label"] for k in keys if k["kind"] == "service"}
        more = [k for k in keys if k["kind"] == "more"]
        hidden = set(more[0]["title"].split(", ")) if more else set()
        assert named | hidden == set(services)
        assert (case == "many") == bool(more)
        for key in keys:
            if key["kind"] == "service" and key["label"].endswith(ELLIPSIS):
                assert key["title"].startswith(key["label"][:-1])
        # the estimate is the width the font takes here (DejaVu Sans and Liberation Sans are
        # the table's fonts): at most it, and not much more, so there are no big gaps
        for key in keys:
            if any(ord(c) > 0x4FF for c in key["label"]):
                continue  # CJK and emoji: no font for them here, drawn as narrower boxes
            estimate = text_width(key["label"], LEGEND_SIZE)
            assert key["textWidth"] <= estimate + 0.5, key
            assert key["textWidth"] >= 0.9 * estimate - 1, key
        # keys in a row sit LEGEND_GAP apart as laid out, give or take the swatch's stroke
        # (a row by its baseline: a CJK font's taller glyphs start higher than the row's others)
        rows: dict[float, list[dict]] = {}
        for key in keys:
            rows.setdefault(key["baseline"], []).append(key)
        for row in rows.values():
            row.sort(key=lambda k: k["left"])
            for a, b in pairwise(row):
                if any(ord(c) > 0x4FF for c in a["label"]):
                    continue  # boxes drawn for missing glyphs are narrower than the em allowed
                assert b["left"] - a["right"] <= LEGEND_GAP + 0.15 * a["textWidth"] + 2, (a, b)
        # the hover line and the boxes come below the legend, however many rows it has
        below = page.page.evaluate(_BELOW)
        legend_bottom = max(k["bottom"] for k in keys)
        assert below["detailsTop"] >= legend_bottom
        assert below["framesTop"] >= below["detailsBottom"]
        page.shot(f"flamegraph-legend-{case}-{kind}-{scheme}")
    assert page.errors == []


@given(st.text(max_size=80), st.floats(min_value=0, max_value=600), st.booleans())
def test_fit_width_keeps_within_the_width_and_a_prefix(text, width, bold):
    fitted = fit_width(text, width, LEGEND_SIZE, bold=bold)
    if fitted == text:
        assert text_width(text, LEGEND_SIZE, bold=bold) <= width
    elif fitted:
        assert fitted.endswith(ELLIPSIS)
        assert text.startswith(fitted[:-1])
        assert text_width(fitted, LEGEND_SIZE, bold=bold) <= width + 1e-9
        # the longest such prefix: one more character would not fit (bar a cut-off space)
        longer = text[: len(fitted)]
        if longer.strip() == longer:
            assert text_width(longer + ELLIPSIS, LEGEND_SIZE, bold=bold) > width - 1e-9
    else:  # not even one character and the ellipsis fit
        assert text_width(text[:1] + ELLIPSIS, LEGEND_SIZE, bold=bold) > width
