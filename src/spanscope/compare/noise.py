"""Whether a percentile moved by more than chance moves it, from the durations of both sides.

A p95 is one value of a sample: two samples of the same service differ, and most where the
distribution has a knee (a checkout whose 2 s timeouts are 3-5% of requests has its p95 at the
knee: two seeds of one shop put it at 127 ms and 158 ms). ``quantile_moved`` asks the question
of Mood's median test, at any quantile: if the two sides came from one distribution, each would
have the same share of requests above a given duration. A two-proportion z test on the shares
above each side's percentile, in the direction the percentile moved, says whether the move is
beyond chance (z >= 3 at either).

A gate (``diff --fail-if-errors-rise``) is one metric a user chose, asked in one direction:
``rise_p`` is the one-sided p of Fisher's exact test that a failure rate rose, and the gate
trips at ``GATE_P`` or less. Measured on the shop, checkout's failures at 1,000 traces a side:
seeds 1-10 against the next release (seeds 21-30, its carrier failing 4% of quotes) tripped
0 of 10 at z >= 3 and trip 3 of 10 now (5/260 -> 18/253: z 2.84, p 0.004); at 3,000, 7 of 10
either way; the other pairs' rises are within what chance gives with so few requests (p 0.02
to 0.45). 55 pairs of seeds 1-11 of the unchanged shop trip none at 300, 1,000 or 3,000
traces (the lowest p 0.027; p <= 0.05 would have tripped 1 to 2 of them).

Contract: ``Durations`` holds each side's durations in ns, sorted ascending, per endpoint and per
operation, and how many traces hold each operation (keys ``(service, operation)``, names with
ids folded as the analysis report folds them); a key without durations (a side read from a
saved report, a group past the analyzer's exact limit) is judged moved, as without this test.
``durations_of(analyzer)`` takes them from an ``Analyzer``; pure otherwise, no I/O.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from spanscope.analysis.percentiles import percentile

Key = tuple[str, str]
# Standard errors a share must move by: several endpoints and dozens of operations are judged
# at once, so one in a few hundred by chance is the most a report should show.
MIN_Z = 3.0


# A gate's one-sided p at or below which a failure rate rose beyond chance: at most one
# endpoint in a hundred whose failures did not change (Fisher's test is exact, so whatever
# the counts).
GATE_P = 0.01

# A failure rate moves by a point or more before it is judged (two-proportion z as above: 29
# failures in 766 requests against 19 in 746, 3.8% -> 2.5%, two seeds of one shop, is z = 1.5).
MIN_RATE_DELTA = 0.01


class Durations(NamedTuple):
    endpoints: Mapping[Key, list[int]]
    operations: Mapping[Key, list[int]]
    # How many traces hold each operation (for its calls in each request that makes it).
    operation_traces: Mapping[Key, int]


# Each side's durations, when it was read from traces (None: a saved report).
Sides = tuple[Durations | None, Durations | None] | None


def durations_of(analyzer: Any) -> Durations:
    """The exact durations an ``Analyzer`` holds per endpoint and operation, sorted, under the
    names its ``report()`` gives them (names with ids folded as there)."""
    folding = analyzer.profiles.folding()

    def folded(table: dict[Key, Any], digest_of: Any) -> dict[Key, list[int]]:
        found: dict[Key, list[int]] = {}
        inexact: set[Key] = set()
        for (service, name), entry in table.items():
            key = (service, folding.fold(service, name))
            digest = digest_of(entry)
            if not digest.exact:
                inexact.add(key)
            found.setdefault(key, []).extend(digest.values)
        return {key: sorted(values) for key, values in found.items() if key not in inexact}

    holding: dict[Key, int] = {}
    for (service, name), tally in analyzer.operations.items():
        key = (service, folding.fold(service, name))
        # (names folded together in one trace count it twice: rare, and only more calls)
        holding[key] = holding.get(key, 0) + tally.traces
    return Durations(
        folded(analyzer.endpoints, lambda entry: entry[0]),
        folded(analyzer.operations, lambda tally: tally.digest),
        holding,
    )


def _z(before: Sequence[int], after: Sequence[int], threshold: int) -> float:
    """Two-proportion z of the shares of ``before`` and ``after`` above ``threshold``."""
    above_before = len(before) - bisect_right(before, threshold)
    above_after = len(after) - bisect_right(after, threshold)
    share = (above_before + above_after) / (len(before) + len(after))
    if share in (0.0, 1.0):
        return 0.0
    spread = math.sqrt(share * (1 - share) * (1 / len(before) + 1 / len(after)))
    return (above_after / len(after) - above_before / len(before)) / spread


def quantile_z(before: list[int], after: list[int], quantile: float) -> float:
    """How many standard errors ``quantile`` (0..100) moved from ``before`` to ``after`` (both
    sorted, not empty), in the direction their own percentiles moved (0.0: it did not move)."""
    old, new = percentile(before, quantile), percentile(after, quantile)
    if old == new:
        return 0.0
    direction = 1 if new > old else -1
    # Asked at both sides' own percentile: at a knee (timeouts above a gap) one of them can
    # sit in the gap, where the shares above it say little, and the other not.
    return max(_z(before, after, threshold) * direction for threshold in (old, new))


def quantile_moved(before: list[int], after: list[int], quantile: float) -> bool:
    """Did ``quantile`` (0..100) move from ``before`` to ``after`` (both sorted) beyond chance,
    in the direction their own percentiles moved?"""
    if not before or not after:
        return True
    return quantile_z(before, after, quantile) >= MIN_Z


def _log_choose(n: int, k: int) -> float:
    return math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)


def rise_p(failed_before: int, total_before: int, failed_after: int, total_after: int) -> float:
    """The one-sided p of Fisher's exact test that the failure rate rose from before to after:
    if both sides failed at one rate, the chance that the after side would hold
    ``failed_after`` or more of all the failures (1.0 with no requests on a side)."""
    if not total_before or not total_after:
        return 1.0
    failures, requests = failed_before + failed_after, total_before + total_after
    low, high = max(0, total_after - (requests - failures)), min(failures, total_after)
    whole = _log_choose(requests, failures)

    def chance(count: int) -> float:  # of exactly ``count`` failures on the after side
        rest = _log_choose(total_before, failures - count)
        return math.exp(_log_choose(total_after, count) + rest - whole)

    # The hypergeometric terms fall away from the mean on both sides: sum the tail beyond
    # ``failed_after`` on the mean's far side, until its terms no longer count (a store's
    # endpoint can hold millions of requests).
    upper = failed_after >= total_after * failures / requests
    counts = range(failed_after, high + 1) if upper else range(failed_after - 1, low - 1, -1)
    total = 0.0
    for count in counts:
        term = chance(count)
        total += term
        if term <= total * 1e-17:
            break
    return min(1.0, total) if upper else max(0.0, 1.0 - total)


def rate_moved(
    failed_before: int,
    total_before: int,
    failed_after: int,
    total_after: int,
    min_delta: float = MIN_RATE_DELTA,
) -> bool:
    """Did a failure rate move by ``min_delta`` or more, and by more than chance moves it?"""
    if not total_before or not total_after:
        return False
    before, after = failed_before / total_before, failed_after / total_after
    if abs(after - before) < min_delta:
        return False
    pooled = (failed_before + failed_after) / (total_before + total_after)
    spread = math.sqrt(pooled * (1 - pooled) * (1 / total_before + 1 / total_after))
    # (no spread: both sides failed all their requests, or none of them, which is no move)
    return spread > 0 and abs(after - before) / spread >= MIN_Z


def judge_z(sides: Sides, key: Key, quantile: float) -> float | None:
    """``quantile_z`` of endpoint ``key``; None when either side has no durations for it."""
    if sides is None or sides[0] is None or sides[1] is None:
        return None
    before, after = sides[0].endpoints.get(key), sides[1].endpoints.get(key)
    if not before or not after:
        return None
    return quantile_z(before, after, quantile)


def judge(
    sides: Sides,
    table: str,
    key: Key,
    quantile: float,
) -> bool:
    """``quantile_moved`` for ``key`` of ``table`` ("endpoints" or "operations"), True when
    either side has no durations for it."""
    if sides is None or sides[0] is None or sides[1] is None:
        return True
    before = getattr(sides[0], table).get(key)
    after = getattr(sides[1], table).get(key)
    if before is None or after is None:
        return True
    return quantile_moved(before, after, quantile)
