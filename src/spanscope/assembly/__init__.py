"""Assembly: from a stream of spans to traces with a parent/child tree.

Pure functions, no I/O. Contract:
- ``group_by_trace(spans)`` -> ``dict[trace_id, list[Span]]`` in first-seen order;
- ``build_trace(trace_id, spans, adjust_skew=True)`` -> ``Trace`` (see ``spanscope.model.trace``);
  it takes ownership of ``spans`` and may change them (duplicate ids, parent loops, clock skew),
  recording every change in ``span.warnings`` and ``trace.problems``;
- ``assemble(spans, adjust_skew=True)`` -> ``list[Trace]``, the two above in one step, traces
  in first-seen order;
- ``assemble_stored(found, adjust_skew=True)`` -> ``Iterator[Trace]``: a store's traces (each
  one's spans by start, as a store hands them over) built oldest first (by their first span,
  then id), as a trace file usually holds them: a report's examples are then those the same
  spans in a file give;
- ``adjust_clock_skew(trace)`` -> the same ``Trace``, skew adjusted: the last step of
  ``build_trace``, also usable on its own on a trace built with ``adjust_skew=False``;
- ``self_check(trace)`` raises ``AssertionError`` if a trace breaks the ``Trace`` contract; it
  holds after ``build_trace`` and after ``adjust_clock_skew``.

Example::

    from spanscope.assembly import assemble, self_check
    for trace in assemble(spans):
        self_check(trace)
        print(trace.trace_id, len(trace.spans), [p.kind for p in trace.problems])
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from spanscope.assembly.check import self_check
from spanscope.assembly.skew import adjust_clock_skew
from spanscope.assembly.tree import build_trace, group_by_trace
from spanscope.model import Span, Trace

__all__ = [
    "adjust_clock_skew",
    "assemble",
    "assemble_stored",
    "build_trace",
    "group_by_trace",
    "self_check",
]


def assemble(spans: Iterable[Span], *, adjust_skew: bool = True) -> list[Trace]:
    """Group ``spans`` by trace id and build each trace (see ``build_trace``)."""
    return [
        build_trace(trace_id, trace_spans, adjust_skew=adjust_skew)
        for trace_id, trace_spans in group_by_trace(spans).items()
    ]


def assemble_stored(found: list[list[Span]], *, adjust_skew: bool = True) -> Iterator[Trace]:
    """Build each trace of ``found`` (a store's: each a trace's spans, by start), oldest first
    (see the module docstring); sorts ``found`` in place."""
    found.sort(key=lambda spans: (spans[0].start_ns, spans[0].trace_id))
    return (build_trace(spans[0].trace_id, spans, adjust_skew=adjust_skew) for spans in found)
