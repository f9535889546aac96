"""A store's "found nothing" line says the kind of reason a file's does, in the same words
(``store_feedback.none_found`` built from ``match_feedback``'s pieces), and prints names as
text: ``--service '[red]x[/red]'`` is shown as typed, not as rich markup.

The same spans in a trace file and a real DuckDB store (and a real chDB folder, read by a
``spanscope`` child process: chDB serves one folder per process); each line from the store is
the file's with the store's name for the file's.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from spanscope.assembly import group_by_trace
from spanscope.cli import main
from spanscope.formats import decode_spans, encode_spans
from spanscope.store import open_store
from spanscope.synthetic import generate_spans

from .run import spanscope

T0 = 1_764_150_000_000_000_000  # 2025-11-26T09:40:00Z


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("none-found")
    groups = group_by_trace(generate_spans(60, seed=4, start_ns=T0))
    path = folder / "shop.json"
    path.write_bytes(encode_spans([span for group in groups.values() for span in group], "jaeger"))
    db = folder / "shop.duckdb"
    with open_store(db) as store:
        store.write(list(decode_spans(path.read_bytes(), "jaeger")))
    return path, db


def _warning(*args: str) -> str:
    done = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert done.exit_code == 0, done.output
    (line,) = [line for line in done.stderr.splitlines() if line.startswith("warning:")]
    return line


@pytest.mark.parametrize(
    ("chosen", "said"),
    [
        (("--service", "chekout"), "it has no service 'chekout' (its services: checkout, cart,"),
        (
            ("--operation", "GET /api/cartt"),
            "it has no operation 'GET /api/cartt' (its operations: GET /api/cart, ",
        ),
        (
            ("--operation", "checkout:POST /api/chekout"),
            "it has no operation 'checkout:POST /api/chekout' (the operations of checkout: ",
        ),
        (("--min-duration", "1h"), "no trace lasts 1h00m or more (the longest: "),
        (("--service", "[red]x[/red]"), "it has no service '[red]x[/red]' (its services: "),
        (("--operation", "[bold]GET"), "it has no operation '[bold]GET' (its operations: GET, "),
    ],
)
def test_a_store_says_why_as_the_file_does(
    shop: tuple[Path, Path], chosen: tuple[str, ...], said: str
) -> None:
    path, db = shop
    stored = _warning("analyze", "--db", str(db), *chosen, "--json")
    filed = _warning("analyze", str(path), *chosen, "--json")
    assert said in stored, stored
    assert stored == filed.replace(f"in {path} match", f"in {db} match")
    # lint reads a store the same way; query searches it itself, and says the same reason
    assert _warning("lint", "--db", str(db), *chosen, "--json") == stored
    if chosen[0] != "--operation" or ":" not in chosen[1]:
        queried = _warning("query", "--db", str(db), *chosen, "--json")
        assert said in queried, queried


def test_the_longest_is_the_longest_request(shop: tuple[Path, Path]) -> None:
    """The store has no "longest" query: narrowed by searches, it is still exact."""
    path, db = shop
    spans = decode_spans(path.read_bytes(), "jaeger")
    longest = max(span.duration_ns for span in spans)
    from spanscope.units import format_duration

    stored = _warning("analyze", "--db", str(db), "--min-duration", "10s", "--json")
    assert stored.endswith(f"(the longest: {format_duration(longest)})"), stored


def test_a_chdb_store_says_the_same(shop: tuple[Path, Path], tmp_path: Path) -> None:
    pytest.importorskip("chdb", reason="chdb (embedded ClickHouse) is not installed")
    path, db = shop
    folder = tmp_path / "ch"
    loaded = subprocess.run(
        [sys.executable, "-c",
         "import sys\nfrom spanscope.formats import decode_spans\n"
         "from spanscope.store import open_store\nfrom pathlib import Path\n"
         "with open_store('chdb:' + sys.argv[2]) as s:\n"
         "    s.write(list(decode_spans(Path(sys.argv[1]).read_bytes(), 'jaeger')))",
         str(path), str(folder)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert loaded.returncode == 0, loaded.stderr
    for chosen in (("--operation", "GET /api/cartt"), ("--min-duration", "1h")):
        done = spanscope("analyze", "--db", f"chdb:{folder}", *chosen)
        assert done.returncode == 0, done.stderr
        from_duckdb = _warning("analyze", "--db", str(db), *chosen, "--json")
        assert " ".join(done.stderr.split()).endswith(from_duckdb.split(" match ", 1)[1])
