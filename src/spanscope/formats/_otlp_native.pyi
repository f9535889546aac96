"""Types of the optional C extension built from ``_otlp_native_src/`` (contract in its
``module.c``); ``otlp_native`` is the one module that uses it."""

from collections.abc import Callable, Iterator

from spanscope.model import Event, Link, Span, SpanKind, StatusCode

MESSAGE_TYPES: int
MAX_DEPTH: int
COLUMN_BUFFERS: tuple[str, ...]

def check(data: bytes, /) -> bool: ...
def scan(data: bytes, /) -> int | None: ...
def late_times(data: bytes, /) -> list[tuple[int, int, int, int]]: ...
def configure(
    span: type[Span],
    event: type[Event],
    link: type[Link],
    kinds: tuple[SpanKind, ...],
    codes: tuple[StatusCode, ...],
    shared_key: str,
    follows_key: str,
    split_follows_from: Callable[..., tuple[list[Link], bool]],
    known_fields: tuple[int, ...],
    /,
) -> None: ...

class Spans(Iterator[Span]):
    def __init__(self, data: bytes, /) -> None: ...
    def __next__(self) -> Span: ...

class Buffer:
    def __buffer__(self, flags: int, /) -> memoryview: ...

class Columns:
    def add(self, data: bytes, /) -> None: ...
    def finish(
        self,
    ) -> tuple[
        int,
        int,
        int,
        int,
        int,
        int,
        tuple[Buffer, ...],
        list[tuple[str, str, int]],
        list[tuple[int, Span]],
    ]: ...
