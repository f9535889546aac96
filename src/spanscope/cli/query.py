"""``spanscope query``: search a trace store file from the shell."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import click
import msgspec
from rich.table import Table

from spanscope import units
from spanscope.analysis.errors import is_error_span
from spanscope.cli.common import DURATION, output_console
from spanscope.cli.match_feedback import warn
from spanscope.cli.query_tables import per_second, print_spans, print_traces
from spanscope.cli.store_feedback import none_found
from spanscope.cli.store_reading import reading
from spanscope.cli.times import TIME, check_window, now_ns
from spanscope.model import InvalidIdError, Span, SpanKind
from spanscope.report.tables import literal
from spanscope.store import TraceQuery
from spanscope.store.lookup import id_text, no_prefix_match, too_many, trace_ids_starting_with
from spanscope.units import count

if TYPE_CHECKING:
    from spanscope.store import Store

_KINDS = {kind.name.lower(): kind for kind in SpanKind if kind != SpanKind.UNSPECIFIED}


def _tags(values: tuple[str, ...]) -> dict[str, str]:
    tags = {}
    for value in values:
        key, sep, text = value.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"expected KEY=VALUE, got {value!r}", param_hint="--tag")
        tags[key] = text
    return tags


def summarize(spans: list[Span]) -> dict:
    """One trace as a table row / JSON object: its root, time, size and errors (failed spans
    as ``analyze`` counts them, ``is_error_span``: what ``--tag error=true`` finds)."""
    ids = {span.span_id for span in spans}
    roots = [span for span in spans if not span.parent_span_id or span.parent_span_id not in ids]
    root = min(roots or spans, key=lambda span: (span.start_ns, span.span_id))
    start = min(span.start_ns for span in spans)
    end = max(max(span.end_ns, span.start_ns) for span in spans)
    return {
        "trace_id": spans[0].trace_id,
        "root_service": root.service_name,
        "root_operation": root.name,
        "start": units.format_time(start),
        "start_ns": start,
        "duration_ns": end - start,
        "spans": len(spans),
        "errors": sum(map(is_error_span, spans)),
        "services": sorted({span.service_name for span in spans}),
    }


def _print_json(value: object) -> None:
    """``--json``'s answer on stdout: indented, a newline after it."""
    sys.stdout.write(msgspec.json.format(msgspec.json.encode(value), indent=2).decode() + "\n")


