"""Service dependencies: who calls whom, how often, how often it fails, how long it takes.

An edge ``parent -> child`` (service names) is counted once per call:
- a span whose parent span belongs to another service (the usual client/server pair, or any
  parent/child crossing a service boundary);
- a CLIENT or PRODUCER span with no children at all that names its peer
  (``service.peer.name`` or ``peer.service``, else ``db.system.name``/``db.system``,
  ``messaging.system``, ``server.address`` or ``net.peer.name``): calls into databases,
  caches, queues and third parties nobody traced.

The latency of a call is the caller's view when the parent is a CLIENT/PRODUCER span (what the
caller waited for, network included), else the callee span's duration. A call failed when the
caller's or the callee's span is an error span (``spanscope.analysis.errors``).

Contract: ``dependencies(traces)`` returns edges sorted by (parent, child); ``p50_ns`` and
``p99_ns`` are nearest-rank percentiles (``spanscope.analysis.percentiles``). Pure.
"""

from __future__ import annotations

from collections.abc import Iterable

import msgspec

from spanscope.analysis.errors import error_ids
from spanscope.analysis.percentiles import LatencyDigest
from spanscope.model import SpanKind, Trace

# Attributes naming the callee of a CLIENT/PRODUCER span, most specific first: the
# service name (current and older semantic conventions), then the system or host.
_PEER_KEYS = (
    "service.peer.name",
    "peer.service",
    "db.system.name",
    "db.system",
    "messaging.system",
    "server.address",
    "net.peer.name",
)
_CALLER_KINDS = frozenset((SpanKind.CLIENT, SpanKind.PRODUCER))


class DependencyEdge(msgspec.Struct):
    """Calls from service ``parent`` to service ``child``."""

    parent: str
    child: str
    call_count: int
    error_count: int
    p50_ns: int
    p99_ns: int


class DependencyCollector:
    """Accumulates edges trace by trace; ``edges()`` gives the result."""

    def __init__(self) -> None:
        self._calls: dict[tuple[str, str], list[int]] = {}  # key -> [calls, errors]
        self._latency: dict[tuple[str, str], LatencyDigest] = {}

    def _count(self, key: tuple[str, str], duration: int, failed: bool) -> None:
        entry = self._calls.get(key)
        if entry is None:
            entry = self._calls[key] = [0, 0]
            self._latency[key] = LatencyDigest()
        entry[0] += 1
        if failed:
            entry[1] += 1
        self._latency[key].values.append(duration)

    def add(self, trace: Trace, errors: set[str] | None = None) -> None:
        if errors is None:
            errors = error_ids(trace)
        by_id = trace.by_id
        children = trace.children
        calls = self._calls
        latency = self._latency
        caller_kinds = _CALLER_KINDS
        for span in trace.spans:
            parent_id = span.parent_span_id
            service = span.service_name
            if parent_id:
                parent = by_id.get(parent_id)
                if parent is not None and parent.service_name != service:
                    # The common edge, counted inline (this runs for every cross-service span).
                    caller = parent if parent.kind in caller_kinds else span
                    duration = caller.end_ns - caller.start_ns
                    key = (parent.service_name, service)
                    entry = calls.get(key)
                    if entry is None:
                        entry = calls[key] = [0, 0]
                        latency[key] = LatencyDigest()
                    entry[0] += 1
                    if errors and (span.span_id in errors or parent_id in errors):
                        entry[1] += 1
                    latency[key].values.append(duration if duration > 0 else 0)
            if span.kind in caller_kinds and span.span_id not in children:
                attributes = span.attributes
                if not attributes:
                    continue  # names no peer
                for peer_key in _PEER_KEYS:
                    peer = attributes.get(peer_key)
                    if peer and isinstance(peer, str):
                        if peer != service:
                            self._count((service, peer), span.duration_ns, span.span_id in errors)
                        break

    def merge(self, other: DependencyCollector) -> None:
        """Add the edges ``other`` collected."""
        for key, (calls, failures) in other._calls.items():
            entry = self._calls.get(key)
            if entry is None:
                self._calls[key] = [calls, failures]
                self._latency[key] = other._latency[key]
            else:
                entry[0] += calls
                entry[1] += failures
                self._latency[key].merge(other._latency[key])

    def compact(self) -> None:
        """Bound memory: edges past the exact limit move into their sketch."""
        for digest in self._latency.values():
            if len(digest.values) > digest.exact_limit:
                digest.compact()

    def edges(self) -> list[DependencyEdge]:
        result = []
        for key in sorted(self._calls):
            calls, failures = self._calls[key]
            stats = self._latency[key].stats()
            result.append(
                DependencyEdge(key[0], key[1], calls, failures, stats.p50_ns, stats.p99_ns)
            )
        return result


def dependencies(traces: Iterable[Trace]) -> list[DependencyEdge]:
    """Service -> service edges over all ``traces`` (see the module docstring)."""
    collector = DependencyCollector()
    for trace in traces:
        collector.add(trace)
    return collector.edges()
