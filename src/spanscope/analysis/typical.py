"""How one request differs from a typical request of its endpoint.

"Why was *this* request slow?" is answered best against a request of the same endpoint that
was not: ``TypicalRequests(traces)`` picks, for each endpoint (root service and operation,
names with ids in them folded as the report folds them) with at least ``MIN_REQUESTS``
requests, its typical request, the one of median duration (the lower median; ties by trace id,
so the choice does not depend on input order).
``compare_operations(critical_by_operation(trace), critical_by_operation(typical))`` then says
where the two spent their critical path differently: per service:operation, the critical-path
time in each, the largest change first. The critical
path is the one of ``critical_path`` (Jaeger's semantics), summed per operation as the profile
sums it, so the numbers agree with the report's.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from typing import NamedTuple

from spanscope.analysis.critical_path import CriticalSection, critical_time
from spanscope.analysis.name_folding import NameFolding
from spanscope.model import Trace

# Below this many requests a median says little about what is usual.
MIN_REQUESTS = 5

Endpoint = tuple[str, str]


class OperationDifference(NamedTuple):
    """Critical-path time of one service:operation in a request and in the typical one."""

    service: str
    operation: str
    ns: int
    typical_ns: int


class Typical(NamedTuple):
    """An endpoint's typical request (``trace``) among ``requests`` requests."""

    trace: Trace
    requests: int


class TypicalRequests:
    """Each endpoint's typical request among ``traces`` (module docstring), for endpoints with
    at least ``min_requests`` requests: ``by_endpoint``, and ``of(trace)`` for a trace's own.
    Endpoints are named as the report names them: root names with ids in them (``GET
    /users/1029``) count under their template once enough of them share it (``name_folding``)."""

    def __init__(self, traces: Iterable[Trace], min_requests: int = MIN_REQUESTS) -> None:
        rooted = [trace for trace in traces if trace.roots]
        self.folding = NameFolding((t.root.service_name, t.root.name) for t in rooted)
        by_endpoint: dict[Endpoint, list[Trace]] = {}
        for trace in rooted:
            by_endpoint.setdefault(self.endpoint(trace), []).append(trace)
        self.by_endpoint: dict[Endpoint, Typical] = {}
        for endpoint, requests in by_endpoint.items():
            if len(requests) >= min_requests:
                requests.sort(key=lambda t: (t.root.duration_ns, t.trace_id))
                median = requests[(len(requests) - 1) // 2]
                self.by_endpoint[endpoint] = Typical(median, len(requests))

    def endpoint(self, trace: Trace) -> Endpoint:
        """The endpoint a (rooted) trace's request went to: its root's service and name."""
        root = trace.root
        return root.service_name, self.folding.fold(root.service_name, root.name)

    def of(self, trace: Trace) -> Typical | None:
        """The typical request of ``trace``'s endpoint, if it has one."""
        return self.by_endpoint.get(self.endpoint(trace)) if trace.roots else None


def critical_by_operation(
    trace: Trace, sections: Iterable[CriticalSection] | None = None
) -> dict[Endpoint, int]:
    """(service, operation) -> ns of the trace's critical path spent in its spans; ``sections``
    is ``critical_path(trace)`` when the caller has it already."""
    out: dict[Endpoint, int] = {}
    by_id = trace.by_id
    if sections is None:
        for span_id, ns in critical_time(trace).items():
            span = by_id[span_id]
            key = (span.service_name, span.name)
            out[key] = out.get(key, 0) + ns
        return out
    for section in sections:
        span = by_id[section.span_id]
        key = (span.service_name, span.name)
        out[key] = out.get(key, 0) + section.end_ns - section.start_ns
    return out


def compare_operations(
    mine: dict[Endpoint, int], theirs: dict[Endpoint, int], limit: int | None = None
) -> list[OperationDifference]:
    """Where two requests spent their critical paths differently, from their
    ``critical_by_operation``: one entry per service:operation whose time differs, the largest
    change (either way) first; the first ``limit`` only."""
    changes = []
    for key in mine.keys() | theirs.keys():
        ns, typical_ns = mine.get(key, 0), theirs.get(key, 0)
        if ns != typical_ns:
            changes.append((-abs(ns - typical_ns), key, ns, typical_ns))
    # (largest change, service, operation): the order is total, whatever the dicts' order.
    chosen = sorted(changes) if limit is None else heapq.nsmallest(limit, changes)
    return [OperationDifference(key[0], key[1], ns, typical) for _, key, ns, typical in chosen]
