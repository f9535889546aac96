"""Errors and warnings about input, named by file and place.

Readers raise ``InputError`` for input they cannot read further (the spans already yielded stay
good) and call ``Diagnostics.warn`` for input they read but had to interpret. Only ``cli``
turns these into exit codes and messages.

``Location`` and ``Diagnostic`` are immutable values (``spanscope.values.Frozen``: equal,
hashed and pickled by their fields); ``Diagnostics`` is the mutable collector.
"""

from __future__ import annotations

from collections.abc import Callable

from spanscope.values import Frozen


class SpanscopeError(Exception):
    """Base class for errors spanscope reports to a user as a message, not a traceback."""


class Location(Frozen):
    """Where in an input something was found. ``place`` is free text in the format's own terms,
    e.g. ``"line 12"``, ``"byte 4031"``, ``"$.data[0].spans[3].traceID"``, ``"span 17"``."""

    __slots__ = ("place", "source")
    __match_args__ = ("source", "place")

    source: str
    place: str

    def __init__(self, source: str, place: str = "") -> None:
        object.__setattr__(self, "source", source)
        object.__setattr__(self, "place", place)

    def __str__(self) -> str:
        return f"{self.source}: {self.place}" if self.place else self.source


class InputError(SpanscopeError):
    """Input that cannot be read (any further): malformed, truncated, wrong format."""

    def __init__(self, source: str, place: str, message: str) -> None:
        self.location = Location(source, place)
        self.message = message
        super().__init__(f"{self.location}: {message}")


class Diagnostic(Frozen):
    """One warning: where, and what."""

    __slots__ = ("location", "message")
    __match_args__ = ("location", "message")

    location: Location
    message: str

    def __init__(self, location: Location, message: str) -> None:
        object.__setattr__(self, "location", location)
        object.__setattr__(self, "message", message)

    def __str__(self) -> str:
        return f"{self.location}: {self.message}"


class Diagnostics:
    """Collects warnings while reading. ``limit`` bounds memory on hostile input: past it,
    warnings are only counted."""

    def __init__(
        self,
        on_warning: Callable[[Diagnostic], None] | None = None,
        limit: int = 1000,
    ) -> None:
        self.on_warning = on_warning
        self.limit = limit
        self.warnings: list[Diagnostic] = []
        self.count = 0

    def __repr__(self) -> str:
        return (
            f"Diagnostics(limit={self.limit!r}, warnings={self.warnings!r}, count={self.count!r})"
        )

    def warn(self, source: str, place: str, message: str) -> None:
        diagnostic = Diagnostic(Location(source, place), message)
        self.count += 1
        if len(self.warnings) < self.limit:
            self.warnings.append(diagnostic)
        if self.on_warning is not None:
            self.on_warning(diagnostic)
