"""``spanscope diff``: what changed between two sets of traces, and where the time went.

The sides are trace files (or saved reports), or two windows of a store (``--db``): the
``--since``/``--until`` window against the window just before it, of the same length, as the
server's ``/api/v1/diff`` and ``/compare`` page do; ``--baseline-offset 1d`` compares with the
same window a day earlier instead.

Both sides of traces are analysed first, then their names with ids are folded alike
(``compare.sides``) and their reports made; each side's durations go to ``compare`` so that
moves within chance make no headline and trip no ``--fail-if`` gate (``compare.noise``). A
saved report gives its distributions (log bins) instead; one saved before they were kept has
none, which is said, and its moves are not judged. Exit codes: 0, 1 a gate tripped, 2 an input
(a file, a store) could not be read or an option is wrong.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import click
import msgspec
from rich.markup import escape

from spanscope.cli.common import (
    DURATION,
    error_console,
    input_options,
    jobs_option,
    output_console,
)
from spanscope.cli.reading import InputFailure, ReadSession, fail_on_input_errors, print_warnings
from spanscope.cli.store_reading import Selection, read_store, store_options, take_selection

if TYPE_CHECKING:
    from spanscope.analysis.filters import TraceFilter
    from spanscope.analysis.results import AnalysisReport, InputSummary
    from spanscope.compare import ReportDiff
    from spanscope.compare.noise import Durations, Sides
    from spanscope.model import Trace

EXIT_REGRESSION = 1
# A gate given with nothing to judge: as an input that could not be read, not a pass.
EXIT_NOTHING_JUDGED = 2
# The head of an ``analyze --json`` report: its version, then its options.
_SAVED_REPORT_KEYS = (b'"version"', b'"slow_threshold_ns"', b'"n_plus_one_min_calls"')


def _percent(value: str, option: str) -> float:
    text = value.strip().removesuffix("%")
    try:
        number = float(text)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a percentage", param_hint=option) from None
    # float() takes "nan" and "inf" too: a gate of nan never trips, one of inf never can.
    if not math.isfinite(number) or number < 0:
        raise click.BadParameter(
            f"{value!r}: give a percentage of 0 or more (e.g. 20%)", param_hint=option
        )
    return number / 100


def _is_saved_report(source: str) -> bool:
    path = Path(source)
    if source == "-" or not path.is_file():
        return False
    with open(path, "rb") as stream:
        head = stream.read(4096)
    return head.lstrip().startswith(b"{") and all(key in head for key in _SAVED_REPORT_KEYS)


class _Side(NamedTuple):
    """One side to compare: a saved report, or an analyzer with where its traces came from
    (the read session of files, or the ``inputs`` of a store's window)."""

    saved: AnalysisReport | None
    analyzer: Any
    session: ReadSession | None
    inputs: list[InputSummary] | None


def _analyse(
    sources: list[str],
    format_: str | None,
    strict: bool,
    adjust_skew: bool,
    jobs: int,
    trace_filter: TraceFilter,
):
    """One side: a saved report, or the analyzer of its traces (its report not made yet, see
    ``_reports``) and the read session."""
    from spanscope.analysis.results import AnalysisOptions, AnalysisReport
    from spanscope.cli.analyze import analyse_session
    from spanscope.compare import PROFILE_DEPTH, profile_cut
    from spanscope.compare.noise import durations_of_report

    if len(sources) == 1 and _is_saved_report(sources[0]):
        if not trace_filter.is_empty:
            raise click.UsageError(
                f"{sources[0]} is a saved report: --service, --since and the other selections "
                "cannot choose among its traces"
            )
        try:
            report = msgspec.json.decode(Path(sources[0]).read_bytes(), type=AnalysisReport)
        except msgspec.DecodeError as exc:
            raise InputFailure(f"{sources[0]}: not a spanscope analysis report: {exc}") from None
        if durations_of_report(report) is None:
            error_console().print(
                f"note: {escape(sources[0])} is a saved report, which keeps no durations: "
                "percentile moves are not judged against chance (diff the trace files for "
                "that, or save the report again with this version)",
                soft_wrap=True,
            )
        top = report.options.top
        if any(profile_cut(profile, top) for profile in report.profiles):
            error_console().print(
                f"[yellow]warning:[/] {escape(sources[0])} keeps {top} operations per endpoint "
                f"(saved with --top {top}); operations beyond them are missing from the "
                "comparison: save it with --top 1000",
                soft_wrap=True,
            )
        return _Side(report, None, None, None)
    session = ReadSession(sources, format=format_, strict=strict, jobs=jobs)
    options = AnalysisOptions(top=PROFILE_DEPTH)
    analyzer = analyse_session(session, options, trace_filter, adjust_skew, jobs)
    if not analyzer.spans and session.failed:
        fail_on_input_errors(session)  # nothing read on this side: a comparison would mislead
    if not analyzer.traces:
        from spanscope.cli.match_feedback import nothing_matched, warn

        # "no traces before: nothing to compare" alone does not say that --service was
        # mistyped, or that the window misses the file.
        warn(nothing_matched(session, trace_filter, adjust_skew))
    return _Side(None, analyzer, session, None)


def _reports(sides: list[_Side]) -> tuple[list[AnalysisReport], list[Durations | None]]:
    """The reports and durations (``compare.noise``; a saved report's bins, None for an older
    one) of the files' sides ``_analyse`` gave, names with ids folded alike on both
    (``compare.sides``)."""
    from spanscope.cli.analyze import input_summaries
    from spanscope.compare.noise import durations_of, durations_of_report
    from spanscope.compare.sides import comparable_reports

    reports: list[AnalysisReport] = []
    durations: list[Durations | None] = []
    if sides[0].analyzer is not None and sides[1].analyzer is not None:
        made, found = comparable_reports(sides[0].analyzer, sides[1].analyzer)
        assert found is not None
        reports, durations = list(made), list(found)
    else:
        for side in sides:
            if side.analyzer is None:
                assert side.saved is not None  # a side is one or the other
                reports.append(side.saved)
                durations.append(durations_of_report(side.saved))
            else:
                reports.append(side.analyzer.report())
                durations.append(durations_of(side.analyzer))
    for side, report in zip(sides, reports, strict=True):
        if side.session is not None:  # files: read in a session
            report.inputs = input_summaries(side.session)
    return reports, durations


@click.command()
@click.argument("before", required=False, metavar="[BEFORE]")
@click.argument("after", required=False, metavar="[AFTER]")
@click.option(
    "--before-also",
    "before_more",
    multiple=True,
    metavar="FILE",
    help="More files for the BEFORE side (repeat).",
)
@click.option(
    "--after-also",
    "after_more",
    multiple=True,
    metavar="FILE",
    help="More files for the AFTER side (repeat).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the comparison as JSON.")
@click.option(
    "--top", type=click.IntRange(min=1), default=5, show_default=True, help="Entries per list."
)
@click.option(
    "--min-requests",
    type=click.IntRange(min=1),
    default=20,
    show_default=True,
    help="Endpoints with fewer requests on either side are shown but not judged.",
)
@click.option(
    "--fail-if-slower",
    default=None,
    metavar="PCT",
    help="Exit 1 if an endpoint's --percentile grew by more than PCT (e.g. 20%), beyond chance.",
)
@click.option(
    "--percentile",
    type=click.Choice(["p50", "p90", "p95", "p99"]),
    default="p95",
    show_default=True,
    help="The percentile --fail-if-slower compares.",
)
@click.option(
    "--fail-if-errors-rise",
    default=None,
    metavar="PCT",
    help="Exit 1 if an endpoint's error rate rose by more than PCT points (e.g. 1%), beyond "
    "chance.",
)
@click.option(
    "--ignore-below",
    type=DURATION,
    default="1ms",
    show_default=True,
    help="--fail-if-slower ignores endpoints whose percentile moved less than this.",
)
@click.option(
    "--baseline-offset",
    type=DURATION,
    default=None,
    help="With --db: compare with the same window this much earlier (1d: a day before) "
    "instead of the window just before it.",
)
@input_options(skew=True)
@jobs_option(
    "Processes that read and analyse at once (as for analyze): 0 (the default) one per CPU."
)
@store_options(trace_ids=False)
def diff(
    before: str | None,
    after: str | None,
    before_more: tuple[str, ...],
    after_more: tuple[str, ...],
    as_json: bool,
    top: int,
    min_requests: int,
    fail_if_slower: str | None,
    percentile: str,
    fail_if_errors_rise: str | None,
    ignore_below: int,
    baseline_offset: int | None,
    format_: str | None,
    strict: bool,
    no_adjust_skew: bool,
    jobs: int,
    **selection: Any,
) -> None:
    """Compare two sets of traces: what got slower or fails more, and why.

    BEFORE and AFTER are e.g. before and after a deploy, or yesterday and today.
    For each endpoint: its percentiles and error rate on both sides, and where
    on the critical path the time per request changed, operation by operation,
    for all requests and for the slowest 5%. Also: operations whose calls per
    request changed (a new N+1 loop), new error origins, and service calls that
    changed.

    Each side is trace files or directories of them (any format), or a report
    saved with `spanscope analyze --json --top 1000`, e.g. a baseline kept in CI
    (it keeps each endpoint's durations in log bins: its percentile moves are
    judged against chance as the traces' are). With --db there are no sides to
    give: the traces of the store that start in the --since/--until window
    (--until: now) are compared with those of the window just before it, of the
    same length, or with --baseline-offset, the same window that much earlier.
    --service and the other selections choose traces on both sides.

    Exit status: 0 done, 1 a --fail-if-... gate tripped, 2 an input could not
    be read, a bad option, or a --fail-if-... gate with nothing to judge (a
    side without traces, e.g. a mistyped --service, or no endpoint with
    --min-requests requests on both sides).

    \b
    Examples:
      spanscope diff yesterday.jsonl today.jsonl
      spanscope diff before.pb after.pb --after-also after-2.pb --json
      spanscope analyze baseline.jsonl --json --top 1000 > baseline.json
      spanscope diff baseline.json current.jsonl --fail-if-slower 20% \\
          --fail-if-errors-rise 1%
      spanscope diff --db traces.duckdb --since 1h      # the last hour vs the one before
      spanscope diff --db traces.duckdb --since 1h --baseline-offset 1d   # vs yesterday
    """
    slower = _percent(fail_if_slower, "--fail-if-slower") if fail_if_slower else None
    errors_rise = (
        _percent(fail_if_errors_rise, "--fail-if-errors-rise") if fail_if_errors_rise else None
    )
    from spanscope.compare import compare

    adjust = not no_adjust_skew
    files = [side for side in (before, after, *before_more, *after_more) if side is not None]
    if selection.get("db") is None and (before is None or after is None):
        raise click.UsageError("give BEFORE and AFTER, or a store (--db) and --since")
    chosen = take_selection(files, selection, "compare")
    if chosen.db is not None:
        from spanscope.compare.sides import compare_traces

        # (a store that cannot be read exits 2, StoreUnreadable: 1 is the gates' "slower")
        counted: list[tuple[int, int | None]] = []
        (before_traces, after_traces), inputs = _store_sides(
            chosen, baseline_offset, adjust, counted
        )
        # The server's /api/v1/diff answers from the same recipe.
        result, durations = compare_traces(
            before_traces, after_traces, top=top, min_requests=min_requests, inputs=inputs
        )
        for side, (read, matched) in zip((result.before, result.after), counted, strict=True):
            side.read, side.matched = read, matched
        before_session = after_session = None
    else:
        assert before is not None and after is not None
        if baseline_offset is not None:
            raise click.UsageError("--baseline-offset goes with --db (BEFORE is the baseline)")
        f = chosen.trace_filter
        sides = [
            _analyse([before, *before_more], format_, strict, adjust, jobs, f),
            _analyse([after, *after_more], format_, strict, adjust, jobs, f),
        ]
        (before_report, after_report), found = _reports(sides)
        durations = (found[0], found[1])
        before_session, after_session = sides[0].session, sides[1].session
        result = compare(
            before_report, after_report, top=top, min_requests=min_requests, durations=durations
        )
    sessions = [s for s in (before_session, after_session) if s is not None]
    for session in sessions:
        print_warnings(session.diagnostics)
    if as_json:
        sys.stdout.write(msgspec.json.encode(result).decode() + "\n")
    else:
        from spanscope.report.diff import print_diff

        print_diff(result, top=top, console=output_console())  # 160 columns in a pipe
    for session in sessions:
        fail_on_input_errors(session)
    gates = [
        option
        for option, value in (("--fail-if-slower", slower), ("--fail-if-errors-rise", errors_rise))
        if value is not None
    ]
    if gates:
        _fail_if_nothing_judged(result, gates, min_requests)
    tripped, chance = _gates(result, slower, errors_rise, percentile, ignore_below, durations)
    for message in chance:
        error_console().print(
            f"[yellow]within chance:[/] {escape(message)}: not counted as a regression",
            soft_wrap=True,
        )
    for message in tripped:
        error_console().print(f"[red]regression:[/] {escape(message)}", soft_wrap=True)
    if tripped:
        raise SystemExit(EXIT_REGRESSION)


def _store_sides(
    chosen: Selection, offset: int | None, adjust_skew: bool, counted: list[tuple[int, int | None]]
) -> tuple[tuple[list[Trace], list[Trace]], tuple[list[InputSummary], list[InputSummary]]]:
    """The traces of the baseline window and of the --since/--until window of a store, and
    the line naming each; ``counted`` gets, for each, how many traces were read of how many
    have a matching span in the window (a sample when fewer; the side keeps those of them that
    start in it)."""
    import msgspec.structs

    from spanscope.cli.times import now_ns
    from spanscope.units import format_duration, format_time

    assert chosen.db is not None
    start, end = chosen.trace_filter.since_ns, chosen.trace_filter.until_ns
    if start is None:
        raise click.UsageError(
            "with --db, say which window to compare with --since (e.g. --since 1h: the last "
            "hour against the hour before)"
        )
    if end is None:
        end = max(now_ns(click.get_current_context(silent=True)), start + 1)
    shift = end - start if offset is None else offset
    if shift <= 0:
        raise click.BadParameter("must be more than 0", param_hint="--baseline-offset")
    if start - shift < 0:
        raise click.UsageError(
            f"the baseline window would start before 1970 ({format_duration(shift)} before "
            f"{format_time(start)}): use a shorter window or --baseline-offset"
        )
    traces: list[list[Trace]] = []
    inputs: list[list[InputSummary]] = []
    for begin, until in ((start - shift, end - shift), (start, end)):
        window = msgspec.structs.replace(chosen.trace_filter, since_ns=begin, until_ns=until)
        # (read_store says why when a window has no traces)
        found, summary = read_store(
            chosen.db,
            window,
            chosen.limit,
            adjust_skew,
            source=f"{chosen.db} {format_time(begin)} .. {format_time(until)}",
            counted=counted,
        )
        traces.append(found)
        inputs.append([summary])
    return (traces[0], traces[1]), (inputs[0], inputs[1])


def _fail_if_nothing_judged(result: ReportDiff, gates: list[str], min_requests: int) -> None:
    """Exit 2 when a gate could not judge anything: a CI job reads 0 as "no regression", which
    a mistyped --service (no traces on either side) does not say."""
    sides = (("before", result.before), ("after", result.after))
    empty = [name for name, side in sides if not side.traces]
    if empty:
        why = f"no traces {' or '.join(empty)}"
    elif all(endpoint.few_requests for endpoint in result.endpoints):
        why = (
            f"no endpoint has {min_requests} requests (--min-requests) on both sides"
            if result.endpoints
            else "no endpoint is on both sides"
        )
    else:
        return
    error_console().print(
        f"[red]error:[/] {' and '.join(gates)}: {why}, so nothing was judged: "
        f"{'the gate' if len(gates) == 1 else 'they'} can neither pass nor fail",
        soft_wrap=True,
    )
    raise SystemExit(EXIT_NOTHING_JUDGED)


def _gates(
    result: ReportDiff,
    slower: float | None,
    errors_rise: float | None,
    name: str,
    ignore_ns: int,
    durations: Sides,
) -> tuple[list[str], list[str]]:
    """What trips the --fail-if-... gates, one message each, and what would have but for
    chance, with how far from chance each was: a gate that fails a build on two samples of one
    service is a gate people disable (seed 1 against seed 5 of the shop: checkout's p95 +11%,
    from its 2 s timeouts' knee)."""
    from spanscope.compare.noise import GATE_P, MIN_Z, judge_z, rise_p
    from spanscope.report.tables import cut

    tripped: list[str] = []
    chance: list[str] = []
    for endpoint in result.endpoints:
        if endpoint.few_requests:
            continue
        key = (endpoint.service, endpoint.operation)
        label = f"{cut(endpoint.service)}: {cut(endpoint.operation)}"  # (as the tables cut)
        change = endpoint.change(name)
        old, new = endpoint.percentile(name)
        if slower is not None and change is not None and change > slower and new - old >= ignore_ns:
            said = (
                f"{label} {name} {old / 1e6:.1f} ms → {new / 1e6:.1f} ms "
                f"({change:+.0%}, more than {slower:+.0%})"
            )
            z = judge_z(durations, key, float(name[1:]), (old, new))
            # (None: a report saved before distributions were kept, whose moves are not judged)
            if z is None or z >= MIN_Z:
                tripped.append(said if z is None else f"{said}, z = {z:.1f}")
            else:
                chance.append(
                    f"{said}, z = {z:.1f} ({MIN_Z:g} needed): too few requests to tell this "
                    "move from chance (two samples of an unchanged service differ)"
                )
        rise = endpoint.error_rate_after - endpoint.error_rate_before
        if errors_rise is not None and rise > errors_rise:
            said = (
                f"{label} error rate {endpoint.error_rate_before:.2%} → "
                f"{endpoint.error_rate_after:.2%} (more than {errors_rise * 100:+.2g} points)"
            )
            before, after = endpoint.requests_before, endpoint.requests_after
            failed_before = round(endpoint.error_rate_before * before)
            failed_after = round(endpoint.error_rate_after * after)
            # One metric the user chose, in one direction: Fisher's one-sided test (noise.py).
            p = rise_p(failed_before, before, failed_after, after)
            counts = f"{failed_before}/{before:,} → {failed_after}/{after:,} failed"
            if p <= GATE_P:
                tripped.append(f"{said}, {counts}, p = {p:.2g}")
            else:
                chance.append(
                    f"{said}, {counts}, p = {p:.2g} (one-sided, {GATE_P:g} needed): too few "
                    "requests to tell this rise from chance"
                )
    return tripped, chance
