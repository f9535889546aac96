"""Trace filters."""

from __future__ import annotations

import pytest

from spanscope.analysis.filters import TraceFilter, filter_traces
from spanscope.model import InvalidIdError
from tests.analysis.builders import MS, T0, build_all, span


@pytest.fixture
def traces():
    return build_all(
        span("r1", None, 0, 100, service="web", operation="GET /a", trace="1"),
        span("c1", "r1", 10, 20, service="db", operation="SELECT", trace="1"),
        span("r2", None, 500, 520, service="web", operation="GET /b", trace="2"),
        span("r3", None, 1000, 1300, service="batch", operation="run", trace="3"),
    )


def _ids(traces, **kwargs):
    return [int(t.trace_id, 16) for t in filter_traces(traces, TraceFilter(**kwargs))]


def test_each_filter(traces):
    assert _ids(traces) == [1, 2, 3]
    assert _ids(traces, services=("db",)) == [1]
    assert _ids(traces, services=("db", "batch")) == [1, 3]
    assert _ids(traces, operations=("GET /b",)) == [2]
    assert _ids(traces, operations=("db:SELECT",)) == [1]
    assert _ids(traces, trace_ids=("2", "0" * 31 + "3")) == [2, 3]
    assert _ids(traces, since_ns=T0 + 500 * MS) == [2, 3]
    assert _ids(traces, until_ns=T0 + 500 * MS) == [1]
    assert _ids(traces, min_duration_ns=100 * MS) == [1, 3]
    assert _ids(traces, services=("web",), min_duration_ns=50 * MS) == [1]


def test_describe_and_bad_ids(traces):
    assert TraceFilter(services=("a", "b"), min_duration_ns=5).describe() == {
        "services": "a,b",
        "min_duration_ns": "5",
    }
    with pytest.raises(InvalidIdError):
        list(filter_traces(traces, TraceFilter(trace_ids=("xyz",))))
