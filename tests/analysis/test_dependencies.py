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


def test_the_current_conventions_name_databases_and_peers_too():
    """``db.system.name`` and ``service.peer.name`` (semantic conventions 1.26 on) name the
    callee as ``db.system`` and ``peer.service`` did."""
    from spanscope.analysis.dependencies import dependencies
    from spanscope.analysis.detectors.sequential import _target
    from spanscope.model import SpanKind
    from tests.analysis.builders import build, span

    for db_key, peer_key in (
        ("db.system.name", "service.peer.name"),
        ("db.system", "peer.service"),
    ):
        trace = build(
            span("r", None, 0, 10, service="api", operation="GET /"),
            span("d", "r", 1, 3, service="api", operation="SELECT", kind=SpanKind.CLIENT,
                 attributes={db_key: "postgresql", "db.namespace": "shop"}),
            span("p", "r", 4, 9, service="api", operation="charge", kind=SpanKind.CLIENT,
                 attributes={peer_key: "payments"}),
        )  # fmt: skip
        edges = {(e.parent, e.child) for e in dependencies([trace])}
        assert edges == {("api", "postgresql"), ("api", "payments")}, db_key
        by_id = trace.by_id
        assert _target(by_id[trace.spans[1].span_id])[:3] == ("db", "api", "postgresql")
        assert _target(by_id[trace.spans[2].span_id]) == ("api", "charge", "payments")
