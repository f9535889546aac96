"""The Compare and Quality pages of ``spanscope serve``:

- ``/compare?service=...&lookback=1h&baseline=1d`` — what changed: the window against a baseline
  window (``/api/v1/diff``), with a diverging bar chart per endpoint of where the time per
  request changed;
- ``/quality?service=...&lookback=1h`` — instrumentation quality (``/api/v1/lint``): the score
  per service and a card per rule that found something, examples linked to their traces.

Each page is a static shell (``server/ui/{compare,quality}.*`` with ``insight.*`` shared), its
script calling only those same-origin APIs and ``/api/services``; the query is kept in the
address. Nothing is loaded from the network.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from spanscope import __version__


def _page(name: str, title: str, active: str) -> HTMLResponse:
    from spanscope.server.pages import _favicon_uri, fill, nav_links, ui_asset

    body = fill(
        ui_asset(f"{name}.html"),
        {
            "TITLE": f"{title} · spanscope",
            "VERSION": __version__,
            "ICON": _favicon_uri(),
            "CSS": ui_asset("common.css") + ui_asset("search.css") + ui_asset("insight.css"),
            "NAV_CSS": ui_asset("nav.css"),
            "NAV": nav_links(active),
            "JS": ui_asset("nav.js") + ui_asset("insight.js") + ui_asset(f"{name}.js"),
        },
    )
    return HTMLResponse(body, headers={"Cache-Control": "no-store"})


async def compare_page(request: Request) -> Response:
    return _page("compare", "What changed", "compare")


async def quality_page(request: Request) -> Response:
    return _page("quality", "Instrumentation quality", "quality")


def routes() -> list[Route]:
    return [Route("/compare", compare_page), Route("/quality", quality_page)]
