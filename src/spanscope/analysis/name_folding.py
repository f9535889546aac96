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

``NameTemplates`` decides the same while the names come (``add``), so that the profile and the
analyzer can count a name under its template from the moment that folds instead of keeping a
row per id and folding 100,000 rows at the end; its ``folding()`` is the ``NameFolding`` of
every name added, and it templates each distinct name once (the detector uses that cache).
A template that folds is its own fold (``fold(service, template) == template``), so tables
keyed by it already fold as they are.
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
# Only a name's start is looked at for a digit: a span name of 63 MB took a third of a second a
# scan, and ``message_template`` keeps only the first 300 characters anyway.
_SCAN = 64 * 1024


def name_template(name: str) -> str | None:
    """``name``'s template, or None when it has nothing to replace (the one test of a name,
    here and in the high-cardinality detector)."""
    # Every placeholder stands for something with a digit: most names have none.
    if _DIGIT.search(name, 0, _SCAN) is None:
        return None
    template = message_template(name)
    return template if template != name else None


class NameFolding:
    """The templates that fold, per service (module docstring). ``template`` gives a name's
    template (``name_template``, or a cache of it such as ``NameTemplates.template``)."""

    def __init__(self, names: Iterable[tuple[str, str]], min_names: int = MIN_NAMES) -> None:
        counted = NameTemplates(min_names)
        for service, name in names:
            counted.add(service, name)
        self._decide(counted.members, min_names, counted.template)

    @classmethod
    def from_members(
        cls,
        members: dict[tuple[str, str], set[str]],
        min_names: int,
        template: Callable[[str], str | None] = name_template,
    ) -> NameFolding:
        """The folding of the names ``members`` holds, grouped by ``(service, template)``
        already (``NameTemplates.members``): the same as ``NameFolding`` of those names."""
        folding = cls.__new__(cls)
        folding._decide(members, min_names, template)
        return folding

    def _decide(
        self,
        members: dict[tuple[str, str], set[str]],
        min_names: int,
        template: Callable[[str], str | None],
    ) -> None:
        # A cache: templating a name is a few regular expressions, and tables fold the same
        # names again.
        self._template = template
        self.templates = {key for key, names in members.items() if len(names) >= min_names}

    def __bool__(self) -> bool:
        return bool(self.templates)

    def fold(self, service: str, name: str) -> str:
        """``name``, or its template when that folds for ``service``."""
        templates = self.templates
        if not templates or (service, name) in templates:
            return name  # a template that folds is its own fold: tables keyed by it stay so
        template = self._template(name)
        if template is not None and (service, template) in templates:
            return template
        return name


class NameTemplates:
    """The folding decided as names come, so that tables need not keep a row per name.

    ``add(service, name)`` counts a name of the profile's frames (the names ``NameFolding`` is
    built from) and says what to count it under now: its template once ``min_names`` distinct
    names of the service share it, else the name. Templates only ever start to fold (a set of
    names only grows), and every one that folds now folds in ``folding()``, the ``NameFolding``
    of all names added: so a table keyed by what ``fold``/``add`` said, then folded by
    ``folding()`` with ``fold_table``, is the table keyed by names and folded once, at the end.
    ``template(name)`` is ``name_template`` worked out once per distinct name. ``merge`` adds
    another's names (the decisions depend on the set of names alone)."""

    __slots__ = ("_same", "_templates", "folds", "members", "min_names")

    def __init__(self, min_names: int = MIN_NAMES) -> None:
        self.min_names = min_names
        self._templates: dict[str, str | None] = {}  # name -> its template
        self._same: dict[str, str] = {}  # template -> the one string of it
        self.members: dict[tuple[str, str], set[str]] = {}  # (service, template) -> names
        self.folds: set[tuple[str, str]] = set()  # (service, template)s that fold already

    def template(self, name: str) -> str | None:
        """``name_template(name)``, from the cache."""
        try:
            return self._templates[name]
        except KeyError:
            found = name_template(name)
            if found is not None:
                # One string per template, not one per name (memory, and pickles: 100,000
                # names of one route hold one "GET /users/<num>").
                found = self._same.setdefault(found, found)
            self._templates[name] = found
            return found

    def add(self, service: str, name: str) -> str:
        """Count ``name`` among ``service``'s names; what to count it under now."""
        template = self.template(name)
        if template is None:
            return name
        key = (service, template)
        names = self.members.get(key)
        if names is None:
            names = self.members[key] = set()
        names.add(name)
        if key in self.folds:
            return template
        if len(names) >= self.min_names:
            self.folds.add(key)
            return template
        return name

    def fold(self, service: str, name: str) -> str:
        """What ``name`` counts under now, without counting it."""
        if not self.folds:
            return name
        template = self.template(name)
        if template is not None and (service, template) in self.folds:
            return template
        return name

    def merge(self, other: NameTemplates) -> None:
        for name, template in other._templates.items():
            if template is not None:
                template = self._same.setdefault(template, template)
            self._templates.setdefault(name, template)
        for key, names in other.members.items():
            mine = self.members.get(key)
            if mine is None:
                mine = self.members[key] = set()
            mine |= names
            if len(mine) >= self.min_names:
                self.folds.add(key)

    def folding(self) -> NameFolding:
        """The ``NameFolding`` of every name added."""
        return NameFolding.from_members(self.members, self.min_names, self.template)


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
