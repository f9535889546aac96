"""``spanscope lint`` through the real console script, on spans the OpenTelemetry SDK made."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from tests.quality.sdk_scenario import SECRET, export

from .run import spanscope

SCHEMA = json.loads(
    (Path(__file__).resolve().parents[2] / "schemas/lint-report.schema.json").read_text()
)


@pytest.fixture(scope="module")
def sdk_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("lint") / "export.pb"
    path.write_bytes(export())
    return path


def test_json_report_fits_its_schema_and_exits_1_on_errors(sdk_file):
    result = spanscope("lint", str(sdk_file), "--json")
    assert result.returncode == 1, result.stderr  # --fail-on error by default
    report = json.loads(result.stdout)
    jsonschema.validate(report, SCHEMA)
    assert {rule["id"] for rule in report["rules"]} >= {"broken-trace", "error-not-marked"}
    assert SECRET.split(".")[-1] not in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("options", "code"),
    [
        (["--fail-on", "never"], 0),
        (["--fail-on", "warning", "--rule", "deprecated-attribute"], 0),  # only info found
        (["--fail-on", "info", "--rule", "deprecated-attribute"], 1),
        (["--fail-on", "warning", "--skip", "broken-trace,service-name-missing"], 1),
        (["--fail-on", "error", "--skip", "broken-trace,service-name-missing"], 0),
    ],
)
def test_fail_on_exits_1_exactly_when_a_finding_is_that_bad(sdk_file, options, code):
    result = spanscope("lint", str(sdk_file), "--json", *options)
    assert result.returncode == code, result.stderr
    report = json.loads(result.stdout)
    if "--rule" in options:
        assert {rule["id"] for rule in report["rules"]} == {"deprecated-attribute"}


def test_text_report_names_rules_services_and_fixes(sdk_file):
    result = spanscope("lint", str(sdk_file), "--fail-on", "never")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for expected in (
        "instrumentation quality",
        "error-not-marked",
        "HTTP 500 answered by a SERVER span",
        "checkout",
        "http.method → http.request.method",
        "fix",
        "services, worst first",
    ):
        assert expected in out, expected
    assert "s3cr3t" not in out


def test_list_rules_lists_every_rule():
    from spanscope.quality.rules import RULES

    text = spanscope("lint", "--list-rules")
    assert text.returncode == 0
    assert all(rule in text.stdout for rule in RULES)
    listed = json.loads(spanscope("lint", "--list-rules", "--json").stdout)
    assert listed[0]["id"] == "broken-trace"  # errors first, then by id
    assert {rule["id"] for rule in listed} == set(RULES)


def test_unknown_rule_is_a_usage_error():
    result = spanscope("lint", "--rule", "no-such-rule", "x.json")
    assert result.returncode == 2
    assert "no-such-rule" in result.stderr and "--list-rules" in result.stderr


def test_bad_input_names_the_file_without_a_traceback(tmp_path, sdk_file):
    broken = tmp_path / "broken.pb"
    broken.write_bytes(sdk_file.read_bytes()[:-7])
    result = spanscope("lint", str(broken), str(sdk_file), "--json", "--fail-on", "never")
    assert result.returncode == 2
    assert "broken.pb" in result.stderr and "Traceback" not in result.stderr
    # The good input is still checked.
    assert json.loads(result.stdout)["traces"] > 0


def test_nothing_read_gives_no_score(tmp_path):
    """With no span read there is nothing to score: the text says so instead of 100%."""
    garbage = tmp_path / "garbage.bin"
    garbage.write_bytes(bytes(range(256)) * 4)
    result = spanscope("lint", str(garbage))
    assert result.returncode == 2
    assert result.stdout.strip() == "instrumentation quality: no spans to check"
    assert "garbage.bin" in result.stderr and "Traceback" not in result.stderr


def test_piped_text_is_as_wide_as_analyzes(sdk_file):
    # Piped, lint wrapped at 80 columns where analyze uses 160: its example lines were cut in two.
    out = spanscope("lint", str(sdk_file), "--fail-on", "never").stdout
    assert max(len(line) for line in out.splitlines()) > 80
    assert all(len(line) <= 160 for line in out.splitlines())
