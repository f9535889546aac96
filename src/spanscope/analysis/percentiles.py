"""Latency distributions: exact percentiles up to a size, a relative-error sketch beyond it.

``LatencyDigest`` keeps every value (ns) until it holds ``exact_limit`` of them (100,000 by
default); percentiles are then exact, by the nearest-rank definition: the p-th percentile of n
sorted values is the value at rank ceil(p/100 * n) (so p50 of 1..4 is 2, p100 is the max).

Past the limit the values move into a DDSketch (Datadog's ``ddsketch`` package: logarithmic
buckets with a guaranteed relative error, 1% here): memory stays bounded whatever the input
size and every reported percentile is within 1% of a value of true rank. ``count`` and ``max``
stay exact. ``LatencyStats.exact`` says which of the two a result came from.
"""

from __future__ import annotations

import math
from functools import cache
from typing import Any

import msgspec

EXACT_LIMIT = 100_000
SKETCH_RELATIVE_ACCURACY = 0.01
QUANTILES = (50, 90, 95, 99)


class LatencyStats(msgspec.Struct, frozen=True):
    """Count and percentiles of durations, in ns."""

    count: int
    p50_ns: int
    p90_ns: int
    p95_ns: int
    p99_ns: int
    max_ns: int
    exact: bool = True


def percentile(sorted_values: list[int], p: float) -> int:
    """Nearest-rank percentile (0 < p <= 100) of values sorted ascending; 0 when empty."""
    if not sorted_values:
        return 0
    rank = math.ceil(p / 100 * len(sorted_values))
    return sorted_values[min(max(rank, 1), len(sorted_values)) - 1]


class LatencyDigest:
    """Accumulates durations; ``stats()`` summarises them (see the module docstring).

    Hot loops may append to ``values`` directly and call ``compact()`` now and then; ``add``
    does both."""

    __slots__ = ("_sketch", "_sketch_max", "exact_limit", "values")

    def __init__(self, exact_limit: int = EXACT_LIMIT) -> None:
        self.values: list[int] = []
        self.exact_limit = exact_limit
        self._sketch: Any = None  # a ddsketch.DDSketch once past the limit
        self._sketch_max = 0

    def __reduce__(self) -> tuple:
        # Analyzers go back from worker processes pickled, with a digest per operation: the
        # default for a class with __slots__ is several times slower, per digest. The values
        # are sorted first (their order means nothing), in the worker: the parent's sort for
        # the percentiles then merges two sorted runs, in linear time, instead of sorting all.
        self.values.sort()
        return (_digest, (self.values, self.exact_limit, self._sketch, self._sketch_max))

    def add(self, value: int) -> None:
        self.values.append(value)
        if len(self.values) > self.exact_limit:
            self.compact()

    def extend(self, values: list[int]) -> None:
        self.values.extend(values)
        self.compact()

    def merge(self, other: LatencyDigest) -> None:
        """Add ``other``'s values: the same stats as if they had been added here (a sketch's
        buckets add up exactly, so it does not matter which values were sketched where)."""
        if other._sketch is not None:
            if self._sketch is None:
                from ddsketch import DDSketch

                self._sketch = DDSketch(relative_accuracy=SKETCH_RELATIVE_ACCURACY)
            self._sketch.merge(other._sketch)
            self._sketch_max = max(self._sketch_max, other._sketch_max)
        self.values.extend(other.values)
        if len(self.values) > self.exact_limit:
            self.compact()

    def compact(self) -> None:
        """Past ``exact_limit`` values, move them into the sketch (memory stays bounded)."""
        if len(self.values) <= self.exact_limit and self._sketch is None:
            return
        if self._sketch is None:
            from ddsketch import DDSketch

            self._sketch = DDSketch(relative_accuracy=SKETCH_RELATIVE_ACCURACY)
        _add_to_sketch(self._sketch, self.values)
        if self.values:
            self._sketch_max = max(self._sketch_max, max(self.values))
        self.values = []

    @property
    def exact(self) -> bool:
        return self._sketch is None

    @property
    def count(self) -> int:
        sketched = int(self._sketch.count) if self._sketch is not None else 0
        return sketched + len(self.values)

    def stats(self) -> LatencyStats:
        self.compact()
        if self._sketch is None:
            ordered = self.values
            ordered.sort()  # in place: the order of the values means nothing, a copy costs
            p50, p90, p95, p99 = (percentile(ordered, p) for p in QUANTILES)
            top = ordered[-1] if ordered else 0
            return LatencyStats(len(ordered), p50, p90, p95, p99, top, True)
        top = self._sketch_max
        p50, p90, p95, p99 = (
            min(round(self._sketch.get_quantile_value(p / 100) or 0), top) for p in QUANTILES
        )
        return LatencyStats(self.count, p50, p90, p95, p99, top, False)


def _add_to_sketch(sketch: Any, values: list[int]) -> None:
    """``sketch.add(value)`` for each value, a bucket at a time: the values of one bucket
    (one key of the sketch's mapping) are added as one value with their count as its weight.
    The buckets and the count end up as one add per value leaves them, so every quantile is
    the same; the sketch's sum and min, which nothing here reads, are not. Adding 100,000
    values one by one took half a second, in ddsketch's Python."""
    key = _mapping().key
    smallest = _mapping().min_possible
    first_of: dict[int, int] = {}  # bucket key -> a value in it
    counts: dict[int, int] = {}
    zero = 0
    for value in values:
        if value > smallest:
            bucket = key(value)
            if bucket in counts:
                counts[bucket] += 1
            else:
                counts[bucket] = 1
                first_of[bucket] = value
        else:
            zero += 1
    add = sketch.add
    for bucket, count in counts.items():
        add(first_of[bucket], count)
    if zero:
        add(0, zero)


@cache
def _mapping() -> Any:
    """The key mapping ``DDSketch(relative_accuracy=SKETCH_RELATIVE_ACCURACY)`` uses."""
    from ddsketch.mapping import LogarithmicMapping

    return LogarithmicMapping(SKETCH_RELATIVE_ACCURACY)


def _digest(values: list[int], exact_limit: int, sketch: Any, sketch_max: int) -> LatencyDigest:
    """A pickled ``LatencyDigest`` again."""
    digest = LatencyDigest.__new__(LatencyDigest)
    digest.values = values
    digest.exact_limit = exact_limit
    digest._sketch = sketch
    digest._sketch_max = sketch_max
    return digest
