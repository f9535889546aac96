"""``spanscope diff``'s text in a file or pipe: 160 columns as analyze's report (it was 80, so
the example trace id of a new error was cut to 'e30966194791c2e9823d11eda1…' and names to
'shop.checko…'), names folded rather than cut when a column is narrow, and a change of time in
the units of the columns beside it ('+26.9ms' beside '35.6ms', not '+26.9 ms')."""

from __future__ import annotations

import re

import pytest

from spanscope.formats import write_spans
from spanscope.synthetic import generate_spans

from .run import spanscope


@pytest.fixture(scope="module")
def piped(tmp_path_factory: pytest.TempPathFactory) -> str:
    folder = tmp_path_factory.mktemp("diff layout")
    for name, seed, next_release in (("before", 3, False), ("after", 7, True)):
        with open(folder / f"{name}.jsonl", "wb") as out:
            write_spans(
                generate_spans(1000, seed=seed, next_release=next_release), out, "otlp-jsonl"
            )
    result = spanscope("diff", str(folder / "before.jsonl"), str(folder / "after.jsonl"))
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_the_example_trace_of_a_new_error_is_whole(piped: str) -> None:
    (row,) = [
        line
        for line in piped.splitlines()
        if line.startswith(" new shipping: POST CarrierRateLimited")
    ]
    assert re.search(r"\b[0-9a-f]{32}\b", row), row
    assert "…" not in piped


def test_operation_names_are_whole_in_a_pipe(piped: str) -> None:
    assert "checkout: shop.checkout/PlaceOrder" in piped
    assert "inventory: shop.inventory/ReserveItems" in piped


def test_changes_of_time_read_in_the_units_beside_them(piped: str) -> None:
    (row,) = [
        line for line in piped.splitlines() if line.startswith(" inventory: SELECT shop.stock")
    ]
    change = row.split()[5]
    assert re.fullmatch(r"\+[0-9.]+(ms|µs)", change), row
    assert " ms " not in row
