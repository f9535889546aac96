"""The store's Arrow columns: the batch-wide plain check agrees with the per-span one, and
spans at the edges of the columns' ranges come back exactly from a real DuckDB store."""

from __future__ import annotations

import itertools
import math

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spanscope.model import Event, Link, Span, SpanKind
from spanscope.store import columns, open_store
from spanscope.store.codec import MAX_TIME_NS, is_plain
from spanscope.store.schema import COLUMNS
from spanscope.synthetic import generate_spans
from tests.formats.strategies import span_lists

_SALTS = itertools.count(0xABC0000)
BASE = 1_764_150_000_000_000_000
RESOURCE = {"service.name": "cart", "host.name": "h1"}

# One change each that makes a plain span not plain (or, for the last ones, keeps it plain).
MUTATIONS = {
    "follows_from": lambda s: msgspec.structs.replace(s, follows_from=True),
    "shared": lambda s: msgspec.structs.replace(s, shared=True),
    "warning": lambda s: msgspec.structs.replace(s, warnings=["clock skew adjusted"]),
    "dropped": lambda s: msgspec.structs.replace(s, dropped_attributes_count=2),
    "dropped events": lambda s: msgspec.structs.replace(s, dropped_events_count=1),
    "dropped links": lambda s: msgspec.structs.replace(s, dropped_links_count=1),
    "end before start": lambda s: msgspec.structs.replace(s, end_ns=s.start_ns - 1),
    "end past max": lambda s: msgspec.structs.replace(s, end_ns=MAX_TIME_NS + 1),
    "flags over 32 bits": lambda s: msgspec.structs.replace(s, flags=2**40),
    "bytes": lambda s: msgspec.structs.replace(s, attributes={"b": b"\x00\xff"}),
    "inf": lambda s: msgspec.structs.replace(s, attributes={"f": -math.inf}),
    "inf in a list": lambda s: msgspec.structs.replace(s, attributes={"l": [1.0, math.inf]}),
    "bytes in resource": lambda s: msgspec.structs.replace(s, resource_attributes={"r": b"x"}),
    "inf in scope": lambda s: msgspec.structs.replace(s, scope_attributes={"s": math.inf}),
    "odd event": lambda s: msgspec.structs.replace(s, events=[Event(MAX_TIME_NS + 5, "late")]),
    "odd link": lambda s: msgspec.structs.replace(
        s, links=[Link("0" * 31 + "1", "0" * 15 + "2", flags=2**33)]
    ),
    # Still plain:
    "finite float": lambda s: msgspec.structs.replace(s, attributes={"f": 0.5, "n": None}),
    "plain event": lambda s: msgspec.structs.replace(
        s, events=[Event(s.start_ns + 1, "retry", {"attempt": 2, "tags": ["a"]})]
    ),
    "plain link": lambda s: msgspec.structs.replace(
        s, links=[Link("0" * 31 + "1", "0" * 15 + "2", "k=v", {"x": 1.5}, 1)]
    ),
}


def _plain_span(index: int) -> Span:
    return Span(
        trace_id=f"{index // 4 + 1:032x}",
        span_id=f"{index + 1:016x}",
        name=f"op{index % 3}",
        start_ns=BASE + index * 1000,
        end_ns=BASE + index * 1000 + 500,
        kind=SpanKind(index % 6),
        service_name="cart",
        attributes={"http.route": "/cart", "n": index, "ok": True},
        resource_attributes=RESOURCE,
        scope_name="io.opentelemetry.http",
        flags=1,
    )


@st.composite
def mostly_plain_batches(draw) -> list[Span]:
    spans = [_plain_span(index) for index in range(draw(st.integers(1, 40)))]
    changes = draw(
        st.lists(
            st.tuples(st.integers(0, len(spans) - 1), st.sampled_from(sorted(MUTATIONS))),
            max_size=4,
        )
    )
    for index, name in changes:
        spans[index] = MUTATIONS[name](spans[index])
    return spans


def _expected_odd(spans: list[Span]) -> list[int]:
    checked: dict[int, bool] = {}
    return [index for index, span in enumerate(spans) if not is_plain(span, checked)]


def _odd(spans: list[Span]) -> list[int]:
    fields = {name: list(map(get, spans)) for name, get in columns._get.items()}
    shared = [
        columns._SharedDicts.of(fields[name])
        for name in ("resource_attributes", "scope_attributes")
    ]
    return columns._odd_spans(spans, fields, shared)


@settings(max_examples=300, deadline=None)
@given(spans=mostly_plain_batches())
def test_batch_check_finds_exactly_the_odd_spans(spans):
    assert _odd(spans) == _expected_odd(spans)


@settings(max_examples=100, deadline=None)
@given(spans=span_lists(max_size=8))
def test_batch_check_on_arbitrary_spans(spans):
    assert _odd(spans) == _expected_odd(spans)


def test_table_has_the_store_columns_in_order():
    batch = columns.encode_batch([_plain_span(index) for index in range(10)])
    assert batch.spans.column_names == [name for name, _ in COLUMNS]
    assert batch.spans.num_rows == batch.size == 10
    assert batch.spans.column("RawSpan").null_count == 10
    assert batch.ranges.num_rows == 3  # trace ids of spans 0-3, 4-7, 8-9
    assert batch.operations == {("cart", f"op{i % 3}", SpanKind(i % 6)) for i in range(10)}


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    with open_store(tmp_path_factory.mktemp("columns") / "traces.duckdb") as opened:
        yield opened


def test_every_mutation_round_trips(store):
    """Each odd span comes back exactly (from RawSpan), each plain one from the columns."""
    spans = [
        msgspec.structs.replace(
            mutate(_plain_span(index)), trace_id=f"{0xC0FFEE:016x}{index + 1:016x}"
        )
        for index, mutate in enumerate(MUTATIONS.values())
    ]
    store.write(spans)
    for span in spans:
        assert store.get_trace(span.trace_id) == [span], span
    raw = store._con.execute(
        "SELECT count(*) FROM otel_traces WHERE RawSpan IS NOT NULL "
        "AND TraceId LIKE '0000000000c0ffee%'"
    ).fetchone()[0]
    assert raw == len(_expected_odd(spans)) == len(MUTATIONS) - 3


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(spans=mostly_plain_batches())
def test_mostly_plain_batches_round_trip(store, spans):
    salt = next(_SALTS)  # each example its own traces in the module's store
    spans = [msgspec.structs.replace(s, trace_id=f"{salt:016x}{s.trace_id[16:]}") for s in spans]
    store.write(spans)
    for trace_id in {span.trace_id for span in spans}:
        expected = sorted(
            (s for s in spans if s.trace_id == trace_id), key=lambda s: (s.start_ns, s.span_id)
        )
        assert store.get_trace(trace_id) == expected


def test_synthetic_shop_batch(store):
    """A realistic batch: events, links, shared resources; only FOLLOWS_FROM spans go raw."""
    spans = list(generate_spans(300, seed=11))
    batch = store.prepare(spans)
    store.write(batch)
    raw = batch.spans.column("RawSpan").to_pylist()
    assert [r is not None for r in raw] == [not is_plain(span, {}) for span in spans]
    assert any(raw) and not all(raw)
    for trace_id in sorted({span.trace_id for span in spans})[:20]:
        expected = sorted(
            (s for s in spans if s.trace_id == trace_id), key=lambda s: (s.start_ns, s.span_id)
        )
        assert store.get_trace(trace_id) == expected
