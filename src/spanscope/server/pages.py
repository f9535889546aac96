"""The web pages of ``spanscope serve``: trace search, one trace's waterfall, the service map.

Routes (GET):

- ``/`` the search page (``server/ui/search.*``). It is plain HTML/CSS/JS inlined into one
  document; its script calls only the same-origin Jaeger API (``/api/services``,
  ``/api/services/{s}/operations``, ``/api/traces``) and keeps the query in the page URL.
- ``/trace?id=...`` (the navigation's trace-id box) and ``/trace/{id}`` take a whole id or the
  start of one (redirected to the trace's own address when one recent trace matches);
- ``/trace/{id}`` the waterfall page of ``spanscope.viz`` for the stored trace, with a strip of
  links added to its top bar: back to the search, downloads through ``/api/v1/traces/{id}``
  in each writable format, and the trace's analysis JSON. Its "in short" line compares the
  request with the typical one of its endpoint, found among up to ``PEERS`` others of the
  endpoint stored within half an hour of it.
- ``/monitor`` requests/s, error rate and latency over time per service, a service's
  operations table (``ui/monitor.*`` over ``/api/v1/monitor``);
- ``/analysis``, ``/compare`` and ``/quality``: why requests are slow or failing, what changed
  and instrumentation quality (``spanscope.server.insight_pages``);
- ``/services?lookback=1h`` ``spanscope.viz``'s service map over the most recent traces of the
  window, at most ``max_map_traces`` of them (the page says how many it used).
- any other GET path outside the APIs: an HTML 404 page. A malformed trace id is a 400 page,
  an unknown one a 404 page; pages never answer with a traceback.

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
from functools import cache
from importlib import resources

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Match, NoMatchFound, Route
from starlette.types import Receive, Scope, Send

from spanscope import __version__
from spanscope.formats import FORMATS
from spanscope.model import InvalidIdError, Trace, normalize_trace_id
from spanscope.store import StoreError, TraceQuery
from spanscope.units import parse_duration
from spanscope.viz.page import asset, fill, json_block, text
from spanscope.viz.palette import ERROR_COLOR, PALETTE

# A trace page compares its request with the typical one of its endpoint (analysis.typical),
# found among this many others of the endpoint, within this long before or after it.
PEERS = 50
PEERS_WINDOW_NS = 30 * 60 * 10**9
PEER_SPANS = 10_000
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


def _html(body: str, status: int = 200) -> HTMLResponse:
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
    return _html(body, status)


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


def error_page(status: int, heading: str, message: str) -> HTMLResponse:
    """A page for a bad or unknown address, in the look of the other pages."""
    main = fill(
        ui_asset("error.html"),
        {"STATUS": str(status), "HEADING": text(heading), "MESSAGE": text(message)},
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
    """The links between the pages, the ``active`` one marked (``""``: none)."""
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


def _inject(page: str, head: str, header: str, after_header: str = "") -> str:
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


def _head_extras() -> str:
    return (
        f'<link rel="icon" href="{_favicon_uri()}">'
        f"<style>{ui_asset('nav.css')}</style><script>{ui_asset('nav.js')}</script>"
        f"<script>{ui_asset('theme.js')}</script>"
    )


@cache
def _favicon_uri() -> str:
    from urllib.parse import quote

    return "data:image/svg+xml," + quote(ui_asset("favicon.svg").strip())


def _downloads(trace_id: str) -> str:
    items = "".join(
        f'<a href="/api/v1/traces/{trace_id}?format={name}" '
        f'download="trace-{trace_id}{fmt.extension}">'
        f"<b>{text(name)}</b><span>{text(fmt.description)}</span></a>"
        for name, fmt in FORMATS.items()
        if fmt.writable
    )
    return (
        '<details class="ss-menu"><summary class="ss-link" title="Download this trace">'
        f'Download &#9662;</summary><div class="ss-menu-list">{items}</div></details>'
    )


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

        return [
            Route("/", self.search),
            Route("/trace", self.find_trace),
            Route("/trace/{trace_id}", self.trace),
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

    async def find_trace(self, request: Request) -> Response:
        """``/trace?id=...``: the navigation's trace-id box."""
        return await self._open_trace(request.query_params.get("id", ""), at_its_address=False)

    async def trace(self, request: Request) -> Response:
        return await self._open_trace(request.path_params["trace_id"], at_its_address=True)

    async def _open_trace(self, raw: str, at_its_address: bool) -> Response:
        """The trace page of a pasted id: a whole id (32 or 16 hex digits), or the start of one
        as reports and pages show ids ("8e8bdfe2a873…"), looked for among the most recent
        traces (``store.lookup``) and redirected to when one matches."""
        from spanscope.store.lookup import id_text, trace_ids_starting_with

        text = id_text(raw)
        if not text:
            return RedirectResponse("/", status_code=303)
        try:
            trace_id = normalize_trace_id(text)
        except InvalidIdError as exc:
            return error_page(400, "Not a trace id", f"{raw!r} is not a trace id: {exc}")
        spans = await run_in_threadpool(self.store.get_trace, trace_id)
        if spans:
            if not at_its_address or trace_id != raw:  # one address per trace
                return RedirectResponse(f"/trace/{trace_id}", status_code=303)
            return _html(await run_in_threadpool(self._trace_page, trace_id, spans))
        found: list[str] = []
        looked_at = 0
        if len(text) < 32:
            found, looked_at = await run_in_threadpool(trace_ids_starting_with, self.store, text)
        if len(found) == 1:
            return RedirectResponse(f"/trace/{found[0]}", status_code=303)
        if found:
            return error_page(
                400,
                "Give more digits",
                f"{len(found):,} traces have ids starting with {text}: "
                f"{', '.join(found[:5])}{', ...' if len(found) > 5 else ''}",
            )
        among = (
            f", nor one whose id starts with {text} among the {looked_at:,} most recent"
            if (looked_at)
            else ""
        )
        return error_page(
            404,
            "Trace not found",
            f"No trace {trace_id} in the store{among}. It may not have arrived yet, may have "
            "been sampled out, or was deleted by retention.",
        )

    def _trace_page(self, trace_id: str, spans: list) -> str:
        from spanscope.assembly import build_trace
        from spanscope.viz.waterfall import render_waterfall

        trace = build_trace(trace_id, spans)
        # colours dealt over every stored service, as on the service map
        page = render_waterfall(
            [trace], color_names=self.store.services(), peers=self._peers(trace)
        )
        strip = (
            '<nav class="ss-nav" aria-label="spanscope">'
            '<a class="ss-link" href="/" data-search-link>&larr; Search</a>'
            f"{_downloads(trace_id)}"
            f'<a class="ss-link" href="/api/v1/traces/{trace_id}/analysis" '
            'title="Critical path, self times, problems and the analysis report">Analysis JSON</a>'
            f'<a class="ss-link" href="/services">Service map</a>{FIND_TRACE}</nav>'
        )
        return _inject(page, _head_extras(), strip)

    def _peers(self, trace: Trace) -> list[Trace]:
        """Other requests of the trace's endpoint around its time, to find the typical one
        the page compares it with: the most recent ``PEERS`` within ``PEERS_WINDOW_NS`` on either
        side, read a page at a time until about ``PEER_SPANS`` spans have been read (the first
        page one trace, the next sized by it), so an endpoint of big traces costs a read or two,
        not all of them. None for a big trace itself, and none when the store cannot say (the
        page is drawn without the comparison)."""
        from spanscope.analysis.typical import MIN_REQUESTS
        from spanscope.assembly import build_trace

        if not trace.roots or len(trace.spans) > PEER_SPANS // MIN_REQUESTS:
            return []
        root = trace.root
        query = TraceQuery(
            service=root.service_name,
            operation=root.name,
            start_time_min=max(0, root.start_ns - PEERS_WINDOW_NS),
            start_time_max=root.start_ns + PEERS_WINDOW_NS,
            num_traces=PEERS + 1,  # the trace itself is one of them
        )
        peers: list[Trace] = []
        try:
            ids = [i for i in self.store.find_trace_ids(query) if i != trace.trace_id][:PEERS]
            spans_read, at, page = 0, 0, 1
            while at < len(ids) and spans_read < PEER_SPANS:
                for spans in self.store.get_traces(ids[at : at + page]):
                    if spans:
                        peers.append(build_trace(spans[0].trace_id, spans))
                        spans_read += len(spans)
                at += page
                per_trace = max(spans_read // at, 1)
                page = max(1, (PEER_SPANS - spans_read) // per_trace)
        except StoreError:
            return []
        return peers

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
        return _html(body)

    def _services_page(self, lookback_text: str, lookback_ns: int, limit: int) -> str:
        from spanscope.server.insight_api import search_traces
        from spanscope.viz.servicemap import render_servicemap_html

        end = time.time_ns()
        traces = search_traces(
            self.store,
            TraceQuery(start_time_min=end - lookback_ns, start_time_max=end, num_traces=limit),
        )
        window = LOOKBACKS.get(lookback_text, lookback_text)
        page = render_servicemap_html(
            traces, title=f"Service map · last {window}", color_names=self.store.services()
        )
        if not traces:
            note = (
                f"No traces started in the last {window}. Try a longer window, or send spans "
                "to this server's OTLP or Zipkin receiver."
            )
        elif len(traces) >= limit:
            note = (
                f"Built from the {len(traces):,} most recent traces of the last {window}; "
                "older ones in the window are left out (raise it with ?limit=, up to "
                f"{MAX_MAP_TRACES:,})."
            )
        else:
            note = f"Built from all {len(traces):,} traces that started in the last {window}."
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
        return _inject(page, _head_extras(), strip, f'<p class="{kind}">{text(note)}</p>')
