"""Errors and warnings about input, named by file and place.

Readers raise ``InputError`` for input they cannot read further (the spans already yielded stay
good) and call ``Diagnostics.warn`` for input they read but had to interpret. Only ``cli``
turns these into exit codes and messages.

``Location`` and ``Diagnostic`` are immutable values (equal and hashed by their fields);
``Diagnostics`` is the mutable collector. They are written out rather than made by
``dataclasses``: every command imports this module, and building a dataclass executes
generated code (a millisecond of the start-up of ``analyze --folded -`` for these three).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NoReturn


class SpanscopeError(Exception):
    """Base class for errors spanscope reports to a user as a message, not a traceback."""


def _frozen(self: object, name: str, value: object) -> NoReturn:
    raise AttributeError(f"cannot assign to field {name!r}: {type(self).__name__} is immutable")


class Location:
    """Where in an input something was found. ``place`` is free text in the format's own terms,
    e.g. ``"line 12"``, ``"byte 4031"``, ``"$.data[0].spans[3].traceID"``, ``"span 17"``."""

    __slots__ = ("place", "source")
    __match_args__ = ("source", "place")
    __setattr__ = __delattr__ = _frozen  # type: ignore[assignment]

    source: str
    place: str

    def __init__(self, source: str, place: str = "") -> None:
        object.__setattr__(self, "source", source)
        object.__setattr__(self, "place", place)

    def __str__(self) -> str:
        return f"{self.source}: {self.place}" if self.place else self.source

    def __repr__(self) -> str:
        return f"Location(source={self.source!r}, place={self.place!r})"

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return (self.source, self.place) == (other.source, other.place)  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((self.source, self.place))

    def __reduce__(self) -> tuple[Any, ...]:
        return Location, (self.source, self.place)


class InputError(SpanscopeError):
    """Input that cannot be read (any further): malformed, truncated, wrong format."""

    def __init__(self, source: str, place: str, message: str) -> None:
        self.location = Location(source, place)
        self.message = message
        super().__init__(f"{self.location}: {message}")


class Diagnostic:
    """One warning: where, and what."""

    __slots__ = ("location", "message")
    __match_args__ = ("location", "message")
    __setattr__ = __delattr__ = _frozen  # type: ignore[assignment]

    location: Location
    message: str

    def __init__(self, location: Location, message: str) -> None:
        object.__setattr__(self, "location", location)
        object.__setattr__(self, "message", message)

    def __str__(self) -> str:
        return f"{self.location}: {self.message}"

    def __repr__(self) -> str:
        return f"Diagnostic(location={self.location!r}, message={self.message!r})"

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return (self.location, self.message) == (other.location, other.message)  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((self.location, self.message))

    def __reduce__(self) -> tuple[Any, ...]:
        return Diagnostic, (self.location, self.message)


class Diagnostics:
    """Collects warnings while reading. ``limit`` bounds memory on hostile input: past it,
    warnings are only counted."""

    def __init__(
        self,
        on_warning: Callable[[Diagnostic], None] | None = None,
        limit: int = 1000,
        warnings: list[Diagnostic] | None = None,
        count: int = 0,
    ) -> None:
        self.on_warning = on_warning
        self.limit = limit
        self.warnings: list[Diagnostic] = [] if warnings is None else warnings
        self.count = count

    def __repr__(self) -> str:
        return (
            f"Diagnostics(on_warning={self.on_warning!r}, limit={self.limit!r}, "
            f"warnings={self.warnings!r}, count={self.count!r})"
        )

    def warn(self, source: str, place: str, message: str) -> None:
        diagnostic = Diagnostic(Location(source, place), message)
        self.count += 1
        if len(self.warnings) < self.limit:
            self.warnings.append(diagnostic)
        if self.on_warning is not None:
            self.on_warning(diagnostic)
