"""``--trace-id`` takes the start of an id as reports and pages print it ("8e8bdfe2a873…"), in
every command that selects traces, from files and from a store alike: a person copies a cut id
from `query`'s list or a report into `analyze`, `lint`, `info` or `convert` (they were told
"--trace-id takes whole ids"). A start keeps every trace whose id starts so; a value of four
hex digits or more is also a whole id (a 64-bit id written without its zeros)."""

from __future__ import annotations

import json
from pathlib import Path

import msgspec
import pytest
from click.testing import CliRunner, Result

from spanscope.assembly import assemble
from spanscope.cli import main
from spanscope.formats import encode_spans, read_spans
from spanscope.store import open_store
from spanscope.synthetic import generate_spans

T0 = 1_764_150_000_000_000_000
SHARED = "abcd1234"


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, list[str]]:
    folder = tmp_path_factory.mktemp("starts")
    path = folder / "shop.jsonl"
    spans = list(generate_spans(80, seed=5, start_ns=T0))
    # Three traces whose ids share their first eight digits.
    sharing = sorted({span.trace_id for span in spans})[:3]
    spans = [
        msgspec.structs.replace(span, trace_id=SHARED + span.trace_id[len(SHARED) :])
        if span.trace_id in sharing
        else span
        for span in spans
    ]
    path.write_bytes(encode_spans(spans, "otlp-jsonl"))
    db = folder / "shop.duckdb"
    with open_store(db) as store:
        store.write(list(read_spans(str(path))))
    ids = sorted(t.trace_id for t in assemble(read_spans(str(path))) if t.roots)
    return path, db, ids


def _unique_start(ids: list[str], whole: str) -> str:
    return next(whole[:n] for n in range(6, 32) if sum(i.startswith(whole[:n]) for i in ids) == 1)


@pytest.mark.parametrize("source", ["file", "db"])
@pytest.mark.parametrize("cut", ["", "…"])
def test_analyze_takes_the_start_of_an_id(shop, source: str, cut: str) -> None:
    path, db, ids = shop
    whole = ids[17]
    start = _unique_start(ids, whole)
    where = [str(path)] if source == "file" else ["--db", str(db)]
    done = run("analyze", *where, "--json", "--trace-id", start + cut)
    assert done.exit_code == 0, done.output
    report = json.loads(done.stdout)
    assert report["summary"]["traces"] == 1
    assert report["slowest_traces"][0]["trace_id"] == whole


@pytest.mark.parametrize("source", ["file", "db"])
def test_a_shared_start_keeps_every_trace_it_starts(shop, source: str) -> None:
    path, db, ids = shop
    assert sum(i.startswith(SHARED) for i in ids) == 3
    where = [str(path)] if source == "file" else ["--db", str(db)]
    for start in (SHARED, SHARED[:6] + "…"):
        done = run("info", *where, "--json", "--trace-id", start)
        assert done.exit_code == 0, done.output
        assert json.loads(done.stdout)["traces"] == 3


def test_lint_and_convert_take_it_too(shop, tmp_path: Path) -> None:
    path, _, ids = shop
    whole = ids[3]
    start = _unique_start(ids, whole) + "…"
    linted = run("lint", str(path), "--json", "--trace-id", start, "--fail-on", "never")
    assert linted.exit_code == 0, linted.output
    assert json.loads(linted.stdout)["traces"] == 1
    out = tmp_path / "one.jsonl"
    converted = run("convert", str(path), str(out), "--trace-id", start)
    assert converted.exit_code == 0, converted.output
    assert {s.trace_id for s in read_spans(str(out))} == {whole}


@pytest.mark.parametrize("value", ["abc…", "xyz12345", "1" * 33])
def test_what_is_neither_an_id_nor_its_start_is_a_usage_error(shop, value: str) -> None:
    path, _, _ = shop
    done = CliRunner().invoke(main, ["analyze", str(path), "--trace-id", value])
    assert done.exit_code == 2
    assert "--trace-id" in done.output and "Traceback" not in done.output


def test_leading_zeros_do_not_matter_as_jaeger_shows_ids(tmp_path: Path) -> None:
    """Jaeger prints an id without its leading zeros ('c55a…' for '000c55a…'), and a 64-bit
    id is padded with 16 here: a start matches with or without them; view picks the one
    that starts as typed when both match."""
    spans = list(generate_spans(3, seed=8, start_ns=T0))
    given = ["000c55aa0ef6" + "1" * 20, "c55a40a3" + "2" * 24, "0" * 16 + "00f067aa0ba902b7"]
    renamed = dict(zip(sorted({s.trace_id for s in spans}), given, strict=True))
    spans = [msgspec.structs.replace(s, trace_id=renamed[s.trace_id]) for s in spans]
    path = tmp_path / "zeros.jsonl"
    path.write_bytes(encode_spans(spans, "otlp-jsonl"))
    for start, expected in (("c55a", 2), ("000c55a", 2), ("f067aa0b", 1), ("00f067aa0b…", 1)):
        done = run("info", str(path), "--json", "--trace-id", start)
        assert done.exit_code == 0, done.output
        assert json.loads(done.stdout)["traces"] == expected, start
    page = tmp_path / "one.html"
    picked = run("view", str(path), "--trace-id", "000c55a…", "-o", str(page))
    assert picked.exit_code == 0, picked.output
    assert given[0] in page.read_text() and given[1] not in page.read_text()
    dots = run("view", str(path), "--trace-id", "c55a40a3...", "-o", str(page))
    assert dots.exit_code == 0, dots.output  # "..." as "…": it said "no trace with id c55a40a3..."


@pytest.mark.parametrize("source", ["file", "db"])
def test_view_takes_a_start_as_analyze_does(shop, tmp_path: Path, source: str) -> None:
    # view picked a trace from a file by any start, 'bdd' too, where analyze, and view from a
    # store, take a start of 4 digits or more and read a shorter one as a whole id.
    path, db, ids = shop
    where = [str(path)] if source == "file" else ["--db", str(db)]
    whole = ids[-1]
    page = tmp_path / "one.html"
    short = run("view", *where, "--trace-id", whole[:3], "-o", str(page))
    assert short.exit_code != 0 and not page.exists()
    assert f"no trace with id {whole[:3]}" in short.output or "no traces" in short.output
    start = _unique_start(ids, whole)
    done = run("view", *where, "--trace-id", start, "-o", str(page))
    assert done.exit_code == 0, done.output
    assert whole in page.read_text()
