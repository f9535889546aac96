"""``spanscope analyze``: what made requests slow or fail, and what to fix first.

Reads every input as one data set (``ReadSession``), assembles traces one at a time, filters
them, runs ``spanscope.analysis`` and renders with ``spanscope.report``. Exit codes: 0 fine,
1 a ``--fail-if`` condition held, 2 an input could not be read, a ``--fail-if`` about a name
with no data (a misspelt endpoint would pass every CI run; ``diff``'s gates with nothing to
judge exit 2 too) or a usage error.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from functools import partial
from typing import TYPE_CHECKING, Any

import click

from spanscope.analysis.options import AnalysisOptions
from spanscope.cli.common import DURATION, input_options, jobs_option
from spanscope.cli.store_reading import store_options, take_selection

# The rest is imported where it is used: ``analyze --folded -`` needs little of it, and the
# analyzer with its detectors, the report and rich are much of the command's start-up.
if TYPE_CHECKING:
    from spanscope.analysis.analyze import Analyzer
    from spanscope.analysis.conditions import Condition
    from spanscope.analysis.filters import TraceFilter
    from spanscope.analysis.profile import ProfileAnalyzer
    from spanscope.analysis.results import AnalysisReport, InputSummary
    from spanscope.cli.reading import ReadSession
    from spanscope.model import Trace

EXIT_CONDITION = 1
EXIT_NOTHING_TO_CHECK = 2
_DEFAULTS = AnalysisOptions()


def assembled_traces(session: ReadSession, adjust_skew: bool) -> Iterator[Trace]:
    """Build traces one at a time and drop each group of spans once built, so the traces of a
    big data set are never all held at once. Shows progress on a terminal."""
    from spanscope.assembly import group_by_trace
    from spanscope.cli.common import error_console
    from spanscope.cli.progress import show_progress, time_left_column
    from spanscope.cli.reading import built_traces, holding_many_objects

    with holding_many_objects():
        groups = group_by_trace(session.spans())
    if not show_progress(session.progress):
        yield from built_traces(groups, adjust_skew)
        return
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("[bold]analysing[/]"),
        BarColumn(),
        TextColumn("{task.completed:,}/{task.total:,} traces"),
        TimeElapsedColumn(),
        time_left_column(),  # reading a big document is done long before its analysis
        console=error_console(),
        transient=True,
    ) as progress:
        task = progress.add_task("traces", total=len(groups))
        for done, trace in enumerate(built_traces(groups, adjust_skew), 1):
            yield trace
            if done % 1024 == 0:
                progress.update(task, completed=done)


def analyse_session(
    session: ReadSession,
    options: AnalysisOptions,
    trace_filter: TraceFilter,
    adjust_skew: bool,
    jobs: int,
) -> Analyzer:
    """An ``Analyzer`` given every trace of the session's inputs that passes the filter: in
    several processes where the inputs allow it (one big JSON-lines file in two,
    ``spanscope.cli.split``; many files in workers that each read and analyse a shard of them,
    ``spanscope.cli.sharded``), else in this one. Its report is the same either way."""
    from spanscope.analysis.analyze import Analyzer
    from spanscope.analysis.filters import filter_traces

    analyzer = None
    if jobs > 1 and len(session.sources) == 1:
        from spanscope.cli.split import analyze_split

        analyzer = analyze_split(session, partial(Analyzer, options), trace_filter, adjust_skew)
    elif jobs > 1:
        from spanscope.cli.sharded import analyze_files

        analyzer = analyze_files(
            session, partial(Analyzer, options), trace_filter, adjust_skew, jobs
        )
    if analyzer is None:
        analyzer = Analyzer(options)
        for trace in filter_traces(assembled_traces(session, adjust_skew), trace_filter):
            analyzer.add(trace)
    return analyzer


def input_summaries(session: ReadSession) -> list[InputSummary]:
    """What each input gave, for a report's ``inputs``."""
    from spanscope.analysis.results import InputSummary

    return [
        InputSummary(r.source, r.format, r.spans, str(r.error) if r.error else None)
        for r in session.inputs
    ]


