"""Times as people type them after ``--since`` and ``--until``, with one meaning in every command.

A value is one of:

- a duration, meaning that long before now: ``30m``, ``2h``, ``1d``, ``90s``, ``1h30m`` (the
  forms of ``spanscope.units.parse_duration``); so ``--since 2h --until 1h`` is the hour before
  the last; also written as Grafana writes it, ``now-2h``, or ``2h ago``;
- ``now``;
- an ISO 8601 time, in UTC unless it names a zone: ``2026-11-27T03:00``, ``2026-11-27 03:00:30``,
  ``2026-11-27T03:00:00+01:00``, ``2026-11-27T03:00Z``, ``2026-11-27`` (midnight);
- Unix seconds, with a fraction or not: ``1795748400``, ``1795748400.25``.

``TIME`` converts any of them to nanoseconds since the epoch (the model's unit). Every duration
of one command line counts back from the same instant, taken once per command, so ``--since 30m
--until 10m`` is exactly twenty minutes wide. A bare number under 10^9 (before 2001) other than
0 is refused: ``--since 30`` is far more likely a duration without its unit than a time in 1970,
and would silently select everything; so is a number of milliseconds (13 digits). A time must
fall between 1970 and 2262 (nanoseconds in a signed 64-bit integer, as stores keep them).
Bad values are usage errors (exit 2) that name the option and show the accepted forms.
``check_window`` refuses a ``--since`` that is not before ``--until``.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from typing import Any

import click

from spanscope.units import format_time, parse_duration

# Shown in the usage error for a value that is none of the forms, and in option help.
FORMS = (
    "a duration ago (30m, 2h, 1d), an ISO 8601 time (2026-11-27T03:00, UTC unless it has a "
    "zone), Unix seconds (1795748400) or 'now'"
)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_NUMBER = re.compile(r"^\d+(\.\d*)?$")
_SMALLEST_UNIX_SECONDS = 1_000_000_000  # 2001-09-09: anything less is a unitless duration
_LARGEST_UNIX_SECONDS = 100_000_000_000  # year 5138: anything more is milliseconds or finer
_NOW_KEY = "spanscope.now_ns"
_LATEST = 2**63  # ns since the epoch: 2262-04-11T23:47:16.854775808Z


def now_ns(ctx: click.Context | None) -> int:
    """The instant this command counts durations back from, the same for all its options."""
    if ctx is None:
        return time.time_ns()
    meta = ctx.find_root().meta
    if _NOW_KEY not in meta:
        meta[_NOW_KEY] = time.time_ns()
    return meta[_NOW_KEY]


def parse_time(text: str, now: int) -> int:
    """``text`` in any of the module's forms -> nanoseconds since the epoch, from 1970 to
    2262 (what the model's times, and a store's signed 64-bit columns, can hold). Raises
    ``ValueError`` with a message that says what was wrong and what to type."""
    ns = _parse(text, now)
    if ns < 0:
        raise ValueError(f"{text!r} is before 1970-01-01, where times start")
    if ns >= _LATEST:
        raise ValueError(f"{text!r} is after 2262-04-11, the last time nanoseconds can hold")
    return ns


def _parse(text: str, now: int) -> int:
    value = text.strip()
    if value.lower() == "now":
        return now
    # Grafana's "now-1h" and "1h ago" are the same duration ago (a time in them is an error).
    lowered = value.lower()
    if lowered.startswith("now-") or lowered.endswith(" ago"):
        ago = value[4:] if lowered.startswith("now-") else value[:-4]
        try:
            return now - parse_duration(ago.strip())
        except ValueError:
            raise ValueError(f"{text!r} is not a time: use {FORMS}") from None
    if _NUMBER.match(value):
        return _unix_seconds(value)
    try:
        return now - parse_duration(value)
    except ValueError:
        pass  # not a duration (or a unit we do not know, 30x): an ISO time, or the error below
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{text!r} is not a time: use {FORMS}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1000


def _unix_seconds(value: str) -> int:
    seconds = float(value)
    if 0 < seconds < _SMALLEST_UNIX_SECONDS:
        number = value.rstrip(".")
        raise ValueError(
            f"{value!r} has no unit: write {number}s, {number}m or {number}h for that long ago "
            f"(Unix seconds have 10 digits, e.g. 1795748400)"
        )
    if seconds >= _LARGEST_UNIX_SECONDS:
        raise ValueError(
            f"{value!r} is too large for Unix seconds (milliseconds? then "
            f"{value.split('.')[0][:10]} is the time in seconds)"
        )
    whole, _, fraction = value.partition(".")
    # Exact to the nanosecond: float(value) * 1e9 would be off by up to a few hundred ns.
    return int(whole) * 1_000_000_000 + int((fraction + "000000000")[:9])


class TimeParam(click.ParamType):
    """A ``--since``/``--until`` value in any of the module's forms -> ns since the epoch."""

    name = "time"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int):
            return value
        try:
            return parse_time(str(value), now_ns(ctx))
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


TIME = TimeParam()


def check_window(since: int | None, until: int | None) -> None:
    """A usage error when ``--since`` is not before ``--until``: nothing could match."""
    if since is not None and until is not None and since >= until:
        raise click.UsageError(
            f"--since ({format_time(since)}) is not before --until ({format_time(until)}): "
            "nothing could match; --until 10m means ten minutes ago, so --since must go "
            "further back (e.g. --since 1h --until 10m)"
        )
