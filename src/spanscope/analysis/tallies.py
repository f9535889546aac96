"""The per-key tallies an ``Analyzer`` keeps, and how two of them add up.

One ``OperationTally`` per span name (latency digest, self and critical-path time, errors), one
``ErrorGroupTally`` per originating error, one ``ProblemTally`` per kind of problem in the data.
``copy_*``/``add_*`` sum the tallies of names that fold together (``fold_table``) and
``merge_table`` those of merged analyzers (``Analyzer.merge``): the same sum either way, so one
process and several give the same report. ``OperationTally`` pickles compactly (a worker sends
back one per name).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from spanscope.analysis.percentiles import LatencyDigest


class OperationTally:
    __slots__ = (
        "critical",
        "digest",
        "duration",
        "errors",
        "example",
        "group",
        "last_trace",
        "self_ns",
        "traces",
    )

    def __init__(self, example: tuple[str, str]) -> None:
        self.digest = LatencyDigest()
        self.self_ns = 0
        self.critical = 0
        self.errors = 0
        self.duration = 0
        self.traces = 0
        self.last_trace = 0  # the number (in its Analyzer) of the last trace that held it
        self.example = example  # (trace id, span id) of the first span seen
        # [last trace, traces] of every name of the service with this name's template (shared
        # by their tallies): the traces that hold the operation they fold into. None: no template
        self.group: list[int] | None = None

    def __reduce__(self) -> tuple:
        # One per span name goes back from each worker process: the default pickling of a
        # class with __slots__ is several times slower per object; the digest goes inline.
        digest = self.digest
        return (
            _operation,
            (
                self.example,
                digest.values,
                digest.exact_limit,
                digest._sketch,
                digest._sketch_max,
                self.self_ns,
                self.critical,
                self.errors,
                self.duration,
                self.traces,
                self.last_trace,
                self.group,
            ),
        )


def _operation(
    example: tuple[str, str],
    values: list[int],
    exact_limit: int,
    sketch: object,
    sketch_max: int,
    *counts: Any,
) -> OperationTally:
    """A pickled ``OperationTally`` again."""
    stats = OperationTally.__new__(OperationTally)
    stats.example = example
    stats.digest = digest = LatencyDigest.__new__(LatencyDigest)
    digest.values, digest.exact_limit, digest._sketch, digest._sketch_max = (
        values,
        exact_limit,
        sketch,
        sketch_max,
    )
    (
        stats.self_ns,
        stats.critical,
        stats.errors,
        stats.duration,
        stats.traces,
        stats.last_trace,
        stats.group,
    ) = counts
    return stats


class ErrorGroupTally:
    """The failed traces of one originating error. ``templates`` counts the message templates
    met: the group's key writes hex ids and numbers alike (``message_key``), so an id that
    happens to be all digits joins its group, and the report shows the commonest template.
    ``example`` is the first trace met whose request failed, or the first met if none did."""

    __slots__ = ("example", "failed", "templates", "traces")

    def __init__(self, example: tuple[str, str, str]) -> None:
        self.traces = 0
        self.failed = 0
        self.example = example
        self.templates: dict[str, int] = {}

    def template(self) -> str:
        """The commonest template; of equally common ones the first in sort order, so merged
        and one-process analyses agree."""
        return min(self.templates.items(), key=lambda item: (-item[1], item[0]))[0]


def message_key(template: str) -> str:
    """A message template's group key: ``<hex>`` and ``<num>`` are one slot. A random hex id
    is all digits now and then (1 in 43 for 8 characters), and its message would otherwise
    start a group of its own."""
    return template.replace("<hex>", "<num>")


class ProblemTally:
    __slots__ = ("count", "example", "trace_ids")

    def __init__(self, example: str) -> None:
        self.count = 0
        self.trace_ids: set[str] = set()
        self.example = example


_K = TypeVar("_K")
_V = TypeVar("_V")


# Adding up the statistics of names that fold together (``fold_table``: a copy of the first,
# then the others added to it) and of merged analyzers (``merge_table``).
def copy_endpoint(entry: list) -> list:
    digest = LatencyDigest()
    digest.merge(entry[0])
    return [digest, entry[1]]


def add_endpoint(into: list, entry: list) -> None:
    into[0].merge(entry[0])
    into[1] += entry[1]


def copy_operation(stats: OperationTally) -> OperationTally:
    copy = OperationTally(stats.example)
    add_operation(copy, stats)
    return copy


def add_operation(into: OperationTally, stats: OperationTally) -> None:
    into.digest.merge(stats.digest)
    into.self_ns += stats.self_ns
    into.critical += stats.critical
    into.errors += stats.errors
    into.duration += stats.duration
    into.traces += stats.traces  # a trace with two such names counts twice (see ``group``)


def copy_group(group: ErrorGroupTally) -> ErrorGroupTally:
    copy = ErrorGroupTally(group.example)
    add_group(copy, group)
    return copy


def add_group(into: ErrorGroupTally, group: ErrorGroupTally) -> None:
    if group.failed and not into.failed:  # the first failed request met, as in one process
        into.example = group.example
    into.traces += group.traces
    into.failed += group.failed
    templates = into.templates
    for template, count in group.templates.items():
        templates[template] = templates.get(template, 0) + count


def merge_table(into: dict[_K, _V], theirs: dict[_K, _V], add: Callable[[_V, _V], None]) -> None:
    """``Analyzer.merge`` of one table: ``theirs``'s entries taken over (the other analyzer is
    used up) or added with ``add(into, value)``, the same sum as folding names uses."""
    for key, value in theirs.items():
        mine = into.get(key)
        if mine is None:
            into[key] = value
        else:
            add(mine, value)
