"""The interactive waterfall page: a trace list and, per trace, a Gantt view of its spans.

Contract: ``render_waterfall(traces, title=..., note=...) -> str`` returns one self-contained
HTML document (no network, works from ``file://``). With one trace the page opens its
waterfall; with several it opens on a sortable trace list. The data is embedded once, as the
two JSON blocks described in ``spanscope.viz.payload``; the page script
(``assets/waterfall.js``) draws only the rows on screen, so 50,000-span traces stay smooth.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from spanscope import __version__
from spanscope.model import Trace
from spanscope.viz.page import asset, json_block, render_page, text
from spanscope.viz.payload import build_payload


def render_waterfall(
    traces: Sequence[Trace], *, title: str = "", note: str = "", color_names: Iterable[str] = ()
) -> str:
    """Render ``traces`` as one HTML page (see the module contract); ``color_names`` as in
    ``spanscope.viz.payload.build_payload``."""
    if not traces:
        raise ValueError("no traces to show")
    summary, details = build_payload(traces, title=title, note=note, color_names=color_names)
    page_title = title or (
        f"trace {traces[0].trace_id}" if len(traces) == 1 else f"{len(traces)} traces"
    )
    return render_page(
        "waterfall.html",
        {
            "TITLE": text(f"{page_title} · spanscope"),
            "VERSION": text(__version__),
            "CSS": asset("theme.css") + asset("waterfall.css"),
            "JS": asset("waterfall.js"),
            "DATA": json_block(summary),
            "DETAILS": json_block(details),
        },
    )
