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

A side in bins. A saved report (``analyze --json``, version 4 on) keeps each endpoint's and
operation's durations as log bins (``analysis.percentiles.Distribution``: two buckets of a 1%
DDSketch a bin, each about 4% wide, gamma 1.041); a group past the analyzer's exact limit has
its sketch (one bucket a bin, 2% wide). Bins tell exactly how many durations lie above a bin's
top (``bin_top``), but of a threshold inside a bin only that the count above it lies between
the counts above the bin's two edges (``_Bins.above`` of the bin and of the one below it:
within the exact counts above threshold * gamma and threshold / gamma; a test checks it). So
with a side in bins the test is not asked at a percentile but at the two edges of the bin
holding it, where both sides' shares are exact counts (a sorted side's are exact anywhere; bins
of bins nest, so two sides in bins of different widths are asked at the wider one's edges), and
the smaller z of the two is kept. Each edge's z is a two-proportion z at one threshold, which
chance passes about as often as it passes the test at the percentile, and keeping the smaller
of two only makes a move harder to call: the conservative side, chance is not called a
regression. What it costs: a percentile is asked a bin's width, up to 4%, from itself, and with
few requests one request on either side of an edge moves z by a few tenths.

Measured as the gate work was (the shop from ``spanscope generate``; 10 pairs of seeds 1-10
against the next release's 21-30, and 20 pairs of seeds 1-7 of the unchanged shop): ``diff
BASELINE.json CURRENT`` against ``diff BASELINE.jsonl CURRENT`` through the command, with
``--json --fail-if-slower 20%``, exit code, headline, operations listed for p95 and every gate
message compared. At 1,000 and at 3,000 traces a side all 30 pairs agree in all of them (the
gate trips on 7 and 10 of the 10 planted pairs either way, on none of the 20 unchanged; at
1,000, the saved baseline without bins tripped it on 4 of the unchanged pairs and listed 7
headline lines and 67 operations for a p95 that only chance had moved). At 300 traces a side,
27 of 30 agree; the 3 others on the conservative side, moves the traces call and the bins do
not: checkout's p95 of one planted pair (62 and 79 requests: z 3.27 at the percentile, 2.81 and
2.97 at its bin's edges), seven operations listed for p95 in two planted pairs, and a p50 of
an unchanged pair that only chance had moved.

Contract: ``Durations`` holds each side's ``Sample`` per endpoint and per operation (sorted
durations or their bins), and how many traces hold each operation (keys ``(service,
operation)``, names with ids folded as the analysis report folds them; a saved report's own
count from version 5 on, none before); a key without durations (a report saved before version
4) is judged moved, as without this test. ``durations_of(analyzer)`` takes them from an
``Analyzer``, ``durations_of_report(report)`` from a saved report (None when it has no bins);
pure otherwise, no I/O. ``judge`` and ``judge_z`` take the two percentiles as the reports give them:
the direction of a move, which bins alone may not tell.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Mapping
from itertools import accumulate
from typing import TYPE_CHECKING, Any, NamedTuple

from spanscope.analysis.percentiles import (
    DISTRIBUTION_ENCODING,
    SKETCH_RELATIVE_ACCURACY,
    ZERO_BIN,
    Distribution,
    bin_of,
    bin_top,
    percentile,
)

if TYPE_CHECKING:
    from spanscope.analysis.results import AnalysisReport

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


# One side's durations of an endpoint or operation: all of them in ns, sorted ascending (read
# from traces), or their log bins (a saved report; a group past the analyzer's exact limit).
Sample = list[int] | Distribution


class Durations(NamedTuple):
    endpoints: Mapping[Key, Sample]
    operations: Mapping[Key, Sample]
    # How many traces hold each operation (for its calls in each request that makes it; empty
    # for a report saved before version 5, which does not say).
    operation_traces: Mapping[Key, int]


# Each side's durations (None: a saved report from before distributions were kept).
Sides = tuple[Durations | None, Durations | None] | None


