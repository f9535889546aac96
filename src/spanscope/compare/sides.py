"""Two analyses made comparable before their reports are built: one folding of names for both.

``analyze`` counts span names with ids in them (``GET /api/products/2428``) under their
template (``GET /api/products/<num>``) once enough distinct names share it
(``spanscope.analysis.name_folding``), deciding from the names of its own data. Two sides
decided apart disagree when one has many such names and the other few (a day before a deploy
against its first ten minutes): the first counts one ``<num>`` endpoint, the second one endpoint
per id, and a comparison would call the template gone and every id new. ``share_name_folding``
gives both analyzers the names of both, so their reports fold the same names.

Contract: call it on two ``Analyzer``s after their last ``add`` and before ``report()``; each
then folds exactly as one analyzer of both sides' traces would. Pure apart from that.
"""

from __future__ import annotations

from typing import Any


def share_name_folding(first: Any, second: Any) -> None:
    """Let ``first`` and ``second`` (``Analyzer``s) fold the names both sides hold."""
    # The folding depends on the set of names alone (NameTemplates.merge), so each side gets
    # the union; merging the second into the first, then the first (the union) into the second.
    first.profiles.names.merge(second.profiles.names)
    second.profiles.names.merge(first.profiles.names)
