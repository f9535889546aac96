"""Durations and sizes as people type them: ``500ms``, ``1.5s``, ``7d``, ``5GB``; durations and
times as people read them (``format_duration``, ``format_time``).

Durations come back in integer nanoseconds (the model's unit), sizes in bytes. A bare number is
refused for durations (is ``500`` ms or µs?) unless a default unit is given.
"""

from __future__ import annotations

import math
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
# Compiled on first use (``re`` keeps it): only a compound duration needs it, and compiling it
# at import cost every command's start-up.
_PART = r"(\d+(?:\.\d+)?|\.\d+)\s*([a-zµ]+)"


def parse_duration(text: str, default_unit: str | None = None) -> int:
    """``"500ms"`` -> 500_000_000 ns; also what ``format_duration`` prints (``2m05s``,
    ``1h30m``, ``2d05h``: parts in falling units). Raises ValueError naming the accepted units."""
    match = _NUMBER_UNIT.match(text)
    unit = (match.group(2).lower() if match else "") or (default_unit or "")
    if match and unit in _DURATION_UNITS:
        return _whole(float(match.group(1)) * _DURATION_UNITS[unit], text)
    compound = _compound_duration(text)
    if compound is None:
        raise ValueError(
            f"invalid duration {text!r}: use a number and a unit, e.g. 250ms, 1.5s, 2m, 7d, "
            f"1h30m (units: {', '.join(_DURATION_UNITS)})"
        )
    return compound


def _compound_duration(text: str) -> int | None:
    """``1h30m`` -> its ns, or None unless it is two or more number-unit parts whose units fall
    strictly (``30m1h`` and ``1m1m`` are mistakes, not sums)."""
    parts = re.findall(_PART, text, re.IGNORECASE)
    if len(parts) < 2 or "".join(number + unit for number, unit in parts) != "".join(text.split()):
        return None
    total, last = 0.0, None
    for number, unit in parts:
        size = _DURATION_UNITS.get(unit.lower())
        if size is None or (last is not None and size >= last):
            return None
        total += float(number) * size
        last = size
    return _whole(total, text)


def _whole(value: float, text: str) -> int:
    """``value`` rounded; a ValueError for a number too large for a float (999...9 with 309
    digits or more), which ``round`` would raise as an OverflowError."""
    if not math.isfinite(value):
        raise ValueError(f"{text!r} is too large a number")
    return round(value)


def parse_size(text: str) -> int:
    """``"5GB"`` -> 5_000_000_000 bytes (``GiB`` for powers of two). Bare numbers are bytes."""
    match = _NUMBER_UNIT.match(text)
    unit = match.group(2).lower() if match else ""
    if not match or (unit and unit not in _SIZE_UNITS):
        raise ValueError(f"invalid size {text!r}: use e.g. 500MB, 5GB, 1GiB")
    return _whole(float(match.group(1)) * _SIZE_UNITS.get(unit or "b", 1), text)


def format_duration(ns: int | float) -> str:
    """A short human form: 850ns, 12.3µs, 4.56ms, 1.23s, 2m05s, 3h07m, 2d05h (the two largest
    units past a minute, each rounded, so 59m59.6s is 1h00m)."""
    if ns < 1_000:
        return f"{ns:.0f}ns"
    # (999.5 of a unit and more is 1 of the next: three digits would print it "1e+03")
    if ns < 999_500:
        return f"{ns / 1e3:.3g}µs"
    if ns < 999_500_000:
        return f"{ns / 1e6:.3g}ms"
    if ns < 60_000_000_000:
        return f"{ns / 1e9:.3g}s"
    seconds = round(ns / 1e9)
    if seconds < 3600:
        return "{}m{:02d}s".format(*divmod(seconds, 60))
    minutes = round(ns / 6e10)
    if minutes < 1440:
        return "{}h{:02d}m".format(*divmod(minutes, 60))
    return "{}d{:02d}h".format(*divmod(round(ns / 3.6e12), 24))


def format_time(ns: int) -> str:
    """A time in nanoseconds since the epoch, as ISO 8601 in UTC to the millisecond."""
    return datetime.fromtimestamp(ns / 1e9, tz=UTC).isoformat(timespec="milliseconds")


def plural(count: int, noun: str) -> str:
    """``noun`` as it reads after ``count``: 1 trace, 2 traces (nouns that take an s)."""
    return noun if count == 1 else noun + "s"


def count(number: int, noun: str) -> str:
    """``number`` and its noun: "1 trace", "2,400 traces"."""
    return f"{number:,} {plural(number, noun)}"