def durations_of(analyzer: Any) -> Durations:
    """The durations an ``Analyzer`` holds per endpoint and operation, under the names its
    ``report()`` gives them (names with ids folded as there): sorted, or, for a group past the
    exact limit, its sketch's bins (one sketch bucket wide)."""
    from spanscope.analysis.percentiles import LatencyDigest

    folding = analyzer.profiles.folding()

    def folded(table: dict[Key, Any], digest_of: Any) -> dict[Key, Sample]:
        found: dict[Key, list[Any]] = {}
        for (service, name), entry in table.items():
            found.setdefault((service, folding.fold(service, name)), []).append(digest_of(entry))
        result: dict[Key, Sample] = {}
        for key, digests in found.items():
            if all(digest.exact for digest in digests):
                result[key] = sorted(value for digest in digests for value in digest.values)
                continue
            merged = LatencyDigest()
            for digest in digests:
                merged.merge(digest)
            result[key] = merged.distribution(width=1)
        return result

    return Durations(
        folded(analyzer.endpoints, lambda entry: entry[0]),
        folded(analyzer.operations, lambda tally: tally.digest),
        # the count the report keeps too: one answer from traces and from a saved report
        analyzer.operation_traces(folding),
    )


def durations_of_report(report: AnalysisReport) -> Durations | None:
    """The bins a saved report keeps of each endpoint and operation, and how many traces hold
    each operation (version 5 on: ``OperationStats.traces``); None when it keeps no bins it
    can be judged by (a report from before version 4, or of an encoding or sketch accuracy
    unknown here). Their bins were checked as the report was decoded (``Distribution``: bounded
    and ascending), so nothing here overflows or re-parses them."""
    holding = {
        (row.service, row.operation): row.traces
        for row in report.operations
        if row.traces is not None
    }
    tables = []
    for rows in (report.endpoints, report.operations):
        table: dict[Key, Sample] = {}
        for row in rows:
            found = row.distribution
            if (
                found is None
                or found.encoding != DISTRIBUTION_ENCODING
                or found.relative_accuracy != SKETCH_RELATIVE_ACCURACY
            ):
                return None
            table[(row.service, row.operation)] = found
        tables.append(table)
    return Durations(tables[0], tables[1], holding)


