"""``spanscope diff``'s text cuts names from the traces as analyze's report does
(``report.tables.literal``: escaped, cut to 200 characters): a huge span name no longer lays
out for seconds, and names that look like rich markup print as they are. The JSON keeps them
whole."""

from __future__ import annotations

import json
from pathlib import Path

import msgspec
import pytest

from spanscope.formats import write_spans
from spanscope.report.tables import MAX_CELL
from spanscope.synthetic import generate_spans

from ..cli.test_info_convert import spanscope

LONG = 20_000  # a hundred times the cut
CHECKOUT = "POST /api/[/red]checkout " + "x" * LONG
STOCK = "SELECT [dbo].[stock] " + "y" * LONG


def _renamed(path: Path, traces: int, seed: int, next_release: bool = False) -> None:
    names = {"POST /api/checkout": CHECKOUT, "SELECT shop.stock": STOCK}

    def renamed(span):
        return msgspec.structs.replace(span, name=names.get(span.name, span.name))

    spans = generate_spans(traces, seed=seed, next_release=next_release)
    with open(path, "wb") as out:
        write_spans(map(renamed, spans), out, "otlp-jsonl")


@pytest.fixture(scope="module")
def sides(tmp_path_factory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("long names")
    before, after = folder / "before.jsonl", folder / "after.jsonl"
    _renamed(before, 400, seed=1)
    _renamed(after, 400, seed=2, next_release=True)
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
