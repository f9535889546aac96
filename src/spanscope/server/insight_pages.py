"""The Analysis, Compare and Quality pages of ``spanscope serve``:

- ``/analysis?service=...&lookback=1h`` — why requests are slow or failing: the analysis report
  of the window's traces (the ``analyze --json`` report) drawn as cards: the headline, what to
  fix first, the critical-path flame graphs of the slowest 5% and of all requests (the
  pictures of ``/api/v1/flamegraph``), latency per endpoint, the slowest requests, where errors
  started, anti-patterns and what the slowest and the failed requests have in common. All of it
  comes in one answer, ``/api/v1/analysis?flamegraph=slow,all``: one read of the store per
  page (reading a large window takes seconds; the page shows how long it has been at it).
  A search's "Why slow?", "Compare with before" and "Check instrumentation" links bring its
  operation and custom range to the three pages (``operation``, ``lookback=custom&start=&end=``,
  microseconds; Compare's baseline is then the range of the same length just before);
- ``/compare?service=...&lookback=1h&baseline=1d`` — what changed: the window against a baseline
  window (``/api/v1/diff``), with a diverging bar chart per endpoint of where the time per
  request changed;
- ``/quality?service=...&lookback=1h`` — instrumentation quality (``/api/v1/lint``): the score
  per service and a card per rule that found something, examples linked to their traces.

Each page is static: ``server/ui/insight.html`` filled with the page's form fields and result
sections, in the shell of every page (``spanscope.server.pages.ui_page``), ``insight.css`` and
``helpers.js`` shared, ``{analysis,compare,quality}.js`` its own.
Its script calls only those same-origin APIs and ``/api/services``; the query is kept in the
address.
Nothing is loaded from the network.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from spanscope.server.jaeger_api import INSIGHT_MAX_LIMIT
from spanscope.server.pages import THEME_SWITCH, fill, lookback_options, ui_asset, ui_page

# A search's operation and custom range ("lookback=custom&start=&end="), brought by its links.
_FROM_SEARCH = """  <input type="hidden" name="operation" id="operation">
  <input type="hidden" name="start" id="start">
  <input type="hidden" name="end" id="end">"""
# What differs between the pages; the rest is ``ui/insight.html``.
_ANALYSIS = {
    "HEADING": "Why slow or failing?",
    "SERVICE_NOTE": "the traces that touch it",
    # From a search: its operation and custom time range, kept (helpers.js: insightSearch).
    "FIELDS": _FROM_SEARCH,
    "LIMIT_LABEL": "Traces",
    "LIMIT_NOTE": "at most; when more match, a sample spread over the window",
    "BUTTON": "Analyse",
    "EMPTY_TITLE": "Why are requests slow or failing?",
    "EMPTY_TEXT": "Choose a service and a window, then <b>Analyse</b>: where the slowest requests "
    "spent their critical path, what to fix first, where errors started, anti-patterns (N+1 "
    "calls, sequential calls...) and what the slowest and the failed requests have in common. "
    "The same report as <code>spanscope analyze</code>.",
    "RESULTS": """    <div class="sides" id="sides"></div>
    <div class="card"><div class="card-head"><span>In short</span></div>
      <div class="card-body" id="headline"></div></div>
    <div id="sections"></div>""",
}
_COMPARE = {
    "HEADING": "What changed?",
    "SERVICE_NOTE": "the traces that touch it, on both sides",
    "FIELDS": """  <label class="field">
    <span>Against</span>
    <select id="baseline" name="baseline" class="input">
      <option value="" selected>the window just before</option>
      <option value="1d">the same window a day earlier</option>
      <option value="7d">the same window a week earlier</option>
    </select>
  </label>
"""
    + _FROM_SEARCH,
    "LIMIT_LABEL": "Traces per side",
    "LIMIT_NOTE": "at most; when more match, a sample spread over each window",
    "BUTTON": "Compare",
    "EMPTY_TITLE": "Compare two windows of traces",
    "EMPTY_TEXT": "Choose a service and a window, then <b>Compare</b>: which endpoints got "
    "slower or fail more than in the baseline, and where on the critical path the time per "
    "request went. The query is kept in the address.",
    "RESULTS": """    <div class="sides" id="sides"></div>
    <div class="card"><div class="card-head"><span>What changed</span></div>
      <div class="card-body" id="headline"></div></div>
    <div id="endpoints"></div>
    <div id="lists"></div>""",
}
_QUALITY = {
    "HEADING": "Instrumentation quality",
    "SERVICE_NOTE": "the traces that touch it",
    "FIELDS": _FROM_SEARCH,
    "LIMIT_LABEL": "Traces",
    "LIMIT_NOTE": "at most; when more match, a sample spread over the window",
    "BUTTON": "Check",
    "EMPTY_TITLE": "How well are the services instrumented?",
    "EMPTY_TEXT": "Choose a service and a window, then <b>Check</b>: broken traces, errors not "
    "marked as errors, calls without a kind or target, ids in span names, credentials in "
    "attributes, deprecated attribute names, each with why it matters and how to fix it. The "
    "same rules as <code>spanscope lint</code>.",
    "RESULTS": """    <div class="verdict" id="verdict"></div>
    <div class="card"><div class="card-head"><span>Services, worst first</span>
      <span class="legend faint">score: share of spans with no error or warning</span></div>
      <div class="card-body"><svg id="scores" class="bars" role="img"
        aria-label="Score per service"></svg></div></div>
    <div id="rules"></div>""",
}


def _page(name: str, title: str, parts: dict[str, str]) -> Response:
    # The most these pages may read (the API's bound): the form's and the cut note's.
    most = str(INSIGHT_MAX_LIMIT)
    return ui_page(
        title=title,
        active=name,
        main=fill(
            ui_asset("insight.html"),
            {**parts, "LOOKBACKS": lookback_options(), "MOST_TRACES": most},
        ),
        css=("search.css", "insight.css"),
        js=("nav.js", "helpers.js", f"{name}.js"),
        topbar=THEME_SWITCH,
        config={"mostTraces": INSIGHT_MAX_LIMIT},
    )


async def analysis_page(request: Request) -> Response:
    return _page("analysis", "Why slow or failing", _ANALYSIS)


async def compare_page(request: Request) -> Response:
    return _page("compare", "What changed", _COMPARE)


async def quality_page(request: Request) -> Response:
    return _page("quality", "Instrumentation quality", _QUALITY)


def routes() -> list[Route]:
    return [
        Route("/analysis", analysis_page),
        Route("/compare", compare_page),
        Route("/quality", quality_page),
    ]
