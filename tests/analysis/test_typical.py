"""A request against the typical request of its endpoint: the median picked the same way
whatever the order, endpoints with too few requests left out, and where two requests' critical
paths differ, with known answers."""

from __future__ import annotations

import random

from spanscope.analysis.typical import (
    MIN_REQUESTS,
    OperationDifference,
    TypicalRequests,
    compare_operations,
    critical_by_operation,
)
from tests.analysis.builders import build, span


def _request(number: int, db_ms: float, cache_ms: float = 1, operation: str = "GET /cart"):
    """web (operation) -> db SELECT (db_ms) then cache GET (cache_ms), 1 ms of its own."""
    trace = f"{number + 1:x}"
    end = 1 + db_ms + cache_ms
    return build(
        span(f"r{trace}", None, 0, end, service="web", operation=operation, trace=trace),
        span(f"d{trace}", f"r{trace}", 1, 1 + db_ms, service="db", operation="SELECT",
             trace=trace),
        span(f"c{trace}", f"r{trace}", 1 + db_ms, end, service="cache", operation="GET",
             trace=trace),
    )  # fmt: skip


def test_the_typical_request_is_the_median_whatever_the_order():
    traces = [_request(n, db_ms=10 + n) for n in range(9)]  # 12 ... 20 ms
    shuffled = traces[:]
    random.Random(7).shuffle(shuffled)
    for order in (traces, shuffled, traces[::-1]):
        (typical,) = TypicalRequests(order).by_endpoint.values()
        assert typical.requests == 9
        assert typical.trace.root.duration_ns == 16 * 10**6  # the 5th of 9
    # An even count takes the lower median.
    (typical,) = TypicalRequests(traces[:6]).by_endpoint.values()
    assert typical.trace.root.duration_ns == 14 * 10**6


def test_equal_durations_are_told_apart_by_trace_id():
    traces = [_request(n, db_ms=10) for n in range(6)]
    picks = {TypicalRequests(order).by_endpoint[("web", "GET /cart")].trace.trace_id
             for order in (traces, traces[::-1])}  # fmt: skip
    assert picks == {sorted(t.trace_id for t in traces)[2]}


def test_endpoints_with_few_requests_have_no_typical_request():
    traces = [_request(n, 10) for n in range(MIN_REQUESTS)]
    traces += [_request(100 + n, 10, operation="POST /pay") for n in range(MIN_REQUESTS - 1)]
    typical = TypicalRequests(traces)
    assert set(typical.by_endpoint) == {("web", "GET /cart")}
    assert typical.endpoint(traces[-1]) == ("web", "POST /pay")
    assert typical.of(traces[-1]) is None and typical.of(traces[0]) is not None


def test_names_with_ids_in_them_are_one_endpoint_as_the_report_counts_them():
    traces = [_request(n, db_ms=10 + n, operation=f"GET /users/{1000 + n}") for n in range(30)]
    typical = TypicalRequests(traces)
    (endpoint,) = typical.by_endpoint
    assert endpoint == ("web", "GET /users/<num>")
    assert typical.by_endpoint[endpoint].requests == 30
    assert typical.of(traces[0]).trace.root.duration_ns == (10 + 14 + 2) * 10**6


def _differences(trace, typical) -> list[OperationDifference]:
    return compare_operations(critical_by_operation(trace), critical_by_operation(typical))


def test_where_a_slow_request_differs_from_the_typical_one():
    slow, usual = _request(1, db_ms=500, cache_ms=1), _request(2, db_ms=10, cache_ms=3)
    assert critical_by_operation(slow) == {
        ("web", "GET /cart"): 1_000_000,
        ("db", "SELECT"): 500_000_000,
        ("cache", "GET"): 1_000_000,
    }
    assert _differences(slow, usual) == [
        OperationDifference("db", "SELECT", 500_000_000, 10_000_000),
        OperationDifference("cache", "GET", 1_000_000, 3_000_000),
    ]
    assert _differences(usual, usual) == []


def test_only_the_largest_changes_are_kept_when_asked():
    slow, usual = _request(1, db_ms=500, cache_ms=1), _request(2, db_ms=10, cache_ms=3)
    mine, theirs = critical_by_operation(slow), critical_by_operation(usual)
    assert compare_operations(mine, theirs, 1) == compare_operations(mine, theirs)[:1]
