"""Rendering: the JSON report matches its checked-in schema; the text report shows every
section; folded stacks are in flamegraph.pl's format."""

from __future__ import annotations

import io
import json
from pathlib import Path

import jsonschema
import pytest
from rich.console import Console

from spanscope.analysis import AnalysisOptions, analyze, build_profile, folded_stacks
from spanscope.assembly import assemble
from spanscope.report import encode_report, render_report, report_schema, write_folded
from spanscope.synthetic import generate_spans

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "schemas" / "analysis-report.schema.json"


@pytest.fixture(scope="module")
def traces():
    return assemble(generate_spans(300, seed=3))


@pytest.fixture(scope="module")
def report(traces):
    return analyze(traces, AnalysisOptions(slow_threshold_ns=100_000_000, top=5))


def test_checked_in_schema_is_current():
    """The schema file is generated from the report structs; regenerate it with
    ``python -c "import json; from spanscope.report import report_schema;
    print(json.dumps(report_schema(), indent=2, ensure_ascii=False))"``."""
    assert json.loads(SCHEMA_PATH.read_text()) == report_schema()


def test_json_report_validates_against_the_schema(report):
    schema = json.loads(SCHEMA_PATH.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    document = json.loads(encode_report(report))
    jsonschema.Draft202012Validator(schema).validate(document)
    assert document["summary"]["traces"] == 300
    assert document["fix_first"] and document["errors"]["origins"]
    assert {a["kind"] for a in document["anti_patterns"]} == {"n_plus_one", "sequential_calls"}


def test_schema_rejects_a_wrong_report(report):
    schema = json.loads(SCHEMA_PATH.read_text())
    document = json.loads(encode_report(report))
    document["summary"]["traces"] = "many"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(document, schema, cls=jsonschema.Draft202012Validator)
    document = json.loads(encode_report(report))
    document["endpoints"][0]["surprise"] = 1
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(document, schema, cls=jsonschema.Draft202012Validator)
    document = json.loads(encode_report(report))
    del document["anti_patterns"][0]["critical_ns"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(document, schema, cls=jsonschema.Draft202012Validator)


def test_text_report_has_every_section(report):
    out = io.StringIO()
    render_report(report, Console(file=out, width=200, color_system=None))
    text = out.getvalue()
    for heading in (
        "What to fix first",
        "Latency per endpoint",
        "Where frontend:POST /api/checkout waits",
        "Slowest traces",
        "Slow spans",
        "Where failures started",
        "Error rate per operation",
        "Operations",
        "Dependencies",
    ):
        assert heading in text, heading
    assert "payment:POST" in text
    assert "PaymentProviderTimeout" in text


def test_text_report_shows_anti_patterns_after_what_to_fix_first(report):
    out = io.StringIO()
    render_report(report, Console(file=out, width=200, color_system=None))
    text = out.getvalue()
    fix, anti, latency = (
        text.index(h) for h in ("What to fix first", "Anti-patterns", "Latency per endpoint")
    )
    assert fix < anti < latency
    section = text[anti:latency]
    assert "N+1 calls" in section and "sequential calls" in section
    assert "inventory:SELECT shop.stock under inventory:shop.inventory/ReserveItems" in section
    # Ranked by time at stake, each with its explanation and an example to open.
    # (each wrapped between words under its number)
    words = " ".join(section.split())
    first, second = report.anti_patterns[:2]
    assert first.critical_ns >= second.critical_ns
    assert f"1. {first.explanation}" in words and f"2. {second.explanation}" in words
    assert words.index(f"1. {first.explanation}") < words.index(f"2. {second.explanation}")
    assert first.example_trace_id in section


def test_text_report_without_anti_patterns():
    traces = [t for t in assemble(generate_spans(20, seed=3)) if t.root.name.startswith("GET")]
    assert traces
    out = io.StringIO()
    render_report(analyze(traces), Console(file=out, width=200, color_system=None))
    assert "no anti-patterns found" in out.getvalue()


def test_empty_report_renders():
    out = io.StringIO()
    render_report(analyze([]), Console(file=out, width=120, color_system=None))
    assert "no traces to analyse" in out.getvalue()
    schema = json.loads(SCHEMA_PATH.read_text())
    jsonschema.validate(json.loads(encode_report(analyze([]))), schema)


def test_folded_lines(traces):
    out = io.StringIO()
    stacks = folded_stacks(build_profile(traces))
    assert write_folded(stacks, out) == len(stacks)
    for line in out.getvalue().splitlines():
        stack, value = line.rsplit(" ", 1)
        assert int(value) > 0
        assert all(":" in frame for frame in stack.split(";"))


def test_a_table_title_longer_than_its_columns_stays_on_one_line():
    """The per-endpoint profile titles ("Where frontend:POST /api/checkout waits: 771
    traces, slowest 5% = 39 traces >= 114ms") used to be folded to the width of the table's
    narrow columns."""
    report = analyze(assemble(list(generate_spans(200, seed=3))), AnalysisOptions(top=3))
    out = io.StringIO()
    render_report(report, Console(file=out, width=120, color_system=None))
    titles = [line for line in out.getvalue().splitlines() if " waits: " in line]
    assert titles, "no per-endpoint profile in the report"
    for title in titles:
        assert title.startswith("Where ") and " traces >= " in title, title
        assert title.rstrip().endswith("s"), title  # "... >= 114ms": its end is on its line
