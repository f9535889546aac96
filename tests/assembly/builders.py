"""Building spans by hand for assembly tests: short ids, times in milliseconds, hosts by name."""

from __future__ import annotations

from spanscope.model import Event, Span, SpanKind

TRACE_ID = "0af7651916cd43dd8448eb211c80319c"
MS = 1_000_000  # ns


def sid(number: int) -> str:
    """Span id ``number`` as 16 hex digits."""
    return f"{number:016x}"


def make_span(
    span_id: int | str,
    parent: int | str = "",
    start_ms: float = 0,
    end_ms: float | None = None,
    *,
    name: str | None = None,
    kind: SpanKind = SpanKind.INTERNAL,
    service: str = "svc",
    host: str | None = None,
    trace_id: str = TRACE_ID,
    events_ms: tuple[float, ...] = (),
    follows_from: bool = False,
    shared: bool = False,
) -> Span:
    """A span; ``end_ms=None`` means one millisecond after the start, ``end_ms=0`` never ended."""
    span_id = sid(span_id) if isinstance(span_id, int) else span_id
    parent = sid(parent) if isinstance(parent, int) else parent
    start = round(start_ms * MS)
    end = start + MS if end_ms is None else round(end_ms * MS)
    resource: dict = {"service.name": service}
    if host is not None:
        resource["host.name"] = host
    return Span(
        trace_id=trace_id,
        span_id=span_id,
        name=name or f"op-{span_id[-4:]}",
        start_ns=start,
        end_ns=end,
        parent_span_id=parent,
        kind=kind,
        service_name=service,
        resource_attributes=resource,
        events=[Event(time_ns=round(t * MS), name="event") for t in events_ms],
        follows_from=follows_from,
        shared=shared,
    )
