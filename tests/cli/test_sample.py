"""``spanscope sample`` through the real console script."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from spanscope.cli import main
from spanscope.formats import read_spans

from .markup_traces import LATE, MARKUP_SERVICE, MS, START, otlp_document, span_json
from .run import spanscope
from .test_info_convert import OTLP


def test_sample_reports_and_writes_the_kept_traces(tmp_path):
    source = tmp_path / "shop.jsonl"
    assert spanscope("generate", "--traces", "1000", "-o", str(source)).returncode == 0
    out = tmp_path / "kept.pb"
    result = spanscope(
        "sample", str(source), "-p", "errors", "-p", "probability=10%", "-o", str(out), "--json"
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["traces"] == 1000
    assert report["error_traces"]["kept"] == report["error_traces"]["total"] > 0
    assert report["error_traces"]["share"] == 1.0
    kept = list(read_spans(str(out)))
    assert len({s.trace_id for s in kept}) == report["traces_kept"]
    assert len(kept) == report["spans_kept"]
    said = f"wrote the {report['spans_kept']:,} spans of the kept traces to {out} (otlp-proto)"
    assert said in result.stderr  # which file holds them, as convert says it


def test_sample_text_report_hints_at_what_it_loses():
    result = spanscope("sample", str(OTLP), "-p", "probability=0%")
    assert result.returncode == 0, result.stderr
    assert "kept 0 of" in result.stdout
    assert "hint" in result.stdout and "latency>=" in result.stdout


def test_bad_policy_is_a_usage_error_naming_the_option():
    result = spanscope("sample", str(OTLP), "-p", "latency>=soon")
    assert result.returncode == 2
    assert "--policy" in result.stderr and "invalid duration" in result.stderr


def test_missing_file_is_reported_without_a_traceback(tmp_path):
    result = spanscope("sample", str(tmp_path / "nope.json"), "-p", "all")
    assert result.returncode == 2
    assert "nope.json" in result.stderr


# -- found by trying every example of the README and of --help, each fixed and held here --


def test_sample_prints_policies_with_markup_as_typed(tmp_path: Path) -> None:
    """'-p service=db[/red]svc' (a service named so) stopped the report with a traceback."""
    traces = tmp_path / "traces.json"
    spans = [span_json(LATE, "00000000000000f1", "", "GET /x", START, START + MS)]
    traces.write_text(json.dumps(otlp_document(MARKUP_SERVICE, spans)))
    result = CliRunner().invoke(main, ["sample", str(traces), "-p", f"service={MARKUP_SERVICE}"])
    assert result.exit_code == 0, result.output
    assert f"policies service={MARKUP_SERVICE}\n" in result.output
    assert "kept 1 of 1 traces" in result.output
    rows = [line.split() for line in result.output.splitlines()]
    assert [f"service={MARKUP_SERVICE}", "1"] in rows  # the "kept by" table
