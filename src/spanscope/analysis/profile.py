"""Where the time goes across many traces: a critical-path profile per endpoint (as CRISP does).

For each trace, every critical-path section (``spanscope.analysis.critical_path``) is charged to
the call-path stack of its span: the ``service:operation`` frames from the root down to that
span. Summed per *endpoint* (the root span's service and operation), this says which service and
operation the requests of that endpoint waited for, and in which calling context. It is done for
all traces and, separately, for the slowest ones (``slow_fraction``, 5% by default: the
ceil(5% x n) longest traces of the endpoint), because the tail is often slow for other reasons
than the median.

``fix_first(profile)`` ranks ``(endpoint, service, operation)`` by the critical-path time they
hold in the slow traces, then in all traces: speeding up the top entry shortens the slowest
requests the most.

Contract: ``build_profile(traces)`` -> ``Profile`` (or ``ProfileCollector`` trace by trace, as
``spanscope.analysis.analyze`` does; ``ProfileAnalyzer`` is that part of the analyzer alone);
``folded_stacks(profile, ...)`` -> ``[(stack, ns)]`` with frames joined by ``;``
(flamegraph.pl / speedscope "folded" input; ``;`` and line breaks inside names are replaced so a
frame is always one frame). Times in ns. Pure.

Span names with ids in them (``GET /users/12345``) are counted under their template
(``spanscope.analysis.name_folding``, decided from the profile's frames by
``ProfileCollector.folding()``): endpoints, frames and stacks alike, and
``ProfileCollector.error_stacks`` names the stacks of error spans the same way. A name whose
template folds already is charged to the template's stack and endpoint as it comes
(``ProfileCollector.names``, a ``NameTemplates``), so ids in names cost no stacks or rows.

A stack deeper than ``MAX_FRAMES`` (128, perf's default depth) is named by its first 126 frames,
``…`` and its own frame, and such stacks with the same name are summed: a request that nests
spans thousands deep (recursion, a loop instrumented as nesting) would otherwise give folded
text that grows with the square of its depth (a 10,000-deep chain: 450 MB). Shares per
``service:operation`` (``frames``, ``fix_first``) are charged to the span's own frame, so they
never change.
"""

from __future__ import annotations

import heapq
import math
from array import array
from collections.abc import Iterable
from itertools import chain

import msgspec

from spanscope.analysis.critical_path import charge_critical_time
from spanscope.analysis.errors import is_error_span
from spanscope.analysis.name_folding import MIN_NAMES, NameFolding, NameTemplates, fold_table
from spanscope.analysis.stacks import CallStacks
from spanscope.model import Trace

SLOW_FRACTION = 0.05
# Folded stacks deeper than this lose their middle frames (module docstring).
MAX_FRAMES = 128
ELIDED = "…"


def _frame_text(service: str, operation: str) -> str:
    """``service:operation`` with the characters folded stacks cannot hold replaced."""
    text = f"{service or '?'}:{operation}"
    if ";" in text or "\n" in text or "\r" in text:
        text = text.replace(";", ",").replace("\n", " ").replace("\r", " ")
    return text


class FrameShare(msgspec.Struct):
    """Critical-path time of one service:operation within an endpoint."""

    service: str
    operation: str
    critical_ns: int
    share: float  # of the endpoint's critical-path time, 0..1
    slow_critical_ns: int
    slow_share: float  # the same within the slowest traces


class EndpointProfile(msgspec.Struct):
    """Critical-path profile of one endpoint (root service + root operation)."""

    service: str
    operation: str
    traces: int
    slow_traces: int
    slow_min_duration_ns: int  # the shortest of the traces counted as slow
    critical_ns: int
    slow_critical_ns: int
    frames: list[FrameShare]  # ranked by slow_critical_ns, then critical_ns
    stacks: dict[str, int]
    slow_stacks: dict[str, int]


class Profile(msgspec.Struct):
    slow_fraction: float
    endpoints: list[EndpointProfile]  # busiest first (critical-path time)


class FixCandidate(msgspec.Struct):
    """A service:operation worth speeding up, with the endpoint it slows down."""

    endpoint_service: str
    endpoint_operation: str
    service: str
    operation: str
    critical_ns: int
    share: float
    slow_critical_ns: int
    slow_share: float


def _add(into: dict, items: dict) -> None:
    for key, value in items.items():
        into[key] = into.get(key, 0) + value