class _Bins:
    """A ``Distribution`` in bins of ``width`` sketch buckets (a multiple of its own), as
    counts at or below each bin, for the share above a bin's top."""

    def __init__(self, distribution: Distribution, width: int) -> None:
        factor = width // distribution.width
        counts: dict[int, int] = {}
        for index, count in distribution.pairs():
            # (bins of bins nest: ceil(ceil(k / w) / f) = ceil(k / (w f)))
            wider = index if index == ZERO_BIN else -(-index // factor)
            counts[wider] = counts.get(wider, 0) + count
        self.indexes = sorted(counts)
        self.upto = list(accumulate(counts[index] for index in self.indexes))
        self.count = self.upto[-1] if self.upto else 0

    def above(self, index: int) -> int:
        """How many durations lie above bin ``index`` (above its ``bin_top``)."""
        position = bisect_right(self.indexes, index)
        return self.count - (self.upto[position - 1] if position else 0)

    def rank_bin(self, quantile: float) -> int:
        """The bin of the nearest-rank ``quantile`` (0..100)."""
        rank = min(max(math.ceil(quantile / 100 * self.count), 1), self.count)
        return self.indexes[bisect_left(self.upto, rank)]


def _width(sample: Sample) -> int:
    return sample.width if isinstance(sample, Distribution) else 1


def _z(above_before: int, before: int, above_after: int, after: int) -> float:
    """Two-proportion z of the shares ``above_before / before`` and ``above_after / after``."""
    share = (above_before + above_after) / (before + after)
    if share in (0.0, 1.0):
        return 0.0
    spread = math.sqrt(share * (1 - share) * (1 / before + 1 / after))
    return (above_after / after - above_before / before) / spread


def _z_at(before: list[int], after: list[int], threshold: int) -> float:
    """``_z`` of the shares of ``before`` and ``after`` (sorted) above ``threshold``."""
    return _z(
        len(before) - bisect_right(before, threshold),
        len(before),
        len(after) - bisect_right(after, threshold),
        len(after),
    )


def quantile_z(
    before: Sample,
    after: Sample,
    quantile: float,
    percentiles: tuple[int, int] | None = None,
) -> float:
    """How many standard errors ``quantile`` (0..100) moved from ``before`` to ``after`` (not
    empty), in the direction their percentiles moved (0.0: it did not move). ``percentiles``
    are the two sides' as their reports give them; without, each side's own (of a side in
    bins, the top of its percentile's bin)."""
    if isinstance(before, list) and isinstance(after, list):
        old, new = percentile(before, quantile), percentile(after, quantile)
        if old == new:
            return 0.0
        direction = 1 if new > old else -1
        # Asked at both sides' own percentile: at a knee (timeouts above a gap) one of them can
        # sit in the gap, where the shares above it say little, and the other not.
        return max(_z_at(before, after, threshold) * direction for threshold in (old, new))
    return _binned_z(before, after, quantile, percentiles)


def _binned_z(
    before: Sample, after: Sample, quantile: float, percentiles: tuple[int, int] | None
) -> float:
    """``quantile_z`` when a side has only bins (see the module docstring): asked at the two
    edges of each side's percentile bin, where both shares are exact counts, and the smaller
    of the two kept."""
    width = math.lcm(_width(before), _width(after))
    sides = [_Bins(s, width) if isinstance(s, Distribution) else s for s in (before, after)]

    def above(side: list[int] | _Bins, index: int) -> tuple[int, int]:
        if isinstance(side, _Bins):
            return side.above(index), side.count
        return len(side) - bisect_right(side, bin_top(index, width)), len(side)

    def rank_bin(side: list[int] | _Bins) -> int:
        if isinstance(side, _Bins):
            return side.rank_bin(quantile)
        return bin_of(percentile(side, quantile), width)

    bins = [rank_bin(side) for side in sides]
    if percentiles is None:
        percentiles = (bin_top(bins[0], width), bin_top(bins[1], width))
    old, new = percentiles
    if old == new:
        return 0.0
    direction = 1 if new > old else -1
    return max(
        min(direction * _z(*above(sides[0], edge), *above(sides[1], edge)) for edge in (b - 1, b))
        for b in set(bins)
    )


def quantile_moved(
    before: Sample,
    after: Sample,
    quantile: float,
    percentiles: tuple[int, int] | None = None,
) -> bool:
    """Did ``quantile`` (0..100) move from ``before`` to ``after`` beyond chance, in the
    direction their percentiles moved (``quantile_z``)?"""
    if not _count(before) or not _count(after):
        return True
    return quantile_z(before, after, quantile, percentiles) >= MIN_Z


def _count(sample: Sample) -> int:
    return sample.count if isinstance(sample, Distribution) else len(sample)


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


def judge_z(
    sides: Sides, key: Key, quantile: float, percentiles: tuple[int, int] | None = None
) -> float | None:
    """``quantile_z`` of endpoint ``key`` (``percentiles``: as the reports give them); None when
    either side has no durations for it."""
    if sides is None or sides[0] is None or sides[1] is None:
        return None
    before, after = sides[0].endpoints.get(key), sides[1].endpoints.get(key)
    if before is None or after is None or not _count(before) or not _count(after):
        return None
    return quantile_z(before, after, quantile, percentiles)


def judge(
    sides: Sides,
    table: str,
    key: Key,
    quantile: float,
    percentiles: tuple[int, int] | None = None,
) -> bool:
    """``quantile_moved`` for ``key`` of ``table`` ("endpoints" or "operations"; ``percentiles``:
    as the reports give them), True when either side has no durations for it."""
    if sides is None or sides[0] is None or sides[1] is None:
        return True
    before = getattr(sides[0], table).get(key)
    after = getattr(sides[1], table).get(key)
    if before is None or after is None:
        return True
    return quantile_moved(before, after, quantile, percentiles)
