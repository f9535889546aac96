"""Why no trace of the files read passes the filters, said in one line on stderr.

A mistyped service name, or a window the file does not cover, gives an empty answer that
alone looks like a broken file mid-incident. ``why_none_matched`` names the filter that leaves
nothing, worded as ``spanscope.cli.store_feedback.none_found`` words it for a store: "no traces
in shop.jsonl match --service nope: it has no service 'nope' (its services: cart, checkout,
...)", the closest name first when one is close (a typo); "its traces start from ... to ..."
beside the window asked; "no trace lasts 1h00m or more (the longest: 2.31s)"; no trace with the
id asked, or with one that starts with it; or, when each filter alone matches some traces, that
none passes them all, with how many each matches.

Contract: nothing here runs until a command has found that nothing matched, so the normal path
pays nothing for it. What the reason is made from is a ``ReadSummary`` of the traces read,
before filtering: a command that still holds them gives them (``summarise``); one that streamed
them (``analyze``, ``lint``, ``convert``, ``sample``) has its inputs read again
(``nothing_matched`` with ``traces`` None), which standard input cannot be: then the line says
what was asked and how to find out more. Every name, from the command line or from the input,
is printed as text (never rich markup), on one line, cut past ``NAME_MAX`` characters; the
pieces that do it (``warn``, ``as_text``, ``names_listed``: names closest first) and the
reasons about names and durations (``services_reason``, ``operations_reason``,
``duration_reason``) are a store's too (``spanscope.cli.store_feedback``).

Exit codes stay the commands' own: report commands (``analyze``, ``lint``, ``info``,
``convert``, ``sample``) exit 0 with their empty report and ``warn`` the reason; drawing
commands (``view``, ``flamegraph``, ``servicemap``) fail with it (``click.ClickException``).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from spanscope.analysis.filters import TraceFilter, id_matching, keep
from spanscope.formats.source import display_name
from spanscope.model.ids import id_text

if TYPE_CHECKING:
    from spanscope.cli.reading import ReadSession
    from spanscope.model import Trace

NAME_MAX = 80  # characters of a name shown; a 10,000-character name would bury the message
SERVICES_LISTED = 20  # as store_feedback lists a store's services
OPERATIONS_LISTED = 10  # operations are many more: the closest first, then the count
CLOSE_AMONG = 20_000  # names compared for the closest (difflib) at most

# The filters one at a time, each with the option that sets it ("window": --since and --until,
# judged together against when the traces start).
_CONDITIONS = ("services", "operations", "trace_ids", "window", "min_duration")


def _alone(trace_filter: TraceFilter, condition: str) -> TraceFilter | None:
    """``trace_filter`` with only ``condition`` set; None when that one is not set."""
    f = trace_filter
    if condition == "services":
        return TraceFilter(services=f.services) if f.services else None
    if condition == "operations":
        return TraceFilter(operations=f.operations) if f.operations else None
    if condition == "trace_ids":
        return TraceFilter(trace_ids=f.trace_ids) if f.trace_ids else None
    if condition == "window":
        if f.since_ns is None and f.until_ns is None:
            return None
        return TraceFilter(since_ns=f.since_ns, until_ns=f.until_ns)
    return TraceFilter(min_duration_ns=f.min_duration_ns) if f.min_duration_ns else None


class ReadSummary:
    """What the traces read hold, as far as ``trace_filter`` asks (``add`` each trace, before
    filtering): services and operations, when they start, the longest, the ids starting as an
    asked one does, and how many traces pass each filter alone and all of them."""

    def __init__(self, trace_filter: TraceFilter) -> None:
        self.filter = trace_filter
        self.traces = 0
        self.rooted = 0  # traces with a root: the only ones any filter keeps
        self.passed = 0
        self.services: set[str] = set()
        self.operations: set[tuple[str, str]] = set()
        self.first_ns: int | None = None  # the earliest start of a trace
        self.last_ns: int | None = None  # the latest start of a trace
        self.longest_ns = 0  # the longest root span
        # With --since and --until, the starts nearest the window on each side (a gap in it).
        self.before_ns: int | None = None
        self.after_ns: int | None = None
        self.alone = {
            name: (single, 0)
            for name in _CONDITIONS
            if (single := _alone(trace_filter, name)) is not None
        }
        self._ids = id_matching(trace_filter.trace_ids)

    def add(self, trace: Trace) -> None:
        self.traces += 1
        for span in trace.spans:
            self.services.add(span.service_name)
            self.operations.add((span.service_name, span.name))
        if not trace.spans or not trace.roots:
            return
        self.rooted += 1
        start = trace.start_ns
        if self.first_ns is None or start < self.first_ns:
            self.first_ns = start
        if self.last_ns is None or start > self.last_ns:
            self.last_ns = start
        self.longest_ns = max(self.longest_ns, trace.root.duration_ns)
        since, until = self.filter.since_ns, self.filter.until_ns
        if since is not None and until is not None:
            if start < since and (self.before_ns is None or start > self.before_ns):
                self.before_ns = start
            elif start >= until and (self.after_ns is None or start < self.after_ns):
                self.after_ns = start
        for name, (single, count) in self.alone.items():
            if keep(trace, single, self._ids):
                self.alone[name] = (single, count + 1)
        if keep(trace, self.filter, self._ids):
            self.passed += 1


def summarise(traces: Iterable[Trace], trace_filter: TraceFilter) -> ReadSummary:
    """The ``ReadSummary`` of ``traces`` (all that were read, before filtering)."""
    summary = ReadSummary(trace_filter)
    for trace in traces:
        summary.add(trace)
    return summary


def summarise_again(
    session: ReadSession, trace_filter: TraceFilter, adjust_skew: bool
) -> ReadSummary | None:
    """The ``ReadSummary`` of ``session``'s inputs, read once more as the command read them
    (its format and reader; warnings and errors were said already: dropped); None when one
    is standard input, which cannot be read again."""
    if "-" in session.sources:
        return None
    from spanscope.assembly import group_by_trace
    from spanscope.cli.common import error_console
    from spanscope.cli.reading import ReadSession, built_traces, holding_many_objects

    again = ReadSession(
        list(session.sources),
        format=session.format,
        progress=False,
        jobs=session.jobs,
        reader=session.reader,
    )
    # Reading again takes as long as reading did: say what the wait is for, on a terminal.
    with error_console().status("no trace passed the filters: looking at the inputs again"):
        with holding_many_objects():
            groups = group_by_trace(again.spans())
        return summarise(built_traces(groups, adjust_skew), trace_filter)


def source_name(sources: list[str]) -> str:
    """How the line names what was read: the one input, or how many."""
    if len(sources) == 1:
        if sources[0] == "-":
            return "standard input"
        name = display_name(sources[0])  # whole: a path cut short names no file
        return name if name.isprintable() else repr(name)[1:-1]
    return f"the {len(sources):,} inputs"


def nothing_matched(
    session: ReadSession,
    trace_filter: TraceFilter,
    adjust_skew: bool,
    traces: Iterable[Trace] | None = None,
) -> str | None:
    """Why no trace of ``session``'s inputs passes ``trace_filter``, from ``traces`` (every
    trace read, before filtering) or, None, from reading the inputs again; None when there is
    nothing to say: no filter, no span read (the input errors say why), or a trace passes."""
    # (What each input gave: a split read in two processes does not count ``spans_read``.)
    read = sum(report.spans for report in session.inputs)
    if trace_filter.is_empty or not read:
        return None
    source = source_name(session.sources)
    if traces is not None:
        summary: ReadSummary | None = summarise(traces, trace_filter)
    else:
        summary = summarise_again(session, trace_filter, adjust_skew)
    if summary is None:
        asked = _Clock(None, None).asked(trace_filter)
        return (
            f"no traces in {source} match {asked} among the {read:,} spans read "
            "(standard input is read once: save it to a file, and 'spanscope info FILE' lists "
            "its services and the time its traces cover)"
        )
    return why_none_matched(summary, source)


def warn(message: str | None) -> None:
    """Print ``message`` on stderr as a warning, its names as text (no markup), on one line."""
    if message is None:
        return
    from rich.text import Text

    from spanscope.cli.common import error_console

    error_console().print(Text.assemble(("warning:", "yellow"), " ", message), soft_wrap=True)


def why_none_matched(summary: ReadSummary, source: str) -> str | None:
    """The reason, in one line, that no trace of ``summary`` passes its filter (see the module
    docstring); None when one does."""
    if summary.passed:
        return None
    f = summary.filter
    clock = _Clock(summary.first_ns, summary.last_ns, f, (summary.before_ns, summary.after_ns))
    said = f"no traces in {source} match {clock.asked(f)}"
    if not summary.traces:
        return f"{said}: no spans were read"
    if not summary.rooted:
        return f"{said}: its spans form no trace with a root (each has a parent not read)"
    empty = [name for name, (_, count) in summary.alone.items() if not count]
    reasons = [_reason(summary, name, clock) for name in empty]
    if not reasons:  # each filter keeps some traces, but not the same ones
        counts = ", ".join(
            f"{clock.option(f, name)}: {count:,}" for name, (_, count) in summary.alone.items()
        )
        reasons = [
            f"each filter alone matches some of its {summary.rooted:,} traces, but no trace "
            f"passes them all ({counts})"
        ]
    return f"{said}: {'; '.join(reasons)}"


def _reason(summary: ReadSummary, condition: str, clock: _Clock) -> str:
    f = summary.filter
    if condition == "services":
        said = services_reason(summary.services, f.services)
        # (else its spans are only in traces without a root)
        return said or f"no trace with a root has a span of {_names(f.services)}"
    if condition == "operations":
        said = operations_reason(summary.operations, summary.services, f.operations)
        return said or f"no trace with a root has a span of {_names(f.operations)}"
    if condition == "trace_ids":
        return _ids_reason(summary)
    if condition == "window":
        return clock.window_reason(f, summary.before_ns, summary.after_ns)
    return duration_reason(f.min_duration_ns or 0, summary.longest_ns)


def services_reason(services: Iterable[str], asked: Iterable[str]) -> str | None:
    """ "it has no service 'x' (its services: ...)", the closest first, for the ``asked``
    names not among ``services``; None when each is there."""
    held = set(services)
    unknown = [name for name in asked if name not in held]
    if not unknown:
        return None
    listed = names_listed(sorted(held, key=str.lower), unknown[0], SERVICES_LISTED)
    return f"it has no service {_names(unknown)} (its services: {listed})"


def operations_reason(
    operations: Iterable[tuple[str, str]], services: Iterable[str], asked: Iterable[str]
) -> str | None:
    """ "it has no operation 'x' (its operations: ...)", the closest first, for the ``asked``
    names (NAME or SERVICE:NAME) not among ``operations`` (service, name); for SERVICE:NAME
    of a service there, that service's operations. None when each is there."""
    operations = set(operations)
    names = {name for _, name in operations}
    pairs = {f"{service}:{name}" for service, name in operations}
    unknown = [value for value in asked if value not in names and value not in pairs]
    if not unknown:
        return None
    wanted = unknown[0]
    service, sep, _ = wanted.partition(":")
    if sep and service in set(services):  # SERVICE:NAME: that service's operations
        theirs = sorted((name for s, name in operations if s == service), key=str.lower)
        listed = names_listed(theirs, wanted[len(service) + 1 :], OPERATIONS_LISTED)
        return f"it has no operation {_names(unknown)} (the operations of {service}: {listed})"
    listed = names_listed(sorted(names, key=str.lower), wanted, OPERATIONS_LISTED)
    return f"it has no operation {_names(unknown)} (its operations: {listed})"


