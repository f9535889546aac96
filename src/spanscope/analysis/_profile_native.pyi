"""Types of the optional C extension built from ``_profile_native_src/`` (contract in its
``module.c``); ``native_profile`` is the one module that uses it."""

from collections.abc import Callable

Hooks = tuple[
    Callable[[bytes], int | None],
    Callable[[bytes], dict[str, tuple[str, dict]] | None],
    Callable[[bytes], bool],
    Callable[[str, int], str | None],
]

def charge(
    data: bytes,
    hooks: Hooks,
    numbers: dict[tuple[int, str, str], int],
    number: Callable[[int, str, str], int],
    strict: bool,
    adjust_skew: bool,
    prepare: Callable[[list[str], bytes], bool],
    record: Callable[[str, str, int, dict[int, int]], None],
    add_python: Callable[[str], None],
    /,
) -> tuple[int, list[str]] | None: ...
