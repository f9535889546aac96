"""Span names with ids in them, counted as the one operation they are.

A service that names its spans after the data they handle (``GET /users/12345``, ``SELECT user
7``) makes every request its own endpoint and operation: a report of 100,000 one-request
endpoints says nothing, and takes long to build. The anti-pattern detector
(``detectors.cardinality``) tells the user to fix the instrumentation; meanwhile the report
groups such names under their template, as that detector finds it: numbers, hex ids and uuids
replaced (``spanscope.analysis.errors.message_template``: ``GET /users/<num>``), and only when
at least ``min_names`` distinct names of one service share the template (20 by default, the
detector's threshold), so that ``oauth2`` or ``v1`` in a handful of names never changes them.

Which templates fold is decided from the names of the spans on critical paths (the frames of
the profile, which both ``analyze`` and ``analyze --folded -`` collect); once decided, every
name of the data set that fits one of them is folded, on a path or not.

Contract: ``NameFolding(names, min_names)`` takes ``(service, name)`` pairs; ``fold(service,
name)`` gives the template for a name to fold and the name itself otherwise; ``fold_table``
folds the keys of a table of statistics and adds up what folds together; ``name_template``
is a name's template (None without one), as the detector groups names too. The templates
depend on the set of names alone, not on their order, so parts of a data set analysed apart
and merged fold exactly as the whole would. Pure.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import TypeVar, cast

from spanscope.analysis.errors import message_template

MIN_NAMES = 20
K = TypeVar("K", bound=tuple[str, ...])  # (service, name, anything else)
V = TypeVar("V")


_DIGIT = re.compile(r"\d")


def name_template(name: str) -> str | None:
    """``name``'s template, or None when it has nothing to replace (the one test of a name,
    here and in the high-cardinality detector)."""
    # Every placeholder stands for something with a digit: most names have none.
    if _DIGIT.search(name) is None:
        return None
    template = message_template(name)
    return template if template != name else None


class NameFolding:
    """The templates that fold, per service (module docstring)."""

    def __init__(self, names: Iterable[tuple[str, str]], min_names: int = MIN_NAMES) -> None:
        template_of: dict[tuple[str, str], str] = {}
        members: dict[tuple[str, str], set[str]] = {}
        for service, name in names:
            template = name_template(name)
            if template is not None:
                template_of[(service, name)] = template
                members.setdefault((service, template), set()).add(name)
        self.templates = {key for key, names in members.items() if len(names) >= min_names}
        # What each name with a template folds to (itself or the template): tables fold the
        # same names again, and templating a name is a few regular expressions.
        self._folded = {
            key: template if (key[0], template) in self.templates else key[1]
            for key, template in template_of.items()
        }

    def __bool__(self) -> bool:
        return bool(self.templates)

    def fold(self, service: str, name: str) -> str:
        """``name``, or its template when that folds for ``service``."""
        if not self.templates:
            return name
        key = (service, name)
        folded = self._folded.get(key)
        if folded is None:
            template = name_template(name)
            folded = (
                template if template is not None and (service, template) in self.templates else name
            )
            self._folded[key] = folded
        return folded


def fold_table(
    table: dict[K, V],
    folding: NameFolding,
    copy: Callable[[V], V],
    add: Callable[[V, V], None],
) -> dict[K, V]:
    """``table``, keyed by ``(service, name, ...)``, with its names folded: the values of keys
    that fold together are summed into a ``copy`` of the first by ``add(into, value)`` (the
    table's own values are left as they are). Keys keep their order of first appearance."""
    folded: dict[K, V] = {}
    copies: set[K] = set()
    for key, value in table.items():
        service, name, *rest = key
        new_key = cast(K, (service, folding.fold(service, name), *rest))
        into = folded.get(new_key)
        if into is None:
            folded[new_key] = value
            continue
        if new_key not in copies:
            copies.add(new_key)
            into = folded[new_key] = copy(into)
        add(into, value)
    return folded
