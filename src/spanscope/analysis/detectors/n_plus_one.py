"""N+1 calls: one call per item where one call for all items would do.

Rule: under one parent span, at least ``n_plus_one_min_calls`` (5 by default) children with
the same *target* run one after another (each starts at or after the previous one ended; see
``sequential_runs``). The target is the child's service and operation, or, for database calls,
its service and its statement (``db.query.text``, or the older ``db.statement``) with literals
replaced (``statement_template``): ``SELECT ... WHERE id = 7`` and ``... WHERE id = 8`` are the
same query with different parameters, while two different statements under one span name are
not an N+1. Calls that overlap in time (a parallel fan-out) are not counted: they do not add up
on the critical path; nor are children the parent does not wait for (FOLLOWS_FROM, CONSUMER
spans: one message per item is a queue's normal life) or that never ended.

Per finding (caller service:operation + target): traces, occurrences, repeated calls per trace
(median, max), and the critical-path time the repeated calls took. The fix is a batched call
(``WHERE id IN (...)``, a bulk endpoint, a data loader).
"""

from __future__ import annotations

import re
from functools import lru_cache

from spanscope.analysis.detectors.tally import (
    MAX_KEYS,
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

_STATEMENT_KEYS = ("db.query.text", "db.statement")
_CONSUMER = SpanKind.CONSUMER  # a local name: enum attribute lookups are slow in loops
_MAX_STATEMENT = 2000

_STATEMENT_RULES = [
    (re.compile(r"'(?:[^']|'')*'"), "?"),  # string literals, '' escapes included
    (re.compile(r"\b0x[0-9a-fA-F]+\b"), "?"),
    # Numbers not glued to a name or a placeholder ("t1", "$1" stay).
    (re.compile(r"(?<![\w$:.?])[-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?\b"), "?"),
    # Lists of values: IN (?, ?, ?) and VALUES (?, ?), (?, ?) are one shape whatever their length.
    (re.compile(r"\(\s*\?(?:\s*,\s*\?)*\s*\)(?:\s*,\s*\(\s*\?(?:\s*,\s*\?)*\s*\))*"), "(?)"),
]


@lru_cache(maxsize=4096)
def statement_template(statement: str) -> str:
    """``statement`` with its literals (strings, numbers, hex, value lists) replaced by ``?``
    and whitespace collapsed, so the same query with other parameters has the same template."""
    text = statement[:_MAX_STATEMENT]
    for pattern, placeholder in _STATEMENT_RULES:
        text = pattern.sub(placeholder, text)
    return " ".join(text.split())


def call_target(span: Span) -> tuple[str, str, str]:
    """``(service, operation, statement template)``: what makes two calls "the same call"."""
    attributes = span.attributes
    if attributes:
        for key in _STATEMENT_KEYS:
            statement = attributes.get(key)
            if statement and isinstance(statement, str):
                # The name is left out: some instrumentations put the literal query in it.
                return (span.service_name, "", statement_template(statement))
    return (span.service_name, span.name, "")


class NPlusOneDetector:
    """Collects N+1 calls trace by trace (see the module docstring)."""

    def __init__(self, min_calls: int = 5) -> None:
        self.min_calls = max(2, min_calls)
        self._tallies: dict[tuple, Tally] = {}
        self._names: dict[tuple, str] = {}  # target -> the operation name first seen
        self._share = TraceShare()

    def add(self, trace: Trace, path: CriticalView) -> None:
        minimum = self.min_calls
        share = self._share
        by_id = trace.by_id
        for parent_id, children in trace.children.items():
            if len(children) < minimum:
                continue  # the common case: few children, nothing to group
            groups: dict[tuple[str, str, str], list[Span]] = {}
            for child in children:
                if child.follows_from or child.kind == _CONSUMER or not child.end_ns:
                    continue  # the parent does not wait for it, or it never ended
                target = call_target(child)
                group = groups.get(target)
                if group is None:
                    groups[target] = [child]
                else:
                    group.append(child)
            parent = by_id[parent_id]
            for target, calls in groups.items():
                if len(calls) < minimum:
                    continue
                for run in sequential_runs(calls):
                    if len(run) < minimum:
                        continue
                    key = (parent.service_name, parent.name, target)
                    if key not in self._names and len(self._names) < MAX_KEYS:
                        self._names[key] = run[0].name
                    share.add(
                        key,
                        len(run),
                        sum(path.time(s) for s in run),
                        sum(s.duration_ns for s in run),
                        [s.span_id for s in run],
                    )
        if share.items:
            share.flush(self._tallies, trace.trace_id)

    def merge(self, other: NPlusOneDetector) -> None:
        """Add what ``other`` collected from later traces (see ``AntiPatternCollector.merge``)."""
        merge_tallies(self._tallies, other._tallies)
        for key, name in other._names.items():
            if key not in self._names and len(self._names) < MAX_KEYS:
                self._names[key] = name

    def findings(self, limit: int) -> list[AntiPattern]:
        result = []
        for key, tally in self._tallies.items():
            parent_service, parent_operation, (service, _, statement) = key
            operation = self._names.get(key, statement)
            per_trace = tally.critical_ns // tally.traces if tally.traces else 0
            what = f"{service or '?'}:{operation}"
            explanation = (
                f"{parent_service or '?'}:{parent_operation} calls {what} "
                f"{tally.size_p50()} times per request (up to {tally.size_max()}) one after "
                f"another, {format_duration(per_trace)} of critical path per affected request; "
                "fetch all items in one batched call (WHERE id IN (...), a bulk endpoint)"
            )
            result.append(
                tally.finding(
                    "n_plus_one",
                    service,
                    operation,
                    statement,
                    explanation,
                    (parent_service, parent_operation),
                )
            )
        return rank(result, limit)
