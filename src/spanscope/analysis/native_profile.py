"""The critical-path profile of a Jaeger JSON document in C, for ``analyze --folded -``.

``charge_document(data, analyzer, adjust_skew)`` charges every trace of one Jaeger JSON document
(the bytes of a file) to a ``ProfileAnalyzer`` exactly as reading it with
``spanscope.formats.jaeger_lean.read_projected``, building each trace with
``spanscope.assembly.build_trace(adjust_skew=...)`` and ``analyzer.add`` in first-seen order
would, and returns ``(spans read, trace ids in first-seen order)``. It returns None instead, and
``analyzer`` is left as it was, when the extension ``spanscope.analysis._profile_native`` is not
built (no C compiler at install), is switched off (``SPANSCOPE_NO_NATIVE=1``: see
``spanscope.native_switch``), is already running (a call from a hook, or from another thread
while a hook runs: its caches are its own), or gives the document up: the caller then reads it
the Python way.

The extension gives up on whatever it is not sure to read exactly as the Python path does (its
``module.c`` and ``document.c`` say what): a document the projection would give back. A trace
that assembly would change or report on (duplicate ids, orphans, several roots, spans that never
ended, clock skew to adjust: ``walk.c``) is left to the Python path: its part of the document
is read by the projection too, the trace built by ``build_trace`` and added by ``analyzer.add``
in its place among the others (when more than half of them are, the whole document is given
up: the Python path reads it as fast). What the Python path checks with msgspec (tag
lists, processes, logs, ids that are not canonical) it asks of ``jaeger_lean`` through the
hooks below, so those checks and conversions have one implementation. Stacks are numbered
through the analyzer's own ``CallStacks``, so name folding and merging work as for any trace.

Why: at 1,000 one-trace files the Python path spends about 3.5 us a span on spans, assembly and
the walk; this path reads and walks them in C (benchmarks/CRISP.md has the figures).
"""

from __future__ import annotations

from spanscope.analysis.profile import ProfileAnalyzer
from spanscope.formats import jaeger_lean
from spanscope.model import SpanKind, Trace
from spanscope.native_switch import switched_off

try:
    from spanscope.analysis import _profile_native
except ImportError:  # built without a C compiler: the Python path reads everything
    _profile_native = None  # type: ignore[assignment]

# The kinds the walk tells apart, as the extension numbers them.
_KIND_NUMBERS = {SpanKind.PRODUCER: 1, SpanKind.CONSUMER: 2}


def available() -> bool:
    """Whether the extension is built and not switched off."""
    return _profile_native is not None and not switched_off()


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
    built: dict[str, Trace] = {}

    def prepare(left: list[str], entries: bytes) -> bool:
        """Build the traces left to the Python path (``entries``: their part of the
        document), before anything is charged."""
        from spanscope.assembly import build_trace, group_by_trace

        spans = jaeger_lean.read_projected(entries, "")
        if spans is None:
            return False
        groups = group_by_trace(spans)
        for trace_id in left:
            if trace_id not in groups:
                return False
            built[trace_id] = build_trace(trace_id, groups[trace_id], adjust_skew=adjust_skew)
        return True

    def add_python(trace_id: str) -> None:
        analyzer.add(built.pop(trace_id))

    stacks = analyzer.profiles.stacks
    return _profile_native.charge(
        data,
        _HOOKS,
        stacks.numbers,
        stacks.number,
        analyzer.strict,
        adjust_skew,
        prepare,
        analyzer.add_charged,
        add_python,
    )
