"""Broken context propagation: traces that fell apart on the way through the services.

Each rule gives findings per span service:operation (``detail`` names the rule):

- ``orphan``: the span's parent id names a span that is not in the trace (assembly's
  ``orphan`` problems): the caller's span never arrived (dropped, not sampled, exported
  elsewhere) or the id was mangled;
- ``extra root``: a trace with several spans without a parent (assembly's ``multiple_roots``):
  something started a new root inside a request instead of continuing its context;
- ``server under non-client``: a SERVER span whose parent is known but is not a CLIENT or
  PRODUCER span (kind UNSPECIFIED parents are skipped: old data without kinds): the outgoing
  call was not instrumented, or the context was taken from the wrong span. A CLIENT parent in
  the same service (a service calling itself) is fine;
- ``client without server``: a CLIENT span with no SERVER/CONSUMER child although its peer
  (``service.peer.name``, ``peer.service``, ``server.address``, ``net.peer.name``; the first
  DNS label also counts) is a service that appears in the data (database calls, with
  ``db.system.name`` or ``db.system``, are skipped): the callee is traced but did not continue
  the trace.
  The detail also counts root SERVER/CONSUMER spans of that callee that started inside such
  calls: the other half of each broken trace.

``critical_ns`` is the critical-path time inside the involved spans, except for orphans and
extra roots, whose missing link costs visibility, not time (0): a call into a service that did
not continue the trace is time the request waited on without seeing inside.
``duration_ns`` sums the involved spans' durations.
"""

from __future__ import annotations

from bisect import bisect_right

from spanscope.analysis.detectors.tally import (
    CriticalView,
    Tally,
    TraceShare,
    merge_capped,
    merge_tallies,
    rank,
    span_end,
)
from spanscope.analysis.results import AntiPattern
from spanscope.model import ProblemKind, SpanKind, Trace

_PEER_KEYS = ("service.peer.name", "peer.service", "server.address", "net.peer.name")
_CALLER_OR_UNKNOWN = frozenset((SpanKind.CLIENT, SpanKind.PRODUCER, SpanKind.UNSPECIFIED))
_SERVER, _CLIENT = SpanKind.SERVER, SpanKind.CLIENT
_RECEIVER_KINDS = (SpanKind.SERVER, SpanKind.CONSUMER)
_MAX_WINDOWS = 50_000  # per callee: bounded memory for the cross-trace match

_EXPLAIN = {
    "orphan": (
        "its parent span never arrived: the caller dropped or did not sample its span, or "
        "exports elsewhere; make every service export with the same sampling decision"
    ),
    "extra root": (
        "a second root inside one trace: a span was started without the current context; "
        "start it as a child of the active span"
    ),
    "server under non-client": (
        "the SERVER span's parent is not a CLIENT/PRODUCER call: instrument the caller's "
        "outgoing HTTP/gRPC client, or inject the context from the client span"
    ),
    "client without server": (
        "the callee is traced but did not continue the trace: make it extract the incoming "
        "context with the same propagator as the caller (e.g. W3C traceparent)"
    ),
}


def _peer(attributes: dict) -> str:
    for key in _PEER_KEYS:
        peer = attributes.get(key)
        if peer and isinstance(peer, str):
            return peer
    return ""


