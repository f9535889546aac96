"""``spanscope view``, ``flamegraph`` and ``servicemap``: pages and images from trace files, or
from the traces of a store (``--db``, ``spanscope.cli.store_reading``)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
import msgspec
from rich.markup import escape

from spanscope.assembly import assemble
from spanscope.cli.common import check_output_path, input_options, stderr
from spanscope.cli.reading import (
    ReadSession,
    fail_on_input_errors,
    holding_many_objects,
    print_warnings,
)
from spanscope.cli.store_reading import read_store, store_options, take_selection
from spanscope.model import Trace
from spanscope.units import count


def _common(command: Callable) -> Callable:
    """The inputs and options of the three commands: where to write, how to read, which
    traces (files or ``--db``, ``--service``, ``--since``...)."""
    command = store_options(trace_ids=False)(command)
    command = input_options(skew=True)(command)
    command = click.option(
        "-o",
        "--output",
        default=None,
        help="Where to write ('-' for stdout; default: named after the first input or --db).",
    )(command)
    return click.argument("inputs", nargs=-1, metavar="[FILE...]")(command)


def _read(
    inputs: tuple[str, ...],
    format_: str | None,
    strict: bool,
    no_adjust_skew: bool,
    selection: dict[str, Any],
    trace_id: str | None = None,
) -> tuple[ReadSession | None, list[Trace], str]:
    """The traces to draw, the read session (None for a store) and the name outputs are named
    after. From a store, ``trace_id`` is read alone: the trace of that id, or those whose id
    starts with it among the most recent (``store_reading``)."""
    chosen = take_selection(inputs, selection, "draw")
    if trace_id:
        from spanscope.analysis.filters import id_matching
        from spanscope.model import InvalidIdError

        try:
            id_matching((trace_id,))
        except InvalidIdError as exc:
            raise click.BadParameter(str(exc), param_hint="--trace-id") from None
    if chosen.db is not None:
        trace_filter = chosen.trace_filter
        if trace_id:  # read that trace alone: whole, or the ones whose id starts so
            trace_filter = msgspec.structs.replace(trace_filter, trace_ids=(trace_id,))
        traces, _ = read_store(chosen.db, trace_filter, chosen.limit, not no_adjust_skew)
        if not traces:
            that_match = "" if trace_filter.is_empty else " that match"
            raise click.ClickException(f"no traces{that_match} in {chosen.db}")
        return None, traces, chosen.db
    session = ReadSession(list(inputs), format=format_, strict=strict)
    with holding_many_objects():
        traces = assemble(session.spans(), adjust_skew=not no_adjust_skew)
    read = [t for t in traces if t.spans]
    traces = read
    if not chosen.trace_filter.is_empty:
        from spanscope.analysis.filters import filter_traces

        traces = list(filter_traces(read, chosen.trace_filter))
    print_warnings(session.diagnostics)
    if not traces:
        from spanscope.cli.match_feedback import nothing_matched

        fail_on_input_errors(session)
        # No file is written (exit 1), and the line says which filter left nothing.
        why = nothing_matched(session, chosen.trace_filter, not no_adjust_skew, read)
        raise click.ClickException(why or "no traces in the input")
    return session, traces, inputs[0]


def _done(session: ReadSession | None) -> None:
    if session is not None:
        fail_on_input_errors(session)


def _as_copied(trace_id: str | None) -> str | None:
    """A --trace-id as copied from a report, which shows ids cut short ("8e8bdfe2a873…")."""
    from spanscope.model.ids import id_text

    return id_text(trace_id) if trace_id else trace_id


def _pick(traces: list[Trace], trace_id: str, stored: bool = False) -> Trace:
    """The trace whose id is ``trace_id`` or starts with it (ids are shown shortened), as
    ``--trace-id`` matches in every command (``analysis.filters.id_matching``, which ``_read``
    has checked it with); ``stored``: ``traces`` were read from a store."""
    from spanscope.analysis.filters import id_matching

    matching = id_matching((trace_id,))
    found = [t for t in traces if matching.matches(t.trace_id)]
    if len(found) > 1:  # "000c55a" and "c55a40a3...": the one that starts with it as typed
        exact = [
            t for t in found if t.trace_id in matching.whole or t.trace_id.startswith(trace_id)
        ]
        found = exact if len(exact) == 1 else found
    if len(found) == 1:
        return found[0]
    if not found:
        among = "in the store" if stored else f"among {len(traces):,} traces"
        raise click.ClickException(f"no trace with id {trace_id} {among}")
    raise click.ClickException(f"{len(found)} traces have ids starting with {trace_id}; say more")


def _default_output(source: str, suffix: str) -> str:
    """An output named after the first input, or the store (a URL's: traces)."""
    if "://" in source:
        return f"traces{suffix}"
    name = Path(source.removeprefix("chdb:")).name
    stem = "stdin" if source == "-" else name.split(".")[0] or "traces"
    return f"{stem}{suffix}"


def _write(output: str, content: str, what: str) -> None:
    if output == "-":
        sys.stdout.write(content)
        sys.stdout.flush()
        return
    try:
        Path(output).write_text(content, encoding="utf-8")
    except OSError as error:
        raise click.ClickException(f"cannot write {output}: {error.strerror}") from None
    size = len(content.encode("utf-8"))
    stderr.print(
        f"wrote [bold]{escape(output)}[/] ({what}, {size / 1024:,.0f} KiB)", soft_wrap=True
    )


@click.command()
@_common
@click.option(
    "--trace-id",
    default=None,
    callback=lambda ctx, param, value: _as_copied(value),
    help="Show only this trace (a unique prefix is enough).",
)
@click.option(
    "--max-traces",
    type=click.IntRange(min=0),
    default=1000,
    show_default=True,
    help="With more traces than this, keep the slowest ones (the page says so); 0: all.",
)
@click.option("--title", default="", help="Page title (default: the trace or trace count).")
def view(
    inputs: tuple[str, ...],
    output: str | None,
    format_: str | None,
    strict: bool,
    no_adjust_skew: bool,
    trace_id: str | None,
    max_traces: int,
    title: str,
    **selection: Any,
) -> None:
    """Write an interactive waterfall page: one self-contained HTML file that opens offline.

    With several traces the page starts on a sortable trace list; each opens its waterfall
    with the critical path highlighted, search, zoom and span details.

    \b
    Examples:
      spanscope view traces.json -o trace.html
      spanscope view traces.json --trace-id 4bf92f35 -o t.html
      spanscope view --db traces.duckdb --service checkout --since 30m -o recent.html
      spanscope view --db http://localhost:16686 --trace-id 4bf92f35 -o t.html
    """
    from spanscope.viz.waterfall import render_waterfall

    if output:
        check_output_path(output)  # before the read, which can take minutes
    session, traces, source = _read(inputs, format_, strict, no_adjust_skew, selection, trace_id)
    note = ""
    peers: list[Trace] = []
    if trace_id:
        # One trace alone, whatever was read to find it (a store reads that trace only, a file
        # or a prefix more): the same page from a file, a store, a whole id or a prefix.
        traces = [_pick(traces, trace_id, session is None)]
    elif len(traces) > max_traces > 0:
        note = f"showing the {max_traces:,} slowest of {len(traces):,} traces"
        ranked = sorted(traces, key=lambda t: -t.duration_ns)
        # The traces left out still count for each endpoint's typical request (each trace is
        # compared with it): a median of the slowest alone is no typical request.
        traces, peers = ranked[:max_traces], ranked[max_traces:]
    html = render_waterfall(traces, title=title, note=note, peers=peers)
    spans = sum(len(t.spans) for t in traces)
    # The cut is said here too: the page says it, but the file is often opened later.
    shown = f"{note} (--max-traces 0: all)" if note else count(len(traces), "trace")
    _write(output or _default_output(source, ".html"), html, f"{shown}, {spans:,} spans")
    _done(session)


@click.command()
@_common
@click.option(
    "--trace-id",
    default=None,
    callback=lambda ctx, param, value: _as_copied(value),
    help="Draw this trace (default: the slowest; a unique prefix is enough).",
)
@click.option(
    "--aggregate",
    is_flag=True,
    help="Fold all traces (of --endpoint) into one graph of critical-path time.",
)
@click.option(
    "--endpoint",
    default=None,
    metavar="SERVICE:OPERATION",
    help="With --aggregate: only traces whose root is this service and operation.",
)
@click.option("--slow", is_flag=True, help="With --aggregate: only the slowest 5% of traces.")
def flamegraph(
    inputs: tuple[str, ...],
    output: str | None,
    format_: str | None,
    strict: bool,
    no_adjust_skew: bool,
    trace_id: str | None,
    aggregate: bool,
    endpoint: str | None,
    slow: bool,
    **selection: Any,
) -> None:
    """Write a flame graph as SVG (opens in a browser: click to zoom, hover for details).

    For one trace, each span is a box under its parent, width = duration, critical path
    marked. With --aggregate, call stacks (service:operation) are folded over many traces and
    the width is time on the critical path: the widest box is what to fix first.

    \b
    Examples:
      spanscope flamegraph traces.json -o flame.svg
      spanscope flamegraph traces.json --aggregate --endpoint 'frontend:GET /api/cart' -o f.svg
      spanscope flamegraph --db traces.duckdb --since 1h --aggregate --slow -o slow.svg
    """
    from spanscope.viz.flamegraph import render_flamegraph, traces_flamegraph

    if (endpoint or slow) and not aggregate:
        raise click.UsageError("--endpoint and --slow go with --aggregate")
    if aggregate and trace_id:
        raise click.UsageError("--trace-id draws one trace; leave out --aggregate")
    suffix = Path(output).suffix.lower() if output and output != "-" else ""
    if suffix not in ("", ".svg"):  # checked before reading: an SVG named flame.png is no PNG
        raise click.UsageError(f"flamegraph writes SVG, not {suffix}: name the output .svg")
    if output:
        check_output_path(output)  # before the read, which can take minutes
    session, traces, source = _read(inputs, format_, strict, no_adjust_skew, selection, trace_id)
    services = {span.service_name or "(unknown service)" for t in traces for span in t.spans}
    target = output or _default_output(source, ".svg")
    if aggregate:
        wanted = None
        if endpoint:
            service, sep, operation = endpoint.partition(":")
            if not sep:
                raise click.UsageError("--endpoint takes SERVICE:OPERATION")
            wanted = (service, operation)
        try:
            svg, stacks, used = traces_flamegraph(
                traces, endpoint=wanted, slow=slow, services=services
            )
        except LookupError as exc:
            from spanscope.cli.match_feedback import names_listed

            # A typo ('frontend:GET /api/kart') gets the endpoints there are, the closest first.
            roots = sorted({f"{t.root.service_name}:{t.root.name}" for t in traces if t.roots})
            raise click.ClickException(
                f"{exc} (its endpoints: {names_listed(roots, endpoint or '', 5)})"
                if roots
                else str(exc)
            ) from None
        _write(target, svg, f"{stacks:,} stacks from {used:,} traces")
    else:
        if trace_id:
            trace = _pick(traces, trace_id, session is None)
        else:
            trace = max(traces, key=lambda t: (t.duration_ns, t.trace_id))
            if len(traces) > 1:
                stderr.print(
                    f"{len(traces):,} traces: drawing the slowest, {trace.trace_id} "
                    "(choose with --trace-id, or fold them all with --aggregate)"
                )
        _write(target, render_flamegraph(trace, services=services), f"{len(trace.spans):,} spans")
    _done(session)


@click.command()
@_common
@click.option(
    "--as",
    "as_",
    type=click.Choice(["html", "svg"]),
    default=None,
    help="Output kind (default: from the output's extension; html otherwise).",
)
@click.option("--title", default="Service map", show_default=True, help="Title of the map.")
def servicemap(
    inputs: tuple[str, ...],
    output: str | None,
    format_: str | None,
    strict: bool,
    no_adjust_skew: bool,
    as_: str | None,
    title: str,
    **selection: Any,
) -> None:
    """Write the service map: services, the calls between them, their error rate and p99.

    \b
    Examples:
      spanscope servicemap traces.json -o map.html
      spanscope servicemap traces.json -o map.svg
      spanscope servicemap --db traces.duckdb --since 1h -o map.html
    """
    from spanscope.viz.servicemap import render_servicemap_html, render_servicemap_svg

    kind = as_ or _kind_from_extension(output)
    if output:
        check_output_path(output)  # before the read, which can take minutes
    session, traces, source = _read(inputs, format_, strict, no_adjust_skew, selection)
    render = render_servicemap_svg if kind == "svg" else render_servicemap_html
    target = output or _default_output(source, f".map.{kind}")
    _write(target, render(traces, title=title), f"{len(traces):,} traces")
    _done(session)


def _kind_from_extension(output: str | None) -> str:
    """What ``servicemap`` writes to ``output`` without ``--as``: svg for .svg, html for .html
    or no extension; any other extension (map.png) is a usage error, not HTML under that name."""
    suffix = Path(output).suffix.lower() if output and output != "-" else ""
    if suffix == ".svg":
        return "svg"
    if suffix in ("", ".html", ".htm"):
        return "html"
    raise click.UsageError(
        f"servicemap writes HTML or SVG, not {suffix}: name the output .html or .svg, or say "
        "--as html or --as svg"
    )
