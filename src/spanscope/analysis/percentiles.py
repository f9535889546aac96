"""Latency distributions: exact percentiles up to a size, a relative-error sketch beyond it.

``LatencyDigest`` keeps every value (ns) until it holds ``exact_limit`` of them (100,000 by
default); percentiles are then exact, by the nearest-rank definition: the p-th percentile of n
sorted values is the value at rank ceil(p/100 * n) (so p50 of 1..4 is 2, p100 is the max).

Past the limit the values move into a DDSketch (Datadog's ``ddsketch`` package: logarithmic
buckets with a guaranteed relative error, 1% here): memory stays bounded whatever the input
size and every reported percentile is within 1% of a value of true rank. ``count`` and ``max``
stay exact. ``LatencyStats.exact`` says which of the two a result came from.

``LatencyDigest.distribution()`` gives the durations counted in the sketch's logarithmic bins
(``Distribution``, its encoding documented there): what the saved report keeps of each
endpoint and operation, so that ``spanscope diff`` can still ask what share of a side's
requests lies above a duration (``spanscope.compare.noise``). Bins of ``width`` sketch buckets
nest exactly in bins of any multiple of it (``bin_of``); ``bin_top`` is the longest duration of
a bin, the threshold at which a share above is exact.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_right
from functools import cache
from typing import Annotated, Any

import msgspec

EXACT_LIMIT = 100_000
SKETCH_RELATIVE_ACCURACY = 0.01
QUANTILES = (50, 90, 95, 99)
# ``Distribution``'s encoding; a report holding another one is read as one without bins.
DISTRIBUTION_ENCODING = "log-bins/1"
# A saved report's bins are two sketch buckets wide (a duration's bin is within about 2% of
# it): a few dozen bins for an endpoint of the shop, not a hundred (see compare.noise for what
# the width does to the test).
SAVED_BIN_WIDTH = 2
# The bin of durations of 0 ns (a bin of 1 ns is 0).
ZERO_BIN = -1


# ddsketch's LogarithmicMapping(SKETCH_RELATIVE_ACCURACY), computed as it computes it (the same
# floats, so the same keys: a test checks), without importing ddsketch (13 ms) for a report
# whose every group is exact.
def _multiplier(accuracy: float) -> float:
    """The mapping's 1 / log2(gamma), gamma = (1 + a) / (1 - a), as ddsketch computes it."""
    return 1 / math.log1p(2 * accuracy / (1 - accuracy)) * math.log(2)


_GAMMA = 1 + 2 * SKETCH_RELATIVE_ACCURACY / (1 - SKETCH_RELATIVE_ACCURACY)
_MULTIPLIER = _multiplier(SKETCH_RELATIVE_ACCURACY)


def _key(value: float) -> int:
    """The sketch's bucket key of a value of 1 or more."""
    return int(math.ceil(math.log(value, 2) * _MULTIPLIER) + 0.0)


class LatencyStats(msgspec.Struct, frozen=True):
    """Count and percentiles of durations, in ns."""

    count: int
    p50_ns: int
    p90_ns: int
    p95_ns: int
    p99_ns: int
    max_ns: int
    exact: bool = True


# What a saved report's ``Distribution`` may hold. It is a file a user can edit, and ``diff``
# works from it: every field is bounded as it is read, once, so that nothing later overflows,
# hangs or re-parses (the JSON Schema states the same limits). A bin is of a duration below
# 2**64 ns (any difference of two signed 64-bit times); its count at most COUNT_LIMIT.
DURATION_LIMIT = 2**64
COUNT_LIMIT = 2**63 - 1
MAX_WIDTH = 64
# "i:count" pairs, separated by one space: an index of at most 6 digits, a count of 1 or more
# of at most 19 (no leading zeros: each pair is written one way).
_PAIR = r"(?:0|[1-9][0-9]{0,5}):[1-9][0-9]{0,18}"
BINS_PATTERN = rf"^(?:{_PAIR}(?: {_PAIR})*)?$"
# Longer than the longest bins of this encoding: width 1, a pair per bin from 0 to the bin of
# DURATION_LIMIT, each "2218:9223372036854775807 " (55,475 characters).
BINS_MAX_LENGTH = 65_536
_BINS = re.compile(BINS_PATTERN)  # fullmatch: $ alone would take a final newline


