"""``spanscope diff``'s text cuts names from the traces as analyze's report does
(``report.tables.literal``: escaped, cut to 200 characters): a huge span name no longer lays
out for seconds, and names that look like rich markup print as they are. The JSON keeps them
whole."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from spanscope.report.tables import MAX_CELL

from ..cli.run import spanscope
from .shop_changes import write_renamed

LONG = 20_000  # a hundred times the cut
CHECKOUT = "POST /api/[/red]checkout " + "x" * LONG
STOCK = "SELECT [dbo].[stock] " + "y" * LONG


@pytest.fixture(scope="module")
def sides(tmp_path_factory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("long names")
    before, after = folder / "before.jsonl", folder / "after.jsonl"
    names = {"POST /api/checkout": CHECKOUT, "SELECT shop.stock": STOCK}
    write_renamed(before, 400, seed=1, names=names)
    write_renamed(after, 400, seed=2, names=names, next_release=True)
    return before, after


def test_huge_and_markup_names_are_cut_and_printed_literally(sides):
    result = spanscope("diff", *map(str, sides), "--fail-if-slower", "20%", "--percentile", "p50")
    assert result.returncode == 1, result.stderr
    out = result.stdout
    # The headline, the endpoint's title and its table: the names as they are, then cut
    # (rich folds a long title or cell onto more lines).
    assert "  • frontend: POST /api/[/red]checkout xxxx" in out
    assert out.count("frontend: POST /api/[/red]checkout ") >= 2
    assert out.count("inventory: SELECT [dbo].[stock]") >= 2
    assert "x" * MAX_CELL not in out and "y" * MAX_CELL not in out
    assert "x…" in out and "y…" in out
    assert max(map(len, out.splitlines())) < 4 * MAX_CELL
    # The gate's message on stderr is cut the same way.
    assert "regression: frontend: POST /api/[/red]checkout xxxx" in result.stderr
    assert "x" * MAX_CELL not in result.stderr and "x… p50" in result.stderr


def test_the_json_keeps_the_names_whole(sides):
    result = spanscope("diff", *map(str, sides), "--json")
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    assert CHECKOUT in {endpoint["operation"] for endpoint in found["endpoints"]}
    assert STOCK in {operation["operation"] for operation in found["operations"]}
    # The headline is sentences to read: its names are cut as the text's are.
    assert found["headline"] and all(len(line) < 4 * MAX_CELL for line in found["headline"])