class PropagationDetector:
    """Collects broken links trace by trace (see the module docstring)."""

    def __init__(self) -> None:
        self._tallies: dict[tuple, Tally] = {}
        self._share = TraceShare()
        # Cross-trace match of the two halves of a broken trace: per peer, the windows of calls
        # nobody continued; per service, the start of each root SERVER/CONSUMER span.
        self._windows: dict[str, list[tuple[int, int]]] = {}
        self._root_starts: dict[str, list[int]] = {}

    def add(self, trace: Trace, path: CriticalView) -> None:
        share = self._share
        by_id = trace.by_id
        children = trace.children
        for problem in trace.problems:
            if problem.kind == ProblemKind.ORPHAN:
                rule = "orphan"
            elif problem.kind == ProblemKind.MULTIPLE_ROOTS:
                # The problem names the first root; each later true root is an extra one.
                for root in trace.roots[1:]:
                    if not root.parent_span_id:
                        share.add(
                            ("extra root", root.service_name, root.name, ""),
                            1,
                            0,
                            root.duration_ns,
                            [root.span_id],
                        )
                continue
            else:
                continue
            span = by_id.get(problem.span_id)
            if span is not None:
                share.add(
                    (rule, span.service_name, span.name, ""),
                    1,
                    0,  # a missing parent costs visibility, not time
                    span.duration_ns,
                    [span.span_id],
                )
        for root in trace.roots:
            if not root.parent_span_id and root.kind in _RECEIVER_KINDS:
                starts = self._root_starts.get(root.service_name)
                if starts is None:
                    starts = self._root_starts[root.service_name] = []
                if len(starts) < _MAX_WINDOWS:
                    starts.append(root.start_ns)
        server, client = _SERVER, _CLIENT
        for span in trace.spans:
            kind = span.kind
            if kind == server:
                parent_id = span.parent_span_id
                if not parent_id:
                    continue
                parent = by_id.get(parent_id)
                if parent is None or parent.kind in _CALLER_OR_UNKNOWN:
                    continue
                parent_text = f"{parent.service_name or '?'}:{parent.name} ({parent.kind.name})"
                share.add(
                    ("server under non-client", span.service_name, span.name, parent_text),
                    1,
                    path.time(span),
                    span.duration_ns,
                    [parent_id, span.span_id],
                )
            elif kind == client:
                attributes = span.attributes
                # Calls into databases are the common leaf and never reach a traced service.
                if not attributes or "db.system.name" in attributes or "db.system" in attributes:
                    continue
                # A plain loop, not any(<generator>): most CLIENT spans have one child to check.
                continued = False
                for child in children.get(span.span_id, ()):
                    if child.kind in _RECEIVER_KINDS:
                        continued = True
                        break
                if continued:
                    continue
                peer = _peer(attributes)
                if not peer or peer == span.service_name:
                    continue
                # Only a peer that turns out to be a traced service counts: decided at the end.
                share.add(
                    ("client without server", span.service_name, span.name, peer),
                    1,
                    path.time(span),
                    span.duration_ns,
                    [span.span_id],
                )
                windows = self._windows.setdefault(peer, [])
                if len(windows) < _MAX_WINDOWS:
                    windows.append((span.start_ns, span_end(span)))
        if share.items:
            share.flush(self._tallies, trace.trace_id)

    def merge(self, other: PropagationDetector) -> None:
        merge_tallies(self._tallies, other._tallies)
        merge_capped(self._windows, other._windows, _MAX_WINDOWS)
        merge_capped(self._root_starts, other._root_starts, _MAX_WINDOWS)

    def _callee(self, peer: str, services: set[str]) -> str:
        if peer in services:
            return peer
        label = peer.split(":", 1)[0].split(".", 1)[0]
        return label if label in services else ""

    def _roots_inside(self, peers: list[str], service: str) -> int:
        windows = sorted(w for peer in peers for w in self._windows.get(peer, ()))
        starts = self._root_starts.get(service)
        if not windows or not starts:
            return 0
        merged: list[list[int]] = []
        for start, end in windows:
            if merged and start <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], end)
            else:
                merged.append([start, end])
        lows = [m[0] for m in merged]
        inside = 0
        for start in starts:
            index = bisect_right(lows, start) - 1
            if index >= 0 and start <= merged[index][1]:
                inside += 1
        return inside

    def findings(self, services: set[str], limit: int) -> list[AntiPattern]:
        result = []
        peers_by_callee: dict[str, list[str]] = {}
        for rule, _, _, other in self._tallies:
            if rule == "client without server":
                callee = self._callee(other, services)
                if callee:
                    peers_by_callee.setdefault(callee, []).append(other)
        for (rule, service, operation, other), tally in self._tallies.items():
            if rule == "client without server":
                callee = self._callee(other, services)
                if not callee:
                    continue
                roots = self._roots_inside(peers_by_callee[callee], callee)
                detail = f"client without server: calls {callee}"
                if roots:
                    detail += f"; {roots:,} new traces of {callee} started during such calls"
            elif rule == "server under non-client":
                detail = f"server under non-client: parent {other}"
            else:
                detail = rule
            explanation = f"{service or '?'}:{operation}: {_EXPLAIN[rule]}"
            result.append(
                tally.finding("broken_propagation", service, operation, detail, explanation)
            )
        return rank(result, limit)
