"""Hand-built traces for tests: short names for ids, times in ms turned into ns."""

from __future__ import annotations

from spanscope.assembly import assemble
from spanscope.model import Span, Trace

MS = 1_000_000
T0 = 1_700_000_000_000_000_000


def sid(name: str) -> str:
    """A stable 16-hex-digit span id for a short name ("a" -> "000...0a1")."""
    return f"{sum(ord(c) << (8 * i) for i, c in enumerate(name)) + 1:016x}"


def span(
    name: str,
    parent: str | None,
    start_ms: float,
    end_ms: float,
    service: str = "svc",
    operation: str | None = None,
    trace: str = "1",
    **fields,
) -> Span:
    return Span(
        trace_id=f"{int(trace, 16):032x}",
        span_id=sid(name),
        parent_span_id=sid(parent) if parent else "",
        name=operation or name,
        start_ns=T0 + round(start_ms * MS),
        end_ns=T0 + round(end_ms * MS) if end_ms is not None else 0,
        service_name=service,
        **fields,
    )


def build(*spans: Span) -> Trace:
    traces = assemble(list(spans), adjust_skew=False)
    assert len(traces) == 1
    return traces[0]


def build_all(*spans: Span) -> list[Trace]:
    return assemble(list(spans), adjust_skew=False)