def duration_reason(min_duration_ns: int, longest_ns: int, about: bool = False) -> str:
    """ "no trace lasts 1h00m or more (the longest: 2.31s)"; ``about``: the longest is known
    to within a few percent only."""
    longest = ("about " if about else "") + _duration(longest_ns)
    return f"no trace lasts {_duration(min_duration_ns)} or more (the longest: {longest})"


def _ids_reason(summary: ReadSummary) -> str:
    asked = summary.filter.trace_ids
    said = f"none of its {summary.rooted:,} traces has the id {_names(asked, quote=False)}"
    starting = [value for value in asked if len(id_text(value)) < 32]
    if starting:
        said += f", nor one whose id starts with {_names(starting, quote=False)}"
    return said


def names_listed(names: list[str], asked: str, most: int) -> str:
    """``names`` (sorted) as a list, the ones close to ``asked`` first (a typo: the name meant
    is then the first read), at most ``most`` of them, then how many there are."""
    by_case = {name.lower(): name for name in names}
    close = [by_case[asked.lower()]] if asked.lower() in by_case else []
    # (A 10,000-character name is like none of them; a million names with ids in them would
    # take seconds to compare.)
    if len(asked) <= NAME_MAX * 4 and len(names) <= CLOSE_AMONG:
        close += difflib.get_close_matches(asked, names, n=3, cutoff=0.6)
    ordered = list(dict.fromkeys([*close, *names]))
    shown = ", ".join(as_text(name) for name in ordered[:most])
    if len(ordered) > most:
        shown += f", ... ({len(ordered):,} in all)"
    return shown


