"""Hypothesis strategies for the span model, shared by the format tests.

``spans()`` draws any valid ``Span``: any non-zero ids, every kind and status, attributes of
every ``AttributeValue`` type (nested lists and dicts included), events, links, trace state,
flags, dropped counts, unclosed spans (``end_ns == 0``), FOLLOWS_FROM and Zipkin ``shared``.
Spans are consistent the way readers make them: ``resource_attributes["service.name"]`` equals
``service_name`` when that is set, and ``follows_from`` only on spans with a parent.

Formats that cannot hold everything narrow the draw with the keyword arguments (e.g.
``spans(nested=False, links=False)``) rather than filtering, so shrinking stays fast. Floats
never include NaN (NaN != NaN would make equal round trips look unequal); text never includes
lone surrogates (not encodable as UTF-8, so not valid in any trace format).
"""

from __future__ import annotations

from hypothesis import strategies as st

from spanscope.model import Event, Link, Span, SpanKind, StatusCode

UINT32 = st.integers(0, 2**32 - 1)
INT64 = st.integers(-(2**63), 2**63 - 1)
TIMES = st.integers(0, 2**63 - 1)


def text(max_size: int = 12) -> st.SearchStrategy[str]:
    return st.text(st.characters(exclude_categories=("Cs",)), max_size=max_size)


def trace_ids() -> st.SearchStrategy[str]:
    """32 lowercase hex digits, never all zeros; small values (leading zeros) are drawn too."""
    return st.integers(1, 2**128 - 1).map(lambda value: f"{value:032x}")


def span_ids() -> st.SearchStrategy[str]:
    return st.integers(1, 2**64 - 1).map(lambda value: f"{value:016x}")


def scalar_values() -> st.SearchStrategy:
    return st.one_of(
        text(),
        st.booleans(),
        INT64,
        st.floats(allow_nan=False),
        st.binary(max_size=12),
    )


def attribute_values(nested: bool = True) -> st.SearchStrategy:
    """Any ``AttributeValue``: scalars, None, and (if ``nested``) lists and dicts of them."""
    leaves = st.one_of(scalar_values(), st.none())
    if not nested:
        return leaves
    return st.recursive(
        leaves,
        lambda children: st.one_of(
            st.lists(children, max_size=3),
            st.dictionaries(text(6), children, max_size=3),
        ),
        max_leaves=6,
    )


def attributes(nested: bool = True, max_size: int = 4) -> st.SearchStrategy[dict]:
    return st.dictionaries(text(10), attribute_values(nested), max_size=max_size)


def events(nested: bool = True) -> st.SearchStrategy[Event]:
    # Not st.builds: the model types attribute values as Any at runtime, so it would draw anything.
    return st.tuples(TIMES, text(), attributes(nested, max_size=2), UINT32).map(
        lambda fields: Event(*fields)
    )


def links(nested: bool = True) -> st.SearchStrategy[Link]:
    return st.tuples(
        trace_ids(), span_ids(), text(), attributes(nested, max_size=2), UINT32, UINT32
    ).map(lambda fields: Link(*fields))


@st.composite
def spans(
    draw,
    *,
    trace_id: str | None = None,
    nested: bool = True,
    with_links: bool = True,
    with_events: bool = True,
) -> Span:
    """One span; ``trace_id`` fixes its trace (to build several spans of one trace)."""
    start = draw(TIMES)
    end = draw(st.one_of(st.just(0), st.integers(start, 2**63 - 1), TIMES))
    parent = draw(st.one_of(st.just(""), span_ids()))
    service = draw(text())
    resource = draw(attributes(nested))
    resource.pop("service.name", None)
    if service:
        resource["service.name"] = service
    return Span(
        trace_id=trace_id if trace_id is not None else draw(trace_ids()),
        span_id=draw(span_ids()),
        name=draw(text()),
        start_ns=start,
        end_ns=end,
        parent_span_id=parent,
        kind=draw(st.sampled_from(SpanKind)),
        service_name=service,
        status_code=draw(st.sampled_from(StatusCode)),
        status_message=draw(text()),
        attributes=draw(attributes(nested)),
        resource_attributes=resource,
        scope_name=draw(text()),
        scope_version=draw(text()),
        scope_attributes=draw(attributes(nested, max_size=2)),
        events=draw(st.lists(events(nested), max_size=2)) if with_events else [],
        links=draw(st.lists(links(nested), max_size=2)) if with_links else [],
        trace_state=draw(text()),
        flags=draw(UINT32),
        follows_from=bool(parent) and draw(st.booleans()),
        shared=draw(st.booleans()),
        dropped_attributes_count=draw(UINT32),
        dropped_events_count=draw(UINT32),
        dropped_links_count=draw(UINT32),
    )


@st.composite
def span_lists(draw, max_size: int = 6, **options) -> list[Span]:
    """Several spans, some sharing a trace and a resource/scope, as real files have them."""
    first = draw(spans(**options))
    out = [first]
    for _ in range(draw(st.integers(0, max_size - 1))):
        same_trace = draw(st.booleans())
        span = draw(spans(trace_id=first.trace_id if same_trace else None, **options))
        if draw(st.booleans()):  # same resource and scope as the first span, shared dicts
            span.service_name = first.service_name
            span.resource_attributes = first.resource_attributes
            span.scope_name, span.scope_version = first.scope_name, first.scope_version
            span.scope_attributes = first.scope_attributes
        out.append(span)
    return out


def corrupt(data: st.DataObject, original: bytes, *, edits: int = 4, width: int = 3) -> bytes:
    """``original`` with 1 to ``edits`` splices drawn from ``data``: at a random place, a run of
    up to ``width`` bytes replaced by up to ``width`` random bytes (truncation, garbage, both)."""
    corrupted = bytearray(original)
    for _ in range(data.draw(st.integers(1, edits))):
        at = data.draw(st.integers(0, len(corrupted)))  # may have shrunk to nothing
        corrupted[at : at + data.draw(st.integers(0, width))] = data.draw(st.binary(max_size=width))
    return bytes(corrupted)
