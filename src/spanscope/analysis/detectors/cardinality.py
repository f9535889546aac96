"""High-cardinality span names: operations named after the data they handle.

Rule: span names are grouped per service by a template in which numbers, hex ids and uuids are
replaced (``spanscope.analysis.errors.message_template``: ``GET /users/12345`` ->
``GET /users/<num>``); a template that at least ``high_cardinality_min_names`` (20 by default)
distinct names share is reported. Ids in names make each request its own operation: statistics
never group, backends index a name per request. The fix suggested is the route as the name
(``GET /users/{id}``) with the id in an attribute.

This detector works on the data set's table of (service, name) statistics, which the analyzer
keeps anyway, so it costs nothing per span. ``traces`` is the number of traces holding any of
the template's names, each once (``template_traces``, which the callers count as traces come:
summing each name's traces counted a trace of 40 such names 40 times, where the report's own
operation table said 1), ``occurrences`` is the number of distinct names,
``per_trace_p50``/``per_trace_max`` are 0 (not applicable); ``critical_ns``/``duration_ns``
are the critical-path time and summed duration of all spans with those names.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import NamedTuple

from spanscope.analysis.detectors.tally import rank
from spanscope.analysis.name_folding import name_template
from spanscope.analysis.results import AntiPattern

_PLACEHOLDER = re.compile(r"<(?:num|hex|uuid)>")
_MAX_EXAMPLE_NAMES = 3


class NameStats(NamedTuple):
    """What the data set holds for one (service, span name)."""

    service: str
    name: str
    critical_ns: int
    duration_ns: int
    example_trace_id: str
    example_span_id: str


class _Group:
    __slots__ = ("critical", "duration", "example", "names")

    def __init__(self) -> None:
        self.names: list[str] = []
        self.critical = 0
        self.duration = 0
        self.example: tuple[int, str, str] = (-1, "", "")


def high_cardinality_names(
    names: Iterable[NameStats],
    template_traces: Mapping[tuple[str, str], int],
    min_names: int,
    limit: int,
    template_of: Callable[[str], str | None] = name_template,
) -> list[AntiPattern]:
    """Templates shared by at least ``min_names`` distinct span names of one service.
    ``template_traces``: (service, template) -> traces holding any of its names, each once.
    ``template_of`` is ``name_template`` or a cache of it (the analyzer has one)."""
    groups: dict[tuple[str, str], _Group] = {}
    for item in names:
        template = template_of(item.name)
        if template is None:
            continue
        group = groups.get((item.service, template))
        if group is None:
            group = groups[(item.service, template)] = _Group()
        group.names.append(item.name)
        group.critical += item.critical_ns
        group.duration += item.duration_ns
        if item.critical_ns > group.example[0]:
            group.example = (item.critical_ns, item.example_trace_id, item.example_span_id)
    result = []
    for (service, template), group in groups.items():
        distinct = len(group.names)
        if distinct < min_names:
            continue
        route = _PLACEHOLDER.sub("{id}", template)
        shown = ", ".join(sorted(group.names)[:_MAX_EXAMPLE_NAMES])
        result.append(
            AntiPattern(
                kind="high_cardinality_name",
                service=service,
                operation=template,
                parent_service="",
                parent_operation="",
                traces=template_traces[service, template],
                occurrences=distinct,
                per_trace_p50=0,
                per_trace_max=0,
                critical_ns=group.critical,
                duration_ns=group.duration,
                example_trace_id=group.example[1],
                example_span_ids=[group.example[2]] if group.example[2] else [],
                detail=f"{distinct:,} names like {shown}",
                explanation=(
                    f"{service or '?'} names spans with ids in them ({distinct:,} distinct names "
                    f"match {template}); name them by route, e.g. {route!r}, and put the id in "
                    "an attribute"
                ),
            )
        )
    return rank(result, limit)
