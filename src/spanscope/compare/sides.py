"""Two analyses made comparable before their reports are built: one folding of names for both.

``analyze`` counts span names with ids in them (``GET /api/products/2428``) under their
template (``GET /api/products/<num>``) once enough distinct names share it
(``spanscope.analysis.name_folding``), deciding from the names of its own data. Two sides
decided apart disagree when one has many such names and the other few (a day before a deploy
against its first ten minutes): the first counts one ``<num>`` endpoint, the second one endpoint
per id, and a comparison would call the template gone and every id new. ``share_name_folding``
gives both analyzers the names of both, so their reports fold the same names.

Contract: call it on two ``Analyzer``s after their last ``add`` and before ``report()``; each
then folds exactly as one analyzer of both sides' traces would. Pure apart from that.

``compare_traces(before, after, ...)`` is the whole recipe from two sides of traces to a
``ReportDiff``, shared by ``spanscope diff --db`` and the server's ``/api/v1/diff`` so that the
command, the API and the ``/compare`` page give one answer for one window: each side analysed
(profiles kept whole: ``PROFILE_DEPTH``), names folded alike (``comparable_reports``), and each
side's durations handed to ``compare`` so that moves within chance make no headline.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from spanscope.analysis.results import AnalysisReport, InputSummary
    from spanscope.compare.noise import Sides
    from spanscope.compare.results import ReportDiff
    from spanscope.model import Trace


def share_name_folding(first: Any, second: Any) -> None:
    """Let ``first`` and ``second`` (``Analyzer``s) fold the names both sides hold."""
    # The folding depends on the set of names alone (NameTemplates.merge), so each side gets
    # the union; merging the second into the first, then the first (the union) into the second.
    first.profiles.names.merge(second.profiles.names)
    second.profiles.names.merge(first.profiles.names)


def comparable_reports(
    before: Any, after: Any
) -> tuple[tuple[AnalysisReport, AnalysisReport], Sides]:
    """The reports of two ``Analyzer``s (after their last ``add``), names folded alike, and
    each side's durations (``compare.noise``) to judge their moves against chance."""
    from spanscope.compare.noise import durations_of

    share_name_folding(before, after)
    return (before.report(), after.report()), (durations_of(before), durations_of(after))


def compare_traces(
    before: Iterable[Trace],
    after: Iterable[Trace],
    *,
    top: int = 10,
    min_requests: int | None = None,
    inputs: tuple[list[InputSummary], list[InputSummary]] | None = None,
) -> tuple[ReportDiff, Sides]:
    """What changed from the traces ``before`` to those ``after`` (each side in the order its
    examples should come from: oldest first), as ``spanscope diff`` and the server's
    ``/api/v1/diff`` say it: each side analysed, names folded alike, moves judged against
    chance; ``inputs`` name what each side read. Also gives the durations (for diff's gates)."""
    from spanscope.analysis.analyze import Analyzer
    from spanscope.analysis.results import AnalysisOptions
    from spanscope.compare import MIN_REQUESTS, PROFILE_DEPTH, compare

    analyzers = (
        Analyzer(AnalysisOptions(top=PROFILE_DEPTH)),
        Analyzer(AnalysisOptions(top=PROFILE_DEPTH)),
    )
    for analyzer, traces in zip(analyzers, (before, after), strict=True):
        for trace in traces:
            analyzer.add(trace)
    (first, second), durations = comparable_reports(*analyzers)
    if inputs is not None:
        first.inputs, second.inputs = inputs
    minimum = MIN_REQUESTS if min_requests is None else min_requests
    return compare(first, second, top=top, min_requests=minimum, durations=durations), durations
