"""``Frozen``: the base of small immutable values written without ``dataclasses``.

Every command imports a few such values (``errors.Location``, ``errors.Diagnostic``,
``formats.Format``), and building a dataclass executes generated code at import: a millisecond
of the start-up of ``analyze --folded -`` for three of them. A subclass declares its
``__slots__`` and, in ``__match_args__``, its fields in their constructor's order, and sets them
in ``__init__`` with ``object.__setattr__``; it is then equal, hashed, shown and pickled by those
fields, and no field can be set or deleted afterwards.
"""

from __future__ import annotations

from typing import Any, NoReturn


class Frozen:
    __slots__ = ()
    __match_args__: tuple[str, ...] = ()

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self.__match_args__)

    def __setattr__(self, name: str, value: object) -> NoReturn:
        raise AttributeError(f"cannot assign to field {name!r}: {type(self).__name__} is immutable")

    def __delattr__(self, name: str) -> NoReturn:
        raise AttributeError(f"cannot delete field {name!r}: {type(self).__name__} is immutable")

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._values() == other._values()  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash(self._values())

    def __repr__(self) -> str:
        fields = ", ".join(
            f"{name}={value!r}"
            for name, value in zip(self.__match_args__, self._values(), strict=True)
        )
        return f"{type(self).__name__}({fields})"

    def __reduce__(self) -> tuple[Any, ...]:
        return type(self), self._values()  # (unpickling cannot assign the fields one by one)