def as_text(value: str, quote: str = "") -> str:
    """A name as shown in the line: as it is when printable, else with its escapes (a newline
    would break the one line); cut past ``NAME_MAX`` characters, saying how long it is;
    between ``quote`` marks (store_feedback's ``'nope'``), or shell quotes with ``quote``
    ``"$"``: an option's value as it would be typed."""
    if not value:
        return "(unknown)"  # as info lists a span without a service
    cut = value if len(value) <= NAME_MAX else f"{value[:NAME_MAX]}…"
    shown = cut if cut.isprintable() else repr(cut)[1:-1]
    if quote == "$":
        import shlex

        shown = shlex.quote(shown)
    elif quote:
        shown = f"{quote}{shown}{quote}"
    if len(value) > NAME_MAX:
        shown += f" ({len(value):,} characters)"
    return shown


def _names(values: Iterable[str], quote: bool = True) -> str:
    """Names the user gave, quoted (store_feedback's ``'nope'``), cut and escaped by ``as_text``."""
    return ", ".join(as_text(value, "'" if quote else "") for value in values)


def _duration(ns: int) -> str:
    from spanscope.units import format_duration

    return format_duration(ns)


class _Clock:
    """Times in one line: the first with its date and UTC, the others on that day by the time
    alone; to the millisecond only where seconds would make two different times look equal
    (a --since a moment after the last trace starts)."""

    def __init__(
        self,
        first: int | None,
        last: int | None,
        f: TraceFilter | None = None,
        more: tuple[int | None, ...] = (),
    ) -> None:
        self.first, self.last = first, last
        self.day: str | None = None
        asked = [t for t in (f.since_ns, f.until_ns) if t is not None] if f else []
        seen = [t for t in (first, last, *more) if t is not None]
        self.milliseconds = any(a // 10**9 == s // 10**9 and a != s for a in asked for s in seen)

    def time(self, ns: int) -> str:
        moment = datetime.fromtimestamp(ns / 1e9, tz=UTC)
        clock = moment.strftime("%H:%M:%S")
        if self.milliseconds:
            clock += f".{ns // 10**6 % 1000:03d}"
        day = moment.strftime("%Y-%m-%d")
        if day == self.day:
            return clock
        first_time = self.day is None
        self.day = day
        return f"{day} {clock}" + (" UTC" if first_time else "")

    def option(self, f: TraceFilter, condition: str) -> str:
        """How the command line said ``condition`` (times in this clock's way)."""
        if condition == "services":
            return " ".join(f"--service {as_text(name, '$')}" for name in f.services)
        if condition == "operations":
            return " ".join(f"--operation {as_text(name, '$')}" for name in f.operations)
        if condition == "trace_ids":
            return " ".join(f"--trace-id {as_text(value, '$')}" for value in f.trace_ids)
        if condition == "window":
            parts = []
            if f.since_ns is not None:
                parts.append(f"--since {self.time(f.since_ns)}")
            if f.until_ns is not None:
                parts.append(f"--until {self.time(f.until_ns)}")
            return " ".join(parts)
        return f"--min-duration {_duration(f.min_duration_ns or 0)}"

    def asked(self, f: TraceFilter) -> str:
        """Every filter set, as the command line said it."""
        return " ".join(self.option(f, name) for name in _CONDITIONS if _alone(f, name) is not None)

    def window_reason(self, f: TraceFilter, before: int | None, after: int | None) -> str:
        """The time the traces start beside the window; for a window within it, the starts
        nearest the window on each side (``before``, ``after``)."""
        if self.first is None or self.last is None:
            return "none of its traces has a start"
        covers = f"its traces start from {self.time(self.first)} to {self.time(self.last)}"
        if f.since_ns is not None and self.last < f.since_ns:
            return f"{covers}, all before the --since time"
        if f.until_ns is not None and self.first >= f.until_ns:
            return f"{covers}, none before the --until time"
        nearest = []
        if before is not None:
            nearest.append(f"the last before it at {self.time(before)}")
        if after is not None:
            nearest.append(f"the next at {self.time(after)}")
        return f"{covers}, none in the window asked ({', '.join(nearest)})"