@click.command()
@click.option(
    "--db",
    default="spanscope.duckdb",
    show_default=True,
    help="Store: a DuckDB file, clickhouse://host:8123/database, chdb:FOLDER, or a running "
    "spanscope server (http://host:16686).",
)
@click.option("--service", default=None, help="A span of the trace is of this service.")
@click.option("--operation", default=None, help="...and has this name.")
@click.option("--kind", type=click.Choice(sorted(_KINDS)), default=None, help="...this kind.")
@click.option("--tag", "tags", multiple=True, metavar="KEY=VALUE", help="...has this tag.")
@click.option("--min-duration", type=DURATION, help="...lasts at least this, e.g. 500ms.")
@click.option("--max-duration", type=DURATION, help="...lasts at most this, e.g. 2s.")
@click.option(
    "--since",
    type=TIME,
    help="...starts at or after TIME: a duration ago (30m, 2h, 1d), an ISO 8601 time "
    "(2026-11-27T03:00, UTC unless it has a zone), Unix seconds or 'now'.",
)
@click.option(
    "--until",
    type=TIME,
    help="...starts before TIME, in the same forms: --until 10m is ten minutes ago.",
)
@click.option(
    "--limit",
    default=20,
    show_default=True,
    type=click.IntRange(1, 100_000),
    help="Traces at most.",
)
@click.option(
    "--trace-id",
    default=None,
    help="Show one trace's spans instead of searching: its id, or the start of it (the most "
    "recent 100,000 traces that match the other options are looked through).",
)
@click.option(
    "--metrics",
    is_flag=True,
    help="Print requests, errors and latency per service (with --service: per operation) over "
    "--since (default: an hour before --until) to --until (default: now) instead of traces; "
    "--kind picks the spans (default server). Errors are failed spans as analyze counts them: "
    "status ERROR, an error tag, HTTP 5xx, a gRPC status other than OK, an exception event "
    "(--tag error=true finds the same).",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def query(
    db: str,
    service: str | None,
    operation: str | None,
    kind: str | None,
    tags: tuple[str, ...],
    min_duration: int | None,
    max_duration: int | None,
    since: int | None,
    until: int | None,
    limit: int,
    trace_id: str | None,
    metrics: bool,
    as_json: bool,
) -> None:
    """Search a store (or a running server) for traces, or print requests, errors and
    latency per service.

    A trace matches when one of its spans meets every condition given (Jaeger's search
    semantics); tags match span, resource (process), scope, event (log) and link attributes.
    A store file that a running 'spanscope serve' on this machine holds is read through that
    server (DuckDB lets one process open the file); --db http://host:16686 asks a server
    elsewhere.

    \b
    Examples:
      spanscope query --db traces.duckdb --service checkout --min-duration 500ms
      spanscope query --service frontend --tag http.response.status_code=500 --since 30m --json
      spanscope query --service cart --since 2026-11-27T03:00 --until 2026-11-27T03:30Z
      spanscope query --trace-id 4bf92f3577b34da6a3ce929d0e0e4736 --json
      spanscope query --metrics --since 6h
      spanscope query --metrics --service checkout --since 2h --until 1h
      spanscope query --db http://tracing-box:16686 --service checkout --since 15m
    """
    check_window(since, until)
    if min_duration is not None and max_duration is not None and min_duration > max_duration:
        # No trace can match: said as the mistake it is, before any store is opened.
        raise click.UsageError(
            f"--min-duration {units.format_duration(min_duration)} is longer than "
            f"--max-duration {units.format_duration(max_duration)}: no trace can match"
        )
    if metrics:
        end = until if until is not None else now_ns(click.get_current_context())
        start = since if since is not None else max(0, end - 3600 * 10**9)
        check_window(start, end)  # --since in the future: the window to now is empty
        kind_ = _KINDS[kind] if kind else SpanKind.SERVER
        _print_metrics(db, service, kind_, start, end, until is None, as_json)
        return
    search = TraceQuery(
        service=service,
        operation=operation,
        span_kind=_KINDS[kind] if kind else None,
        tags=_tags(tags),
        start_time_min=since,
        # Before --until, as in analyze (the store's bound is inclusive, Jaeger's).
        start_time_max=until - 1 if until is not None else None,
        duration_min=min_duration,
        duration_max=max_duration,
        num_traces=limit,
    )
    with reading(db) as store:
        if trace_id is not None:
            spans = _trace(store, db, trace_id, search)
            if as_json:
                _print_json(spans)
            else:
                print_spans(spans)
            return
        traces = store.find_traces(search)
        if not traces:
            _say_why_none(store, db, search, tags, max_duration)
    # The store picks the most recent traces by their last matching span; listed by when each
    # trace started, as its "start" column reads (and Jaeger UI's "Most Recent" sorts).
    rows = sorted(
        (summarize(spans) for spans in traces),
        key=lambda row: (-row["start_ns"], row["trace_id"]),
    )
    if as_json:
        _print_json(rows)
        return
    print_traces(rows)


def _trace(store: Store, db: str, trace_id: str, search: TraceQuery) -> list[Span]:
    """The spans of the trace ``trace_id`` names: a whole id, or a prefix of one (reports and
    pages show ids cut short, "8e8bdfe2a873…"), looked for among the ``PREFIX_SEARCH`` most
    recent traces that match the search's other conditions (``store.lookup``)."""
    wanted = id_text(trace_id)
    try:
        spans = store.get_trace(wanted)
    except InvalidIdError as exc:
        raise click.BadParameter(str(exc), param_hint="--trace-id") from None
    if spans or len(wanted) >= 32:
        if not spans:
            raise click.ClickException(f"trace {trace_id} is not in {db}")
        return spans
    found, looked_at = trace_ids_starting_with(store, wanted, search)
    if len(found) > 1:
        raise click.ClickException(too_many(wanted, found))
    if not found:
        raise click.ClickException(
            f"no trace {trace_id} in {db}, {no_prefix_match(wanted, looked_at)}"
        )
    return store.get_trace(found[0])


def _say_why_none(
    store: Store, db: str, search: TraceQuery, tags: tuple[str, ...], max_duration: int | None
) -> None:
    """On stderr: why a search found nothing (``none_found``)."""
    from spanscope.analysis.filters import TraceFilter

    more = [f"--kind {search.span_kind.name.lower()}"] if search.span_kind else []
    more += [f"--tag {tag}" for tag in tags]
    if max_duration is not None:
        more.append(f"--max-duration {units.format_duration(max_duration)}")
    until = search.start_time_max
    asked = TraceFilter(
        services=(search.service,) if search.service else (),
        operations=(search.operation,) if search.operation else (),
        since_ns=search.start_time_min,
        until_ns=None if until is None else until + 1,
        min_duration_ns=search.duration_min,
    )
    warn(none_found(store, db, asked, more))  # (plain text: a name in it is not markup)


def _print_metrics(
    db: str,
    service: str | None,
    kind: SpanKind,
    start: int,
    end: int,
    to_now: bool,
    as_json: bool,
) -> None:
    """RED metrics over ``[start, end)``: per service, or per operation of ``service``."""
    from spanscope.store.metrics_sql import MetricsQuery

    window = end - start
    request = MetricsQuery(
        start,
        end,
        window,
        span_kind=kind,
        services=(service,) if service else (),
        group_by_operation=bool(service),
    )
    with reading(db) as store:
        summary = store.metrics_summary(request)
    seconds = window / 1e9
    rows: list[dict[str, Any]] = [
        {
            "service": row.service,
            **({"operation": row.operation} if service else {}),
            "calls": row.calls,
            "rps": row.calls / seconds,
            "errors": row.errors,
            "error_rate": row.error_rate,
            "p50_ns": row.p50,
            "p95_ns": row.p95,
            "p99_ns": row.p99,
            "impact": row.impact,
        }
        for row in sorted(summary, key=lambda row: (-row.errors, -row.impact))
    ]
    if as_json:
        _print_json(rows)
        return
    console = output_console()
    if to_now:
        when = f"last {_window_text(window)}"
    else:
        when = f"{units.format_time(start)[:19]} to {units.format_time(end)[:19]} UTC"
    if not rows:
        of = f" of {literal(service)}" if service else ""
        console.print(
            f"no {kind.name.lower()} spans{of} in the window ({when}): a longer --since, or "
            "another --kind, may find some",
            soft_wrap=True,
        )
        return
    what = (
        f"{count(len(rows), 'operation')} of {literal(service)}"
        if service
        else count(len(rows), "service")
    )
    title = f"{what}, {kind.name.lower()} spans, {when}, most errors first"
    # As wide as its title: rich folds a title to the table's width, and grep misses it.
    table = Table(title=title, title_justify="left", min_width=len(title))
    table.add_column("operation" if service else "service", min_width=12)
    for column in ("calls", "req/s", "error %", "p50", "p95", "p99", "impact"):
        table.add_column(column, justify="right", no_wrap=True)
    for row in rows:
        table.add_row(
            literal(row["operation"] if service else row["service"]),
            f"{row['calls']:,}",
            per_second(row["rps"]),
            f"[red]{row['error_rate']:.1%}[/]" if row["errors"] else "0%",
            units.format_duration(row["p50_ns"]),
            units.format_duration(row["p95_ns"]),
            units.format_duration(row["p99_ns"]),
            f"{row['impact']:.1%}",
        )
    console.print(table)


def _window_text(ns: int) -> str:
    """A window as it was typed: 1h, 6h, 30m, 7d (format_duration says 1h00m for an hour)."""
    for unit, size in (("d", 86_400), ("h", 3600), ("m", 60), ("s", 1)):
        if ns % (size * 10**9) == 0:
            return f"{ns // (size * 10**9)}{unit}"
    return units.format_duration(ns)
