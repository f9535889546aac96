"""The text report's inputs: each named up to ten, counted per format past that, errors named."""

from __future__ import annotations

import io
from pathlib import Path

from click.testing import CliRunner
from rich.console import Console

from spanscope.analysis.results import InputSummary
from spanscope.cli import main
from spanscope.formats import write_spans
from spanscope.report.inputs import LISTED, print_inputs
from spanscope.synthetic import generate_spans


def _rendered(inputs: list[InputSummary]) -> str:
    out = io.StringIO()
    print_inputs(inputs, Console(file=out, width=100, color_system=None))
    return out.getvalue()


def _one_file_per_trace(directory: Path, traces: int, format: str, suffix: str) -> int:
    """Writes the first ``traces`` traces of the synthetic shop one file each; their spans."""
    by_trace: dict[str, list] = {}
    for span in generate_spans(traces * 30, seed=5):
        by_trace.setdefault(span.trace_id, []).append(span)
    chosen = list(by_trace.values())[:traces]
    for number, spans in enumerate(chosen):
        with open(directory / f"{number:03}{suffix}", "wb") as out:
            write_spans(spans, out, format)
    return sum(len(spans) for spans in chosen)


def test_a_directory_of_many_files_is_one_line(tmp_path: Path) -> None:
    jaeger = _one_file_per_trace(tmp_path, 12, "jaeger-json", ".json")
    result = CliRunner().invoke(main, ["analyze", str(tmp_path)], terminal_width=200)
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if line.startswith("input")]
    assert lines == [f"input 12 files in {tmp_path}: jaeger-json, {jaeger:,} spans"]


def test_mixed_formats_are_counted_per_format(tmp_path: Path) -> None:
    jaeger = _one_file_per_trace(tmp_path, 8, "jaeger-json", ".json")
    zipkin_dir = tmp_path / "z"
    zipkin_dir.mkdir()
    zipkin = _one_file_per_trace(zipkin_dir, 4, "zipkin-v2", ".json")
    files = sorted(str(p) for p in tmp_path.iterdir() if p.is_file())
    files += sorted(str(p) for p in zipkin_dir.iterdir())
    result = CliRunner().invoke(main, ["analyze", *files], terminal_width=300)
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if line.startswith("input")]
    assert lines == [
        f"input 12 files in {tmp_path}: jaeger-json 8 files, {jaeger:,} spans; "
        f"zipkin-v2 4 files, {zipkin:,} spans"
    ]


def test_up_to_ten_inputs_are_each_named(tmp_path: Path) -> None:
    spans = _one_file_per_trace(tmp_path, LISTED, "jaeger-json", ".json")
    result = CliRunner().invoke(main, ["analyze", str(tmp_path)], terminal_width=200)
    lines = [line for line in result.output.splitlines() if line.startswith("input")]
    assert len(lines) == LISTED
    assert lines[0].startswith(f"input {tmp_path / '000.json'}: jaeger-json, ")
    assert sum(int(line.rsplit(", ", 1)[1].split()[0]) for line in lines) == spans


def test_inputs_with_errors_are_still_named() -> None:
    good = [InputSummary(f"traces/{n}.json", "jaeger-json", 20) for n in range(20)]
    bad = [InputSummary(f"traces/bad{n}.json", "", 0, f"line {n}: truncated") for n in range(13)]
    text = _rendered(good + bad)
    named = [line for line in text.splitlines() if "truncated" in line]
    assert named[0] == "input traces/bad0.json: ?, 0 spans (line 0: truncated)"
    assert len(named) == LISTED
    assert "input 33 files in traces: jaeger-json 20 files, 400 spans; ? 13 files, 0 spans" in text
    assert "3 more inputs with an error (--json lists every input)" in text


def test_names_with_markup_print_as_they_are() -> None:
    hostile = [InputSummary("[red]x[/].json", "jaeger-json", 3, "[bold]boom")]
    assert _rendered(hostile).strip() == "input [red]x[/].json: jaeger-json, 3 spans ([bold]boom)"
    many = [InputSummary(f"[b]dir/{n}.json", "jaeger-json", 1) for n in range(LISTED + 1)]
    assert "input 11 files in [b]dir: jaeger-json, 11 spans" in _rendered(many)


def test_standard_input_or_unrelated_folders_name_no_folder() -> None:
    stdin = [InputSummary("-", "otlp-json", 1)] + [
        InputSummary(f"a/{n}.json", "otlp-json", 1) for n in range(LISTED)
    ]
    assert "input 11 files: otlp-json, 11 spans" in _rendered(stdin)
    mixed = [InputSummary(f"/abs/{n}.json", "otlp-json", 1) for n in range(LISTED)]
    mixed.append(InputSummary("rel.json", "otlp-json", 1))
    assert "input 11 files: otlp-json, 11 spans" in _rendered(mixed)
