"""The native API's two questions about many traces at once, besides the analysis report:

- ``GET /api/v1/lint?service=...`` — instrumentation quality of the traces a search finds (the
  ``spanscope lint --json`` report, ``schemas/lint-report.schema.json``);
- ``GET /api/v1/diff?service=...`` — what changed (the ``spanscope diff --json`` comparison):
  the search's window against a baseline window, by default the window just before it of the
  same length ("the last hour against the hour before"); ``baseOffset=1d`` compares with the
  same window a day earlier, ``baseStart``/``baseEnd`` (microseconds, like ``start``/``end``)
  name the baseline window outright. Each side holds the traces found that start in its window
  (``[start, end)``), and the comparison is made as ``spanscope diff --db ... --top 10 --json``
  makes it (``compare.sides.compare_traces``): the API, the ``/compare`` page and the command
  give one answer for one window.

Their OpenAPI description is the native API's (``spanscope.server.native_api``). Search
parameters are Jaeger's (``service``, ``operation``, ``tags``, ``start``, ``end``,
``lookback``, ``limit``...); both sides of a diff use the same ones but the window. Errors are the
native API's JSON shape.

What a search reads (``sample_traces``, also for ``/api/v1/analysis``, ``/api/v1/flamegraph``
and the service map page):
every matching trace when at most ``limit`` match, else a sample of ``limit`` spread over the
window (``Store.sample_trace_ids``: by trace id), not its newest minutes, as ``analyze --db``
reads. An answer says how many were read and how many matched: in the headers
``Spanscope-Traces-Read`` and ``Spanscope-Traces-Matched`` (``sample_headers``), and for a diff
in each side too (``before.read``, ``before.matched``...).
"""

from __future__ import annotations

import dataclasses
from typing import NamedTuple

import msgspec
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from spanscope.analysis.filters import TraceFilter, filter_traces
from spanscope.assembly import assemble_stored
from spanscope.compare.sides import compare_traces
from spanscope.model import Trace
from spanscope.quality.linter import lint
from spanscope.server.api_errors import json_errors
from spanscope.server.jaeger_api import (
    INSIGHT_MAX_LIMIT,
    QueryError,
    micros_param,
    parse_trace_query,
)
from spanscope.store.base import Store, TraceQuery
from spanscope.units import parse_duration

# Entries per list of a comparison (``diff --top``): the /compare page draws up to 8 bars.
TOP = 10


class Sampled(NamedTuple):
    """The traces an analysis reads, and of how many: ``read`` of the ``matched`` traces with a
    matching span in the window were chosen (all of them, or a sample spread over the window
    when more than the limit; ``window_traces`` then keeps those that start in it)."""

    traces: list[Trace]
    read: int
    matched: int


def sample_traces(store: Store, query: TraceQuery) -> Sampled:
    """The traces a search matches, a sample spread over the window when more than
    ``query.num_traces`` match (``Store.sample_trace_ids``), assembled oldest first as
    ``spanscope analyze --db`` reads them (``assembly.assemble_stored``): a report's examples
    are then the same. The store hands them over trace by trace, so each is built as it is
    (no regrouping of all spans)."""
    ids, matched = store.sample_trace_ids(query)
    found = [spans for spans in store.get_traces(ids) if spans]
    # (None: a store read through an older server, which gave the newest: more matched)
    return Sampled(
        list(assemble_stored(found)), len(ids), len(ids) + 1 if matched is None else matched
    )


def window_traces(store: Store, query: TraceQuery) -> Sampled:
    """The traces a search samples that start in its window, ``[start, end)``, as a window of
    ``spanscope diff --db`` holds them (the same ``TraceFilter``): each trace on one side only
    (the search itself finds a trace by any span in the window, both ends included)."""
    window = TraceFilter(since_ns=query.start_time_min, until_ns=query.start_time_max)
    sampled = sample_traces(store, query)
    return sampled._replace(traces=list(filter_traces(sampled.traces, window)))


def sample_headers(sampled: Sampled) -> dict[str, str]:
    """What an answer says about its read: how many traces were read of how many matched."""
    return {
        "Spanscope-Traces-Read": str(sampled.read),
        "Spanscope-Traces-Matched": str(sampled.matched),
    }


def baseline_query(request: Request, query: TraceQuery) -> TraceQuery:
    """The baseline window's search: ``query`` with its window moved (see the module doc)."""
    start, end = query.start_time_min, query.start_time_max
    assert start is not None and end is not None  # parse_trace_query always sets both
    params = request.query_params
    base_start, base_end = micros_param(params, "baseStart"), micros_param(params, "baseEnd")
    if (base_start is None) != (base_end is None):
        raise QueryError("give both 'baseStart' and 'baseEnd', or neither")
    if base_start is None or base_end is None:
        offset_text = request.query_params.get("baseOffset")
        try:
            offset = parse_duration(offset_text) if offset_text else end - start
        except ValueError as exc:
            raise QueryError(f"bad 'baseOffset': {exc}") from None
        base_start, base_end = start - offset, end - offset
    if base_start >= base_end:
        raise QueryError("the baseline window is empty: 'baseStart' must be before 'baseEnd'")
    if base_start < 0:
        raise QueryError("the baseline window starts before 1970: use a shorter window or offset")
    return dataclasses.replace(query, start_time_min=base_start, start_time_max=base_end)


class InsightApi:
    def __init__(self, store) -> None:
        self.store = store

    def routes(self) -> list[Route]:
        return [
            Route("/api/v1/lint", json_errors(self.lint)),
            Route("/api/v1/diff", json_errors(self.diff)),
        ]

    async def lint(self, request: Request) -> Response:
        query = parse_trace_query(request, INSIGHT_MAX_LIMIT)

        def work() -> tuple[bytes, Sampled]:
            sampled = sample_traces(self.store, query)
            return msgspec.json.encode(lint(sampled.traces)), sampled

        body, sampled = await run_in_threadpool(work)
        return Response(body, media_type="application/json", headers=sample_headers(sampled))

    async def diff(self, request: Request) -> Response:
        after_query = parse_trace_query(request, INSIGHT_MAX_LIMIT)
        before_query = baseline_query(request, after_query)

        def work() -> bytes:
            # The recipe of ``spanscope diff --db``: names folded alike on both sides, moves
            # judged against chance from both sides' durations.
            before = window_traces(self.store, before_query)
            after = window_traces(self.store, after_query)
            result, _ = compare_traces(before.traces, after.traces, top=TOP)
            for side, sampled in ((result.before, before), (result.after, after)):
                side.read, side.matched = sampled.read, sampled.matched
            return msgspec.json.encode(result)

        return Response(await run_in_threadpool(work), media_type="application/json")
