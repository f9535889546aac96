"""The data a waterfall page embeds: compact, columnar, built once per page.

Contract of ``build_payload(traces)`` -> ``(summary, details)``, two JSON-ready dicts:

- ``summary`` is everything the page needs to draw: a string table of services (with their
  colours) and one of span names, shared by all traces; per trace a header (id, absolute start
  as a decimal string because epoch nanoseconds do not fit a JS number, duration, counts, root)
  and columns in depth-first display order (``trace.walk()``): span id, parent row (-1 for a
  root), start and duration in ns relative to the trace start, service and name indexes, kind,
  status, flags (see ``FLAG_*``), self time; plus the critical path as a flat list of
  ``row, start, end`` triples (relative ns, ascending time) from ``spanscope.analysis``.
  When a span failed, ``origin`` is ``[row, exception type, message, failed]``: the span the
  failure started from (``analysis.errors.originating_error``), what it says of its failure
  (``error_detail``), and whether the request as a whole failed (its root is an error span).
  When the page's traces and ``peers`` (traces not shown: ``spanscope serve`` passes others of
  the endpoint) hold enough requests of the trace's endpoint (``analysis.typical``), ``typ`` is
  ``[the typical trace's id, requests of the endpoint, its duration, changes]``, the changes
  ``[service index, name index, ns here, ns in the typical one]``, largest first (at most
  ``TYPICAL_CHANGES``); the typical trace itself has none.
- ``details`` holds, per trace and row, what only the detail panel shows (attributes, events,
  links, resource index, scope, status message, problems), and shared tables: resources,
  attribute keys and short strings. Span, event and link attributes are flat lists
  ``[key index, value, ...]`` where a number is an index into the string table and anything
  else is the value wrapped in a one-element list (``[3]``, ``[true]``, ``["a long text"]``):
  attribute keys and values repeat across spans, and interning them makes the block less than
  half as big. ``spanscope.viz.waterfall`` embeds the spans' details in blocks the page parses
  one at a time, when a detail panel or a search first needs them, so opening a big trace and
  its first detail panel stay fast.

Nothing here computes analysis: critical path, self time and error status come from
``spanscope.analysis``; data problems (orphans, skew, unclosed spans) from ``trace.problems``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from spanscope.model import ProblemKind, Span, Trace
from spanscope.viz.palette import service_colors

FLAG_ERROR = 1
FLAG_CRITICAL = 2
FLAG_ORPHAN = 4
FLAG_SKEW = 8
FLAG_UNCLOSED = 16
FLAG_WARNING = 32  # any problem or warning: details say which
FLAG_FOLLOWS_FROM = 64
FLAG_NEGATIVE = 128
FLAG_DUPLICATE_ID = 256

_PROBLEM_FLAGS = {
    ProblemKind.ORPHAN: FLAG_ORPHAN,
    ProblemKind.CLOCK_SKEW: FLAG_SKEW,
    ProblemKind.UNCLOSED: FLAG_UNCLOSED,
    ProblemKind.NEGATIVE_DURATION: FLAG_NEGATIVE,
    ProblemKind.DUPLICATE_SPAN_ID: FLAG_DUPLICATE_ID,
}
UNKNOWN_SERVICE = "(unknown service)"
TYPICAL_CHANGES = 3


class _Attributes:
    """Encodes attribute dicts as flat lists against shared key and string tables."""

    SHORT = 64  # longer strings are rarely repeated: kept inline

    def __init__(self) -> None:
        self.keys = _Table()
        self.strings = _Table()

    def encode(self, attributes: dict[str, Any]) -> list[Any]:
        flat: list[Any] = []
        for key, value in attributes.items():
            flat.append(self.keys.add(key))
            if isinstance(value, str) and len(value) <= self.SHORT:
                flat.append(self.strings.add(value))
            else:
                flat.append([value])
        return flat


class _Table:
    """A string table: each distinct string once, referenced by index."""

    def __init__(self) -> None:
        self.items: list[str] = []
        self._index: dict[str, int] = {}

    def add(self, value: str) -> int:
        index = self._index.get(value)
        if index is None:
            index = self._index[value] = len(self.items)
            self.items.append(value)
        return index


def _service(span: Span) -> str:
    return span.service_name or UNKNOWN_SERVICE


def build_payload(
    traces: Sequence[Trace],
    *,
    title: str = "",
    note: str = "",
    color_names: Iterable[str] = (),
    peers: Sequence[Trace] = (),
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Build the summary and details payloads for ``traces`` (see the module contract).
    ``color_names``: more service names to deal the colours over (``spanscope serve`` gives
    every stored service, so a service has one colour on all its pages); ``peers``: more
    requests to find each endpoint's typical one among."""
    from spanscope.analysis.critical_path import critical_path
    from spanscope.analysis.errors import error_detail, is_error_span, originating_error
    from spanscope.analysis.self_time import self_times
    from spanscope.analysis.typical import (
        TypicalRequests,
        compare_operations,
        critical_by_operation,
    )

    services = _Table()
    names = _Table()
    resources: list[Any] = []
    interner = _Attributes()
    resource_index: dict[int, int] = {}  # id(dict) -> index: readers share resource dicts
    summary_traces: list[dict[str, Any]] = []
    detail_traces: list[list[Any]] = []
    typical = TypicalRequests([*traces, *peers])
    typical_ops = {key: critical_by_operation(t.trace) for key, t in typical.by_endpoint.items()}

    for trace in traces:
        rows = list(trace.walk())
        row_of = {span.span_id: row for row, (span, _depth) in enumerate(rows)}
        start = trace.start_ns
        end = trace.end_ns
        selfs = self_times(trace)
        sections = critical_path(trace)
        problems_by_span: dict[str, list[Any]] = {}
        problem_counts: dict[str, int] = {}
        for problem in trace.problems:
            problems_by_span.setdefault(problem.span_id, []).append(problem)
            problem_counts[problem.kind.value] = problem_counts.get(problem.kind.value, 0) + 1

        cols: dict[str, list[Any]] = {
            k: [] for k in ("sid", "par", "t", "d", "svc", "name", "kind", "st", "fl", "self")
        }
        trace_details: list[Any] = []
        errors = 0
        error_ids: set[str] = set()
        on_path = {section.span_id for section in sections}
        for span, _depth in rows:
            flags = 0
            if is_error_span(span):
                flags |= FLAG_ERROR
                errors += 1
                error_ids.add(span.span_id)
            if span.span_id in on_path:
                flags |= FLAG_CRITICAL
            if span.follows_from:
                flags |= FLAG_FOLLOWS_FROM
            span_problems = problems_by_span.get(span.span_id, ())
            for problem in span_problems:
                flags |= _PROBLEM_FLAGS.get(problem.kind, 0) | FLAG_WARNING
            if span.end_ns == 0:
                flags |= FLAG_UNCLOSED | FLAG_WARNING
            if span.warnings:
                flags |= FLAG_WARNING
                if any("skew" in warning for warning in span.warnings):
                    flags |= FLAG_SKEW
            parent = row_of.get(span.parent_span_id, -1) if span.parent_span_id else -1
            cols["sid"].append(span.span_id)
            cols["par"].append(parent)
            cols["t"].append(span.start_ns - start)
            # An unclosed span runs to the end of what we know; the flag tells the page.
            span_end = span.end_ns if span.end_ns else end
            cols["d"].append(max(0, span_end - span.start_ns))
            cols["svc"].append(services.add(_service(span)))
            cols["name"].append(names.add(span.name))
            cols["kind"].append(int(span.kind))
            cols["st"].append(int(span.status_code))
            cols["fl"].append(flags)
            cols["self"].append(selfs.get(span.span_id, 0))
            detail = _details(span, span_problems, start, resources, resource_index, interner)
            if parent < 0 and span.parent_span_id:
                detail["p"] = span.parent_span_id  # an orphan's missing parent: only here
            trace_details.append(detail)

        cp: list[int] = []
        for section in sections:
            row = row_of.get(section.span_id)
            if row is not None:
                cp.extend((row, section.start_ns - start, section.end_ns - start))
        root = trace.root
        extra: dict[str, Any] = {}
        origin = originating_error(trace, error_ids) if error_ids else None
        if origin is not None and origin.span_id in row_of:
            said = error_detail(origin)
            failed = root.span_id in error_ids
            extra["origin"] = [row_of[origin.span_id], said.exception_type, said.message, failed]
        usual = typical.of(trace)
        if usual is not None and usual.trace is not trace:
            changes = compare_operations(
                critical_by_operation(trace, sections),
                typical_ops[typical.endpoint(trace)],
                TYPICAL_CHANGES,
            )
            extra["typ"] = [
                usual.trace.trace_id,
                usual.requests,
                usual.trace.root.duration_ns,
                [
                    [
                        services.add(c.service or UNKNOWN_SERVICE),
                        names.add(c.operation),
                        c.ns,
                        c.typical_ns,
                    ]
                    for c in changes
                ],
            ]
        summary_traces.append(
            {
                "id": trace.trace_id,
                "start": str(start),
                "dur": end - start,
                "n": len(rows),
                "errors": errors,
                "services": sorted({cols_svc for cols_svc in cols["svc"]}),
                "rootSvc": services.add(_service(root)),
                "rootName": names.add(root.name),
                "problems": problem_counts,
                "cols": cols,
                "cp": cp,
                **extra,
            }
        )
        detail_traces.append(trace_details)

    colors = service_colors([*services.items, *color_names])
    summary: dict[str, Any] = {
        "v": 1,
        "title": title,
        "note": note,
        "services": services.items,
        "colors": [colors[name] for name in services.items],
        "names": names.items,
        "traces": summary_traces,
    }
    details: dict[str, Any] = {
        "v": 1,
        "keys": interner.keys.items,
        "strs": interner.strings.items,
        "resources": resources,
        "traces": detail_traces,
    }
    return summary, details


def _details(
    span: Span,
    problems: Sequence[Any],
    start: int,
    resources: list[Any],
    resource_index: dict[int, int],
    interner: _Attributes,
) -> dict[str, Any]:
    """What the detail panel shows for one span; empty parts are left out to keep files small."""
    out: dict[str, Any] = {}
    if span.attributes:
        out["a"] = interner.encode(span.attributes)
    if span.events:
        out["e"] = [
            [event.time_ns - start, event.name, interner.encode(event.attributes)]
            for event in span.events
        ]
    if span.links:
        out["l"] = [
            [link.trace_id, link.span_id, interner.encode(link.attributes)] for link in span.links
        ]
    if span.resource_attributes:
        key = id(span.resource_attributes)
        index = resource_index.get(key)
        if index is None:
            index = resource_index[key] = len(resources)
            resources.append(span.resource_attributes)
        out["r"] = index
    if span.scope_name or span.scope_version:
        out["sc"] = f"{span.scope_name} {span.scope_version}".strip()
    if span.status_message:
        out["m"] = span.status_message
    messages = [f"{problem.kind.value}: {problem.message}" for problem in problems]
    messages.extend(warning for warning in span.warnings if warning not in messages)
    if messages:
        out["w"] = messages
    return out
