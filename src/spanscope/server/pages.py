"""The web pages of ``spanscope serve``: trace search, one trace's waterfall, the service map.

Routes (GET):

- ``/`` the search page (``server/ui/search.*``). It is plain HTML/CSS/JS inlined into one
  document; its script calls only the same-origin Jaeger API (``/api/services``,
  ``/api/services/{s}/operations``, ``/api/traces``) and keeps the query in the page URL.
- ``/trace/{id}`` and ``/trace?id=...`` one trace's waterfall (``spanscope.server.trace_page``);
- ``/monitor`` requests/s, error rate and latency over time per service, a service's
  operations table (``ui/monitor.*`` over ``/api/v1/monitor``);
- ``/analysis``, ``/compare`` and ``/quality``: why requests are slow or failing, what changed
  and instrumentation quality (``spanscope.server.insight_pages``);
- ``/services?lookback=1h`` ``spanscope.viz``'s service map over the traces of the window, at
  most ``max_map_traces`` of them (``?limit=``): when more match, a sample spread over the
  window (``insight_api.sample_traces``), as the Analysis, Compare and Quality pages read, and
  the page says so ("a sample of 1,000 of 12,000 traces with a matching span in the last hour").
- any other GET path outside the APIs: an HTML 404 page; pages never answer with a traceback.

The search, Analysis, Compare, Quality and error pages share one shell, ``server/ui/page.html``
(head, top bar, navigation), filled by ``ui_page`` with the page's own body fragment
(``ui/<page>.html``). The trace and service-map pages are instead ``spanscope.viz``'s
self-contained pages (the files ``spanscope view`` and ``servicemap`` write), with the
navigation injected into their top bar.
Every page runs ``ui/theme.js`` in its head, so a light / dark choice holds from page to page.

Pages load nothing from the network but the API calls above: no CDN, no web fonts. Building a
page (assembly, analysis, rendering) runs in a worker thread so it never stalls the receivers.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from functools import cache
from importlib import resources
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Match, NoMatchFound, Route
from starlette.types import Receive, Scope, Send

from spanscope import __version__
from spanscope.store import TraceQuery
from spanscope.units import parse_duration
from spanscope.viz.page import asset, fill, json_block, text
from spanscope.viz.palette import ERROR_COLOR, PALETTE

DEFAULT_MAP_TRACES = 1000
MAX_MAP_TRACES = 10_000
# The time windows the pages offer ("the last hour"), for every page's form and the map's.
LOOKBACKS = {
    "15m": "15 minutes",
    "1h": "hour",
    "6h": "6 hours",
    "24h": "24 hours",
    "7d": "7 days",
}
DEFAULT_LOOKBACK = "1h"
# Paths that belong to the APIs and receivers: their own errors (JSON, 405) must stay theirs.
_NOT_PAGES = ("/api/", "/v1/", "/metrics", "/healthz")
_NO_STORE = {"Cache-Control": "no-store"}
# The light / dark switch of a page's top bar (``helpers.js`` makes it work).
THEME_SWITCH = (
    '<button id="theme" class="btn ghost icon" title="Switch light / dark">&#9680;</button>'
)


@cache
def ui_asset(name: str) -> str:
    """The text of one file shipped in ``spanscope/server/ui``."""
    return resources.files("spanscope.server").joinpath("ui", name).read_text("utf-8")


def html_response(body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(body, status_code=status, headers=_NO_STORE)


def ui_page(
    *,
    title: str,
    active: str,
    main: str,
    css: tuple[str, ...] = (),
    js: tuple[str, ...] = (),
    topbar: str = "",
    config: dict[str, object] | None = None,
    status: int = 200,
) -> HTMLResponse:
    """A page of ``serve`` in the one shell of them all (``ui/page.html``: head, top bar with the
    brand and the navigation, ``active`` marked): ``main`` is the page's body (a filled
    ``ui/*.html`` fragment), ``topbar`` what the page adds at the top bar's end, and ``css`` and
    ``js`` the ``ui/`` files inlined after ``viz/assets/theme.css`` and ``common.css`` and before
    ``nav.css``, in order.
    The scripts find ``config`` and the time windows (``LOOKBACKS``, ``DEFAULT_LOOKBACK``) in
    the page's JSON block ``#spanscope-config`` (``helpers.js``: ``SS.config``)."""
    body = fill(
        ui_asset("page.html"),
        {
            "TITLE": text(f"{title} · spanscope"),
            "VERSION": text(__version__),
            "ICON": _favicon_uri(),
            "CSS": "\n".join(
                [asset("theme.css"), *(ui_asset(name) for name in ("common.css", *css, "nav.css"))]
            ),
            "THEME_JS": ui_asset("theme.js"),
            "NAV": nav_links(active),
            "TOPBAR": topbar,
            "MAIN": main,
            "CONFIG": json_block(
                {
                    "lookbacks": _lookback_config(),
                    "defaultLookback": DEFAULT_LOOKBACK,
                    **(config or {}),
                }
            ),
            "JS": "".join(ui_asset(name) for name in js),
        },
    )
    return html_response(body, status)


def lookback_options() -> str:
    """The ``<option>``s of a form's time window, ``DEFAULT_LOOKBACK`` chosen."""
    return "".join(
        f'<option value="{key}"{" selected" if key == DEFAULT_LOOKBACK else ""}>'
        f"Last {window}</option>"
        for key, window in LOOKBACKS.items()
    )


@cache
def _lookback_config() -> dict[str, dict[str, object]]:
    return {
        key: {"text": window, "us": parse_duration(key) // 1000}
        for key, window in LOOKBACKS.items()
    }


def error_page(
    status: int, heading: str, message: str, links: Sequence[tuple[str, str]] = ()
) -> HTMLResponse:
    """A page for a bad or unknown address, in the look of the other pages; ``links``
    (address, text) are listed under the message: where the user may have meant to go."""
    listed = "".join(f'<li><a href="{text(href)}">{text(label)}</a></li>' for href, label in links)
    main = fill(
        ui_asset("error.html"),
        {
            "STATUS": str(status),
            "HEADING": text(heading),
            "MESSAGE": text(message),
            "LINKS": f'<ul class="error-links">{listed}</ul>' if listed else "",
        },
    )
    return ui_page(
        title=f"{status} {heading}",
        active="",
        main=main,
        css=("error.css",),
        js=("nav.js",),
        status=status,
    )


def nav_links(active: str) -> str:
    """The links between the pages, the ``active`` one marked (``""``: none), then the box to
    open a trace by id (``FIND_TRACE``)."""
    links = [
        ("/", "Search", "search"),
        ("/monitor", "Monitor", "monitor"),
        ("/analysis", "Analysis", "analysis"),
        ("/services", "Service map", "services"),
        ("/compare", "Compare", "compare"),
        ("/quality", "Quality", "quality"),
    ]
    return (
        "".join(
            f'<a class="ss-link{" active" if key == active else ""}" href="{href}"'
            f"{' data-search-link' if key == 'search' else ''}>{label}</a>"
            for href, label, key in links
        )
        + FIND_TRACE
    )


# The navigation's box to open a trace by id, as pasted from a log line or a report.
FIND_TRACE = (
    '<form class="ss-find" action="/trace" method="get" role="search">'
    '<input class="ss-find-input" name="id" placeholder="Trace id…" aria-label="Open a trace by '
    'its id (or the start of it)" spellcheck="false" autocomplete="off" required></form>'
)


def inject_navigation(page: str, head: str, header: str, after_header: str = "") -> str:
    """Add ``head`` before ``</head>``, ``header`` into the page's first header (the viz pages'
    top bar: before its theme switch, else at its end) and ``after_header`` just after it."""
    page = page.replace("</head>", head + "</head>", 1)
    end = page.find("</header>")
    if end < 0:  # no top bar: put the strip first in the body
        at = page.find(">", page.find("<body")) + 1
        return page[:at] + header + after_header + page[at:]
    at = page.find('<button id="theme"', page.find("<header"), end)
    if at < 0:
        at = end
    end += len("</header>")
    return page[:at] + header + page[at:end] + after_header + page[end:]


def head_extras() -> str:
    return (
        f'<link rel="icon" href="{_favicon_uri()}">'
        f"<style>{ui_asset('nav.css')}</style><script>{ui_asset('nav.js')}</script>"
        f"<script>{ui_asset('theme.js')}</script>"
    )


@cache
def _favicon_uri() -> str:
    from urllib.parse import quote

    return "data:image/svg+xml," + quote(ui_asset("favicon.svg").strip())


class _PageNotFound(BaseRoute):
    """Answers every GET outside the APIs that no other route took with the HTML 404 page.

    It must come last; API paths are left alone so they keep their JSON errors and 405s."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if (
            scope["type"] == "http"
            and scope["method"] in ("GET", "HEAD")
            and not scope["path"].startswith(_NOT_PAGES)
        ):
            return Match.FULL, {}
        return Match.NONE, {}

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = error_page(
            404, "Page not found", f"There is no page at {scope['path']}. Start from the search."
        )
        await response(scope, receive, send)

    def url_path_for(self, name: str, /, **path_params: object):
        raise NoMatchFound(name, path_params)


class Pages:
    """The page routes over a store (anything with the ``spanscope.store.Store`` methods)."""

    def __init__(self, store, max_map_traces: int = DEFAULT_MAP_TRACES) -> None:
        if not 0 < max_map_traces <= MAX_MAP_TRACES:
            raise ValueError(f"max_map_traces must be in 1..{MAX_MAP_TRACES}")
        self.store = store
        self.max_map_traces = max_map_traces

    def routes(self) -> list[BaseRoute]:
        from spanscope.server import insight_pages  # built on ui_page: imported once this is
        from spanscope.server.trace_page import TracePage

        return [
            Route("/", self.search),
            *TracePage(self.store).routes(),
            Route("/services", self.services),
            Route("/monitor", self.monitor),
            Route("/favicon.ico", self.favicon),
            *insight_pages.routes(),
            _PageNotFound(),
        ]

    async def search(self, request: Request) -> Response:
        return ui_page(
            title="Search traces",
            active="search",
            main=fill(ui_asset("search.html"), {"LOOKBACKS": lookback_options()}),
            config={"palette": PALETTE, "error": ERROR_COLOR},
            css=("search.css",),
            js=("helpers.js", "search.js"),
            topbar='<span id="store-meta" class="muted"></span>\n' + THEME_SWITCH,
        )

    async def monitor(self, request: Request) -> Response:
        """Requests, errors and latency over time per service (``ui/monitor.*``, data from
        ``/api/v1/monitor``, ``spanscope.server.metrics_api``)."""
        return ui_page(
            title="Monitor",
            active="monitor",
            main=fill(ui_asset("monitor.html"), {"LOOKBACKS": lookback_options()}),
            config={"error": ERROR_COLOR},
            css=("monitor.css",),
            js=("helpers.js", "monitor.js"),
            topbar=THEME_SWITCH,
        )

    async def favicon(self, request: Request) -> Response:
        return Response(
            ui_asset("favicon.svg"),
            media_type="image/svg+xml",
            headers={"Cache-Control": "max-age=86400"},
        )

    async def services(self, request: Request) -> Response:
        lookback_text = request.query_params.get("lookback") or DEFAULT_LOOKBACK
        try:
            lookback_ns = parse_duration(lookback_text)
            if lookback_ns <= 0:
                raise ValueError("the window must be longer than zero")
        except ValueError as exc:
            return error_page(400, "Bad time window", f"lookback={lookback_text!r}: {exc}")
        limit_text = request.query_params.get("limit") or str(self.max_map_traces)
        if not limit_text.isdecimal() or not 0 < int(limit_text) <= MAX_MAP_TRACES:
            return error_page(
                400, "Bad limit", f"limit={limit_text!r}: expected a number 1..{MAX_MAP_TRACES}"
            )
        limit = int(limit_text)
        body = await run_in_threadpool(self._services_page, lookback_text, lookback_ns, limit)
        return html_response(body)

    def _services_page(self, lookback_text: str, lookback_ns: int, limit: int) -> str:
        from spanscope.server.insight_api import sample_traces
        from spanscope.viz.servicemap import render_servicemap_html

        end = time.time_ns()
        # A sample spread over the window when more match, not its newest minutes: the map
        # of "the last 24 hours" shows the calls of the whole day, as the analyses read it.
        sampled = sample_traces(
            self.store,
            TraceQuery(start_time_min=end - lookback_ns, start_time_max=end, num_traces=limit),
        )
        traces = sampled.traces
        window = LOOKBACKS.get(lookback_text, lookback_text)
        page = render_servicemap_html(
            traces, title=f"Service map · last {window}", color_names=self.store.services()
        )
        if not traces:
            note = text(
                f"No traces started in the last {window}. Try a longer window, or send spans "
                "to this server's OTLP or Zipkin receiver."
            )
        elif sampled.matched > sampled.read:
            note = _sample_note(sampled.read, sampled.matched, window, lookback_text, limit)
        else:
            note = text(f"Built from all {len(traces):,} traces that started in the last {window}.")
        windows = "".join(
            f'<a class="ss-seg{" active" if w == lookback_text else ""}" '
            f'href="/services?lookback={w}">{w}</a>'
            for w in LOOKBACKS
        )
        strip = (
            f'<nav class="ss-nav" aria-label="spanscope">{nav_links("services")}'
            f'<span class="ss-segs" role="group" aria-label="Time window">{windows}</span></nav>'
        )
        kind = "ss-note ss-empty" if not traces else "ss-note"
        # The window, for servicemap.js: here a click on a service or a call opens its search.
        page = page.replace("<body>", f'<body data-search-window="{text(lookback_text)}">', 1)
        return inject_navigation(page, head_extras(), strip, f'<p class="{kind}">{note}</p>')


def _sample_note(read: int, matched: int, window: str, lookback_text: str, limit: int) -> str:
    """The map's note when more traces match than it reads: a sample, said as the Analysis,
    Compare and Quality pages say it (``ui/helpers.js`` ``capNote``), with a link that reads up
    to ``MAX_MAP_TRACES``."""
    more = ""
    if limit < MAX_MAP_TRACES:
        wider = "/services?" + urlencode({"lookback": lookback_text, "limit": MAX_MAP_TRACES})
        more = f' <a class="read-more" href="{text(wider)}">read up to {MAX_MAP_TRACES:,}</a>'
    why = (
        "More traces match than the limit: those read were chosen by trace id, the same ones "
        f"every time. A larger limit (up to {MAX_MAP_TRACES:,}) reads a bigger sample"
    )
    return (
        f'Built from <span class="capped" title="{text(why)}">a sample of {read:,} of '
        f"{matched:,} traces with a matching span in the last "
        f"{text(window)}, spread over it</span>.{more}"
    )
