"""``model.attributes.attribute_int``: a status code as exporters write it, and nothing else."""

from __future__ import annotations

import pytest

from spanscope.model.attributes import attribute_int


@pytest.mark.parametrize(
    ("value", "number"),
    [
        (500, 500),
        ("500", 500),
        ("0500", 500),
        (500.0, 500),
        (-1, -1),
        (500.5, None),
        ("500.0", None),
        ("-1", None),
        (" 500", None),
        ("", None),
        (True, None),
        (None, None),
        ([500], None),
        # Digits of other scripts: str.isdecimal and int() read them, the stores' SQL cannot.
        ("５００", None),
        ("٥٠٠", None),
        ("२", None),
        # Past int()'s 4,300 digits: no number, not a ValueError that ends the read.
        ("9" * 4300, int("9" * 4300)),
        ("9" * 5000, None),
    ],
)
def test_attribute_int_reads_ints_integral_floats_and_ascii_digits(value, number) -> None:
    assert attribute_int(value) == number
