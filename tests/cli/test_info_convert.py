"""``spanscope info`` and ``spanscope convert`` on real fixture files, through the real
console script (subprocess), as a user runs them."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from spanscope.cli import main

from ..conftest import FIXTURES
from .markup_traces import LATE, MS, START, otlp_document, span_json
from .run import spanscope

ZIPKIN = FIXTURES / "zipkin/zipkin-lens__testdata__messaging-kafka.json"
OTLP = FIXTURES / "jaeger/internal__storage__v2__memory__fixtures__otel_traces_01.json"
SKEW = FIXTURES / "zipkin/zipkin-lens__testdata__skew.json"


def info_json(*args: str, stdin: str | None = None) -> dict:
    result = spanscope("info", "--json", *args, stdin=stdin)
    return json.loads(result.stdout)


def test_info_describes_a_file() -> None:
    result = spanscope("info", str(ZIPKIN))
    assert result.returncode == 0, result.stderr
    assert "zipkin-v2" in result.stdout
    # One trace: "1 trace", not "1 traces".
    assert "1 trace, 28 spans, 2 services" in result.stdout


def test_info_json_counts_spans_traces_services_and_problems() -> None:
    summary = info_json(str(ZIPKIN), str(OTLP))
    raw = json.loads(ZIPKIN.read_text())
    assert summary["inputs"][0] == {
        "source": str(ZIPKIN),
        "format": "zipkin-v2",
        "spans": len(raw),
        "error": None,
    }
    assert summary["inputs"][1]["format"] == "otlp-json"
    assert summary["spans"] >= len(raw)
    assert summary["traces"] >= 2
    assert set(summary["services"]) >= {span["localEndpoint"]["serviceName"] for span in raw}
    assert summary["start"] < summary["end"]


def test_info_reports_the_clock_skew_it_adjusted_and_can_leave_it() -> None:
    adjusted = info_json(str(SKEW))
    assert adjusted["problems"].get("clock_skew", 0) >= 1
    kept = info_json("--no-adjust-skew", str(SKEW))
    assert "clock_skew" not in kept["problems"]


def test_info_reads_stdin_and_gzip(tmp_path: Path) -> None:
    from_stdin = info_json("-", stdin=ZIPKIN.read_bytes().decode())
    assert from_stdin["inputs"][0]["source"] == "<stdin>"
    packed = tmp_path / "trace.json.gz"
    packed.write_bytes(gzip.compress(ZIPKIN.read_bytes()))
    from_gzip = info_json(str(packed))
    assert from_gzip["spans"] == from_stdin["spans"] > 0


def test_truncated_file_names_file_and_place_and_keeps_good_inputs(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_bytes(ZIPKIN.read_bytes()[:-200])
    result = spanscope("info", "--json", str(OTLP), str(broken))
    assert result.returncode == 2
    assert str(broken) in result.stderr
    summary = json.loads(result.stdout)
    assert summary["inputs"][0]["error"] is None and summary["inputs"][0]["spans"] > 0
    assert summary["inputs"][1]["error"].startswith(str(broken))

    strict = spanscope("info", "--strict", str(broken), str(OTLP))
    assert strict.returncode == 2
    assert str(broken) in strict.stderr


@pytest.mark.parametrize(
    "content, expected",
    [
        (b"", "empty"),
        (b"<html><body>hello</body></html>", "not a trace file"),
        (b'{"hello": "world"}', "not a trace file"),
    ],
)
def test_not_a_trace_file(tmp_path: Path, content: bytes, expected: str) -> None:
    path = tmp_path / "input.json"
    path.write_bytes(content)
    result = spanscope("info", str(path))
    assert result.returncode == 2
    assert str(path) in result.stderr and expected in result.stderr


def test_missing_file() -> None:
    result = spanscope("info", "no/such/file.json")
    assert result.returncode == 2
    assert "no/such/file.json" in result.stderr and "no such file" in result.stderr


@pytest.mark.parametrize("target", ["otlp-proto", "otlp-json", "otlp-jsonl", "jaeger", "zipkin"])
def test_convert_writes_a_file_info_reads_back(tmp_path: Path, target: str) -> None:
    out = tmp_path / f"converted.{target}"
    result = spanscope("convert", str(ZIPKIN), str(OTLP), str(out), "--to", target)
    assert result.returncode == 0, result.stderr
    before = info_json(str(ZIPKIN), str(OTLP))
    after = info_json(str(out))
    assert after["spans"] == before["spans"]
    assert after["traces"] == before["traces"]
    assert after["services"] == before["services"]


def test_convert_to_stdout_and_format_from_extension(tmp_path: Path) -> None:
    result = spanscope("convert", str(ZIPKIN), "-", "--to", "jaeger")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["data"]
    out = tmp_path / "out.pb"
    assert spanscope("convert", str(ZIPKIN), str(out)).returncode == 0
    assert info_json(str(out))["inputs"][0]["format"] == "otlp-proto"
    unknown = spanscope("convert", str(ZIPKIN), str(tmp_path / "out.txt"))
    assert unknown.returncode == 2 and "--to" in unknown.stderr


@pytest.mark.parametrize("command", ["convert", "sample"])
def test_an_output_that_cannot_be_written_is_named_without_a_traceback(
    tmp_path: Path, command: str
) -> None:
    out = tmp_path / "no" / "such" / "dir" / "out.jsonl"
    args = {"convert": [str(out)], "sample": ["-p", "all", "-o", str(out)]}[command]
    result = spanscope(command, str(ZIPKIN), *args)
    assert result.returncode == 1
    assert f"cannot write {out}: No such file or directory" in result.stderr
    assert not out.parent.exists()


def test_help_has_examples() -> None:
    for command in ("info", "convert"):
        result = spanscope(command, "--help")
        assert result.returncode == 0 and "Examples" in result.stdout


@pytest.mark.parametrize("command", ["info", "analyze", "lint", "convert"])
def test_digits_int_refuses_are_text_not_a_traceback(tmp_path: Path, command: str) -> None:
    """``"²"`` passes ``str.isdigit`` but not ``int()``: as an HTTP status, a span count tag
    or anything else read as a number it is kept as text, never a crash."""
    spans = [
        {
            "traceId": "a" * 32,
            "id": "b" * 16,
            "name": "get /x",
            "kind": "SERVER",
            "timestamp": 1_700_000_000_000_000,
            "duration": 1_000,
            "localEndpoint": {"serviceName": "web", "port": 8080},
            "tags": {"http.status_code": "²", "error": "²", "otel.dropped_events_count": "²"},
        }
    ]
    source = tmp_path / "odd.json"
    source.write_text(json.dumps(spans), encoding="utf-8")
    extra = [str(tmp_path / "out.json"), "--to", "otlp"] if command == "convert" else []
    result = spanscope(command, str(source), *extra)
    assert "Traceback" not in result.stderr
    assert result.returncode in (0, 1)  # 1: lint's findings
    if command == "convert":
        written = (tmp_path / "out.json").read_text(encoding="utf-8")
        assert "\\u00b2" in written or "²" in written  # the value itself, as text


# -- found by trying every example of the README and of --help, each fixed and held here --


def test_info_aligns_spans_as_numbers(tmp_path: Path) -> None:
    """Spans stood left in the inputs table and right in the services table."""
    one = tmp_path / "one.json"
    spans = [span_json(LATE, "00000000000000f1", "", "GET /late", START, START + MS)]
    one.write_text(json.dumps(otlp_document("checkout", spans)))
    result = CliRunner().invoke(main, ["info", str(one)], env={"COLUMNS": "120"})
    assert result.exit_code == 0, result.output
    inputs = next(line for line in result.output.splitlines() if "one.json" in line)
    assert inputs.split("│")[3].endswith("     1 "), inputs  # right-aligned under "spans"
