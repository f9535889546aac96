"""Every command names an OTLP JSON-lines input ``otlp-jsonl`` (summary, ``--json``), the big
file analysed in two processes included, and takes ``--format otlp-jsonl``; run through the
real console script."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from spanscope.cli.split import cut_point

from .run import spanscope
from .test_info_convert import OTLP, info_json
from .test_info_format import LINES


@pytest.fixture(scope="module")
def big_lines(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Generated JSON lines past ``split.MIN_BYTES``, their lines longer than the head."""
    path = tmp_path_factory.mktemp("big") / "shop.jsonl"
    assert spanscope("generate", "--traces", "7000", "-o", str(path)).returncode == 0
    return path


def analyze_inputs(*args: str) -> list[dict]:
    result = spanscope("analyze", "--json", *args)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)["inputs"]


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_analyze_names_json_lines_otlp_jsonl(big_lines: Path, jobs: str) -> None:
    inputs = analyze_inputs(str(big_lines), "-j", jobs)
    assert [row["format"] for row in inputs] == ["otlp-jsonl"]
    assert inputs[0]["spans"] > 0


def test_the_split_still_takes_json_lines_by_either_name(big_lines: Path) -> None:
    # The two-process path is chosen by the format name: a new name must not turn it off.
    cut = cut_point(str(big_lines), None)
    assert cut is not None
    assert cut_point(str(big_lines), "otlp-jsonl") == cut_point(str(big_lines), "otlp-json") == cut


def test_analyze_text_summary_and_info_table_say_otlp_jsonl() -> None:
    text = spanscope("analyze", str(LINES), str(OTLP))
    assert text.returncode == 0, text.stderr
    assert ": otlp-jsonl, " in text.stdout and ": otlp-json, " in text.stdout
    table = spanscope("info", str(LINES))
    assert "otlp-jsonl" in table.stdout


@pytest.mark.parametrize("name", ["otlp-jsonl", "otlp-json"])
def test_either_name_is_accepted_and_reads_the_same(name: str, tmp_path: Path) -> None:
    expected = info_json(str(LINES))
    forced = info_json("--format", name, str(LINES))
    assert forced["spans"] == expected["spans"] > 0
    assert forced["inputs"][0]["format"] == "otlp-jsonl"
    assert analyze_inputs("--format", name, str(LINES))[0]["spans"] == expected["spans"]
    out = tmp_path / "out.jsonl"
    converted = spanscope("convert", "--format", name, str(LINES), str(out))
    assert converted.returncode == 0, converted.stderr
    assert info_json(str(out))["spans"] == expected["spans"]
    assert spanscope("lint", "--format", name, str(LINES)).returncode in (0, 1)
