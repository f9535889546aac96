"""Colours for services, shared by every page and image.

Contract: ``service_colors(names)`` maps each distinct name to a ``#rrggbb`` colour from one
curated palette, ordered so that neighbours differ most. Names are sorted and take the palette
in that order, so a page, a flame graph and a service map built from the same data agree, and
the result depends only on the set of names (not on the order they were seen). Past the
palette's length colours repeat. Error red is kept out of the palette so errors stay unambiguous.
"""

from __future__ import annotations

from collections.abc import Iterable

# Tableau-style hues of similar perceived lightness, most distinct first.
PALETTE: tuple[str, ...] = (
    "#4e79a7",
    "#f28e2b",
    "#59a14f",
    "#b07aa1",
    "#76b7b2",
    "#edc948",
    "#9c755f",
    "#ff9da7",
    "#3d5a80",
    "#8cd17d",
    "#d37295",
    "#499894",
    "#b6992d",
    "#a0cbe8",
    "#e8a35c",
    "#86bcb6",
    "#79706e",
    "#c3a6d6",
    "#6b8e23",
    "#bab0ac",
)
ERROR_COLOR = "#e03131"


def service_colors(names: Iterable[str]) -> dict[str, str]:
    """Assign each distinct name a palette colour (see the module contract)."""
    return {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(sorted(set(names)))}
