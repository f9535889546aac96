"""Choosing which traces to analyse.

A trace is kept when it passes every filter that is set (``TraceFilter``):
- ``services``: some span of the trace belongs to one of these services;
- ``operations``: some span has one of these operation names, or matches ``service:operation``;
- ``trace_ids``: the trace id is one of these, or starts with one of them as reports and pages
  print ids cut short ("8e8bdfe2a873…", ``id_matching``): case, the ellipsis and leading zeros
  do not matter (Jaeger shows ids without them); a value of four hex digits or more is both a
  whole id (left-padded) and a start;
- ``since_ns`` / ``until_ns``: the trace's first span starts in ``[since, until)``;
- ``min_duration_ns``: the root span lasts at least this long.
Pure; traces are not modified.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import NamedTuple

import msgspec

from spanscope.model import InvalidIdError, Trace, normalize_trace_id
from spanscope.model.ids import id_starts_with, id_text

# The fewest hex digits read as the start of an id: fewer are a whole (short) id alone, as a
# 64-bit id written without its leading zeros is.
MIN_ID_START = 4


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


class IdMatching(NamedTuple):
    """What the ``--trace-id`` values match: these whole ids, and ids that start with these
    (``model.ids.id_starts_with``: leading zeros ignored, as Jaeger shows ids)."""

    whole: frozenset[str]
    starts: tuple[str, ...]

    def matches(self, trace_id: str) -> bool:
        if trace_id in self.whole:
            return True
        return any(id_starts_with(trace_id, start) for start in self.starts)


def id_matching(values: Iterable[str]) -> IdMatching:
    """The ids and starts of ids that ``values`` (``--trace-id`` as typed or pasted) name.
    Raises ``InvalidIdError`` for a value that is neither."""
    whole: set[str] = set()
    starts: list[str] = []
    for value in values:
        text = id_text(value)
        cut_short = value.strip().endswith(("…", "..."))
        if not cut_short or len(text) == 32:
            whole.add(normalize_trace_id(text))  # an id in full (or padded)
        if len(text) < 32 and text.lstrip("0") and len(text) >= MIN_ID_START:
            normalize_trace_id(text)  # hex, not all zeros
            starts.append(text)
        elif cut_short and len(text) < 32:
            raise InvalidIdError(
                f"invalid trace id {value!r}: the start of an id needs {MIN_ID_START} hex digits "
                "or more"
            )
    return IdMatching(frozenset(whole), tuple(starts))


def keep(trace: Trace, trace_filter: TraceFilter, ids: IdMatching | None = None) -> bool:
    """True when ``trace`` passes ``trace_filter`` (``ids``: its ``id_matching``, made once by
    the caller; made here when not given)."""
    f = trace_filter
    if not trace.spans or not trace.roots:
        return False
    if f.trace_ids and not (ids if ids is not None else id_matching(f.trace_ids)).matches(
        trace.trace_id
    ):
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


def filter_traces(traces: Iterable[Trace], trace_filter: TraceFilter) -> Iterator[Trace]:
    """The traces that pass ``trace_filter``, in order. Raises ``InvalidIdError`` (a
    ``ValueError``) for a trace id filter that is not an id."""
    if trace_filter.is_empty:
        yield from traces
        return
    ids = id_matching(trace_filter.trace_ids)
    for trace in traces:
        if keep(trace, trace_filter, ids):
            yield trace
