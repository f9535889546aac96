"""Clock-skew adjustment between hosts, with the semantics of Jaeger's clock-skew adjuster.

Contract: ``adjust_clock_skew(trace)`` takes a trace that meets the ``Trace`` contract (as
``build_trace(..., adjust_skew=False)`` returns it), shifts span times in place and records every
shift: a warning on each shifted span and one ``CLOCK_SKEW`` problem per host hop that needed a
shift. It re-sorts what the shifts put out of order, so the trace still meets the contract; it
returns the same trace, processor-style.

The rules, walking each tree from its root (roots are never shifted; in practice the walk starts
at the spans that stick out of their parent, since nothing else can move):

- A child on the same host as its parent (``spanscope.assembly.hosts``) shares its clock, so it
  gets the same shift as its parent, whatever its times.
- A child on another host (or on an unknown host) is compared with its parent, as already
  shifted. If it fits inside the parent it is left alone. If it starts before the parent or ends
  after it and is no longer than the parent, it is centred in the parent: the request and the
  response are assumed to take the same time on the network, so the child starts half of
  (parent duration - child duration) after the parent. If it is longer than the parent (async
  work, or a parent that timed out) it is only moved so it does not start before the parent.
- The shift applies to the child's start, end (an unclosed end stays 0) and event times, and
  carries on to its subtree on the same host.
- Zipkin shared spans need nothing special: after ``spanscope.assembly.dedupe`` the server half
  is the client half's child, so a server on a skewed host is centred in its client like any
  cross-host child, the same correction Zipkin's UI derives from its cs/sr/ss/cr annotations.

Where spanscope differs from Jaeger, and why:

- Jaeger v2 moves only the start timestamp (the end stays, changing the duration); Jaeger v1 kept
  the duration. We keep the duration: a clock offset moves both ends of an interval alike.
- A child whose parent does not wait for it (``follows_from``, or a CONSUMER / a PRODUCER's child,
  i.e. messaging) may legitimately run after its parent ended, so, like a longer child, it is only
  kept from starting before the parent (Jaeger leaves FOLLOWS_FROM as a TODO).
- When either span's duration is unknown (never ended, or ends before it starts) only the start
  can be checked, so the same start-only rule applies.
- Jaeger can cap the size of a shift; there is no cap here, every shift is reported instead.
"""

from __future__ import annotations

from spanscope.assembly.hosts import Host, compare, host_of
from spanscope.assembly.order import start_key
from spanscope.model import Problem, ProblemKind, Span, SpanKind, Trace


def format_delta(delta_ns: int) -> str:
    """A signed, readable time shift: ``+12.3ms``, ``-481µs``, ``+2.5s``."""
    sign = "-" if delta_ns < 0 else "+"
    size = abs(delta_ns)
    for unit, scale in (("s", 1_000_000_000), ("ms", 1_000_000), ("µs", 1_000)):
        if size >= scale:
            text = f"{size / scale:.3f}".rstrip("0").rstrip(".")
            return f"{sign}{text}{unit}"
    return f"{sign}{size}ns"


def _is_async(child: Span, parent: Span) -> bool:
    return child.follows_from or child.kind == SpanKind.CONSUMER or parent.kind == SpanKind.PRODUCER


def skew_delta(child: Span, parent: Span) -> int:
    """How far ``child`` must move to sit inside ``parent`` (0 if it already does), assuming the
    two are on different hosts. ``parent`` already carries its own adjustment."""
    parent_start, parent_end = parent.start_ns, parent.end_ns
    child_start, child_end = child.start_ns, child.end_ns
    parent_duration = parent_end - parent_start
    child_duration = child_end - child_start
    if (
        parent_end == 0
        or child_end == 0
        or parent_duration < 0
        or child_duration < 0
        or child_duration > parent_duration
        or _is_async(child, parent)
    ):
        return parent_start - child_start if child_start < parent_start else 0
    if child_start >= parent_start and child_end <= parent_end:
        return 0
    latency = (parent_duration - child_duration) // 2
    return parent_start + latency - child_start


def _shift(span: Span, delta: int) -> None:
    span.start_ns += delta
    if span.end_ns != 0:
        span.end_ns += delta
    for event in span.events:
        event.time_ns += delta


def out_of_bounds(span: Span, parent: Span) -> bool:
    """Whether ``span`` starts before or ends after ``parent``: the only places a shift can
    start, since a span inside its parent with nothing to inherit is never moved."""
    return span.start_ns < parent.start_ns or span.end_ns > parent.end_ns


def adjust_clock_skew(trace: Trace, candidates: list[Span] | None = None) -> Trace:
    """Shift spans recorded on other hosts' clocks into their parents (see module docstring).

    ``candidates`` are the spans that are ``out_of_bounds`` of their parent (a caller may leave
    out those no rule can move: an async span that starts inside its parent); ``build_trace``
    collects them while linking, so the common trace (none) costs nothing here. Left out, they
    are found with one pass over the spans.
    """
    by_id = trace.by_id
    if candidates is None:
        candidates = [
            span
            for span in trace.spans
            if span.parent_span_id
            and (parent := by_id.get(span.parent_span_id)) is not None
            and out_of_bounds(span, parent)
        ]
    if not candidates:
        return trace
    adjuster = _Adjuster(trace)
    adjuster.run(_topmost(candidates, by_id))
    if adjuster.hops:
        adjuster.report()
        # Roots never move; only the spans list and the sibling lists of moved spans can be
        # out of order (timsort is linear on the nearly sorted lists this leaves).
        trace.spans.sort(key=start_key)
        for parent_id in adjuster.moved_under:
            trace.children[parent_id].sort(key=start_key)
    return trace


