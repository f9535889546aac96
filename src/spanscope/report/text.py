"""The human report: rich tables, most useful first.

Order: what the data is, the headline (the few sentences to read first), what to fix first,
anti-patterns, latency per endpoint, where each endpoint's time goes (all traces vs the
slowest), the slowest traces with their critical path, slow spans, errors and where they
started, operations, dependencies, problems in the data, ``--fail-if`` results. Durations and
times are shown with ``spanscope.units``; nothing is computed here.
"""

from __future__ import annotations

from collections.abc import Iterable

from rich.console import Console
from rich.table import Table
from rich.text import Text

from spanscope.analysis.results import AnalysisReport
from spanscope.analysis.traits import EXACT_LIMIT, SAMPLE_ONE_IN, trait_text
from spanscope.units import format_duration, format_time

_MAX_ROWS = 25
# A cell longer than this is cut with an ellipsis: rich wraps a cell character by character, so
# one 60 MB span name took seconds and gigabytes to lay out; the JSON report keeps it whole.
_MAX_CELL = 200


def _cut(text: str) -> str:
    return text if len(text) <= _MAX_CELL else text[: _MAX_CELL - 1] + "…"


class _Table(Table):
    """A rich table whose text cells are cut to ``_MAX_CELL`` characters."""

    def add_row(self, *renderables, **kwargs) -> None:  # type: ignore[no-untyped-def]
        cells = (_cut(cell) if isinstance(cell, str) else cell for cell in renderables)
        super().add_row(*cells, **kwargs)


def _pct(fraction: float) -> str:
    return f"{fraction * 100:.1f}%"


def _frame(service: str, operation: str) -> str:
    # Cut here too: frames also go into table titles and joined critical-path cells.
    # Cut the parts first: formatting a 60 MB name only to cut it copied it each time.
    return _cut(f"{_cut(service or '?')}:{_cut(operation)}")


def _table(title: str, *columns: str, right: tuple[str, ...] = ()) -> Table:
    # At least as wide as its title, so a long title is not folded onto a second line.
    table = _Table(
        title=title, title_justify="left", title_style="bold", show_edge=False, min_width=len(title)
    )
    for column in columns:
        table.add_column(column, justify="right" if column in right else "left", overflow="fold")
    return table


def _span_times(
    title: str, id_column: str, spans: Iterable[tuple[str, str, int, int, int, str]]
) -> Table:
    """Spans with their duration, self time and time on the critical path; each span is
    ``(service, operation, duration_ns, self_ns, critical_ns, id)``, its id in ``id_column``."""
    table = _table(
        title,
        "service:operation", "duration", "self", "on critical path", id_column,
        right=("duration", "self", "on critical path"),
    )  # fmt: skip
    for service, operation, duration_ns, self_ns, critical_ns, span_or_trace_id in spans:
        table.add_row(
            _frame(service, operation),
            format_duration(duration_ns),
            format_duration(self_ns),
            format_duration(critical_ns),
            span_or_trace_id,
        )
    return table


def render_report(report: AnalysisReport, console: Console) -> None:
    """Print ``report`` to ``console``."""
    _summary(report, console)
    if not report.summary.traces:
        console.print(_why_no_traces(report), soft_wrap=True)
        return
    _headline(report, console)
    _fix_first(report, console)
    _traits(report, console)
    _anti_patterns(report, console)
    _endpoints(report, console)
    _profiles(report, console)
    _slowest(report, console)
    _path(report, console)
    _slow_spans(report, console)
    _errors(report, console)
    _operations(report, console)
    _dependencies(report, console)
    _problems(report, console)
    _conditions(report, console)


def _headline(report: AnalysisReport, console: Console) -> None:
    """The few sentences to read first (``analysis.headline``), as a bulleted list."""
    if not report.headline:
        return
    console.print("[bold]In short[/]")
    lines = Table.grid(padding=(0, 1))  # wrapped lines keep their indent
    lines.add_column(no_wrap=True)
    lines.add_column(overflow="fold")
    for item in report.headline:
        lines.add_row(" •", Text(item.text, style="red" if item.kind == "failed" else ""))
    console.print(lines)
    console.print()


def _why_no_traces(report: AnalysisReport) -> str:
    read = sum(item.spans for item in report.inputs)
    if read and report.filters:
        # Most often a time window that misses the data (--since 30m on yesterday's export).
        sources = " ".join(item.source for item in report.inputs[:3])
        return (
            f"no traces to analyse: none of the {read:,} spans read is in a trace that passes "
            f"the filters ('spanscope info {sources}' shows the time range they cover)"
        )
    if read:
        return "no traces to analyse: the spans read form no trace with a root"
    return "no traces to analyse: no spans were read (check the inputs)"


