"""A store that cannot be opened or read exits 2 from every command that takes ``--db``, with
one "error: ..." line naming it and no traceback, as a file that cannot be read does (1 is a
command's own answer: a gate that tripped, a drawing with nothing to draw; Ctrl-C is click's
"Aborted!").

Real stores: a DuckDB file that is not ours, a trace file, a directory, a missing file, a
DuckDB file another process holds open for writing (a real child process), nobody answering at
a server's or ClickHouse's address, a chDB folder that does not exist (none is made) and one
that holds no ClickHouse data (nothing is written into it). Each command runs in
a real ``spanscope`` child process, so the exit code is the one a shell sees.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from spanscope.formats import encode_spans
from spanscope.store import open_store
from spanscope.synthetic import generate_spans

from .run import spanscope

# Every command that reads a store, with what it needs besides --db.
COMMANDS = [
    ("analyze",),
    ("convert", "--to", "otlp-json", "-o", "out.json"),
    ("diff", "--since", "1h"),
    ("flamegraph", "-o", "flame.svg"),
    ("info",),
    ("lint",),
    ("query",),
    ("query", "--metrics", "--since", "1h"),
    ("sample", "-p", "errors", "-o", "sampled.jsonl"),
    ("servicemap", "-o", "map.html"),
    ("view", "-o", "page.html"),
]


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, str]]]:
    """A folder of things that are not readable stores, each with what the error says."""
    folder = tmp_path_factory.mktemp("bad-stores")
    spans = list(generate_spans(10, seed=3))
    (folder / "trace.json").write_bytes(encode_spans(spans, "jaeger"))
    (folder / "folder").mkdir()
    other = duckdb.connect(str(folder / "other.duckdb"))
    other.execute("CREATE TABLE file (a INTEGER)")
    other.close()
    with open_store(folder / "held.duckdb") as store:
        store.write(spans)
    # Another program holds held.duckdb open for writing (DuckDB then lets no one read it).
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import duckdb, sys; held = duckdb.connect(sys.argv[1]); print('held', flush=True); "
         "sys.stdin.read()",
         str(folder / "held.duckdb")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )  # fmt: skip
    # Once it says so, it holds the file (a fixed wait could end before it did, under load).
    assert holder.stdout is not None and holder.stdout.readline() == b"held\n"
    said = {
        "missing.duckdb": "missing.duckdb: no such store",
        "trace.json": "trace.json: a trace file (jaeger-json), not a store",
        "folder": "folder: a directory, not a store",
        "other.duckdb": "other.duckdb: not a spanscope store",
        "held.duckdb": "held.duckdb is open for writing in another process",
        "http://127.0.0.1:9": "http://127.0.0.1:9: no spanscope server answers there",
        "clickhouse://127.0.0.1:9/traces": "cannot reach ClickHouse",
        # A read makes no chDB folder (the engine would make it, and its tmp/) ...
        "chdb:typo": "chdb:typo: no such store",
        # ... nor writes into a folder that holds no ClickHouse data
        "chdb:folder": "chdb:folder: not a store: the folder holds no ClickHouse data",
    }
    try:
        yield folder, said
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(30)


@pytest.mark.parametrize("command", COMMANDS, ids=lambda command: "-".join(command[:2]))
def test_an_unreadable_store_exits_2_from_every_command(
    stores: tuple[Path, dict[str, str]], command: tuple[str, ...]
) -> None:
    folder, said = stores
    before = sorted(path.name for path in folder.iterdir())
    for db, message in said.items():
        done = spanscope(*command, "--db", db, cwd=folder)
        assert done.returncode == 2, (db, done.returncode, done.stderr)
        assert f"error: {db}" in done.stderr or f"error: {message}" in done.stderr, done.stderr
        assert message in done.stderr, done.stderr
        assert "Traceback" not in done.stderr, done.stderr
    assert sorted(path.name for path in folder.iterdir()) == before  # nothing written
    assert not list((folder / "folder").iterdir())
