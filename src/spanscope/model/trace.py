"""A trace: the spans that share one trace id, linked into a tree by assembly.

``Trace`` is built by ``spanscope.assembly`` and read by everything after it. Contract:
- ``spans`` holds every span of the trace, sorted by ``(start_ns, span_id)``;
- ``by_id`` maps each span id to its span (ids are unique after assembly de-duplicates them);
- ``children`` maps a span id to its children, sorted by ``(start_ns, span_id)``;
- ``roots`` holds the spans with no parent in this trace: true roots first, then orphan roots,
  each group sorted by ``(start_ns, span_id)``. Orphan roots are the spans whose parent is missing
  and, for each loop of parent links, its earliest span, whose ``parent_span_id`` assembly has
  cleared (a ``CYCLE`` problem records the parent it had), so every span hangs under one root;
- ``problems`` lists everything assembly noticed, in the order found. Nothing is fixed silently.
"""

from __future__ import annotations

from enum import StrEnum

import msgspec

from spanscope.model.span import Span


class ProblemKind(StrEnum):
    ORPHAN = "orphan"  # parent id set but no such span in the trace
    MULTIPLE_ROOTS = "multiple_roots"
    DUPLICATE_SPAN_ID = "duplicate_span_id"
    NEGATIVE_DURATION = "negative_duration"  # ends before it starts
    UNCLOSED = "unclosed"  # never ended
    CLOCK_SKEW = "clock_skew"  # adjusted (or detected) skew between hosts
    CYCLE = "cycle"  # parent links form a loop
    INVALID = "invalid"  # anything else a reader or assembly found wrong


class Problem(msgspec.Struct, frozen=True):
    """``cause`` tells problems of one kind apart where their consequences differ; for
    DUPLICATE_SPAN_ID: ``"copy"`` (the same span received again, the copy dropped), ``"shared"``
    (Zipkin's client and server span sharing one id, as B3 does: not a fault) or ``"clash"``
    (two different spans with one id)."""

    kind: ProblemKind
    trace_id: str
    span_id: str
    message: str
    cause: str = ""


class Trace(msgspec.Struct):
    trace_id: str
    spans: list[Span]
    by_id: dict[str, Span]
    children: dict[str, list[Span]]
    roots: list[Span]
    problems: list[Problem] = []

    @property
    def root(self) -> Span:
        """The span that stands for the whole request: the earliest true root, else the
        earliest orphan."""
        return self.roots[0]

    @property
    def start_ns(self) -> int:
        return min(span.start_ns for span in self.spans)

    @property
    def end_ns(self) -> int:
        return max(max(span.end_ns, span.start_ns) for span in self.spans)

    @property
    def duration_ns(self) -> int:
        return self.end_ns - self.start_ns

    @property
    def services(self) -> list[str]:
        return sorted({span.service_name for span in self.spans})

    def children_of(self, span: Span) -> list[Span]:
        return self.children.get(span.span_id, [])

    def parent_of(self, span: Span) -> Span | None:
        return self.by_id.get(span.parent_span_id) if span.parent_span_id else None

    def walk(self):
        """Yield ``(span, depth)`` depth-first from each root, children in start order."""
        stack = [(root, 0) for root in reversed(self.roots)]
        while stack:
            span, depth = stack.pop()
            yield span, depth
            stack.extend((child, depth + 1) for child in reversed(self.children_of(span)))
