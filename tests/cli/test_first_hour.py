"""What a newcomer meets in the first hour with the command line: mistyped options, bad input
and the examples of ``--help``, run through the real console script (subprocess) on real
fixture files. Every command must answer with one clear line and a non-zero exit code, never a
traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ..conftest import FIXTURES
from .test_info_convert import spanscope

OTLP = FIXTURES / "jaeger/internal__storage__v2__memory__fixtures__otel_traces_01.json"

# Each reading command with the arguments it needs besides its input.
READERS = {
    "info": [],
    "analyze": [],
    "lint": [],
    "convert": ["-", "--to", "otlp-json"],
    "sample": ["-p", "all"],
    "view": ["-o", "-"],
    "flamegraph": ["-o", "-"],
    "servicemap": ["-o", "-"],
    "load": ["--to", "http://127.0.0.1:9"],
}


@pytest.mark.parametrize("command", [*READERS, "diff"])
def test_an_unknown_format_is_a_usage_error_listing_the_formats(command: str) -> None:
    inputs = [str(OTLP), str(OTLP)] if command == "diff" else [str(OTLP), *READERS[command]]
    result = spanscope(command, *inputs, "--format", "otlp-protobuf")
    assert result.returncode == 2, result.stderr
    assert "'--format'" in result.stderr and "otlp-protobuf" in result.stderr
    assert "otlp-proto" in result.stderr and "zipkin-v1" in result.stderr


def test_a_known_format_alias_still_reads() -> None:
    result = spanscope("info", str(OTLP), "--format", "otlp", "--json")
    assert result.returncode == 0, result.stderr
    assert '"otlp-json"' in result.stdout


def partial_json_lines(tmp_path: Path) -> Path:
    """Three good OTLP JSON lines from a real fixture, then the fourth cut short."""
    line = json.dumps(json.loads(OTLP.read_text()), separators=(",", ":"))
    path = tmp_path / "partial.jsonl"
    path.write_text(f"{line}\n" * 3 + line[: len(line) // 2])
    return path


@pytest.mark.parametrize("target", ["zipkin", "jaeger", "otlp-json", "otlp-proto"])
def test_convert_stopped_by_strict_leaves_no_half_document(tmp_path: Path, target: str) -> None:
    partial = partial_json_lines(tmp_path)
    output = tmp_path / "out.data"
    output.write_bytes(b"an earlier output")
    result = spanscope("convert", "--strict", str(partial), str(output), "--to", target)
    assert result.returncode == 2, result.stderr
    assert "partial.jsonl: line 4" in result.stderr
    assert output.read_bytes() == b"an earlier output"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.data", "partial.jsonl"]


def test_convert_without_strict_writes_what_was_read_whole(tmp_path: Path) -> None:
    partial = partial_json_lines(tmp_path)
    output = tmp_path / "out.json"
    result = spanscope("convert", str(partial), str(output), "--to", "zipkin")
    assert result.returncode == 2 and "partial.jsonl: line 4" in result.stderr
    spans = json.loads(output.read_text())  # a whole document
    one = json.loads(spanscope("convert", str(OTLP), "-", "--to", "zipkin").stdout)
    assert len(spans) == 3 * len(one)