def _summary(report: AnalysisReport, console: Console) -> None:
    s = report.summary
    for item in report.inputs:
        error = f" [red]({item.error})[/]" if item.error else ""
        console.print(
            f"[dim]input[/] {item.source}: {item.format or '?'}, {item.spans:,} spans{error}"
        )
    if report.filters:
        shown = ", ".join(_filter_text(k, v) for k, v in report.filters.items())
        console.print(f"[dim]filters[/] {shown}", soft_wrap=True)
    console.print(
        f"[bold]{s.traces:,}[/] traces, [bold]{s.spans:,}[/] spans, "
        f"[bold]{len(s.services)}[/] services; "
        f"[bold]{s.failed_traces:,}[/] failed requests, {s.traces_with_errors:,} traces with errors"
    )
    if s.traces:
        console.print(
            f"time range {format_time(s.start_ns)} .. {format_time(s.end_ns)}; request latency "
            f"p50 {format_duration(s.latency.p50_ns)}, p99 {format_duration(s.latency.p99_ns)}, "
            f"max {format_duration(s.latency.max_ns)}"
        )
    console.print()


def _filter_text(key: str, value: str) -> str:
    # The JSON report keeps nanoseconds (since_ns=1795748400000000000); people read times.
    if key in ("since_ns", "until_ns") and value.lstrip("-").isdigit():
        return f"{key[:-3]}={format_time(int(value))}"
    if key.endswith("_duration_ns") and value.isdigit():
        return f"{key[:-3]}={format_duration(int(value))}"
    return f"{key}={value}"


def _fix_first(report: AnalysisReport, console: Console) -> None:
    if not report.fix_first:
        return
    pct = int(report.options.slow_fraction * 100)
    table = _table(
        f"What to fix first (critical-path time in the slowest {pct}% of each endpoint)",
        "#", "service:operation", "endpoint", "in slowest", "share slowest", "share all",
        right=("#", "in slowest", "share slowest", "share all"),
    )  # fmt: skip
    for rank, c in enumerate(report.fix_first, 1):
        table.add_row(
            str(rank),
            _frame(c.service, c.operation),
            _frame(c.endpoint_service, c.endpoint_operation),
            format_duration(c.slow_critical_ns),
            _pct(c.slow_share),
            _pct(c.share),
        )
    console.print(table)
    console.print()


_TRAITS_PER_COHORT = 3


def _traits(report: AnalysisReport, console: Console) -> None:
    """What sets the slowest and the failed requests apart; nothing when nothing does."""
    if not report.traits:
        return
    pct = int(report.options.slow_fraction * 100)
    table = _table(
        "What the slowest and the failed requests have in common",
        "endpoint", "requests", "trait", "in them", "in the rest",
        right=("in them", "in the rest"),
    )  # fmt: skip
    shown: dict[tuple[str, str, str], int] = {}
    for t in report.traits:
        group = (t.endpoint_service, t.endpoint_operation, t.cohort)
        shown[group] = shown.get(group, 0) + 1
        if shown[group] > _TRAITS_PER_COHORT:
            continue
        label = f"slowest {pct}%" if t.cohort == "slowest" else t.cohort
        table.add_row(
            _frame(t.endpoint_service, t.endpoint_operation),
            f"{label} ({t.cohort_traces:,})",
            _cut(trait_text(t)),
            f"{_pct(t.cohort_share)} ({t.cohort_with:,})",
            f"{_pct(t.rest_share)} ({t.rest_with:,})",
        )
    console.print(table)
    if any(t.rest_one_in > 1 for t in report.traits):
        console.print(
            f"[dim]past {EXACT_LIMIT:,} requests an endpoint's requests are compared 1 in "
            f"{SAMPLE_ONE_IN} (by trace id), failed ones all; counts are of those compared[/]"
        )
    console.print()


_KIND_LABELS = {
    "n_plus_one": "N+1 calls",
    "sequential_calls": "sequential calls",
    "broken_propagation": "broken propagation",
    "unclosed_spans": "unclosed spans",
    "high_cardinality_name": "high-cardinality name",
}
_MAX_EXAMPLE_IDS = 3