class Distribution(msgspec.Struct, frozen=True, kw_only=True, dict=True):
    """Durations (ns) counted in logarithmic bins, the store of a DDSketch.

    Encoding ``log-bins/1``: bin ``i`` holds the durations v >= 1 with ceil(log_gamma(v)) = i,
    that is gamma**(i-1) < v <= gamma**i, where gamma = ((1 + a) / (1 - a)) ** width, ``a``
    the ``relative_accuracy`` of a DDSketch and ``width`` how many of its buckets a bin is (as
    computed: i = ceil(k / width), k = ddsketch's ``LogarithmicMapping(a).key(v)``); ``zeros``
    counts durations of 0 ns. ``bins`` is "i:count" pairs, i ascending, every count above 0,
    separated by one space (one string: the indented JSON report would give every number a
    line). Every duration of bin i is within (gamma - 1) / (gamma + 1) of the bin's middle,
    2 * gamma**i / (gamma + 1). Bins are of durations below 2**64 ns; counts, and their sum,
    are at most 2**63 - 1.
    """

    encoding: str = DISTRIBUTION_ENCODING
    relative_accuracy: Annotated[float, msgspec.Meta(gt=0, le=0.5)]
    width: Annotated[int, msgspec.Meta(ge=1, le=MAX_WIDTH)]
    gamma: Annotated[float, msgspec.Meta(gt=1)]  # for readers; the bins use the two above
    zeros: Annotated[int, msgspec.Meta(ge=0, le=COUNT_LIMIT)]
    # (the pattern is checked by __post_init__, which says which pair is wrong, not the regex)
    bins: Annotated[
        str,
        msgspec.Meta(max_length=BINS_MAX_LENGTH, extra_json_schema={"pattern": BINS_PATTERN}),
    ]

    def __post_init__(self) -> None:
        # Run as a report is decoded (msgspec makes the ValueError a ValidationError naming
        # the place) and as one is made. Bins of another encoding are not read here (a saved
        # report holding them is diffed as one without bins), so only their syntax is checked.
        if _BINS.fullmatch(self.bins) is None:
            raise ValueError(_syntax_error(self.bins))
        if self.encoding == DISTRIBUTION_ENCODING:
            a = self.relative_accuracy
            if not math.isclose(self.gamma, ((1 + a) / (1 - a)) ** self.width, rel_tol=1e-9):
                raise ValueError(
                    f"gamma {self.gamma!r} is not ((1 + a) / (1 - a)) ** width, with "
                    f"relative_accuracy a = {a!r} and width {self.width}"
                )
            self.pairs()

    def pairs(self) -> tuple[tuple[int, int], ...]:
        """(bin, count) pairs, ascending, with the zeros first as ``ZERO_BIN``: parsed once
        (held in the instance's ``__dict__``, which is not encoded)."""
        found = self.__dict__.get("_pairs")
        if found is None:
            found = self.__dict__["_pairs"] = _parsed(self)
        return found

    @property
    def count(self) -> int:
        found = self.__dict__.get("_count")
        if found is None:
            found = self.__dict__["_count"] = sum(count for _, count in self.pairs())
        return found


