"""Choosing which traces to analyse.

A trace is kept when it passes every filter that is set (``TraceFilter``):
- ``services``: some span of the trace belongs to one of these services;
- ``operations``: some span has one of these operation names, or matches ``service:operation``;
- ``trace_ids``: the trace id is one of these (normalised: case and leading zeros do not matter);
- ``since_ns`` / ``until_ns``: the trace's first span starts in ``[since, until)``;
- ``min_duration_ns``: the root span lasts at least this long.
Pure; traces are not modified.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import msgspec

from spanscope.model import Trace, normalize_trace_id


class TraceFilter(msgspec.Struct, frozen=True):
    services: tuple[str, ...] = ()
    operations: tuple[str, ...] = ()
    trace_ids: tuple[str, ...] = ()
    since_ns: int | None = None
    until_ns: int | None = None
    min_duration_ns: int | None = None

    @property
    def is_empty(self) -> bool:
        return self == TraceFilter()

    def describe(self) -> dict[str, str]:
        """The filters that are set, as text for the report."""
        out: dict[str, str] = {}
        for field in self.__struct_fields__:
            value = getattr(self, field)
            if value is None or value == ():
                continue
            out[field] = ",".join(value) if isinstance(value, tuple) else str(value)
        return out


def _matches_operation(trace: Trace, wanted: set[str]) -> bool:
    for span in trace.spans:
        if span.name in wanted or f"{span.service_name}:{span.name}" in wanted:
            return True
    return False


def keep(trace: Trace, trace_filter: TraceFilter, trace_ids: frozenset[str] = frozenset()) -> bool:
    """True when ``trace`` passes ``trace_filter`` (``trace_ids`` pre-normalised, optional)."""
    f = trace_filter
    if not trace.spans or not trace.roots:
        return False
    if f.trace_ids and trace.trace_id not in (trace_ids or _normalise_ids(f.trace_ids)):
        return False
    if f.since_ns is not None or f.until_ns is not None:
        start = trace.start_ns
        if f.since_ns is not None and start < f.since_ns:
            return False
        if f.until_ns is not None and start >= f.until_ns:
            return False
    if f.min_duration_ns is not None and trace.root.duration_ns < f.min_duration_ns:
        return False
    if f.services:
        services = set(f.services)
        if not any(span.service_name in services for span in trace.spans):
            return False
    return not (f.operations and not _matches_operation(trace, set(f.operations)))


def _normalise_ids(values: Iterable[str]) -> frozenset[str]:
    return frozenset(normalize_trace_id(value.strip()) for value in values)


def filter_traces(traces: Iterable[Trace], trace_filter: TraceFilter) -> Iterator[Trace]:
    """The traces that pass ``trace_filter``, in order. Raises ``InvalidIdError`` (a
    ``ValueError``) for a trace id filter that is not an id."""
    if trace_filter.is_empty:
        yield from traces
        return
    ids = _normalise_ids(trace_filter.trace_ids)
    for trace in traces:
        if keep(trace, trace_filter, ids):
            yield trace
