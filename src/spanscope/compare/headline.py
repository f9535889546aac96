"""The few sentences ``spanscope diff`` says first ("what changed"), from the differences
``spanscope.compare`` found.

Contract: ``headline_of(endpoints, errors, operations, durations, traces, one_sided)`` gives at
most six lines: endpoints whose p50 or p95 moved by 10% and 1 ms or more, and beyond chance
when both sides' durations are known (``spanscope.compare.noise``), the largest relative move
first, each with where its time per request went; endpoints whose failure rate moved beyond
chance; then endpoints found on one side only (with
``min_requests`` requests or more), error origins new or grown by half, operations called
twice as often in each request that makes them ("a new loop?"), and endpoints whose share of
the requests moved. Names in the sentences are cut as a report's cells are (200 characters,
``report.tables.cut``): the endpoints' own fields keep them whole. Pure.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from spanscope.compare.noise import Sides, judge, rate_moved
from spanscope.compare.results import EndpointDiff, ErrorOriginDiff, OperationDiff
from spanscope.report.tables import cut

# An endpoint makes the headline when its p50 or p95 moved by 10% and by 1 ms at least.
_HEADLINE_CHANGE = 0.1
_HEADLINE_MIN_NS = 1_000_000


def _label(item: Any) -> str:
    """``service: operation`` of ``item``, each cut as a report cell is: a sentence to read,
    whatever the length of a name (the endpoints' own fields keep it whole)."""
    return f"{cut(item.service)}: {cut(item.operation)}"


def _ms(ns: float) -> str:
    return f"{ns / 1e6:.1f} ms"


def _moved_percentiles(endpoint: EndpointDiff, durations: Sides) -> list[tuple[str, float]]:
    """The percentiles of p50 and p95 that moved enough for a headline, and beyond chance,
    with their change."""
    moved = []
    key = (endpoint.service, endpoint.operation)
    for name in ("p50", "p95"):
        change = endpoint.change(name)
        before, after = endpoint.percentile(name)
        if (
            change is not None
            and abs(change) >= _HEADLINE_CHANGE
            and abs(after - before) >= _HEADLINE_MIN_NS
            and judge(durations, "endpoints", key, float(name[1:]), (before, after))
        ):
            moved.append((name, change))
    return moved


def _causes(endpoint: EndpointDiff, direction: float) -> str:
    """Where the time per request went, in the direction the percentiles moved, then what moved
    the other way enough to matter: the mean's change is their sum, so the numbers a person
    reads add up (listing only the operations that moved with the mean once named only those
    that got faster under a p95 that doubled, when fewer timeouts outweighed a slower query)."""
    frames = endpoint.contributors
    along = [f for f in frames if f.delta_ns * direction > 0]
    biggest = abs(along[0].delta_ns) if along else 0.0
    # Under a twentieth of the largest, or under 0.05 ms, an operation's change is not a cause.
    floor = max(biggest / 20, 50_000.0)
    along = [f for f in along if abs(f.delta_ns) >= floor][:3]
    against = [f for f in frames if f.delta_ns * direction < 0 and abs(f.delta_ns) >= floor]
    against = [f for f in against if abs(f.delta_ns) >= biggest / 4][:2]
    mean = endpoint.mean_after_ns - endpoint.mean_before_ns
    named = ", ".join(f"{f.delta_ns / 1e6:+.1f} ms in {_label(f)}" for f in along)
    text = f": {named.replace(' ms in ', ' ms a request in ', 1)}" if named else ""
    if against:
        offset = ", ".join(f"{f.delta_ns / 1e6:+.1f} ms in {_label(f)}" for f in against)
        text += f"; {'but ' if along else ''}{offset}"
    return text + f" (mean {mean / 1e6:+.1f} ms a request)"


def _endpoint_line(endpoint: EndpointDiff, moved: list[tuple[str, float]]) -> str:
    percentiles = ", ".join(
        f"{name} {_ms(endpoint.percentile(name)[0])} → {_ms(endpoint.percentile(name)[1])} "
        f"({change:+.0%})"
        for name, change in moved
    )
    # The tail leads: p95 when it moved, else p50.
    direction = moved[-1][1]
    return f"{_label(endpoint)} {percentiles}{_causes(endpoint, direction)}"


def ranked_moves(
    endpoints: Sequence[EndpointDiff], durations: Sides
) -> list[tuple[EndpointDiff, list[tuple[str, float]]]]:
    """The endpoints whose p50 or p95 moved enough for a headline, with what moved; the
    largest relative move first (a product page twice as slow before a checkout 14% slower,
    though the checkout's mean moved more nanoseconds)."""
    ranked = []
    for endpoint in endpoints:
        if not endpoint.few_requests:
            moved = _moved_percentiles(endpoint, durations)
            if moved:
                ranked.append((-max(abs(change) for _, change in moved), endpoint, moved))
    ranked.sort(key=lambda item: item[0])
    return [(endpoint, moved) for _, endpoint, moved in ranked]


def headline_of(
    endpoints: Sequence[EndpointDiff],
    errors: list[ErrorOriginDiff],
    operations: list[OperationDiff],
    durations: Sides,
    traces: tuple[int, int],
    one_sided: Sequence[tuple[str, str, int]] = (),
    min_requests: int = 20,
) -> list[str]:
    """The headline (see the module docstring); ``one_sided`` holds the endpoints found on one
    side only, as ("new" or "gone", name, requests)."""
    lines = [
        _endpoint_line(endpoint, moved) for endpoint, moved in ranked_moves(endpoints, durations)
    ]
    for endpoint in endpoints:
        # A failure rate that moved beyond chance, whatever the origins' shares say (those are
        # of all requests; this is of the endpoint's own).
        before, after = endpoint.error_rate_before, endpoint.error_rate_after
        if not endpoint.few_requests and rate_moved(
            round(before * endpoint.requests_before),
            endpoint.requests_before,
            round(after * endpoint.requests_after),
            endpoint.requests_after,
        ):
            lines.append(
                f"{_label(endpoint)} failed {after:.1%} of its requests ({before:.1%} before)"
            )
    for kind, name, requests in one_sided:
        # An endpoint that came or went with a share of the traffic is a change in itself (a
        # route renamed by the deploy, or traffic moved to another).
        total = traces[1] if kind == "new" else traces[0]
        if requests >= min_requests and total:
            when = "" if kind == "new" else " before"
            share = f"{requests / total:.0%} of the requests{when}"
            lines.append(f"{kind} endpoint: {cut(name)}, {share}")
    for error in errors:
        what = f"{cut(error.exception_type) or 'error'} from {_label(error)}"
        if error.new and error.traces_after:
            lines.append(f"new error: {what} in {error.share_after:.1%} of requests")
        elif error.traces_before and error.share_after >= 1.5 * error.share_before:
            # (``errors`` holds only origins that grew beyond chance)
            lines.append(
                f"error grew: {what} in {error.share_after:.1%} of requests "
                f"({error.share_before:.1%} before)"
            )
    for op in operations:
        if "calls per request" not in op.reasons:
            continue
        where_before, where_after = op.calls_where_made_before, op.calls_where_made_after
        if where_before and where_after is not None:
            # Per request that makes the call: more checkouts in the mix is not a loop.
            if where_after >= 2 * where_before:
                lines.append(
                    f"{_label(op)} {where_before:.1f} → {where_after:.1f} calls "
                    f"in each request that makes it (×{where_after / where_before:.1f}): "
                    "a new loop?"
                )
            continue
        before, after = op.calls_per_request_before, op.calls_per_request_after
        if after >= 2 * before:
            lines.append(
                f"{_label(op)} {before:.2f} → {after:.2f} calls a request "
                f"(×{after / before:.1f}): a new loop?"
            )
    for endpoint in endpoints:
        # More traffic on one endpoint slows what it shares with the others: say it.
        share_before = endpoint.requests_before / traces[0] if traces[0] else 0.0
        share_after = endpoint.requests_after / traces[1] if traces[1] else 0.0
        low, high = sorted((share_before, share_after))
        if (
            not endpoint.few_requests
            and high >= 1.5 * low
            and rate_moved(
                endpoint.requests_before, traces[0], endpoint.requests_after, traces[1], 0.05
            )
        ):
            lines.append(
                f"{_label(endpoint)} is {share_after:.0%} of the requests "
                f"({share_before:.0%} before)"
            )
    return lines[:6]