def _ratio(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def _named(by_number: dict[int, int], names: list[str]) -> dict[str, int]:
    # Summed, not assigned: two raw frames can print alike once ";" and newlines are replaced.
    out: dict[str, int] = {}
    for number, ns in by_number.items():
        name = names[number]
        out[name] = out.get(name, 0) + ns
    return out


def _stack_names(parents: list[int], frames: list[tuple[str, str]]) -> list[str]:
    """Folded text of every stack (``parents`` and ``frames`` as ``CallStacks`` has them, the
    names perhaps folded); one deeper than ``MAX_FRAMES`` keeps its first ``MAX_FRAMES - 2``
    frames, ``ELIDED`` and its own frame (module docstring)."""
    names: list[str] = []
    depths: list[int] = []
    heads: list[str] = []  # what a deep stack's name starts with ("" above that depth)
    for number, parent in enumerate(parents):
        service, operation = frames[number]
        frame = _frame_text(service, operation)
        depth = depths[parent] + 1 if parent >= 0 else 1
        if depth <= MAX_FRAMES:
            name = f"{names[parent]};{frame}" if parent >= 0 else frame
        else:
            name = f"{heads[parent]};{ELIDED};{frame}"
        names.append(name)
        depths.append(depth)
        heads.append(name if depth == MAX_FRAMES - 2 else heads[parent] if parent >= 0 else "")
    return names


class _Endpoint:
    """One endpoint's profile so far: ``totals`` per stack over all traces, and per trace, in
    columns, what picking the slowest ones at the end needs: its negated duration, its order of
    arrival and its (stack, ns) pairs, a slice ``starts[i]:starts[i + 1]`` of ``pairs``. Columns
    of machine integers, not an object per trace: less memory, and a worker's profile pickles
    as a few buffers (an array per trace took most of the time of sending it back)."""

    __slots__ = ("count", "durations", "orders", "pairs", "starts", "totals")

    def __init__(self) -> None:
        self.count = 0
        self.totals: dict[int, int] = {}  # stack number -> ns, all traces
        self.durations = array("q")  # -duration_ns
        self.orders = array("q")
        self.starts = array("q")
        self.pairs = array("q")  # stack, ns, stack, ns...

    def add_traces(self, other: _Endpoint, order_shift: int, number_of: list[int] | None) -> None:
        """``other``'s traces after these: orders shifted, stacks renumbered by ``number_of``
        (None: the same numbers)."""
        self.durations.extend(other.durations)
        self.orders.extend(_shifted(other.orders, order_shift))
        self.starts.extend(_shifted(other.starts, len(self.pairs)))
        if number_of is None:
            self.pairs.extend(other.pairs)
        else:
            renumbered = array("q", other.pairs)
            for index in range(0, len(renumbered), 2):
                renumbered[index] = number_of[renumbered[index]]
            self.pairs.extend(renumbered)

    def slowest(self, count: int) -> list[int]:
        """Indexes of the ``count`` longest traces, longest first (the first to arrive first
        among equals)."""
        ranked = zip(self.durations, self.orders, range(len(self.orders)), strict=True)
        found = heapq.nsmallest(count, ranked)
        return [index for _, _, index in found]

    def trace_pairs(self, index: int) -> array:
        end = self.starts[index + 1] if index + 1 < len(self.starts) else len(self.pairs)
        return self.pairs[self.starts[index] : end]


def _shifted(values: array, shift: int) -> array:
    """``values`` plus ``shift`` each (themselves when there is nothing to add)."""
    return array("q", [value + shift for value in values]) if shift else values


def _copy_endpoint(endpoint: _Endpoint) -> _Endpoint:
    copy = _Endpoint()
    copy.count, copy.totals = endpoint.count, dict(endpoint.totals)
    copy.add_traces(endpoint, 0, None)
    return copy


def _add_endpoint(into: _Endpoint, endpoint: _Endpoint) -> None:
    into.count += endpoint.count
    _add(into.totals, endpoint.totals)
    into.add_traces(endpoint, 0, None)  # orders stay unique: one collector gave them all


class ProfileCollector:
    """Accumulates traces (``add``); ``profile()`` builds the ``Profile``.

    Stacks are numbers (``spanscope.analysis.stacks``), found as the critical path is walked
    (``charge_critical_time``), so a trace costs a dict lookup or two per span on its path,
    and memory per trace is its duration and a compact array of (stack number, ns) pairs:
    enough to pick the slowest traces at the end."""

    def __init__(self, slow_fraction: float = SLOW_FRACTION, min_names: int = MIN_NAMES) -> None:
        self.slow_fraction = slow_fraction
        self.min_names = min_names  # of a span-name template, to fold them (name_folding)
        # Frame names are counted as they come; one whose template folds already is charged to
        # the template's stack and endpoint (``CallStacks``), so ids in names cost no rows.
        self.names = NameTemplates(min_names)
        self.stacks = CallStacks(self.names)
        self._endpoints: dict[tuple[str, str], _Endpoint] = {}
        self._order = 0

    def add(
        self, trace: Trace, strict: bool = False, on_path: dict[str, int] | None = None
    ) -> tuple[str, str] | None:
        """Charge ``trace``'s critical path to its endpoint, stack by stack. ``on_path``, when
        given, is filled from the same walk with what ``critical_time(trace)`` returns (span id
        -> ns): the analyzer needs both. ``strict`` as in ``critical_path``. Returns the
        endpoint it was charged to: the root's service and its name, or the name's template
        when that folds already (``self.names.fold``); None without a root."""
        if not trace.roots:
            return None
        local: dict[int, int] = {}
        charge_critical_time(trace, strict, on_path, self.stacks, local)
        root = trace.root
        return self.add_charged(root.service_name, root.name, root.duration_ns, local)

    def add_charged(
        self, service: str, name: str, duration_ns: int, local: dict[int, int]
    ) -> tuple[str, str]:
        """Charge one trace whose critical path is already walked: its root's service, name
        and duration, and its critical time per stack (``local``: numbers of ``self.stacks``,
        in the order the walk charged them), as ``add`` does. ``add``'s return value."""
        key = (service, self.names.fold(service, name))
        endpoint = self._endpoints.get(key)
        if endpoint is None:
            endpoint = self._endpoints[key] = _Endpoint()
        endpoint.count += 1
        totals = endpoint.totals
        for stack, ns in local.items():
            totals[stack] = totals.get(stack, 0) + ns
        self._order += 1
        endpoint.durations.append(-duration_ns)
        endpoint.orders.append(self._order)
        endpoint.starts.append(len(endpoint.pairs))
        endpoint.pairs.extend(chain.from_iterable(local.items()))  # stack, ns, stack, ns...
        return key

    def merge(self, other: ProfileCollector) -> None:
        """Add what ``other`` collected from traces that came after this collector's: its
        stacks are renumbered into this collector's, its traces ordered after these."""
        self.names.merge(other.names)
        number_of: list[int] = []  # other's stack number -> ours
        number = self.stacks.number
        theirs_frames = other.stacks.frames
        for index, parent in enumerate(other.stacks.parents):
            service, operation = theirs_frames[index]
            number_of.append(number(number_of[parent] if parent >= 0 else -1, service, operation))
        # Collectors that saw similar traces number their stacks alike.
        same_numbers = all(number == mine for number, mine in enumerate(number_of))
        for key, theirs in other._endpoints.items():
            endpoint = self._endpoints.get(key)
            if endpoint is None:
                endpoint = self._endpoints[key] = _Endpoint()
            endpoint.count += theirs.count
            totals = endpoint.totals
            for stack, ns in theirs.totals.items():
                mine = number_of[stack]
                totals[mine] = totals.get(mine, 0) + ns
            endpoint.add_traces(theirs, self._order, None if same_numbers else number_of)
        self._order += other._order

    def folding(self) -> NameFolding:
        """Which span names with ids in them this profile counts as one (``name_folding``),
        decided from its frames."""
        return self.names.folding()

    def profile(self, folding: NameFolding | None = None) -> Profile:
        """The profile of the traces added, names folded by ``folding`` (``self.folding()``
        unless given; another folding must fold at least what that one does: names whose
        template had folded while traces came are counted under it already)."""
        if folding is None:
            folding = self.folding()
        frame_of = self.stacks.frames
        by_endpoint = self._endpoints
        if folding:
            frame_of = [(service, folding.fold(service, name)) for service, name in frame_of]
            by_endpoint = fold_table(self._endpoints, folding, _copy_endpoint, _add_endpoint)
        names = _stack_names(self.stacks.parents, frame_of)
        endpoints = []
        for (service, operation), endpoint in by_endpoint.items():
            slow_count = max(1, math.ceil(self.slow_fraction * endpoint.count))
            slowest = endpoint.slowest(slow_count)
            slow: dict[int, int] = {}
            for trace in slowest:
                pairs = endpoint.trace_pairs(trace)
                for index in range(0, len(pairs), 2):
                    slow[pairs[index]] = slow.get(pairs[index], 0) + pairs[index + 1]
            frames: dict[tuple[str, str], int] = {}
            slow_frames: dict[tuple[str, str], int] = {}
            for stack, ns in endpoint.totals.items():
                frames[frame_of[stack]] = frames.get(frame_of[stack], 0) + ns
            for stack, ns in slow.items():
                slow_frames[frame_of[stack]] = slow_frames.get(frame_of[stack], 0) + ns
            total = sum(frames.values())
            slow_total = sum(slow_frames.values())
            shares = [
                FrameShare(
                    key[0],
                    key[1],
                    value,
                    _ratio(value, total),
                    slow_frames.get(key, 0),
                    _ratio(slow_frames.get(key, 0), slow_total),
                )
                for key, value in frames.items()
            ]
            shares.sort(key=lambda f: (-f.slow_critical_ns, -f.critical_ns, f.service, f.operation))
            endpoints.append(
                EndpointProfile(
                    service,
                    operation,
                    endpoint.count,
                    slow_count,
                    -endpoint.durations[slowest[-1]],
                    total,
                    slow_total,
                    shares,
                    _named(endpoint.totals, names),
                    _named(slow, names),
                )
            )
        endpoints.sort(key=lambda e: (-e.critical_ns, e.service, e.operation))
        return Profile(self.slow_fraction, endpoints)

    def error_stacks(self, traces: Iterable[Trace], folding: NameFolding | None = None) -> set[str]:
        """The folded stacks, named as ``profile(folding)`` names them (names folded, deep
        stacks cut), of every error span of ``traces`` (``spanscope.analysis.errors``), on a
        critical path or not: where an aggregated flame graph marks errors."""
        stacks = CallStacks()
        failed: set[int] = set()
        for trace in traces:
            number_of: dict[str, int] = {}
            for span, _depth in trace.walk():
                above = number_of.get(span.parent_span_id, -1)
                number = number_of[span.span_id] = stacks.number(
                    above, span.service_name, span.name
                )
                if is_error_span(span):
                    failed.add(number)
        if folding is None:
            folding = self.folding()
        frames = [(service, folding.fold(service, name)) for service, name in stacks.frames]
        names = _stack_names(stacks.parents, frames)
        return {names[number] for number in failed}


class ProfileAnalyzer:
    """The profile part of ``spanscope.analysis.analyze.Analyzer`` alone, with its interface
    (``add``, ``merge``, ``profile``): for ``analyze --folded -``, which asks for nothing else.
    ``profile()`` is exactly what an ``Analyzer`` given the same traces and options returns."""

    def __init__(
        self, slow_fraction: float = SLOW_FRACTION, strict: bool = False, min_names: int = MIN_NAMES
    ) -> None:
        self.strict = strict
        self.profiles = ProfileCollector(slow_fraction, min_names)
        self.traces = 0  # as ``Analyzer.traces``: a trace may give no stack (spans of 0 ns)

    def add(self, trace: Trace) -> None:
        if trace.spans and trace.roots:  # the traces Analyzer.add counts
            self.traces += 1
            self.profiles.add(trace, self.strict)

    def add_charged(self, service: str, name: str, duration_ns: int, local: dict[int, int]) -> None:
        """A trace walked elsewhere (``spanscope.analysis.native_profile``), as ``add`` would
        count and charge it: see ``ProfileCollector.add_charged``."""
        self.traces += 1
        self.profiles.add_charged(service, name, duration_ns, local)

    def merge(self, other: ProfileAnalyzer) -> None:
        """As ``Analyzer.merge``: ``other``'s traces came after these."""
        self.traces += other.traces
        self.profiles.merge(other.profiles)

    def profile(self) -> Profile:
        return self.profiles.profile()


def build_profile(traces: Iterable[Trace], slow_fraction: float = SLOW_FRACTION) -> Profile:
    """Critical-path profile of every endpoint in ``traces``."""
    collector = ProfileCollector(slow_fraction)
    for trace in traces:
        collector.add(trace)
    return collector.profile()


def folded_stacks(
    profile: Profile, *, slow: bool = False, endpoint: tuple[str, str] | None = None
) -> list[tuple[str, int]]:
    """Folded stacks (``"svc:op;svc:op"``, ns), heaviest first, of all endpoints or of one
    ``(service, operation)``; ``slow`` takes the slowest traces only."""
    totals: dict[str, int] = {}
    for item in profile.endpoints:
        if endpoint is not None and (item.service, item.operation) != endpoint:
            continue
        _add(totals, item.slow_stacks if slow else item.stacks)
    return sorted(((k, v) for k, v in totals.items() if v > 0), key=lambda kv: (-kv[1], kv[0]))


def fix_first(profile: Profile, limit: int | None = None) -> list[FixCandidate]:
    """What to speed up first: frames ranked by critical-path time in the slow traces, then in
    all traces, across endpoints."""
    candidates = [
        FixCandidate(
            item.service,
            item.operation,
            frame.service,
            frame.operation,
            frame.critical_ns,
            frame.share,
            frame.slow_critical_ns,
            frame.slow_share,
        )
        for item in profile.endpoints
        for frame in item.frames
    ]
    candidates.sort(
        key=lambda c: (-c.slow_critical_ns, -c.critical_ns, c.endpoint_service, c.service)
    )
    return candidates[:limit] if limit is not None else candidates
