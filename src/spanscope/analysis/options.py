"""``AnalysisOptions``: what an analysis looks for, its thresholds and list lengths.

Apart from ``spanscope.analysis.results`` (which names it too, as part of the report) so that a
command can read its options without importing the report's structs and what they are made of:
``analyze --folded -`` computes none of them.
"""

from __future__ import annotations

import msgspec

from spanscope.analysis.name_folding import MIN_NAMES


class AnalysisOptions(msgspec.Struct, frozen=True):
    """What to look for. ``slow_threshold_ns``: spans at least this long are "slow spans";
    ``top``: how many entries the bounded lists keep; ``slow_fraction``: the share of each
    endpoint's longest traces profiled separately; ``jaeger_strict``: critical paths exactly as
    Jaeger UI draws them, even for back-to-back calls (see ``critical_path``).

    Anti-pattern thresholds (``spanscope.analysis.detectors``): ``n_plus_one_min_calls``: this
    many sequential calls with the same target under one parent are an N+1;
    ``sequential_min_calls``: this many one-after-another calls to different targets under one
    parent are reported as parallelisable (both count values below 2 as 2);
    ``high_cardinality_min_names``: a span-name template matching this many distinct names is a
    high-cardinality name."""

    slow_threshold_ns: int = 500_000_000
    top: int = 10
    slow_fraction: float = 0.05
    jaeger_strict: bool = False
    n_plus_one_min_calls: int = 5
    sequential_min_calls: int = 2
    high_cardinality_min_names: int = MIN_NAMES
