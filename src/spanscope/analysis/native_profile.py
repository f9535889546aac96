"""The critical-path profile of a Jaeger JSON document in C, for ``analyze --folded -``.

``charge_document(data, analyzer, adjust_skew)`` charges every trace of one Jaeger JSON document
(the bytes of a file) to a ``ProfileAnalyzer`` exactly as reading it with
``spanscope.formats.jaeger_lean.read_projected``, building each trace with
``spanscope.assembly.build_trace(adjust_skew=...)`` and ``analyzer.add`` in first-seen order
would, and returns ``(spans read, trace ids in first-seen order)``. It returns None instead, and
``analyzer`` is left as it was, when the extension ``spanscope.analysis._profile_native`` is not
built (no C compiler at install), is switched off (``SPANSCOPE_NO_NATIVE=1``, as for the OTLP
decoder), or gives the document up: the caller then reads it the Python way.

The extension gives up on whatever it is not sure to do exactly as the Python path does (its
``module.c``, ``document.c`` and ``walk.c`` say what): a document the projection would give
back, and any trace assembly would change or report on (duplicate ids, orphans, several roots,
spans that never ended, clock skew to adjust). What the Python path checks with msgspec (tag
lists, processes, logs, ids that are not canonical) it asks of ``jaeger_lean`` through the
hooks below, so those checks and conversions have one implementation. Stacks are numbered
through the analyzer's own ``CallStacks``, so name folding and merging work as for any trace.

Why: at 1,000 one-trace files the Python path spends about 3.5 us a span on spans, assembly and
the walk; this path reads and walks them in C (benchmarks/CRISP.md has the figures).
"""

from __future__ import annotations

import os

from spanscope.analysis.profile import ProfileAnalyzer
from spanscope.formats import jaeger_lean
from spanscope.model import SpanKind

try:
    from spanscope.analysis import _profile_native
except ImportError:  # built without a C compiler: the Python path reads everything
    _profile_native = None  # type: ignore[assignment]

DISABLE_VARIABLE = "SPANSCOPE_NO_NATIVE"
# The kinds the walk tells apart, as the extension numbers them.
_KIND_NUMBERS = {SpanKind.PRODUCER: 1, SpanKind.CONSUMER: 2}


def available() -> bool:
    """Whether the extension is built and not switched off."""
    return _profile_native is not None and os.environ.get(DISABLE_VARIABLE) != "1"


def _tag_kind(raw: bytes) -> int | None:
    kind = jaeger_lean.tag_kind(raw)
    return None if kind is None else _KIND_NUMBERS.get(kind, 0)


_HOOKS = (_tag_kind, jaeger_lean.trace_processes, jaeger_lean.logs_ok, jaeger_lean.normalized_id)


def charge_document(
    data: bytes, analyzer: ProfileAnalyzer, adjust_skew: bool
) -> tuple[int, list[str]] | None:
    """See the module docstring."""
    if not available():
        return None
    stacks = analyzer.profiles.stacks
    charged = _profile_native.charge(
        data, _HOOKS, stacks.numbers, stacks.number, analyzer.strict, adjust_skew
    )
    if charged is None:
        return None
    count, traces = charged
    trace_ids = []
    for trace_id, service, name, duration_ns, local in traces:
        analyzer.add_charged(service, name, duration_ns, local)
        trace_ids.append(trace_id)
    return count, trace_ids
