"""Durations and sizes as people type them: ``500ms``, ``1.5s``, ``7d``, ``5GB``; durations and
times as people read them (``format_duration``, ``format_time``).

Durations come back in integer nanoseconds (the model's unit), sizes in bytes. A bare number is
refused for durations (is ``500`` ms or µs?) unless a default unit is given.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

_DURATION_UNITS = {
    "ns": 1,
    "us": 1_000,
    "µs": 1_000,
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60 * 1_000_000_000,
    "min": 60 * 1_000_000_000,
    "h": 3600 * 1_000_000_000,
    "d": 86400 * 1_000_000_000,
    "w": 7 * 86400 * 1_000_000_000,
}
_SIZE_UNITS = {
    "b": 1,
    "kb": 1000,
    "mb": 1000**2,
    "gb": 1000**3,
    "tb": 1000**4,
    "kib": 1024,
    "mib": 1024**2,
    "gib": 1024**3,
    "tib": 1024**4,
}
_NUMBER_UNIT = re.compile(r"^\s*(\d+(?:\.\d+)?|\.\d+)\s*([a-zµ]*)\s*$", re.IGNORECASE)


def parse_duration(text: str, default_unit: str | None = None) -> int:
    """``"500ms"`` -> 500_000_000 ns. Raises ValueError naming the accepted units."""
    match = _NUMBER_UNIT.match(text)
    unit = (match.group(2).lower() if match else "") or (default_unit or "")
    if not match or unit not in _DURATION_UNITS:
        raise ValueError(
            f"invalid duration {text!r}: use a number and a unit, e.g. 250ms, 1.5s, 2m, 7d "
            f"(units: {', '.join(_DURATION_UNITS)})"
        )
    return round(float(match.group(1)) * _DURATION_UNITS[unit])


def parse_size(text: str) -> int:
    """``"5GB"`` -> 5_000_000_000 bytes (``GiB`` for powers of two). Bare numbers are bytes."""
    match = _NUMBER_UNIT.match(text)
    unit = match.group(2).lower() if match else ""
    if not match or (unit and unit not in _SIZE_UNITS):
        raise ValueError(f"invalid size {text!r}: use e.g. 500MB, 5GB, 1GiB")
    return round(float(match.group(1)) * _SIZE_UNITS.get(unit or "b", 1))


def format_duration(ns: int | float) -> str:
    """A short human form: 850ns, 12.3µs, 4.56ms, 1.23s, 2m05s."""
    if ns < 1_000:
        return f"{ns:.0f}ns"
    if ns < 1_000_000:
        return f"{ns / 1e3:.3g}µs"
    if ns < 1_000_000_000:
        return f"{ns / 1e6:.3g}ms"
    if ns < 60_000_000_000:
        return f"{ns / 1e9:.3g}s"
    minutes, seconds = divmod(round(ns / 1e9), 60)
    return f"{minutes}m{seconds:02d}s"


def format_time(ns: int) -> str:
    """A time in nanoseconds since the epoch, as ISO 8601 in UTC to the millisecond."""
    return datetime.fromtimestamp(ns / 1e9, tz=UTC).isoformat(timespec="milliseconds")
