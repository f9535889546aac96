"""Durations as people read and type them: what ``format_duration`` prints reads back."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from spanscope.units import format_duration, parse_duration, parse_size

S = 10**9


@pytest.mark.parametrize(
    ("ns", "text"),
    [
        (850, "850ns"),
        (12_300, "12.3µs"),
        (4_560_000, "4.56ms"),
        (1_230_000_000, "1.23s"),
        (999_499, "999µs"),
        (999_500, "1ms"),  # not "1e+03µs"
        (999_500_000, "1s"),
        (125 * S, "2m05s"),
        (3599 * S, "59m59s"),
        (3599.6 * S, "1h00m"),  # rounded to the minute, never "60m00s"
        (3600 * S, "1h00m"),
        (3 * 3600 * S + 7 * 60 * S, "3h07m"),
        (86_399 * S, "1d00h"),
        (2 * 86_400 * S + 5 * 3600 * S, "2d05h"),
        (365 * 86_400 * S, "365d00h"),
    ],
)
def test_format_duration(ns: float, text: str) -> None:
    assert format_duration(ns) == text


@pytest.mark.parametrize(
    ("text", "ns"),
    [
        ("500ms", 500_000_000),
        ("1.5s", 1_500_000_000),
        ("2m05s", 125 * S),
        ("1h30m", 5400 * S),
        ("1h 30m", 5400 * S),
        ("2d05h", 2 * 86_400 * S + 5 * 3600 * S),
        ("1h30m15s", 5415 * S),
        ("1m500ms", 60_500_000_000),
    ],
)
def test_parse_duration(text: str, ns: int) -> None:
    assert parse_duration(text) == ns


@pytest.mark.parametrize(
    "text", ["30m1h", "1m1m", "1h30", "5", "1h30mx", "h", "", "1x2s", "-1h30m"]
)
def test_a_duration_that_is_not_one_names_the_forms(text: str) -> None:
    with pytest.raises(ValueError, match=r"invalid duration .*1h30m \(units: ns"):
        parse_duration(text)


@given(st.integers(min_value=0, max_value=10**18))
def test_what_is_printed_reads_back_to_within_its_last_digit(ns: int) -> None:
    back = parse_duration(format_duration(ns))
    if ns < 60 * S:  # three significant digits
        assert abs(back - ns) <= max(0.5, ns * 0.005)
    elif ns < 3600 * S:  # to the second
        assert abs(back - ns) <= S / 2
    elif ns < 86_400 * S:  # to the minute
        assert abs(back - ns) <= 30 * S
    else:  # to the hour
        assert abs(back - ns) <= 1800 * S


@pytest.mark.parametrize("text", ["9" * 400 + "s", "9" * 400 + "h1m", "1" + "0" * 320 + "ms"])
def test_a_number_too_large_for_a_float_is_a_value_error(text: str) -> None:
    with pytest.raises(ValueError, match="too large a number"):
        parse_duration(text)


def test_a_size_too_large_for_a_float_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="too large a number"):
        parse_size("9" * 400 + "GB")
