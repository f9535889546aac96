"""Call-path stacks as numbers: the frames of a profile.

A stack is the chain of ``(service, operation)`` frames from a trace's root down to a span.
``CallStacks`` numbers each distinct stack once, as ``(number of the stack above, service,
operation) -> number`` (``-1`` above a root), so a profile holds a trace's critical time as a
few ``stack number -> ns`` entries instead of strings, and the walk of the critical path
(``spanscope.analysis.critical_path.charge_critical_time``) finds a span's stack from its
parent's with one dict lookup.

With ``names`` (a ``spanscope.analysis.name_folding.NameTemplates``), every frame name is
counted there and a name whose template folds already is given the template's stack: its key
in ``numbers`` leads to the stack of ``(above, service, template)``. A service that puts ids in
its span names then has a few stacks per route, not a copy of the route's subtree per request
(the profile folds the names of the stacks made before the template folded, at the end).

Contract: numbers are dense (``0 .. len(parents) - 1``) and never change once given;
``parents[n]`` and ``frames[n]`` describe stack ``n``. Two ``CallStacks`` that saw similar
traces in the same order number them alike (``ProfileCollector.merge`` relies on it only as a
shortcut, never for correctness).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from spanscope.analysis.name_folding import NameTemplates


class CallStacks:
    __slots__ = ("frames", "names", "numbers", "parents")

    def __init__(self, names: NameTemplates | None = None) -> None:
        self.numbers: dict[tuple[int, str, str], int] = {}
        self.parents: list[int] = []  # number -> the number of the stack above it, or -1
        self.frames: list[tuple[str, str]] = []  # number -> (service, operation)
        self.names = names

    def number(self, above: int, service: str, operation: str) -> int:
        """The number of frame ``(service, operation)`` under stack ``above``, given if new."""
        key = (above, service, operation)
        found = self.numbers.get(key)
        if found is not None:
            return found
        if self.names is not None:
            counted = self.names.add(service, operation)
            if counted != operation:  # a folded name: the template's stack, under this key too
                found = self.numbers[key] = self._number(above, service, counted)
                return found
        return self._number(above, service, operation)

    def _number(self, above: int, service: str, operation: str) -> int:
        key = (above, service, operation)
        found = self.numbers.get(key)
        if found is None:
            found = self.numbers[key] = len(self.parents)
            self.parents.append(above)
            self.frames.append((service, operation))
        return found