def _conditions(expressions: tuple[str, ...]) -> list[Condition]:
    from spanscope.analysis.conditions import ConditionError, parse_condition

    conditions = []
    for expression in expressions:
        try:
            conditions.append(parse_condition(expression))
        except ConditionError as exc:
            raise click.BadParameter(str(exc), param_hint="--fail-if") from None
    return conditions


@click.command()
@click.argument("inputs", nargs=-1, metavar="[FILE...]")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON (see schemas/).")
@click.option(
    "--slow-threshold",
    type=DURATION,
    default="500ms",
    show_default=True,
    help="Spans at least this long are listed as slow spans.",
)
@click.option("--top", default=10, show_default=True, help="Entries in the ranked lists.")
@store_options()
@click.option(
    "--fail-if",
    "fail_if",
    multiple=True,
    metavar="COND",
    help="Exit 1 if COND holds, e.g. 'p99(POST /api/checkout) > 800ms' or 'error_rate > 1%' "
    "(an endpoint by its root operation, or SERVICE:OPERATION).",
)
@click.option(
    "--folded",
    "folded",
    type=click.Path(dir_okay=False, allow_dash=True),
    default=None,
    help="Also write critical-path folded stacks (flamegraph.pl, speedscope) to this file; "
    "'-' prints them instead of the report.",
)
@click.option(
    "--folded-slow", is_flag=True, help="With --folded: stacks of the slowest traces only."
)
@input_options(skew=True)
@jobs_option(
    "Processes that read and analyse at once: 0 (the default) one per CPU, 1 this "
    "process only. Used for several files of 8 MB or more in all (2 MB with --folded -), or one "
    "OTLP JSON-lines file of 32 MB or more; the report is the same whatever the number.",
)
@click.option(
    "--jaeger-strict",
    is_flag=True,
    help="Critical paths exactly as Jaeger UI draws them, which skips calls that start the "
    "instant the previous one ends.",
)
@click.option(
    "--n-plus-one-min",
    type=click.IntRange(min=2),
    default=_DEFAULTS.n_plus_one_min_calls,
    show_default=True,
    help="Report an N+1 when one parent makes at least this many sequential calls with the "
    "same target.",
)
@click.option(
    "--sequential-min",
    type=click.IntRange(min=2),
    default=_DEFAULTS.sequential_min_calls,
    show_default=True,
    help="Report calls to different targets as parallelisable when one parent makes at least "
    "this many one after another.",
)
@click.option(
    "--cardinality-min",
    type=click.IntRange(min=2),
    default=_DEFAULTS.high_cardinality_min_names,
    show_default=True,
    help="Report a span-name template as high-cardinality when it matches at least this many "
    "distinct names (ids in names); the report then counts those names as one endpoint or "
    "operation, named by the template (GET /users/<num>).",
)
def analyze(
    inputs: tuple[str, ...],
    as_json: bool,
    slow_threshold: int,
    top: int,
    fail_if: tuple[str, ...],
    folded: str | None,
    folded_slow: bool,
    format_: str | None,
    strict: bool,
    jobs: int,
    no_adjust_skew: bool,
    jaeger_strict: bool,
    n_plus_one_min: int,
    sequential_min: int,
    cardinality_min: int,
    **selection: Any,
) -> None:
    """Find what made requests slow or fail, and what to fix first.

    Several FILEs (any formats, gzip or not, '-' for stdin; a directory stands for the files
    in it, not those in its subdirectories nor hidden ones) are analysed as one data set.
    The report shows, per endpoint, latency percentiles and where the critical-path time goes
    (all requests vs the slowest 5%), the slowest traces with their critical path, slow spans,
    where errors started, service dependencies, and problems found in the data.

    Exit status: 0 done, 1 a --fail-if condition holds (each is printed), 2 an input could
    not be read (the rest is still analysed), a --fail-if names an endpoint or operation
    with no data (a typo would otherwise pass every CI run), or a bad option.

    \b
    Examples:
      spanscope analyze traces.json
      spanscope analyze traces.json --slow-threshold 200ms --service checkout
      spanscope analyze traces.jsonl --since 30m              # the last half hour
      spanscope analyze traces.jsonl --since 2h --until 1h    # the hour before that
      spanscope analyze traces.jsonl --since 2026-11-27T03:00 --until 2026-11-27T03:30Z
      spanscope analyze a.json b.jsonl.gz --json > report.json
      spanscope analyze traces.json --folded stacks.txt   # flamegraph.pl stacks.txt > fg.svg
      spanscope analyze traces/ --folded - > stacks.txt   # the profile alone, fastest
      spanscope analyze traces.json --fail-if 'p99(POST /api/checkout) > 800ms' \\
          --fail-if 'error_rate > 1%'
      spanscope analyze --db traces.duckdb --service checkout --since 30m   # live, served
    """
    from spanscope.cli import imports_without_collection

    with imports_without_collection():
        from spanscope.cli.reading import ReadSession, fail_on_input_errors, print_warnings

    if top <= 0:
        raise click.BadParameter("must be positive", param_hint="--top")
    if folded_slow and folded is None:
        # It was dropped without a word: the user saw the report and no stacks anywhere.
        raise click.UsageError(
            "--folded-slow says which stacks --folded writes: add --folded FILE (or --folded -)"
        )
    if folded not in (None, "-"):
        # Before the reading and analysis, which can take minutes, not after them.
        where = os.path.dirname(os.path.abspath(folded))
        if not os.path.isdir(where):
            raise click.BadParameter(
                f"no directory {where} to write {folded} in", param_hint="--folded"
            )
    if as_json and folded == "-":
        raise click.UsageError(
            "--json and --folded - both print to standard output: choose one, or write the "
            "stacks to a file (--folded stacks.txt)"
        )
    chosen = take_selection(inputs, selection, "analyse")
    trace_filter = chosen.trace_filter
    conditions = _conditions(fail_if) if fail_if else []
    options = AnalysisOptions(
        slow_threshold_ns=slow_threshold,
        top=top,
        jaeger_strict=jaeger_strict,
        n_plus_one_min_calls=n_plus_one_min,
        sequential_min_calls=sequential_min,
        high_cardinality_min_names=cardinality_min,
    )
    if chosen.db is not None:
        from spanscope.analysis.analyze import Analyzer
        from spanscope.cli.store_reading import analyse_store

        analyzer, store_input = analyse_store(
            chosen.db, partial(Analyzer, options), trace_filter, chosen.limit, not no_adjust_skew
        )
        _finish(
            analyzer, None, [store_input], trace_filter, conditions, as_json, folded, folded_slow
        )
        return
    session = ReadSession(list(inputs), format=format_, strict=strict, jobs=jobs)
    if folded == "-" and not conditions:
        # Only the profile is asked for: read only what it needs, compute nothing else.
        with imports_without_collection():
            from spanscope.cli.folded import profile_only

        profiler = profile_only(
            session,
            trace_filter,
            not no_adjust_skew,
            options.slow_fraction,
            jaeger_strict,
            jobs,
            options.high_cardinality_min_names,
        )
        _write_folded(profiler, folded, folded_slow)
        if not profiler.traces:  # (not "no stacks": traces of 0 ns spans give none)
            _say_why_no_stacks(session, trace_filter, not no_adjust_skew)
        print_warnings(session.diagnostics)
        fail_on_input_errors(session)
        return
    analyzer = analyse_session(session, options, trace_filter, not no_adjust_skew, jobs)
    if not analyzer.traces:
        _say_why_none(session, trace_filter, not no_adjust_skew)
    _finish(
        analyzer,
        session,
        input_summaries(session),
        trace_filter,
        conditions,
        as_json,
        folded,
        folded_slow,
    )