def _anti_patterns(report: AnalysisReport, console: Console) -> None:
    found = report.anti_patterns
    if not found:
        console.print("no anti-patterns found\n")
        return
    table = _table(
        "Anti-patterns (most critical-path time at stake first)",
        "#", "anti-pattern", "where", "traces", "seen", "per trace", "at stake", "example trace",
        right=("#", "traces", "seen", "per trace", "at stake"),
    )  # fmt: skip
    shown = found[:_MAX_ROWS]
    for rank, a in enumerate(shown, 1):
        where = _frame(a.service, a.operation)
        if a.parent_service or a.parent_operation:
            where += f" under {_frame(a.parent_service, a.parent_operation)}"
        if not a.per_trace_max:
            per_trace = "-"
        elif a.per_trace_p50 == a.per_trace_max:
            per_trace = f"{a.per_trace_p50:,}"
        else:
            per_trace = f"{a.per_trace_p50:,} (max {a.per_trace_max:,})"
        table.add_row(
            str(rank),
            _KIND_LABELS.get(a.kind, a.kind),
            where,
            f"{a.traces:,}",
            f"{a.occurrences:,}",
            per_trace,
            format_duration(a.critical_ns),
            a.example_trace_id,
        )
    console.print(table)
    for rank, a in enumerate(shown, 1):
        console.print(f"{rank:>3}. {a.explanation}", soft_wrap=True, markup=False)
        spans = ", ".join(a.example_span_ids[:_MAX_EXAMPLE_IDS])
        if len(a.example_span_ids) > _MAX_EXAMPLE_IDS:
            spans += ", ..."
        note = f"{a.detail}; " if a.detail else ""
        console.print(
            f"     {note}e.g. trace {a.example_trace_id} spans {spans}",
            soft_wrap=True,
            markup=False,
            style="dim",
        )
    if len(found) > _MAX_ROWS:
        console.print(f"[dim]... {len(found) - _MAX_ROWS} more in --json[/]")
    console.print()


def _latency_cells(latency) -> list[str]:
    return [
        f"{latency.count:,}",
        format_duration(latency.p50_ns),
        format_duration(latency.p90_ns),
        format_duration(latency.p95_ns),
        format_duration(latency.p99_ns),
        format_duration(latency.max_ns),
    ]


def _endpoints(report: AnalysisReport, console: Console) -> None:
    table = _table(
        "Latency per endpoint (root span)",
        "endpoint", "requests", "p50", "p90", "p95", "p99", "max", "failed",
        right=("requests", "p50", "p90", "p95", "p99", "max", "failed"),
    )  # fmt: skip
    for e in report.endpoints[:_MAX_ROWS]:
        table.add_row(
            _frame(e.service, e.operation), *_latency_cells(e.latency), _pct(e.error_rate)
        )
    console.print(table)
    if any(not e.latency.exact for e in report.endpoints):
        console.print(
            "[dim]percentiles of large groups come from a DDSketch (1% relative error)[/]"
        )
    console.print()


def _profiles(report: AnalysisReport, console: Console) -> None:
    pct = int(report.options.slow_fraction * 100)
    for p in report.profiles[:5]:
        table = _table(
            f"Where {_frame(p.service, p.operation)} waits: {p.traces:,} traces, slowest "
            f"{pct}% = {p.slow_traces:,} traces >= {format_duration(p.slow_min_duration_ns)}",
            "service:operation", "share all", "share slowest", "critical time all",
            right=("share all", "share slowest", "critical time all"),
        )  # fmt: skip
        for f in p.frames:
            table.add_row(
                _frame(f.service, f.operation),
                _pct(f.share),
                _pct(f.slow_share),
                format_duration(f.critical_ns),
            )
        console.print(table)
        console.print()


def _slowest(report: AnalysisReport, console: Console) -> None:
    if not report.slowest_traces:
        return
    table = _table(
        "Slowest traces and what their critical path spent time in",
        "trace id", "endpoint", "duration", "critical path (top)",
        right=("duration",),
    )  # fmt: skip
    for t in report.slowest_traces:
        path = ", ".join(
            f"{_frame(c.service, c.operation)} {_pct(c.share)}" for c in t.contributors[:3]
        )
        failed = " [red]failed[/]" if t.failed else ""
        table.add_row(
            t.trace_id,
            _frame(t.service, t.operation) + failed,
            format_duration(t.duration_ns),
            path,
        )
    console.print(table)
    console.print()


def _path(report: AnalysisReport, console: Console) -> None:
    """The slowest trace's critical path step by step (with --trace-id: that trace's)."""
    if not report.slowest_traces:
        return
    trace = report.slowest_traces[0]
    table = _table(
        f"Critical path of {trace.trace_id} ({_frame(trace.service, trace.operation)}, "
        f"{format_duration(trace.duration_ns)})",
        "at", "for", "service:operation", "span id",
        right=("at", "for"),
    )  # fmt: skip
    for step in trace.critical_path[: _MAX_ROWS * 2]:
        table.add_row(
            "+" + format_duration(step.start_ns - trace.start_ns),
            format_duration(step.end_ns - step.start_ns),
            _frame(step.service, step.operation),
            step.span_id,
        )
    console.print(table)
    shown = min(len(trace.critical_path), _MAX_ROWS * 2)
    if trace.truncated or shown < len(trace.critical_path):
        console.print(f"[dim]first {shown} steps shown; the path has more[/]")
    if trace.top_self_time:
        spans = _span_times(
            "Spans of that trace with the most self time",
            "span id",
            (
                (i.service, i.operation, i.duration_ns, i.self_ns, i.critical_ns, i.span_id)
                for i in trace.top_self_time
            ),
        )
        console.print(spans)
    console.print()


