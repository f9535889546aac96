from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from spanscope.model import InvalidIdError, normalize_span_id, normalize_trace_id


def test_uppercase_and_short_ids_are_normalised() -> None:
    assert (
        normalize_trace_id("5B8EFFF798038103D269B633813FC60C") == "5b8efff798038103d269b633813fc60c"
    )
    assert normalize_trace_id("463ac35c9f6413ad") == "0000000000000000463ac35c9f6413ad"
    assert normalize_span_id("1") == "0000000000000001"


@pytest.mark.parametrize("bad", ["", "zz", "0" * 32, "1" * 33, "BADID", "12 34"])
def test_invalid_trace_ids_are_rejected(bad: str) -> None:
    with pytest.raises(InvalidIdError):
        normalize_trace_id(bad)


@given(st.integers(min_value=1, max_value=(1 << 128) - 1))
def test_any_nonzero_128_bit_value_round_trips(value: int) -> None:
    assert int(normalize_trace_id(f"{value:x}"), 16) == value
    assert int(normalize_trace_id(f"{value:X}"), 16) == value
