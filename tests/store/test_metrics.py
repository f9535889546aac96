"""RED metrics from the stores (``spanscope.store.metrics_sql``): hand-built spans with known
counts, error rates and quantiles, on a real DuckDB file and on the real ClickHouse engine
(chDB), which must give the same answers; and a property test that both engines agree with a
plain Python computation of the same definition (type-7 quantiles)."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from spanscope.model import Span, SpanKind, StatusCode
from spanscope.store import open_store
from spanscope.store.metrics_sql import MAX_BUCKETS, QUANTILES, MetricsQuery

from .clickhouse_engine import clickhouse_url

S = 10**9
MS = 10**6
T0 = 1_764_000_000 * S  # a round second, far from the epoch


def _span(
    n: int,
    start: int,
    duration: int,
    service="api",
    name="GET /",
    kind=SpanKind.SERVER,
    error=False,
) -> Span:
    return Span(
        trace_id=f"{n + 1:032x}",
        span_id=f"{n + 1:016x}",
        name=name,
        start_ns=start,
        end_ns=start + duration,
        kind=kind,
        service_name=service,
        status_code=StatusCode.ERROR if error else StatusCode.UNSET,
    )


def type7(values: list[int], q: float) -> int:
    """Hyndman-Fan type 7, the definition both engines use, exactly (rationals), to the
    nanosecond, half to even."""
    ordered = sorted(values)
    h = (len(ordered) - 1) * Fraction(str(q))
    low = math.floor(h)
    high = min(low + 1, len(ordered) - 1)
    return round(ordered[low] + (h - low) * (ordered[high] - ordered[low]))


@pytest.fixture(params=["duckdb", "clickhouse"])
def store(request, tmp_path):
    path = tmp_path / "m.duckdb" if request.param == "duckdb" else clickhouse_url()
    with open_store(path) as opened:
        yield opened


# Bucket 0 ([T0, T0+10s)): api GET / 1..10 ms, two errors; bucket 2: api POST /pay 100 ms error;
# a CLIENT span and a span of another service; spans just outside the window.
KNOWN = [
    *(_span(i, T0 + i * S, (i + 1) * MS, error=i in (3, 7)) for i in range(10)),
    _span(10, T0 + 25 * S, 100 * MS, name="POST /pay", error=True),
    _span(11, T0 + 1 * S, 5 * MS, kind=SpanKind.CLIENT),
    _span(12, T0 + 15 * S, 7 * MS, service="db"),
    _span(13, T0 - 1, 999 * MS),  # before the window
    _span(14, T0 + 30 * S, 999 * MS),  # at the window's end: excluded (half open)
]


def test_known_buckets_counts_errors_and_quantiles(store):
    store.write(KNOWN)
    found = store.metrics_series(MetricsQuery(T0, T0 + 30 * S, 10 * S))
    assert [series.service for series in found] == ["api", "db"]
    api, db = found
    assert api.operation is None
    assert [(p.bucket, p.start_ns, p.calls, p.errors) for p in api.points] == [
        (0, T0, 10, 2),
        (2, T0 + 20 * S, 1, 1),
    ]
    durations = [(i + 1) * MS for i in range(10)]
    first = api.points[0]
    assert (first.p50, first.p75, first.p95, first.p99) == tuple(
        type7(durations, q) for q in QUANTILES
    )
    assert first.p50 == 5_500_000 and first.p99 == 9_910_000
    assert api.points[1].p95 == 100 * MS
    assert [(p.bucket, p.calls, p.errors, p.p50) for p in db.points] == [(1, 1, 0, 7 * MS)]


def test_group_by_operation_and_summary_impact(store):
    store.write(KNOWN)
    query = MetricsQuery(T0, T0 + 30 * S, 10 * S, services=("api",), group_by_operation=True)
    series = store.metrics_series(query)
    assert [(s.service, s.operation, len(s.points)) for s in series] == [
        ("api", "GET /", 1),
        ("api", "POST /pay", 1),
    ]
    summary = store.metrics_summary(query)
    get, pay = summary
    assert (get.operation, get.calls, get.errors, get.total_ns) == ("GET /", 10, 2, 55 * MS)
    assert (pay.operation, pay.calls, pay.errors, pay.total_ns) == ("POST /pay", 1, 1, 100 * MS)
    assert get.error_rate == 0.2 and pay.error_rate == 1.0
    assert get.impact == pytest.approx(55 / 155) and pay.impact == pytest.approx(100 / 155)
    assert get.mean_ns == 5.5 * MS


def test_span_kind_choice(store):
    store.write(KNOWN)
    window = (T0, T0 + 30 * S, 30 * S)
    client = store.metrics_summary(MetricsQuery(*window, span_kind=SpanKind.CLIENT))
    assert [(row.service, row.calls) for row in client] == [("api", 1)]
    every = store.metrics_summary(MetricsQuery(*window, span_kind=None))
    assert [(row.service, row.calls) for row in every] == [("api", 12), ("db", 1)]
    both = store.metrics_summary(
        MetricsQuery(*window, span_kind=(SpanKind.CLIENT, SpanKind.SERVER), services=("api",))
    )
    assert [(row.service, row.calls) for row in both] == [("api", 12)]


def test_step_larger_than_window_is_one_bucket(store):
    store.write(KNOWN)
    (api, _db) = store.metrics_series(MetricsQuery(T0, T0 + 30 * S, 3600 * S))
    assert [(p.bucket, p.calls, p.errors) for p in api.points] == [(0, 11, 3)]


def test_empty_window_and_store(store):
    query = MetricsQuery(T0, T0 + 60 * S, 10 * S)
    assert store.metrics_series(query) == [] and store.metrics_summary(query) == []
    store.write(KNOWN)
    later = MetricsQuery(T0 + 3600 * S, T0 + 7200 * S, 60 * S)
    assert store.metrics_series(later) == [] and store.metrics_summary(later) == []


def test_bad_queries_are_refused():
    with pytest.raises(ValueError, match="empty"):
        MetricsQuery(T0, T0, S)
    with pytest.raises(ValueError, match="step"):
        MetricsQuery(T0, T0 + S, 0)
    with pytest.raises(ValueError, match="buckets"):
        MetricsQuery(T0, T0 + (MAX_BUCKETS + 1) * S, S)


spans_strategy = st.lists(
    st.tuples(
        st.integers(0, 59),  # start second
        st.integers(1, 10**9),  # duration
        st.sampled_from(["a", "b", "c"]),
        st.booleans(),
    ),
    min_size=1,
    max_size=40,
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows=spans_strategy, step=st.sampled_from([1, 7, 20, 60, 600]))
@example(rows=[(0, 221, "a", False), (0, 220_291, "a", False)], step=1)  # p95 at x.5 ns
def test_both_engines_match_python(tmp_path_factory, rows, step):
    spans = [
        _span(i, T0 + second * S + i, duration, service=service, error=error)
        for i, (second, duration, service, error) in enumerate(rows)
    ]
    query = MetricsQuery(T0, T0 + 60 * S, step * S)
    expected: dict[tuple[str, int], list] = {}
    for span in spans:
        bucket = (span.start_ns - T0) // (step * S)
        expected.setdefault((span.service_name, bucket), []).append(span)
    answers = []
    with (
        open_store(tmp_path_factory.mktemp("p") / "m.duckdb") as duck,
        open_store(clickhouse_url()) as house,
    ):
        for store in (duck, house):
            store.write(spans)
            answers.append(store.metrics_series(query))
    assert answers[0] == answers[1]
    got = {(s.service, p.bucket): p for s in answers[0] for p in s.points}
    assert set(got) == set(expected)
    for key, members in expected.items():
        durations = [span.end_ns - span.start_ns for span in members]
        point = got[key]
        assert point.calls == len(members)
        assert point.errors == sum(span.status_code == StatusCode.ERROR for span in members)
        assert (point.p50, point.p75, point.p95, point.p99) == tuple(
            type7(durations, q) for q in QUANTILES
        )


def test_one_scan_gives_what_the_two_queries_give(store):
    store.write(KNOWN)
    for query in (
        MetricsQuery(T0, T0 + 30 * S, 10 * S),
        MetricsQuery(T0, T0 + 30 * S, 10 * S, services=("api",), group_by_operation=True),
        MetricsQuery(T0, T0 + 30 * S, 3600 * S, span_kind=None),
        MetricsQuery(T0 + 3600 * S, T0 + 7200 * S, 60 * S),  # nothing in the window
    ):
        both = store.metrics_summary_and_series(query)
        assert both == (store.metrics_summary(query), store.metrics_series(query)), query


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.lists(
        st.tuples(
            st.integers(0, 59),  # start second
            st.integers(1, 10**9),  # duration
            st.sampled_from(["a", "b"]),
            st.sampled_from(["GET /", "POST /pay"]),
            st.sampled_from([SpanKind.SERVER, SpanKind.CLIENT]),
            st.booleans(),
        ),
        min_size=1,
        max_size=40,
    ),
    step=st.sampled_from([1, 7, 20, 60, 600]),
    by_operation=st.booleans(),
    kind=st.sampled_from([SpanKind.SERVER, None]),
)
def test_one_scan_matches_python_on_both_engines(tmp_path_factory, rows, step, by_operation, kind):
    """``metrics_summary_and_series`` (one GROUPING SETS scan) against plain Python: window
    figures per service (and operation) and bucket figures, on DuckDB and ClickHouse alike."""
    spans = [
        _span(i, T0 + second * S + i, duration, service, name, span_kind, error)
        for i, (second, duration, service, name, span_kind, error) in enumerate(rows)
    ]
    query = MetricsQuery(T0, T0 + 60 * S, step * S, kind, group_by_operation=by_operation)
    chosen = [span for span in spans if kind is None or span.kind == kind]
    answers = []
    with (
        open_store(tmp_path_factory.mktemp("p") / "m.duckdb") as duck,
        open_store(clickhouse_url()) as house,
    ):
        for store in (duck, house):
            store.write(spans)
            answers.append(store.metrics_summary_and_series(query))
    assert answers[0] == answers[1]
    summary, series = answers[0]

    def key(span: Span) -> tuple[str, str | None]:
        return span.service_name, span.name if by_operation else None

    def figures(members: list[Span]) -> tuple:
        durations = [span.end_ns - span.start_ns for span in members]
        errors = sum(span.status_code == StatusCode.ERROR for span in members)
        return (len(members), errors, *(type7(durations, q) for q in QUANTILES), sum(durations))

    windows: dict[tuple, list[Span]] = {}
    buckets: dict[tuple, list[Span]] = {}
    for span in chosen:
        windows.setdefault(key(span), []).append(span)
        buckets.setdefault((*key(span), (span.start_ns - T0) // (step * S)), []).append(span)
    assert [(row.service, row.operation) for row in summary] == sorted(windows)
    grand = sum(span.end_ns - span.start_ns for span in chosen)
    for row in summary:
        members = windows[row.service, row.operation]
        assert (row.calls, row.errors, row.p50, row.p75, row.p95, row.p99, row.total_ns) == figures(
            members
        )
        assert row.impact == pytest.approx(row.total_ns / grand)
    got = {(s.service, s.operation, p.bucket): p for s in series for p in s.points}
    assert set(got) == set(buckets)
    for bucket_key, members in buckets.items():
        point = got[bucket_key]
        assert (point.calls, point.errors, point.p50, point.p75, point.p95, point.p99) == figures(
            members
        )[:6]
