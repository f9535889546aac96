"""The interactive waterfall page: a trace list and, per trace, a Gantt view of its spans.

Contract: ``render_waterfall(traces, title=..., note=...) -> str`` returns one self-contained
HTML document (no network, works from ``file://``). With one trace the page opens its
waterfall; with several it opens on a sortable trace list. The data is embedded once, in the
two JSON blocks described in ``spanscope.viz.payload``; the details block is laid out by
``details_block`` so the page parses only the parts it needs, ``CHUNK`` spans a part. The page
script (``assets/waterfall.js``) draws only the rows on screen, so 50,000-span traces stay
smooth.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

from spanscope import __version__
from spanscope.model import Trace
from spanscope.viz.page import asset, json_block, render_page, text
from spanscope.viz.payload import build_payload

# Spans per details block (about 180 kB of JSON for 2,000 shop spans): the page parses a block
# when it first needs one of its spans, so a details panel never waits for all the details.
CHUNK = 2000


def render_waterfall(
    traces: Sequence[Trace],
    *,
    title: str = "",
    note: str = "",
    color_names: Iterable[str] = (),
    peers: Sequence[Trace] = (),
) -> str:
    """Render ``traces`` as one HTML page (see the module contract); ``color_names`` and
    ``peers`` as in ``spanscope.viz.payload.build_payload``."""
    if not traces:
        raise ValueError("no traces to show")
    summary, details = build_payload(
        traces, title=title, note=note, color_names=color_names, peers=peers
    )
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
            "DETAILS": details_block(details),
        },
    )


def details_block(details: dict, chunk: int = CHUNK) -> str:
    """The details block: one JSON array, ``[tables, part, part, ...]``, where each part holds
    the details of ``chunk`` spans (all traces' rows one after another) and ``tables`` the
    shared tables plus ``chunk`` and ``at``: where each part starts in the block's text, in
    UTF-16 units as JavaScript counts (and one past the last part's end, as if a comma
    followed it). So the page parses the tables and then only the parts it needs, and the
    block is still one JSON value for anyone else."""
    parts = [json_block(part) for part in _chunks(details, chunk)]
    tables = {key: value for key, value in details.items() if key != "traces"}
    sizes = [_utf16(part) for part in parts]
    head = 0
    for _ in range(8):  # the offsets are in the head they move: stop when its size holds
        at = [head + 1 + sum(sizes[:k]) + k for k in range(len(parts) + 1)]
        # "at" first: the page reads it at a fixed place, before parsing anything else
        text = json_block({"at": at, "chunk": chunk, **tables})
        if 1 + _utf16(text) == head:
            break
        head = 1 + _utf16(text)
    else:
        raise AssertionError("the details block's offsets did not settle")
    return "[" + ",".join([text, *parts]) + "]"


def _utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _chunks(details: dict, chunk: int) -> Iterator[list]:
    """The spans' details, every trace's rows one after another, ``chunk`` at a time."""
    part: list = []
    for rows in details["traces"]:
        for row in rows:
            part.append(row)
            if len(part) == chunk:
                yield part
                part = []
    if part:
        yield part
