"""The reading progress bar shows how much of the input's bytes were read (a percentage and the
time left), for streamed JSON lines, gzip and documents read whole, through the real console
script on a real pseudo-terminal; piped output and stdin show no percentage."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import pytest

from .run import spanscope
from .terminal import progress_on_a_terminal

PERCENT = re.compile(r"(\d{1,3})%")


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Generated shop traces: JSON lines past the size read whole (so streamed), the same
    gzip-compressed, and a Jaeger JSON document."""
    folder = tmp_path_factory.mktemp("shop")
    lines = folder / "shop.jsonl"
    assert spanscope("generate", "--traces", "4000", "-o", str(lines)).returncode == 0
    packed = folder / "shop.jsonl.gz"
    packed.write_bytes(gzip.compress(lines.read_bytes(), compresslevel=1))
    jaeger = folder / "shop.json"
    generated = spanscope("generate", "--traces", "4000", "--to", "jaeger", "-o", str(jaeger))
    assert generated.returncode == 0
    return {"lines": lines, "gzip": packed, "jaeger": jaeger}


def percentages(drawn: str) -> list[int]:
    return [int(found) for line in drawn.splitlines() for found in PERCENT.findall(line)]


@pytest.mark.parametrize("kind", ["lines", "gzip", "jaeger"])
def test_one_file_shows_a_percentage_that_reaches_100(shop: dict[str, Path], kind: str) -> None:
    drawn = progress_on_a_terminal("info", str(shop[kind]), columns=100)
    shown = percentages(drawn)
    assert shown and shown[-1] == 100, drawn[-2000:]
    assert shown == sorted(shown), shown  # it never goes back
    # Read long enough for the bar to be drawn part way, with the time left beside it.
    assert any(0 < share < 100 for share in shown), shown
    assert re.search(r"\d:\d\d:\d\d left", drawn), drawn[-2000:]


def test_analyze_shows_the_percentage_too(shop: dict[str, Path]) -> None:
    drawn = progress_on_a_terminal("analyze", str(shop["lines"]), "-j", "1", columns=100)
    assert percentages(drawn)[-1:] == [100], drawn[-2000:]


def test_several_files_are_weighed_by_their_sizes(shop: dict[str, Path]) -> None:
    drawn = progress_on_a_terminal("info", str(shop["lines"]), str(shop["jaeger"]), columns=100)
    shown = percentages(drawn)
    assert "2 inputs" in drawn
    assert shown and shown[-1] == 100 and shown == sorted(shown), shown
    assert any(0 < share < 100 for share in shown), shown


def test_an_80_column_terminal_keeps_the_share_and_the_times(shop: dict[str, Path]) -> None:
    drawn = progress_on_a_terminal("info", str(shop["lines"]), columns=80)
    finished = [line for line in drawn.splitlines() if "100%" in line]
    assert finished, drawn[-2000:]
    line = finished[-1].strip()
    assert len(line) <= 80 and "shop.jsonl" in line and "spans" in line, line
    assert re.search(r"\d:\d\d:\d\d$", line), line  # the time elapsed, not cut


def test_stdin_has_no_percentage(shop: dict[str, Path]) -> None:
    text = progress_on_a_terminal("info", "-", stdin=shop["lines"])
    assert "<stdin>" in text and "spans" in text
    assert not PERCENT.search(text) and " left" not in text


def test_piped_output_has_no_progress(shop: dict[str, Path]) -> None:
    result = spanscope("info", str(shop["lines"]))
    assert result.returncode == 0
    assert "reading" not in result.stderr and not PERCENT.search(result.stderr)
    assert "\x1b[" not in result.stderr


def test_analyze_of_a_folder_shows_a_percentage(tmp_path: Path) -> None:
    for seed in range(1, 7):
        made = spanscope(
            "generate",
            "--traces",
            "300",
            "--seed",
            str(seed),
            "-o",
            str(tmp_path / f"{seed}.jsonl"),
        )
        assert made.returncode == 0
    for jobs in ("1", "2"):  # one process; shards in worker processes
        drawn = progress_on_a_terminal("analyze", str(tmp_path), "-j", jobs, columns=100)
        shown = percentages(drawn)
        assert shown and shown[-1] == 100 and shown == sorted(shown), (jobs, shown)


def test_analyze_in_two_processes_reaches_100_on_80_columns(tmp_path: Path) -> None:
    # Past split.MIN_BYTES: read and analysed in two processes; a long name is cut to fit.
    big = tmp_path / "exported-on-the-night-of-the-incident.jsonl"
    assert spanscope("generate", "--traces", "7000", "-o", str(big)).returncode == 0
    drawn = progress_on_a_terminal("analyze", str(big), "-j", "2", columns=80)
    lines = [line.strip() for line in drawn.splitlines() if "reading and analysing" in line]
    assert lines and all(len(line) <= 80 for line in lines), lines
    shown = percentages(drawn)
    assert shown and shown[-1] == 100 and shown == sorted(shown), shown


def test_analysing_shows_the_time_left_on_80_columns(shop: dict[str, Path]) -> None:
    # Reading a document whole is over long before its traces are analysed (30 s of 40 for a
    # 1M-span protobuf file), so that bar says how long is left too.
    drawn = progress_on_a_terminal("analyze", str(shop["lines"]), "-j", "1", columns=80)
    lines = [line.strip() for line in drawn.splitlines() if line.startswith("analysing")]
    assert any(re.search(r"/4,000 traces \d:\d\d:\d\d \d:\d\d:\d\d left$", line) for line in lines)
    assert all(len(line) <= 80 for line in lines), lines
