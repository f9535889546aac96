"""Errors and warnings about input, named by file and place.

Readers raise ``InputError`` for input they cannot read further (the spans already yielded stay
good) and call ``Diagnostics.warn`` for input they read but had to interpret. Only ``cli``
turns these into exit codes and messages.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


class SpanscopeError(Exception):
    """Base class for errors spanscope reports to a user as a message, not a traceback."""


@dataclass(frozen=True, slots=True)
class Location:
    """Where in an input something was found. ``place`` is free text in the format's own terms,
    e.g. ``"line 12"``, ``"byte 4031"``, ``"$.data[0].spans[3].traceID"``, ``"span 17"``."""

    source: str
    place: str = ""

    def __str__(self) -> str:
        return f"{self.source}: {self.place}" if self.place else self.source


class InputError(SpanscopeError):
    """Input that cannot be read (any further): malformed, truncated, wrong format."""

    def __init__(self, source: str, place: str, message: str) -> None:
        self.location = Location(source, place)
        self.message = message
        super().__init__(f"{self.location}: {message}")


@dataclass(frozen=True, slots=True)
class Diagnostic:
    location: Location
    message: str

    def __str__(self) -> str:
        return f"{self.location}: {self.message}"


@dataclass
class Diagnostics:
    """Collects warnings while reading. ``limit`` bounds memory on hostile input: past it,
    warnings are only counted."""

    on_warning: Callable[[Diagnostic], None] | None = None
    limit: int = 1000
    warnings: list[Diagnostic] = field(default_factory=list)
    count: int = 0

    def warn(self, source: str, place: str, message: str) -> None:
        diagnostic = Diagnostic(Location(source, place), message)
        self.count += 1
        if len(self.warnings) < self.limit:
            self.warnings.append(diagnostic)
        if self.on_warning is not None:
            self.on_warning(diagnostic)
