"""``spanscope analyze`` on one big JSON-lines file in two processes gives the one-process report.

The size threshold is lowered so small generated files take the two-process path; everything
else is real: the fork, the pipe, the traces cut in two at the file's middle.
"""

from __future__ import annotations

import gzip
import json
import os
import sys
from pathlib import Path

import pytest

from spanscope.cli import split
from spanscope.formats import FORMATS, otlp_json
from spanscope.synthetic import generate_spans

from ..taken import record_taken
from .terminal import on_terminal
from .test_sharded import run


@pytest.fixture(scope="module")
def shop(tmp_path_factory) -> Path:
    # The writer's lines hold 512 spans, so traces straddle lines and the cut.
    path = tmp_path_factory.mktemp("split") / "shop.jsonl"
    with path.open("wb") as out:
        otlp_json.write_lines(generate_spans(700, seed=3), out)
    return path


@pytest.fixture
def taken(monkeypatch) -> list[bool]:
    """Lowers the size threshold and records whether each run took the two-process path."""
    monkeypatch.setattr(split, "MIN_BYTES", 0)
    return record_taken(monkeypatch, split, "analyze_split")


@pytest.mark.parametrize(
    "options",
    [
        ["--json"],
        ["--json", "--service", "payment", "--top", "3", "--jaeger-strict"],
        ["--folded", "-"],
        ["--slow-threshold", "50ms"],  # the text report
    ],
)
def test_two_processes_report_what_one_does(shop: Path, taken: list[bool], options) -> None:
    two = run(str(shop), "--jobs", "2", *options)
    one = run(str(shop), "--jobs", "1", *options)
    assert taken == [True]
    assert two.exit_code == one.exit_code == 0
    assert two.stdout == one.stdout and two.stderr == one.stderr
    if options == ["--json"]:
        report = json.loads(two.stdout)
        assert report["inputs"][0]["spans"] == report["summary"]["spans"] > 5000
        assert report["anti_patterns"] and report["errors"]["origins"]


def test_a_warning_or_an_error_goes_the_one_process_way(
    shop: Path, taken: list[bool], tmp_path: Path
) -> None:
    lines = shop.read_bytes().splitlines(keepends=True)
    warned = tmp_path / "warned.jsonl"
    warned.write_bytes(
        b"".join(lines[:-1]) + lines[-1].replace(b'"kind":2', b'"kind":"SPAN_KIND_SERVER"')
    )
    broken = tmp_path / "broken.jsonl"
    broken.write_bytes(b"".join(lines) + lines[0][:100] + b"\n")
    for path, code in ((warned, 0), (broken, 2)):
        two = run(str(path), "--json", "--jobs", "2")
        one = run(str(path), "--json", "--jobs", "1")
        assert (two.exit_code, two.stdout, two.stderr) == (one.exit_code, one.stdout, one.stderr)
        assert two.exit_code == code and (code or "warning" in two.stderr)
    assert taken == [False, False]


def test_only_plain_json_lines_are_cut(shop: Path, tmp_path: Path, monkeypatch) -> None:
    assert split.cut_point(str(shop), None) is None  # smaller than MIN_BYTES
    monkeypatch.setattr(split, "MIN_BYTES", 0)
    cut = split.cut_point(str(shop), None)
    data = shop.read_bytes()
    assert cut is not None and 0 < cut < len(data) and data[cut - 1 : cut] == b"\n"
    assert split.cut_point(str(shop), "jaeger-json") is None
    document = tmp_path / "document.json"
    document.write_text(json.dumps(json.loads(data.splitlines()[0]), indent=2))
    zipped = tmp_path / "shop.jsonl.gz"
    zipped.write_bytes(gzip.compress(data))
    one_line = tmp_path / "one.jsonl"
    one_line.write_bytes(data.splitlines(keepends=True)[0])
    zipkin_lines = tmp_path / "zipkin.jsonl"  # JSON lines, but not OTLP: read as detected
    zipkin_lines.write_text(
        "".join(
            f'{{"traceId": "{i + 1:016x}", "id": "{i + 1:016x}", "name": "x"}}\n' for i in range(50)
        )
    )
    for path in (document, zipped, one_line, zipkin_lines):
        assert split.cut_point(str(path), None) is None


def test_a_child_that_dies_leaves_the_ordinary_way(shop: Path, taken: list[bool], monkeypatch):
    def die(*args) -> None:
        os._exit(3)

    monkeypatch.setattr(split, "_second_half", die)
    two = run(str(shop), "--json", "--jobs", "2")
    one = run(str(shop), "--json", "--jobs", "1")
    assert taken == [False]
    assert two.exit_code == 0 and two.stdout == one.stdout


def test_a_terminal_gets_a_progress_bar(shop: Path, tmp_path: Path) -> None:
    """Standard error a terminal (a real pty): the two-process path draws its bar there, and
    the report on standard output is the one-process report."""
    script = (
        "import sys\nfrom spanscope.cli import split, main\nsplit.MIN_BYTES = 0\n"
        f"sys.argv = ['spanscope', 'analyze', {str(shop)!r}, '--json', '--jobs', '2']\nmain()\n"
    )
    done = on_terminal(
        [sys.executable, "-c", script],
        stream="stderr",
        # the whole line, however long the temporary path; not CI, where no bar is drawn
        env={"CI": None, "COLUMNS": "300"},
    )
    assert done.returncode == 0
    assert "reading and analysing" in done.text and "(2 processes)" in done.text
    one = run(str(shop), "--json", "--jobs", "1")
    assert done.other == one.stdout


def test_the_names_it_cuts_are_the_readers_own() -> None:
    """split.py names the OTLP JSON formats without importing their reader (its start-up):
    the names must stay the reader's."""
    assert split._OTLP_JSON == otlp_json.NAME
    assert {split._OTLP_JSON, split._LINES} <= set(FORMATS)
