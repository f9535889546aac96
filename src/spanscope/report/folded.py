"""Folded stacks as text: one ``frame;frame;frame value`` line per stack.

This is the input format of Brendan Gregg's ``flamegraph.pl`` and of speedscope. Values are
critical-path nanoseconds (``spanscope.analysis.profile.folded_stacks``), heaviest first.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TextIO


def write_folded(stacks: Iterable[tuple[str, int]], out: TextIO) -> int:
    """Write ``stacks`` to ``out``; return how many lines were written."""
    lines = 0
    for stack, value in stacks:
        out.write(f"{stack} {value}\n")
        lines += 1
    return lines
