"""One definition of a failed span (``store.failure_sql``): the Monitor's error counts and the
search's ``error=true`` on a real DuckDB file and on real ClickHouse (chDB) agree, span for span,
with ``analysis.errors.is_error_span``, the rule ``analyze`` counts: for every rule and its
near misses, for rows a collector wrote (values as text), and for generated spans."""

from __future__ import annotations

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spanscope.analysis.errors import is_error_span
from spanscope.model import Event, Span, SpanKind, StatusCode
from spanscope.store import DuckDBStore, TraceQuery, open_store
from spanscope.store.metrics_sql import MetricsQuery

from .clickhouse_engine import clickhouse_url

S = 10**9
T0 = 1_764_000_000 * S
NEW, OLD, GRPC = "http.response.status_code", "http.status_code", "rpc.grpc.status_code"
EXCEPTION = Event(T0, "exception", {"exception.type": "Timeout"})

# (attributes, status, events) of one span each: every rule, its near misses, and the shapes
# the SQL decides from the JSON text without parsing (one key, both HTTP keys, gRPC and HTTP
# together, keys inside a nested object, keys in another order).
CASES: list[tuple[dict, StatusCode, list[Event]]] = [
    ({}, StatusCode.UNSET, []),
    ({}, StatusCode.ERROR, []),
    ({NEW: 500}, StatusCode.OK, []),  # status OK does not overrule an HTTP 500
    ({NEW: 499}, StatusCode.UNSET, []),
    ({NEW: 500}, StatusCode.UNSET, []),
    ({NEW: "500"}, StatusCode.UNSET, []),
    ({NEW: "0500"}, StatusCode.UNSET, []),
    ({NEW: "５００"}, StatusCode.UNSET, []),  # digits, but not ASCII ones: not a number
    ({NEW: "٥٠٠"}, StatusCode.UNSET, []),
    ({GRPC: "２"}, StatusCode.UNSET, []),
    ({NEW: "５００", OLD: 503}, StatusCode.UNSET, []),
    ({NEW: 500.0}, StatusCode.UNSET, []),
    ({NEW: 500.5}, StatusCode.UNSET, []),
    ({NEW: 499.6}, StatusCode.UNSET, []),
    ({NEW: 1e20}, StatusCode.UNSET, []),
    ({NEW: 2**64 - 1}, StatusCode.UNSET, []),
    ({NEW: True}, StatusCode.UNSET, []),
    ({NEW: "abc"}, StatusCode.UNSET, []),
    ({NEW: [500]}, StatusCode.UNSET, []),
    ({NEW: {"code": 500}}, StatusCode.UNSET, []),
    ({OLD: 503}, StatusCode.UNSET, []),
    ({OLD: 404, "http.method": "GET"}, StatusCode.UNSET, []),
    ({NEW: 200, OLD: 500}, StatusCode.UNSET, []),  # the newer key decides when present
    ({OLD: 500, NEW: 200}, StatusCode.UNSET, []),
    ({NEW: 502, OLD: 200}, StatusCode.UNSET, []),
    ({NEW: "n/a", OLD: 500}, StatusCode.UNSET, []),
    ({GRPC: 0}, StatusCode.UNSET, []),
    ({GRPC: 2}, StatusCode.UNSET, []),
    ({GRPC: "2"}, StatusCode.UNSET, []),
    ({GRPC: "0"}, StatusCode.UNSET, []),
    ({GRPC: 0.0}, StatusCode.UNSET, []),
    ({GRPC: 0.5}, StatusCode.UNSET, []),
    ({GRPC: 14.0}, StatusCode.UNSET, []),
    ({GRPC: -1}, StatusCode.UNSET, []),
    ({GRPC: False}, StatusCode.UNSET, []),
    ({GRPC: True}, StatusCode.UNSET, []),
    ({OLD: True}, StatusCode.UNSET, []),
    ({GRPC: 2, f'x"{GRPC}': 0}, StatusCode.UNSET, []),  # a key that ends like the gRPC key
    ({f'x"{GRPC}': 0, GRPC: 2}, StatusCode.UNSET, []),
    ({GRPC: 0, NEW: 500}, StatusCode.UNSET, []),
    ({GRPC: 0, OLD: 503}, StatusCode.UNSET, []),
    ({GRPC: 2, NEW: 200}, StatusCode.UNSET, []),
    ({"error": True}, StatusCode.UNSET, []),
    ({"error": "true"}, StatusCode.UNSET, []),
    ({"error": False}, StatusCode.UNSET, []),
    ({"error": "false"}, StatusCode.UNSET, []),
    ({"error": "True"}, StatusCode.UNSET, []),
    ({"error": 1}, StatusCode.UNSET, []),
    ({"error": False, GRPC: 0}, StatusCode.UNSET, []),
    ({"error": False, NEW: 503}, StatusCode.UNSET, []),
    ({"error.type": "Timeout", "message": '"error":true'}, StatusCode.UNSET, []),
    ({"db": {GRPC: 0}, GRPC: 2}, StatusCode.UNSET, []),  # the same key nested, and at the top
    ({GRPC: 2, "db": {GRPC: 0}}, StatusCode.UNSET, []),
    ({"db": {NEW: 500, "error": True}}, StatusCode.UNSET, []),  # nested only: not the span's
    ({"route": "/a/{id}", NEW: 200}, StatusCode.UNSET, []),
    ({NEW: 200}, StatusCode.UNSET, []),
    ({NEW: 2000}, StatusCode.UNSET, []),
    ({NEW: 2000, "peer": "db"}, StatusCode.UNSET, []),
    ({"peer": "db", NEW: 2000}, StatusCode.UNSET, []),
    ({"peer": "db", NEW: 200, OLD: 500}, StatusCode.UNSET, []),
    ({"peer": "db", NEW: 200, GRPC: 2}, StatusCode.UNSET, []),
    ({"peer": "db", GRPC: 0}, StatusCode.UNSET, []),
    ({"peer": "db", OLD: 500, GRPC: 0}, StatusCode.UNSET, []),
    ({"db": {GRPC: 2}, "peer": "db", GRPC: 0}, StatusCode.UNSET, []),
    ({GRPC: 2, "db": {"peer": "db", GRPC: 0}}, StatusCode.UNSET, []),
    ({"http.route": "/", GRPC: 0}, StatusCode.UNSET, []),
    ({}, StatusCode.UNSET, [EXCEPTION]),
    ({}, StatusCode.UNSET, [Event(T0, "retry", {"exception.type": "Timeout"})]),
    ({GRPC: 0}, StatusCode.UNSET, [Event(T0, "log", {}), EXCEPTION]),
]