def _finish(
    analyzer: Analyzer,
    session: ReadSession | None,
    inputs: list[InputSummary],
    trace_filter: TraceFilter,
    conditions: list[Condition],
    as_json: bool,
    folded: str | None,
    folded_slow: bool,
) -> None:
    """Print the report (or JSON, or stacks), the warnings and the conditions that hold; exit
    as the command's help says. ``session`` is None for a store."""
    from rich.markup import escape

    from spanscope.analysis.conditions import ConditionError, evaluate
    from spanscope.cli.common import error_console
    from spanscope.cli.reading import fail_on_input_errors, print_warnings
    from spanscope.report import encode_report

    report = analyzer.report()
    report.filters = trace_filter.describe()
    report.inputs = inputs
    report.warnings = session.diagnostics.count if session else 0
    try:
        report.conditions = [evaluate(condition, report) for condition in conditions]
    except ConditionError as exc:
        raise click.BadParameter(str(exc), param_hint="--fail-if") from None

    if folded is not None:
        _write_folded(analyzer, folded, folded_slow)
    if folded == "-":
        pass  # stdout holds the stacks; conditions and errors still go to stderr below
    elif as_json:
        sys.stdout.buffer.write(encode_report(report))
        sys.stdout.buffer.flush()
    else:
        from spanscope.cli.common import output_console
        from spanscope.report import render_report

        render_report(report, output_console())
    if session:
        print_warnings(session.diagnostics)
    if as_json or folded == "-":
        for result in report.conditions:
            if result.holds:
                error_console().print(
                    f"[red]FAIL[/] {escape(result.expression)}: {escape(result.message)}",
                    soft_wrap=True,
                )
    unchecked = 0
    for condition, result in zip(conditions, report.conditions, strict=True):
        # A named target with no data can never trip: most often a misspelt endpoint. (With no
        # target, no data means no requests at all, which the report already says.)
        if result.value is None and condition.target:
            unchecked += 1
            error_console().print(
                f"[red]error:[/] --fail-if '{escape(result.expression)}' cannot be "
                f"checked: {escape(result.message)} ({escape(_names_to_use(report, condition))})",
                soft_wrap=True,
            )
    if session:
        fail_on_input_errors(session)
    if any(result.holds for result in report.conditions):
        raise SystemExit(EXIT_CONDITION)  # a tripped gate says more than one that cannot judge
    if unchecked:
        raise SystemExit(EXIT_NOTHING_TO_CHECK)


