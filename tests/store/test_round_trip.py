"""Spans written to a real DuckDB store come back with every field intact."""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings

from spanscope.model import Event, Link, Span, SpanKind, StatusCode
from spanscope.store import open_store
from tests.formats.strategies import span_lists


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    with open_store(tmp_path_factory.mktemp("store") / "traces.duckdb") as opened:
        yield opened


def _key(span: Span):
    return (span.start_ns, span.span_id)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(spans=span_lists(max_size=6))
def test_every_field_survives(store, spans):
    store.write(spans)
    for trace_id in {span.trace_id for span in spans}:
        expected = sorted((s for s in spans if s.trace_id == trace_id), key=_key)
        got = [s for s in store.get_trace(trace_id) if any(s == e for e in expected)]
        # The module-scoped store may hold an earlier example's spans of the same trace id.
        for span in expected:
            assert span in got, span


def test_plain_and_special_spans(store):
    """Plain spans are rebuilt from the columns, the others from RawSpan; both exact."""
    resource = {"service.name": "checkout", "host.name": "h1", "pid": 42}
    plain = Span(
        trace_id="0af7651916cd43dd8448eb211c80319c",
        span_id="b7ad6b7169203331",
        name="GET /cart",
        start_ns=1_700_000_000_000_000_000,
        end_ns=1_700_000_000_250_000_000,
        kind=SpanKind.SERVER,
        service_name="checkout",
        status_code=StatusCode.ERROR,
        status_message="boom",
        attributes={"http.status_code": 500, "ratio": 0.25, "ok": False, "tags": ["a", 1]},
        resource_attributes=resource,
        scope_name="io.opentelemetry.http",
        scope_version="1.2",
        scope_attributes={"x": "y"},
        events=[Event(1_700_000_000_100_000_000, "exception", {"exception.type": "KeyError"})],
        links=[Link("0af7651916cd43dd8448eb211c80319d", "00f067aa0ba902b7", "k=v", {"l": 1}, 257)],
        trace_state="rojo=00f067aa0ba902b7",
        flags=0x301,
    )
    special = [
        Span(**{**_fields(plain), "span_id": "0000000000000001", "attributes": {"b": b"\x00\xff"}}),
        Span(**{**_fields(plain), "span_id": "0000000000000002", "attributes": {"f": math.inf}}),
        Span(**{**_fields(plain), "span_id": "0000000000000003", "end_ns": 0}),
        Span(
            **{
                **_fields(plain),
                "span_id": "0000000000000004",
                "parent_span_id": "b7ad6b7169203331",
                "follows_from": True,
                "warnings": ["clock skew adjusted"],
                "dropped_events_count": 3,
            }
        ),
    ]
    plain2 = Span(
        **{**_fields(plain), "span_id": "00000000000000aa", "start_ns": plain.start_ns + 1}
    )
    store.write([plain, plain2, *special])
    got = store.get_trace(plain.trace_id)
    assert got == sorted([plain, plain2, *special], key=_key)
    raw_used = store._con.execute(
        "SELECT count(*) FROM otel_traces WHERE TraceId = ? AND RawSpan IS NOT NULL",
        [plain.trace_id],
    ).fetchone()[0]
    assert raw_used == len(special)
    # Spans of one resource share one attributes dict after reading, as the model allows.
    by_id = {span.span_id: span for span in got}
    assert by_id[plain.span_id].resource_attributes is by_id[plain2.span_id].resource_attributes


def _fields(span: Span) -> dict:
    return {name: getattr(span, name) for name in span.__struct_fields__}