def _slow_spans(report: AnalysisReport, console: Console) -> None:
    slow = report.slow_spans
    threshold = format_duration(slow.threshold_ns)
    if not slow.count:
        console.print(f"no span took {threshold} or more\n")
        return
    table = _span_times(
        f"Slow spans: {slow.count:,} took {threshold} or more (most self time shown)",
        "trace id",
        (
            (s.service, s.operation, s.duration_ns, s.self_ns, s.on_critical_path_ns, s.trace_id)
            for s in slow.spans
        ),
    )
    console.print(table)
    console.print()


def _errors(report: AnalysisReport, console: Console) -> None:
    e = report.errors
    if not e.error_spans:
        console.print("no errors found\n")
        return
    console.print(
        f"[bold]Errors[/]: {e.error_spans:,} error spans in {e.traces_with_errors:,} traces; "
        f"{e.failed_traces:,} requests failed"
    )
    table = _table(
        "Where failures started (originating error per trace, grouped)",
        "traces", "service:operation", "type", "message", "example trace",
        right=("traces",),
    )  # fmt: skip
    for g in e.origins[:_MAX_ROWS]:
        table.add_row(
            f"{g.traces:,}",
            _frame(g.service, g.operation),
            g.exception_type or "-",
            g.message_template or "(no message)",
            g.example_trace_id,
        )
    console.print(table)
    rates = _table(
        "Error rate per operation",
        "service:operation", "errors", "spans", "rate",
        right=("errors", "spans", "rate"),
    )  # fmt: skip
    for o in e.by_operation[:_MAX_ROWS]:
        rates.add_row(
            _frame(o.service, o.operation), f"{o.errors:,}", f"{o.spans:,}", _pct(o.error_rate)
        )
    console.print(rates)
    console.print()


def _operations(report: AnalysisReport, console: Console) -> None:
    table = _table(
        "Operations (by time on critical paths)",
        "service:operation", "spans", "p50", "p99", "max", "self total", "critical total",
        "errors",
        right=("spans", "p50", "p99", "max", "self total", "critical total", "errors"),
    )  # fmt: skip
    for o in report.operations[:_MAX_ROWS]:
        table.add_row(
            _frame(o.service, o.operation),
            f"{o.latency.count:,}",
            format_duration(o.latency.p50_ns),
            format_duration(o.latency.p99_ns),
            format_duration(o.latency.max_ns),
            format_duration(o.self_ns),
            format_duration(o.critical_ns),
            _pct(o.error_rate),
        )
    console.print(table)
    if len(report.operations) > _MAX_ROWS:
        console.print(f"[dim]... {len(report.operations) - _MAX_ROWS} more in --json[/]")
    console.print()


def _dependencies(report: AnalysisReport, console: Console) -> None:
    if not report.dependencies:
        return
    table = _table(
        "Dependencies (service -> service)",
        "caller", "callee", "calls", "errors", "p50", "p99",
        right=("calls", "errors", "p50", "p99"),
    )  # fmt: skip
    for d in report.dependencies:
        rate = d.error_count / d.call_count if d.call_count else 0.0
        table.add_row(
            d.parent or "?",
            d.child or "?",
            f"{d.call_count:,}",
            _pct(rate),
            format_duration(d.p50_ns),
            format_duration(d.p99_ns),
        )
    console.print(table)
    console.print()


def _problems(report: AnalysisReport, console: Console) -> None:
    if not report.problems and not report.warnings:
        console.print("no problems found in the data")
        return
    table = _table(
        "Problems in the data", "problem", "count", "traces", "example", right=("count", "traces")
    )
    for p in report.problems:
        table.add_row(p.kind, f"{p.count:,}", f"{p.traces:,}", p.example)
    if report.warnings:
        table.add_row("input warnings", f"{report.warnings:,}", "", "see messages above")
    console.print(table)
    if report.problems:
        console.print(
            "[dim]spanscope lint on the same inputs says which instrumentation causes these, "
            "and how to fix it.[/]"
        )


def _conditions(report: AnalysisReport, console: Console) -> None:
    if not report.conditions:
        return
    console.print()
    for c in report.conditions:
        # Nothing to measure is not a pass: a misspelt endpoint would pass every CI run.
        mark = (
            "[red]FAIL[/]"
            if c.holds
            else "[yellow]no data[/]"
            if c.value is None
            else "[green]ok[/]"
        )
        console.print(f"{mark} {c.expression}: {c.message}", soft_wrap=True)