def _topmost(candidates: list[Span], by_id: dict[str, Span]) -> list[Span]:
    """The candidates with no candidate above them (their parents cannot have moved), each once.
    Walks up from each candidate, remembering what it learnt, so it stays linear even for one
    long chain of candidates."""
    # A candidate that is a root now (its looping parent link was cut) cannot move, so it must
    # not hide the candidates below it.
    marked = {
        span.span_id for span in candidates if span.parent_span_id and span.parent_span_id in by_id
    }
    above: dict[str, bool] = {}  # span id -> whether a proper ancestor is a candidate
    found: list[Span] = []
    for candidate in candidates:
        if not candidate.parent_span_id or candidate.parent_span_id not in by_id:
            continue  # a root now: its looping parent link was cut
        if candidate.span_id in above:  # passed on the way up from a candidate below it
            if not above[candidate.span_id]:
                found.append(candidate)
            continue
        path: list[Span] = []
        span: Span | None = candidate
        known = False
        while span is not None:
            if span.span_id in above:
                known = above[span.span_id]
                break
            path.append(span)
            span = by_id.get(span.parent_span_id) if span.parent_span_id else None
        upper = span
        for node in reversed(path):
            value = upper is not None and (known or upper.span_id in marked)
            above[node.span_id] = value
            upper, known = node, value
        if not above[candidate.span_id]:
            found.append(candidate)
    found.sort(key=start_key)  # problems come out in the same order however candidates came
    return found


class _Adjuster:
    def __init__(self, trace: Trace) -> None:
        self.trace = trace
        self.hosts: dict[str, Host] = {}
        self.hops: dict[str, _Hop] = {}  # by the id of the span where the shift was computed
        self.moved_under: set[str] = set()  # parents of shifted spans

    def host(self, span: Span) -> Host:
        found = self.hosts.get(span.span_id)
        if found is None:
            found = self.hosts[span.span_id] = host_of(span)
        return found

    def run(self, starts: list[Span]) -> None:
        """Adjust each start span against its parent (which has not moved), then its subtree."""
        trace = self.trace
        children = trace.children
        # (span already shifted, its shift, span id where that shift was computed)
        stack: list[tuple[Span, int, str]] = []
        for span in starts:
            delta, origin = self.adjust(span, trace.by_id[span.parent_span_id], 0, "")
            if span.span_id in children:
                stack.append((span, delta, origin))
        while stack:
            parent, inherited, origin = stack.pop()
            parent_start, parent_end = parent.start_ns, parent.end_ns
            for child in children[parent.span_id]:
                if inherited == 0 and parent_start <= child.start_ns and child.end_ns <= parent_end:
                    # Most spans: inside the parent and nothing to inherit, so no shift under any
                    # rule and no need to compare hosts.
                    delta, child_origin = 0, origin
                else:
                    delta, child_origin = self.adjust(child, parent, inherited, origin)
                if child.span_id in children:
                    stack.append((child, delta, child_origin))

    def adjust(self, span: Span, parent: Span, inherited: int, origin: str) -> tuple[int, str]:
        """Decide and apply ``span``'s shift; return it and where it was computed."""
        same_host, label, parent_label = compare(self.host(span), self.host(parent))
        if same_host:
            delta = inherited  # one clock: out of bounds for real, or shifted with the parent
        else:
            delta = skew_delta(span, parent)
            origin = span.span_id
        if not delta:
            return 0, origin
        _shift(span, delta)
        self.moved_under.add(parent.span_id)
        if same_host:
            hop = self.hops[origin]
            hop.count += 1
            span.warnings.append(
                f"clock skew adjusted by {hop.shift} ({label}, shifted with span {origin} on the "
                "same host)"
            )
        else:
            hop = self.hops[origin] = _Hop(span, parent, format_delta(delta), label, parent_label)
            span.warnings.append(
                f"clock skew adjusted by {hop.shift} ({label} vs parent's {parent_label})"
            )
        return delta, origin

    def report(self) -> None:
        trace = self.trace
        # By where the shifted spans now start, not in the order the walk met them: that
        # follows the order of sibling lists, which a trace built in one step (skew adjusted
        # while linking) and one adjusted afterwards do not share.
        for origin, hop in sorted(self.hops.items(), key=lambda item: start_key(item[1].span)):
            count = hop.count
            more = f" and {count - 1} span{'s' if count > 2 else ''} below it" if count > 1 else ""
            trace.problems.append(
                Problem(
                    ProblemKind.CLOCK_SKEW,
                    trace.trace_id,
                    origin,
                    f"span {hop.span.name!r} ({hop.label}) did not fit in its parent "
                    f"{hop.parent.name!r} ({hop.parent_label}): it{more} shifted by {hop.shift}",
                )
            )


class _Hop:
    """A host boundary where a shift was computed, and how many spans it moved. (A plain class:
    building a dataclass at import is start-up that ``analyze --folded -`` pays.)"""

    __slots__ = ("count", "label", "parent", "parent_label", "shift", "span")

    def __init__(
        self, span: Span, parent: Span, shift: str, label: str, parent_label: str, count: int = 1
    ) -> None:
        self.span = span
        self.parent = parent
        self.shift = shift
        self.label = label
        self.parent_label = parent_label
        self.count = count
