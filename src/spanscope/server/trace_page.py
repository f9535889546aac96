"""One trace's page in ``spanscope serve``: ``/trace/{id}`` and ``/trace?id=...``.

- ``/trace?id=...`` (the navigation's trace-id box) and ``/trace/{id}`` take a whole id or the
  start of one as reports show ids ("8e8bdfe2a873…"), looked for among the most recent traces
  (``spanscope.store.lookup``): one match is redirected to the trace's own address, several
  ask for more digits (400), none is a 404 page; a malformed id is a 400 page.
- ``/trace/{id}`` is the waterfall page of ``spanscope.viz`` for the stored trace, with a strip
  of links added to its top bar: back to the search, downloads through ``/api/v1/traces/{id}``
  in each writable format, the trace's analysis JSON, the service map and the trace-id box.
  Its "in short" line compares the request with the typical one of its endpoint
  (``analysis.typical``), found among up to ``PEERS`` others of the endpoint stored within
  ``PEERS_WINDOW_NS`` of it, read until about ``PEER_SPANS`` spans have been read.

Building the page (assembly, analysis, rendering) runs in a worker thread.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from spanscope.formats import FORMATS
from spanscope.model import InvalidIdError, Trace, normalize_trace_id
from spanscope.server.pages import (
    FIND_TRACE,
    error_page,
    head_extras,
    html_response,
    inject_navigation,
)
from spanscope.store import StoreError, TraceQuery
from spanscope.viz.page import text

# A trace page compares its request with the typical one of its endpoint (analysis.typical),
# found among this many others of the endpoint, within this long before or after it.
PEERS = 50
PEERS_WINDOW_NS = 30 * 60 * 10**9
PEER_SPANS = 10_000
# A pasted start of an id that several traces share: the ids listed as links, at most this many.
_LISTED = 10
_HEX = frozenset("0123456789abcdef")


class TracePage:
    """The trace page's routes over a store."""

    def __init__(self, store) -> None:
        self.store = store

    def routes(self) -> list[Route]:
        return [Route("/trace", self.find_trace), Route("/trace/{trace_id}", self.trace)]

    async def find_trace(self, request: Request) -> Response:
        """``/trace?id=...``: the navigation's trace-id box."""
        return await self._open_trace(request.query_params.get("id", ""), at_its_address=False)

    async def trace(self, request: Request) -> Response:
        return await self._open_trace(request.path_params["trace_id"], at_its_address=True)

    async def _open_trace(self, raw: str, at_its_address: bool) -> Response:
        """The trace page of a pasted id: a whole id (32 or 16 hex digits), or the start of one
        as reports and pages show ids ("8e8bdfe2a873…"), looked for among the most recent
        traces (``store.lookup``) and redirected to when one matches."""
        from spanscope.store.lookup import (
            id_text,
            no_prefix_match,
            trace_ids_starting_with,
        )

        text = id_text(raw)
        if not text:
            return RedirectResponse("/", status_code=303)
        try:
            trace_id = normalize_trace_id(text)
        except InvalidIdError as exc:
            if not (len(text) < 32 and all(c in _HEX for c in text)):
                said = str(exc)  # names what was pasted: "invalid trace id 'zzz': ..."
                return error_page(400, "Not a trace id", f"{said[:1].upper()}{said[1:]}.")
            trace_id = ""  # zeros only ("0", "000"): no whole id, but the start of many
        spans = await run_in_threadpool(self.store.get_trace, trace_id) if trace_id else []
        if spans:
            if not at_its_address or trace_id != raw:  # one address per trace
                return RedirectResponse(f"/trace/{trace_id}", status_code=303)
            return html_response(await run_in_threadpool(self._trace_page, trace_id, spans))
        found: list[str] = []
        looked_at = 0
        if len(text) < 32:
            # (zeros alone match the ids that start with them: model.ids.id_starts_with)
            found, looked_at = await run_in_threadpool(trace_ids_starting_with, self.store, text)
        if len(found) == 1:
            return RedirectResponse(f"/trace/{found[0]}", status_code=303)
        if found:
            # The ids as links: the one meant is usually among the most recent, a click away
            # instead of a copy, a paste and a second try.
            return error_page(
                400,
                "Give more digits",
                f"{len(found):,} traces have ids starting with {text}: give more digits, or "
                "open one of them:",
                links=[(f"/trace/{found_id}", found_id) for found_id in found[:_LISTED]],
            )
        if not trace_id:
            return error_page(
                404,
                "Trace not found",
                f"No trace has an id starting with {text}, {looked_at:,} looked at.",
            )
        among = f", {no_prefix_match(text, looked_at)}" if looked_at else ""
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
        return inject_navigation(page, head_extras(), strip)

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