def _parsed(found: Distribution) -> tuple[tuple[int, int], ...]:
    """``found``'s pairs; of this encoding, checked: indexes ascending, each at most the bin
    of ``DURATION_LIMIT``, the counts' sum at most ``COUNT_LIMIT`` (a ValueError otherwise)."""
    pairs = [(ZERO_BIN, found.zeros)] if found.zeros else []
    for pair in found.bins.split():
        index_text, _, count_text = pair.partition(":")
        pairs.append((int(index_text), int(count_text)))  # a few digits: __post_init__'s pattern
    if found.encoding != DISTRIBUTION_ENCODING:
        return tuple(pairs)
    # The bin of DURATION_LIMIT in this mapping, computed as _key computes it (so bin_of's for
    # SKETCH_RELATIVE_ACCURACY: a test checks); the accuracy is at most 0.5, so no log is 0.
    multiplier = _multiplier(found.relative_accuracy)
    last = -(-math.ceil(math.log(DURATION_LIMIT, 2) * multiplier) // found.width)
    previous = ZERO_BIN
    for index, count in pairs[1 if found.zeros else 0 :]:
        if index <= previous:
            raise ValueError(f"bins: bin {index} follows bin {previous}: not ascending")
        if index > last:
            raise ValueError(
                f"bins: bin {index} is past {last}, the bin of 2**64 ns at width {found.width}"
            )
        if count > COUNT_LIMIT:
            raise ValueError(f"bins: bin {index} counts {count}, more than 2**63 - 1")
        previous = index
    if sum(count for _, count in pairs) > COUNT_LIMIT:
        raise ValueError("bins and zeros count more than 2**63 - 1 durations")
    return tuple(pairs)


def _syntax_error(bins: str) -> str:
    """What is wrong with ``bins`` that ``BINS_PATTERN`` does not match."""
    if bins != bins.strip() or "  " in bins:
        return 'bins: "i:count" pairs are separated by one space, with none around them'
    # (the first pair that does not match; the whole if each did, which cannot happen)
    pair = next((p for p in bins.split(" ") if _BINS.fullmatch(p) is None), bins)
    shown = pair if len(pair) <= 40 else pair[:37] + "..."
    return (
        f'bins: {shown!r} is not an "i:count" pair (a bin index of at most 6 digits, a count '
        "from 1, at most 19 digits, no leading zeros)"
    )


def _distribution(counts: dict[int, int], width: int) -> Distribution:
    """A ``Distribution`` of ``counts`` (bin -> count, ``ZERO_BIN`` for 0 ns)."""
    zeros = counts.pop(ZERO_BIN, 0)
    return Distribution(
        relative_accuracy=SKETCH_RELATIVE_ACCURACY,
        width=width,
        gamma=_GAMMA**width,
        zeros=zeros,
        bins=" ".join(f"{index}:{counts[index]}" for index in sorted(counts) if counts[index]),
    )


def bin_of(value: int, width: int) -> int:
    """The bin of a duration (ns) in bins of ``width`` sketch buckets."""
    if value < 1:
        return ZERO_BIN
    return -(-_key(value) // width)  # ceil(key / width): bins of bins nest exactly


def bin_top(index: int, width: int) -> int:
    """The longest duration (ns) in bins of ``width`` up to bin ``index``: at this threshold,
    the share of a ``Distribution`` above it is exact (-1 below every bin)."""
    if index < ZERO_BIN:
        return -1
    return 0 if index == ZERO_BIN else _base_top(index * width)


@cache
def _base_top(key: int) -> int:
    """The longest duration whose sketch bucket key is ``key`` or less (0 below key 0)."""
    if key < 0:
        return 0
    # _key is monotone (log, a product by a positive constant, ceil): bisect between powers
    # of two around 2**(key / multiplier), about as many calls as its bits. (gamma**key, then
    # a step at a time, was exact but took millions of steps near 2**63: floats are far
    # apart there.)
    bits = int(key / _MULTIPLIER)
    low, high = 1 << max(bits - 1, 0), 1 << (bits + 2)  # key_of(low) <= key < key_of(high)
    while low > 1 and _key(low) > key:  # (float error: never seen, but keep the bracket)
        low >>= 1
    while _key(high) <= key:
        high <<= 1
    while high - low > 1:
        middle = (low + high) // 2
        if _key(middle) <= key:
            low = middle
        else:
            high = middle
    return low


def sorted_distribution(values: list[int], width: int = SAVED_BIN_WIDTH) -> Distribution:
    """The ``Distribution`` of durations sorted ascending: one bisection per bin."""
    counts: dict[int, int] = {}
    start, end = 0, len(values)
    while start < end:
        index = bin_of(values[start], width)
        stop = bisect_right(values, bin_top(index, width), start)
        counts[index] = stop - start
        start = stop
    return _distribution(counts, width)


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

    def distribution(self, width: int = SAVED_BIN_WIDTH) -> Distribution:
        """Every value added, counted in bins of ``width`` sketch buckets (``Distribution``)."""
        if self._sketch is None:
            self.values.sort()  # in place, as stats() does
            return sorted_distribution(self.values, width)
        counts: dict[int, int] = {}
        store = self._sketch._store
        for position, weight in enumerate(store.bins):
            if weight:
                index = -(-(position + store.offset) // width)
                counts[index] = counts.get(index, 0) + round(weight)
        if self._sketch._zero_count:
            counts[ZERO_BIN] = round(self._sketch._zero_count)
        for value in self.values:
            index = bin_of(value, width)
            counts[index] = counts.get(index, 0) + 1
        return _distribution(counts, width)

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
