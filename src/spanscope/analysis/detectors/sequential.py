"""Sequential calls that could run in parallel.

Rule: under one parent span, at least ``sequential_min_calls`` (2 by default) *calls* to
different targets run one after another: each starts at or after the previous one ended
(``sequential_runs``). A call is a blocking child (not FOLLOWS_FROM) that is a CLIENT span or
belongs to another service than its parent. The target is the callee: the service and operation
of the call and its peer (``service.peer.name``/``peer.service``/``server.address``), except
that every call to one database (``db.system.name`` or ``db.system``, namespace, address) is
the same target: statements on one connection or transaction usually depend on each other.
Targets called more than once under the parent are left out (a loop over items is the N+1
detector's business, and repeated calls usually feed each other).

Nothing in a trace shows data dependencies, so a finding says what was seen: the calls ran one
after another, and *if* they are independent, running them concurrently would save up to the
sum of their durations minus the longest. ``critical_ns`` is that saving measured on the
critical path (sum minus max of the critical-path time inside each call); ``duration_ns`` the
same from their durations.
"""

from __future__ import annotations

from spanscope.analysis.detectors.tally import (
    CriticalView,
    Tally,
    TraceShare,
    merge_tallies,
    rank,
    sequential_runs,
)
from spanscope.analysis.results import AntiPattern
from spanscope.model import Span, SpanKind, Trace
from spanscope.units import format_duration

_PEER_KEYS = ("service.peer.name", "peer.service", "server.address", "net.peer.name")
_CLIENT = SpanKind.CLIENT  # a local name: enum attribute lookups are slow in loops


def _target(span: Span) -> tuple:
    attributes = span.attributes
    if attributes:
        # The current semantic conventions' name, then the older one.
        system = attributes.get("db.system.name") or attributes.get("db.system")
        if system:
            namespace = attributes.get("db.namespace") or attributes.get("db.name") or ""
            address = attributes.get("server.address") or attributes.get("net.peer.name") or ""
            return ("db", span.service_name, str(system), str(namespace), str(address))
        for key in _PEER_KEYS:
            peer = attributes.get(key)
            if peer:
                return (span.service_name, span.name, str(peer))
    return (span.service_name, span.name, "")


def _frame(span: Span) -> str:
    return f"{span.service_name or '?'}:{span.name}"


class SequentialCallsDetector:
    """Collects one-after-another calls trace by trace (see the module docstring)."""

    def __init__(self, min_calls: int = 2) -> None:
        self.min_calls = max(2, min_calls)
        self._tallies: dict[tuple, Tally] = {}
        self._share = TraceShare()

    def add(self, trace: Trace, path: CriticalView) -> None:
        minimum = self.min_calls
        share = self._share
        by_id = trace.by_id
        for parent_id, children in trace.children.items():
            if len(children) < minimum:
                continue
            parent = by_id[parent_id]
            service = parent.service_name
            calls = [
                child
                for child in children
                if not child.follows_from
                and (child.kind == _CLIENT or child.service_name != service)
            ]
            if len(calls) < minimum:
                continue
            targets = [_target(call) for call in calls]
            distinct = set(targets)
            if len(distinct) < minimum:
                continue
            if len(distinct) < len(targets):
                counts: dict[tuple, int] = {}
                for target in targets:
                    counts[target] = counts.get(target, 0) + 1
                calls = [call for call, t in zip(calls, targets, strict=True) if counts[t] == 1]
            for run in sequential_runs(calls):
                if len(run) < minimum:
                    continue
                critical = [path.time(s) for s in run]
                durations = [s.duration_ns for s in run]
                share.add(
                    (service, parent.name, tuple(_frame(s) for s in run)),
                    len(run),
                    sum(critical) - max(critical),
                    sum(durations) - max(durations),
                    [s.span_id for s in run],
                )
        if share.items:
            share.flush(self._tallies, trace.trace_id)

    def merge(self, other: SequentialCallsDetector) -> None:
        merge_tallies(self._tallies, other._tallies)

    def findings(self, limit: int) -> list[AntiPattern]:
        result = []
        for (service, operation, chain), tally in self._tallies.items():
            traces = tally.traces or 1
            explanation = (
                f"{service or '?'}:{operation} makes {len(chain)} calls one after another; if "
                "they are independent, running them concurrently would save up to "
                f"{format_duration(tally.duration_ns // traces)} per request "
                f"({format_duration(tally.critical_ns // traces)} of critical path)"
            )
            result.append(
                tally.finding(
                    "sequential_calls", service, operation, " -> ".join(chain), explanation
                )
            )
        return rank(result, limit)