# What the columns cannot tell apart (failure_sql's docstring), as (attributes, DuckDB's
# verdict, ClickHouse's): DuckDB's JSON writes a NaN as null, which reads as absent; in
# ClickHouse's text maps a null is '', which reads as present, and text that spells a number
# other than in digits is read as that number.
READ_OTHERWISE: list[tuple[dict, bool, bool]] = [
    ({NEW: float("nan"), OLD: 503}, True, False),  # is_error_span: False
    ({NEW: None, OLD: 503}, True, False),  # True
    ({OLD: "500.0"}, False, True),  # False
    ({GRPC: "-1"}, False, True),  # False
]


def _spans(cases: list[tuple[dict, StatusCode, list[Event]]]) -> list[Span]:
    """One SERVER span per case, each its own service ("c<i>") and trace."""
    return [
        Span(
            trace_id=f"{i + 1:032x}",
            span_id=f"{i + 1:016x}",
            name="op",
            start_ns=T0 + i * 1000,
            end_ns=T0 + i * 1000 + 500,
            kind=SpanKind.SERVER,
            service_name=f"c{i}",
            status_code=status,
            attributes=attributes,
            events=events,
        )
        for i, (attributes, status, events) in enumerate(cases)
    ]


def _store_verdicts(store, spans: list[Span]) -> tuple[dict[str, bool], set[str]]:
    """Per service, whether the Monitor's metrics count its span as an error; and the traces
    the search ``error=true`` finds."""
    summary = store.metrics_summary(MetricsQuery(T0, T0 + 10 * S, S))
    counted = {row.service: bool(row.errors) for row in summary}
    assert {row.service: row.calls for row in summary} == {s.service_name: 1 for s in spans}
    found = set(store.find_trace_ids(TraceQuery(tags={"error": "true"}, num_traces=1000)))
    return counted, found


@pytest.fixture(params=["duckdb", "clickhouse"])
def store(request, tmp_path):
    path = tmp_path / "f.duckdb" if request.param == "duckdb" else clickhouse_url()
    with open_store(path) as opened:
        yield opened


def test_every_rule_and_its_near_misses_as_analyze_counts_them(store):
    spans = _spans(CASES)
    store.write(spans)
    counted, found = _store_verdicts(store, spans)
    expected = {span.service_name: is_error_span(span) for span in spans}
    wrong = {
        service: CASES[int(service[1:])][:2]
        for service in expected
        if counted[service] != expected[service]
    }
    assert not wrong, f"metrics count differently from analyze: {wrong}"
    assert found == {span.trace_id for span in spans if is_error_span(span)}


def test_what_each_store_cannot_tell_apart(store):
    cases = [(attributes, StatusCode.UNSET, []) for attributes, _, _ in READ_OTHERWISE]
    spans = _spans(cases)
    store.write(spans)
    counted, _ = _store_verdicts(store, spans)
    duckdb = isinstance(store, DuckDBStore)
    for span, (attributes, on_duckdb, on_clickhouse) in zip(spans, READ_OTHERWISE, strict=True):
        assert counted[span.service_name] == (on_duckdb if duckdb else on_clickhouse), attributes


