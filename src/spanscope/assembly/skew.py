"""Clock-skew adjustment (placeholder until the assembly work lands: no adjustment yet)."""

from __future__ import annotations

from spanscope.model import Span, Trace


def adjust_clock_skew(trace: Trace, roots: list[Span]) -> None:
    return None
