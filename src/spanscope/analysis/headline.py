"""The few sentences a person in an incident reads first: ``headline(report)``.

A finished ``AnalysisReport`` is many tables; mid-incident the question is "why are requests
slow or failing, and where do I look?". ``headline`` answers it in plain sentences, each a
``HeadlineItem`` (``kind``, ``text``), at most ``MAX_ITEMS``, in this order:

- ``slow``: for the endpoints whose slowest requests waited longest in all (at most
  ``SLOW_ENDPOINTS``), their request count and p50/p99, and where those slowest requests spent
  their critical path: the service:operations that make up half of it (at most three), each
  with its share there and across all the endpoint's requests. The contrast is the point: an
  operation with 96% of the slowest requests' time but 76% of all is where the tail comes from.
  An endpoint with fewer than ``MIN_SLOW_REQUESTS`` requests is described over all of them.
- ``failed``: how many requests failed, and the error most of them started with (the
  originating error: service:operation, exception type and message template);
- ``errors``: with no failed request but errors on the way, how many requests met one and
  where most started.
- ``trait``: the strongest "what the slowest or the failed requests have in common" finding
  (the largest gap between the cohort and the rest).
- ``anti_pattern``: the anti-pattern with the most critical-path time at stake, as its own
  explanation says it.
- ``data``: problems in the data that leave traces incomplete (orphans, unclosed spans,
  several roots...) found in at least ``DATA_SHARE`` of the traces: the answers above may miss
  time for them. Clock skew is not one (assembly has adjusted it), nor are repeated span ids
  (assembly tells a client and a server span that share one apart, and drops exact copies).

Nothing is computed anew: the sentences restate the report's own numbers, so they agree with
its tables and are the same for one process, merged workers, files and stores. An item names
an example request where the report has one (the endpoint's slowest, a failure's or the
anti-pattern's example trace). An empty report has no headline.
"""

from __future__ import annotations

from collections.abc import Iterator

from spanscope.analysis.name_folding import name_template
from spanscope.analysis.profile import FrameShare
from spanscope.analysis.results import (
    AnalysisReport,
    EndpointProfileSummary,
    ErrorGroup,
    HeadlineItem,
)
from spanscope.units import format_duration

MAX_ITEMS = 6
SLOW_ENDPOINTS = 2
# Below this many requests the slowest 5% is one or two requests: describe them all instead.
MIN_SLOW_REQUESTS = 20
# Contributors named for an endpoint: until they make up this share, at most MAX_FRAMES.
FRAMES_SHARE = 0.5
MAX_FRAMES = 3
DATA_SHARE = 0.05
_MAX_MESSAGE = 120
_MAX_NAME = 120

# What each kind of problem that leaves a trace incomplete means, for a sentence.
_PROBLEMS = {
    "orphan": "spans whose parent never arrived",
    "multiple_roots": "more than one root span",
    "negative_duration": "spans that end before they start",
    "unclosed": "spans that never ended",
    "cycle": "parent links in a loop",
    "invalid": "invalid spans",
}


def headline(report: AnalysisReport) -> list[HeadlineItem]:
    """The report's headline (module docstring), most important first."""
    if not report.summary.traces:
        return []
    items = [
        *_slow(report),
        *_failed(report),
        *_trait(report),
        *_anti_pattern(report),
        *_data(report),
    ]
    return items[:MAX_ITEMS]


def _cut(text: str, limit: int = _MAX_NAME) -> str:
    # Names are whatever the input says (a 60 MB span name has been seen): a sentence stays one.
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _frame(service: str, operation: str) -> str:
    return f"{_cut(service or '?')}:{_cut(operation)}"


def _pct(fraction: float) -> str:
    return f"{fraction * 100:.1f}%"


def _slow(report: AnalysisReport) -> Iterator[HeadlineItem]:
    latency = {(e.service, e.operation): e.latency for e in report.endpoints}
    ranked = sorted(
        (p for p in report.profiles if p.frames and (p.service, p.operation) in latency),
        key=lambda p: (-p.slow_critical_ns, -p.critical_ns, p.service, p.operation),
    )
    slowest: dict[tuple[str, str], str] = {}
    for detail in report.slowest_traces:  # longest first: the first of an endpoint is kept
        slowest.setdefault((detail.service, detail.operation), detail.trace_id)
        # The profile names an endpoint with ids in its name by their template.
        template = name_template(detail.operation)
        if template is not None:
            slowest.setdefault((detail.service, template), detail.trace_id)
    for profile in ranked[:SLOW_ENDPOINTS]:
        stats = latency[(profile.service, profile.operation)]
        requests = "request" if stats.count == 1 else "requests"
        text = (
            f"{_frame(profile.service, profile.operation)} ({stats.count:,} {requests}, "
            f"p50 {format_duration(stats.p50_ns)}, p99 {format_duration(stats.p99_ns)}): "
        )
        yield HeadlineItem(
            "slow",
            text + _where(profile, report.options.slow_fraction),
            slowest.get((profile.service, profile.operation), ""),
        )


