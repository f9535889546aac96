"""Finding a trace by the start of its id, as people copy ids from reports and pages.

Reports, tables and pages show trace ids cut short ("8e8bdfe2a873…"); a person in an incident
pastes what they have. ``trace_ids_starting_with(store, text, search)`` gives the ids of the
``limit`` most recent traces matching ``search`` (all traces by default) whose id starts with
``text``: the ellipsis and surrounding blanks dropped, case ignored, and leading zeros ignored
on both sides, as Jaeger shows ids (``model.ids.id_starts_with``). The caller
decides what one, several or no matches mean; ``too_many(text, found)`` and
``no_prefix_match(text, looked_at)`` say the other two the same way wherever a prefix is
taken. ``id_text(text)`` (from ``model.ids``) is ``text`` so cleaned.
"""

from __future__ import annotations

import dataclasses

from spanscope.model.ids import id_starts_with, id_text
from spanscope.store.base import Store, TraceQuery

__all__ = ["PREFIX_SEARCH", "id_text", "no_prefix_match", "too_many", "trace_ids_starting_with"]

# How many of the most recent traces a prefix is looked for among (ids alone: 0.2 s on a store
# of 10M spans).
PREFIX_SEARCH = 100_000


def trace_ids_starting_with(
    store: Store, text: str, search: TraceQuery | None = None, limit: int = PREFIX_SEARCH
) -> tuple[list[str], int]:
    """(ids that start with ``text``, how many recent ids were looked at): see the module."""
    wanted = id_text(text)
    query = dataclasses.replace(search or TraceQuery(), num_traces=limit)
    recent = store.find_trace_ids(query)
    return [found for found in recent if id_starts_with(found, wanted)], len(recent)


def too_many(text: str, found: list[str], shown: int = 3) -> str:
    """What to say when several ids start with ``text``."""
    listed = ", ".join(found[:shown]) + (", ..." if len(found) > shown else "")
    return f"{len(found):,} traces have ids starting with {text}: give more digits ({listed})"


def no_prefix_match(text: str, looked_at: int) -> str:
    """What to add when no id starts with ``text`` among the ``looked_at`` most recent."""
    return f"nor one whose id starts with {text} among the {looked_at:,} most recent"