def test_spans_kept_whole_in_raw_span_are_judged_by_their_columns(store):
    """A span the columns cannot hold exactly (bytes, a dropped count) is also kept whole in
    RawSpan; its attribute and event columns are still filled, and the rule reads those."""
    odd = [
        ({GRPC: 14, "payload": b"\x00\x01"}, StatusCode.UNSET, []),
        ({NEW: 503, "payload": b"\x00"}, StatusCode.UNSET, []),
        ({GRPC: 0, "payload": b"\x00"}, StatusCode.UNSET, [EXCEPTION]),
        ({GRPC: 0, "payload": b"\x00"}, StatusCode.UNSET, []),
    ]
    spans = _spans(odd)
    spans[3] = msgspec.structs.replace(spans[3], dropped_attributes_count=2)
    store.write(spans)
    assert store.get_trace(spans[0].trace_id) == [spans[0]]
    counted, found = _store_verdicts(store, spans)
    assert counted == {span.service_name: is_error_span(span) for span in spans}
    assert [counted[f"c{i}"] for i in range(4)] == [True, True, True, False]
    assert found == {span.trace_id for span in spans[:3]}


def test_rows_a_collector_wrote_count_as_analyze_reads_them():
    """Rows inserted as the collector's exporter inserts them (values as text, no RawSpan):
    ``analyze --db`` rebuilds them with text values, and the SQL agrees with it."""
    rows = [
        ("{'http.response.status_code': '503'}", "Unset", []),
        ("{'http.response.status_code': '200', 'http.status_code': '500'}", "Unset", []),
        ("{'http.status_code': '500'}", "Unset", []),
        ("{'rpc.grpc.status_code': '0'}", "Unset", []),
        ("{'rpc.grpc.status_code': '14'}", "Unset", []),
        ("{'error': 'true'}", "Unset", []),
        ("{'error': 'false'}", "Unset", []),
        ("{}", "STATUS_CODE_ERROR", []),  # older exporters' status names
        ("{}", "Unset", ["exception"]),
        ("{'http.response.status_code': '404'}", "Ok", []),
    ]
    values = ", ".join(
        f"(fromUnixTimestamp64Nano(toInt64({T0 + i})), '{i + 1:032x}', '{i + 1:016x}', 'op', "
        f"'Server', 'r{i}', {attributes}, 10, '{status}', "
        f"[{', '.join(f'fromUnixTimestamp64Nano(toInt64({T0}))' for _ in events)}], "
        f"{events!r}, [{', '.join('{}' for _ in events)}])"
        for i, (attributes, status, events) in enumerate(rows)
    )
    with open_store(clickhouse_url()) as store:
        store.client.query(
            f"INSERT INTO {store.client.database}.otel_traces (Timestamp, TraceId, SpanId, "
            "SpanName, SpanKind, ServiceName, SpanAttributes, Duration, StatusCode, "
            f"`Events.Timestamp`, `Events.Name`, `Events.Attributes`) VALUES {values}"
        )
        spans = [store.get_trace(f"{i + 1:032x}")[0] for i in range(len(rows))]
        counted, found = _store_verdicts(store, spans)
    expected = {span.service_name: is_error_span(span) for span in spans}
    assert sum(expected.values()) == 6
    assert counted == expected
    assert found == {span.trace_id for span in spans if is_error_span(span)}


_value = st.one_of(
    st.sampled_from([0, 1, 2, 14, 200, 404, 499, 500, 503, 599, 1000, -1]),
    st.sampled_from(["0", "2", "200", "500", "503", "true", "false", "", "abc", "5xx"]),
    st.sampled_from([0.0, 0.5, 200.0, 499.5, 500.0, 503.0, 1e20]),
    st.booleans(),
    st.none(),
    # a nested object (kvlist) holding the same keys: not the span's own
    st.dictionaries(st.sampled_from(["error", NEW, GRPC]), st.sampled_from([0, 2, 500, True])),
)
_attributes = st.dictionaries(
    st.sampled_from(["error", NEW, OLD, GRPC, "http.route", "peer.service"]), _value, max_size=4
)
_span_parts = st.tuples(
    st.sampled_from("abc"),
    _attributes,
    st.sampled_from([StatusCode.UNSET, StatusCode.UNSET, StatusCode.OK, StatusCode.ERROR]),
    st.lists(st.sampled_from(["exception", "log"]), max_size=2),
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(parts=st.lists(_span_parts, min_size=1, max_size=30))
def test_metrics_errors_per_service_are_analyzes_error_spans(tmp_path_factory, parts):
    spans = [
        Span(
            trace_id=f"{i + 1:032x}",
            span_id=f"{i + 1:016x}",
            name="op",
            start_ns=T0 + i,
            end_ns=T0 + i + 10,
            kind=SpanKind.SERVER,
            service_name=service,
            status_code=status,
            attributes=attributes,
            events=[Event(T0, name, {}) for name in events],
        )
        for i, (service, attributes, status, events) in enumerate(parts)
    ]
    with open_store(tmp_path_factory.mktemp("h") / "h.duckdb") as store:
        store.write(spans)
        summary = store.metrics_summary(MetricsQuery(T0, T0 + S, S))
    expected: dict[str, int] = {}
    for span in spans:
        expected[span.service_name] = expected.get(span.service_name, 0) + is_error_span(span)
    assert {row.service: row.errors for row in summary} == expected
