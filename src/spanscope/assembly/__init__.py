"""Assembly: from a stream of spans to traces with a parent/child tree.

Pure functions, no I/O. Contract:
- ``group_by_trace(spans)`` -> ``dict[trace_id, list[Span]]`` in first-seen order;
- ``build_trace(trace_id, spans, adjust_skew=True)`` -> ``Trace`` (see ``spanscope.model.trace``);
  it takes ownership of ``spans`` and may change them (duplicate ids, parent loops, clock skew),
  recording every change in ``span.warnings`` and ``trace.problems``;
- ``assemble(spans, adjust_skew=True)`` -> ``list[Trace]``, the two above in one step, traces
  in first-seen order;
- ``self_check(trace)`` raises ``AssertionError`` if a trace breaks the ``Trace`` contract.

Example::

    from spanscope.assembly import assemble, self_check
    for trace in assemble(spans):
        self_check(trace)
        print(trace.trace_id, len(trace.spans), [p.kind for p in trace.problems])
"""

from __future__ import annotations

from collections.abc import Iterable

from spanscope.assembly.check import self_check
from spanscope.assembly.tree import build_trace, group_by_trace
from spanscope.model import Span, Trace

__all__ = ["assemble", "build_trace", "group_by_trace", "self_check"]


def assemble(spans: Iterable[Span], *, adjust_skew: bool = True) -> list[Trace]:
    """Group ``spans`` by trace id and build each trace (see ``build_trace``)."""
    return [
        build_trace(trace_id, trace_spans, adjust_skew=adjust_skew)
        for trace_id, trace_spans in group_by_trace(spans).items()
    ]
