"""Service dependency edges."""

from __future__ import annotations

from spanscope.analysis.dependencies import DependencyEdge, dependencies
from spanscope.model import SpanKind, StatusCode
from tests.analysis.builders import MS, build_all, span


def test_edges_from_client_server_pairs_and_uninstrumented_peers():
    traces = build_all(
        span("r1", None, 0, 100, service="web", trace="1"),
        span("c1", "r1", 10, 60, service="web", kind=SpanKind.CLIENT, trace="1"),
        span("s1", "c1", 15, 55, service="api", kind=SpanKind.SERVER, trace="1"),
        span("q1", "s1", 20, 30, service="api", kind=SpanKind.CLIENT, trace="1",
             attributes={"db.system": "postgresql"}),
        span("r2", None, 0, 100, service="web", trace="2"),
        span("c2", "r2", 10, 30, service="web", kind=SpanKind.CLIENT, trace="2"),
        span("s2", "c2", 12, 28, service="api", kind=SpanKind.SERVER, trace="2",
             status_code=StatusCode.ERROR),
        span("x2", "s2", 13, 14, service="api", kind=SpanKind.CLIENT, trace="2",
             attributes={"peer.service": "api"}),  # a call to itself is no edge
    )  # fmt: skip
    assert dependencies(traces) == [
        DependencyEdge("api", "postgresql", 1, 0, 10 * MS, 10 * MS),
        # client-observed latency: 50 ms and 20 ms; nearest-rank p50 of two values is the lower
        DependencyEdge("web", "api", 2, 1, 20 * MS, 50 * MS),
    ]


def test_cross_service_without_kinds_uses_the_callee_duration():
    traces = build_all(
        span("r", None, 0, 100, service="a"),
        span("b", "r", 10, 40, service="b"),
    )
    assert dependencies(traces) == [DependencyEdge("a", "b", 1, 0, 30 * MS, 30 * MS)]