def _names_to_use(report: AnalysisReport, condition: Condition) -> str:
    """The names a ``--fail-if`` target can take in this report, the closest to the one given
    first (a typo: "GET /chekout"): endpoints by their root operation (or as
    ``service:operation`` when the target has a colon), else operations as ``service:operation``."""
    from spanscope.cli.match_feedback import names_listed

    target = condition.target or ""
    qualified = ":" in target
    endpoints = sorted(
        {
            f"{row.service}:{row.operation}" if qualified else row.operation
            for row in report.endpoints
        }
    )
    if endpoints:
        return f"its endpoints: {names_listed(endpoints, target, 5)}"
    operations = sorted({f"{row.service}:{row.operation}" for row in report.operations})
    if operations:
        return f"no endpoints; its operations: {names_listed(operations, target, 5)}"
    return "no requests in the data"


def _say_why_none(session: ReadSession, trace_filter: TraceFilter, adjust_skew: bool) -> None:
    """Say on stderr which filter left no trace of the files (the report, empty, stays as it
    is and the exit code 0); nothing when a trace did pass (``match_feedback``)."""
    from spanscope.cli.match_feedback import nothing_matched, warn

    warn(nothing_matched(session, trace_filter, adjust_skew))


def _say_why_no_stacks(session: ReadSession, trace_filter: TraceFilter, adjust_skew: bool) -> None:
    """``_say_why_none`` for the folded stacks alone, which have no report to say the rest:
    no spans read, or no trace with a root (an input error says why itself)."""
    from spanscope.cli.match_feedback import nothing_matched, warn

    message = nothing_matched(session, trace_filter, adjust_skew)
    if message is None and not session.failed:
        from spanscope.report.text import no_traces_reason

        message = no_traces_reason(sum(report.spans for report in session.inputs))
    warn(message)


def _write_folded(analyzer: Analyzer | ProfileAnalyzer, path: str, slow: bool) -> None:
    """Write the folded stacks to ``path`` ('-': stdout)."""
    from spanscope.analysis.profile import folded_stacks
    from spanscope.report.folded import write_folded

    stacks = folded_stacks(analyzer.profile(), slow=slow)
    if path == "-":
        write_folded(stacks, sys.stdout)
        sys.stdout.flush()
        return
    try:
        with open(path, "w", encoding="utf-8") as out:
            lines = write_folded(stacks, out)
    except OSError as exc:
        raise click.ClickException(f"cannot write {path}: {exc.strerror or exc}") from None
    click.echo(f"wrote {lines:,} folded stacks to {path}", err=True)