def _where(profile: EndpointProfileSummary, slow_fraction: float) -> str:
    """Where the endpoint's slowest requests (or all, when few) spent their critical path."""
    slowest = profile.traces >= MIN_SLOW_REQUESTS and profile.slow_critical_ns > 0
    if slowest:
        frames = sorted(profile.frames, key=lambda f: (-f.slow_share, -f.share))
        who = (
            f"the slowest {slow_fraction:.0%} ({format_duration(profile.slow_min_duration_ns)} "
            "and more) spent"
        )
    else:
        frames = sorted(profile.frames, key=lambda f: -f.share)
        who = "its requests spent" if profile.traces > 1 else "it spent"
    parts: list[str] = []
    for frame in _enough(frames, slowest):
        share = frame.slow_share if slowest else frame.share
        whose = "their" if slowest or profile.traces > 1 else "its"
        where = " in " if parts else f" of {whose} critical path in "
        part = f"{_pct(share)}{where}{_frame(frame.service, frame.operation)}"
        if slowest:
            part += f" ({_pct(frame.share)} across all requests)"
        parts.append(part)
    return f"{who} {', '.join(parts)}"


def _enough(frames: list[FrameShare], slowest: bool) -> Iterator[FrameShare]:
    """The first frames that make up ``FRAMES_SHARE`` of the time, at most ``MAX_FRAMES``."""
    total = 0.0
    for count, frame in enumerate(frames, 1):
        share = frame.slow_share if slowest else frame.share
        if count > 1 and share <= 0:
            return
        yield frame
        total += share
        if total >= FRAMES_SHARE or count == MAX_FRAMES:
            return


def _error(group: ErrorGroup) -> str:
    what = _cut(group.exception_type)
    message = _cut(group.message_template, _MAX_MESSAGE)
    if message:
        what = f"{what}: '{message}'" if what else f"'{message}'"
    return f"{_frame(group.service, group.operation)} ({what or 'error status'})"


def _failed(report: AnalysisReport) -> Iterator[HeadlineItem]:
    summary, errors = report.summary, report.errors
    total = summary.traces
    if summary.failed_traces:
        failed = summary.failed_traces
        if total == 1:
            text = "The one request failed"
        else:
            text = f"{failed:,} of {total:,} requests failed ({_pct(failed / total)})"
        origins = [g for g in errors.origins if g.failed_traces]
        example = ""
        if origins:
            top = max(origins, key=lambda g: g.failed_traces)
            example = top.example_trace_id
            if failed == 1:
                text += f"; it started with an error in {_error(top)}"
            elif top.failed_traces == failed:
                text += f"; all of them started with an error in {_error(top)}"
            else:
                text += f"; {top.failed_traces:,} of them started with an error in {_error(top)}"
        yield HeadlineItem("failed", text, example)
    elif summary.traces_with_errors:
        met = summary.traces_with_errors
        text = f"No request failed, but {met:,} ({_pct(met / total)}) met an error on the way"
        example = ""
        if errors.origins:
            top = errors.origins[0]  # most traces first
            text += f"; most often first in {_error(top)} ({top.traces:,})"
            example = top.example_trace_id
        yield HeadlineItem("errors", text, example)


def _trait(report: AnalysisReport) -> Iterator[HeadlineItem]:
    if not report.traits:
        return
    t = max(report.traits, key=lambda t: t.cohort_share - t.rest_share)
    trait = f"{_cut(t.key)}={_cut(t.value)}"
    if t.service:
        trait += f" on {_cut(t.service)}"
    endpoint = _frame(t.endpoint_service, t.endpoint_operation)
    cohort = (
        f"The slowest {report.options.slow_fraction:.0%} of {endpoint}"
        if t.cohort == "slowest"
        else f"The failed requests of {endpoint}"
    )
    yield HeadlineItem(
        "trait",
        f"{cohort} have {trait} in common: {_pct(t.cohort_share)} of them, "
        f"{_pct(t.rest_share)} of the rest",
    )


def _anti_pattern(report: AnalysisReport) -> Iterator[HeadlineItem]:
    if report.anti_patterns:  # most critical-path time at stake first
        worst = report.anti_patterns[0]
        yield HeadlineItem(
            "anti_pattern", _cut(worst.explanation, 4 * _MAX_NAME), worst.example_trace_id
        )


def _data(report: AnalysisReport) -> Iterator[HeadlineItem]:
    total = report.summary.traces
    found = [
        f"{_pct(p.traces / total)} have {_PROBLEMS[p.kind]}"
        for p in sorted(report.problems, key=lambda p: -p.traces)
        if p.kind in _PROBLEMS and p.traces >= DATA_SHARE * total
    ]
    if found:
        yield HeadlineItem(
            "data",
            f"Mind the data: of the traces, {', '.join(found)}; their critical paths and "
            "times may be incomplete ('spanscope lint' says which instrumentation causes it)",
        )
