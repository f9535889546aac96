"""``spanscope analyze`` on real files through the real console script, as a user runs it."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from spanscope.cli import main

from ..conftest import FIXTURES
from .run import spanscope

SMARTTHINGS = FIXTURES / "zipkin/zipkin-lens__testdata__smartthings-oauth-authorization.json"
KAFKA = FIXTURES / "zipkin/zipkin-lens__testdata__messaging-kafka.json"
JAEGER = FIXTURES / "jaeger/internal__uimodel__converter__v1__json__fixtures__ui_01.json"
OTLP = FIXTURES / "jaeger/internal__storage__v2__memory__fixtures__otel_traces_01.json"
SCHEMA = json.loads(
    (Path(__file__).resolve().parents[2] / "schemas/analysis-report.schema.json").read_text()
)


def analyze_json(*args: str) -> dict:
    result = spanscope("analyze", "--json", *args)
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    jsonschema.validate(document, SCHEMA, cls=jsonschema.Draft202012Validator)
    return document


@pytest.fixture(scope="module")
def shop(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("shop") / "shop.jsonl"
    result = spanscope("generate", "--traces", "600", "--seed", "11", "-o", str(path))
    assert result.returncode == 0, result.stderr
    return path


def test_human_report_on_real_files():
    result = spanscope("analyze", str(SMARTTHINGS), str(KAFKA))
    assert result.returncode == 0, result.stderr
    for heading in ("Latency per endpoint", "Operations", "Problems in the data"):
        assert heading in result.stdout
    assert "unclosed" in result.stdout and "clock_skew" in result.stdout


def test_mixed_formats_are_one_data_set():
    document = analyze_json(str(SMARTTHINGS), str(KAFKA), str(JAEGER), str(OTLP))
    assert [i["format"] for i in document["inputs"]] == [
        "zipkin-v2", "zipkin-v2", "jaeger-json", "otlp-json"
    ]  # fmt: skip
    assert document["summary"]["spans"] == sum(i["spans"] for i in document["inputs"])
    assert document["summary"]["traces"] == 5
    kinds = {p["kind"]: p["count"] for p in document["problems"]}
    assert kinds["unclosed"] == 19 and kinds["orphan"] == 4
    assert document["warnings"] > 0


def test_report_on_the_shop_finds_the_planted_problems(shop):
    document = analyze_json(str(shop))
    top = document["fix_first"][0]
    assert (top["service"], top["operation"]) == ("payment", "POST")
    (origin, *_) = document["errors"]["origins"]
    assert origin["service"] == "payment" and origin["exception_type"] == "PaymentProviderTimeout"
    assert "<" in origin["message_template"]
    edges = {(d["parent"], d["child"]) for d in document["dependencies"]}
    assert ("checkout", "payment") in edges and ("inventory", "postgresql") in edges
    # The N+1 queries are back to back: all of them count, so they rank right after payment.
    (checkout,) = [p for p in document["profiles"] if p["operation"] == "POST /api/checkout"]
    assert [(f["service"], f["operation"]) for f in checkout["frames"][:2]] == [
        ("payment", "POST"), ("inventory", "SELECT shop.stock")
    ]  # fmt: skip


def test_jaeger_strict_charges_back_to_back_calls_to_the_parent(shop):
    def stock_time(document):
        ops = {(o["service"], o["operation"]): o for o in document["operations"]}
        return ops[("inventory", "SELECT shop.stock")]["critical_ns"]

    default = analyze_json(str(shop))
    strict = analyze_json(str(shop), "--jaeger-strict")
    assert strict["options"]["jaeger_strict"] is True
    assert stock_time(strict) < stock_time(default) * 0.8


def test_filters(shop):
    everything = analyze_json(str(shop))
    trace_id = everything["slowest_traces"][0]["trace_id"]
    one = analyze_json(str(shop), "--trace-id", trace_id.upper())
    assert one["summary"]["traces"] == 1 and one["slowest_traces"][0]["trace_id"] == trace_id
    assert one["filters"] == {"trace_ids": trace_id.upper()}
    cart = analyze_json(str(shop), "--service", "cart")
    assert 0 < cart["summary"]["traces"] < everything["summary"]["traces"]
    slow = analyze_json(str(shop), "--min-duration", "1s", "--operation", "POST /api/checkout")
    assert all(t["duration_ns"] >= 10**9 for t in slow["slowest_traces"])
    start = everything["summary"]["start_ns"]
    later = analyze_json(str(shop), "--since", str((start + 5 * 10**9) / 1e9))
    assert later["summary"]["traces"] < everything["summary"]["traces"]
    none = analyze_json(str(shop), "--until", "2000-01-01T00:00:00Z")
    assert none["summary"]["traces"] == 0


def test_fail_if_exits_1_exactly_when_a_condition_holds(shop):
    report = analyze_json(str(shop))
    (checkout,) = [e for e in report["endpoints"] if e["operation"] == "POST /api/checkout"]
    p99_ms = checkout["latency"]["p99_ns"] / 1e6
    rate = report["summary"]["failed_traces"] / report["summary"]["traces"] * 100

    held = spanscope(
        "analyze", str(shop), "--fail-if", f"p99(POST /api/checkout) > {p99_ms - 1:.3f}ms",
        "--fail-if", f"error_rate > {rate + 1:.2f}%",
    )  # fmt: skip
    assert held.returncode == 1, held.stderr
    assert "FAIL p99(POST /api/checkout)" in held.stdout
    assert "ok error_rate" in held.stdout

    passed = spanscope(
        "analyze", "--json", str(shop), "--fail-if", f"p99(POST /api/checkout) > {p99_ms + 1:.3f}ms",
        "--fail-if", f"error_rate > {rate + 1:.2f}%",
    )  # fmt: skip
    assert passed.returncode == 0, passed.stderr
    results = json.loads(passed.stdout)["conditions"]
    assert [r["holds"] for r in results] == [False, False]

    rate_held = spanscope(
        "analyze", "--json", str(shop), "--fail-if", f"error_rate > {rate - 0.1:.2f}%"
    )
    assert rate_held.returncode == 1 and "FAIL error_rate" in rate_held.stderr


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("p99(GET /x) > 800", "invalid duration"),
        ("p42 > 1s", "unknown metric"),
        ("error_rate > lots", "error_rate needs"),
    ],
)
def test_bad_fail_if_is_a_usage_error(expression, message):
    result = spanscope("analyze", str(KAFKA), "--fail-if", expression)
    assert result.returncode == 2
    assert "--fail-if" in result.stderr and message in result.stderr


def test_bad_options_and_inputs(tmp_path):
    bad = spanscope("analyze", str(KAFKA), "--slow-threshold", "fast")
    assert bad.returncode == 2 and "invalid duration" in bad.stderr
    bad = spanscope("analyze", str(KAFKA), "--trace-id", "not-an-id")
    assert bad.returncode == 2 and "--trace-id" in bad.stderr
    bad = spanscope("analyze", str(KAFKA), "--since", "yesterday")
    assert bad.returncode == 2 and "is not a time" in bad.stderr
    broken = tmp_path / "broken.json"
    broken.write_text('{"resourceSpans": [{"scopeSpans": [')
    result = spanscope("analyze", str(KAFKA), str(broken))
    assert result.returncode == 2
    assert "broken.json" in result.stderr
    assert "Latency per endpoint" in result.stdout  # the good input is still reported


def test_folded_output(shop, tmp_path):
    out = tmp_path / "stacks.txt"
    result = spanscope("analyze", str(shop), "--folded", str(out))
    assert result.returncode == 0, result.stderr
    lines = out.read_text().splitlines()
    assert lines and lines[0].startswith("frontend:POST /api/checkout;")
    assert all(int(line.rsplit(" ", 1)[1]) > 0 for line in lines)
    stdout = spanscope("analyze", str(shop), "--folded", "-")
    assert stdout.returncode == 0 and stdout.stdout.splitlines() == lines
    slow = tmp_path / "slow.txt"
    assert spanscope("analyze", str(shop), "--folded", str(slow), "--folded-slow").returncode == 0
    total = sum(int(line.rsplit(" ", 1)[1]) for line in lines)
    slow_total = sum(int(line.rsplit(" ", 1)[1]) for line in slow.read_text().splitlines())
    assert 0 < slow_total < total


def test_anti_patterns_on_the_generated_shop(tmp_path):
    """`spanscope generate --traces 3000` plants an N+1 in inventory and independent calls made
    one after another in checkout: `analyze` finds both, with numbers that fit the shop."""
    path = tmp_path / "shop3000.jsonl"
    result = spanscope("generate", "--traces", "3000", "-o", str(path))
    assert result.returncode == 0, result.stderr
    document = analyze_json(str(path))
    found = {a["kind"]: a for a in document["anti_patterns"]}
    assert set(found) == {"n_plus_one", "sequential_calls"}
    (checkout,) = [e for e in document["endpoints"] if e["operation"] == "POST /api/checkout"]
    checkouts = checkout["latency"]["count"]

    n_plus_one = found["n_plus_one"]
    assert (n_plus_one["service"], n_plus_one["operation"]) == ("inventory", "SELECT shop.stock")
    assert n_plus_one["parent_operation"] == "shop.inventory/ReserveItems"
    assert 0.2 * checkouts < n_plus_one["traces"] < 0.45 * checkouts
    assert 5 <= n_plus_one["per_trace_p50"] <= 10 and n_plus_one["per_trace_max"] >= 26
    ops = {(o["service"], o["operation"]): o for o in document["operations"]}
    # The N+1's time at stake is part of all SELECT shop.stock time on critical paths.
    stock = ops[("inventory", "SELECT shop.stock")]["critical_ns"]
    assert 0.3 * stock < n_plus_one["critical_ns"] <= stock

    sequential = found["sequential_calls"]
    assert sequential["operation"] == "shop.checkout/PlaceOrder"
    assert "shop.cart/GetCart -> checkout:shop.shipping/GetQuote" in sequential["detail"]
    assert sequential["traces"] == checkouts
    assert 8e6 < sequential["critical_ns"] / checkouts < 40e6  # ns saved per request

    text = spanscope("analyze", str(path)).stdout
    assert text.index("What to fix first") < text.index("Anti-patterns") < text.index("Latency")
    assert "N+1 calls" in text and "sequential calls" in text


def test_anti_patterns_in_real_files():
    document = analyze_json(str(SMARTTHINGS), str(KAFKA), str(JAEGER), str(OTLP))
    kinds = {a["kind"] for a in document["anti_patterns"]}
    assert {"unclosed_spans", "broken_propagation"} <= kinds
    unclosed = sum(
        a["occurrences"] for a in document["anti_patterns"] if a["kind"] == "unclosed_spans"
    )
    (problem,) = [p for p in document["problems"] if p["kind"] == "unclosed"]
    assert unclosed == problem["count"]


def test_anti_pattern_thresholds_change_the_findings(shop):
    def found(*options: str) -> dict[str, dict]:
        return {a["kind"]: a for a in analyze_json(str(shop), *options)["anti_patterns"]}

    default = found()
    assert {"n_plus_one", "sequential_calls"} <= set(default)
    most = default["n_plus_one"]["per_trace_max"]
    # A higher N+1 threshold than any trace reaches drops the N+1 and nothing else.
    higher = found("--n-plus-one-min", str(most + 1))
    assert "n_plus_one" not in higher and higher["sequential_calls"] == default["sequential_calls"]
    # A lower one counts more traces (any with at least 3 same-target calls).
    assert found("--n-plus-one-min", "3")["n_plus_one"]["traces"] > default["n_plus_one"]["traces"]
    calls = default["sequential_calls"]["per_trace_max"]
    assert "sequential_calls" not in found("--sequential-min", str(calls + 1))

    result = spanscope("analyze", str(shop), "--n-plus-one-min", "1")
    assert result.returncode == 2 and "--n-plus-one-min" in result.stderr
    help_text = spanscope("analyze", "--help").stdout
    assert "--sequential-min" in help_text and "--cardinality-min" in help_text


def test_folded_file_that_cannot_be_written(tmp_path):
    # A missing directory is named before anything is read (it was a traceback at the end).
    missing = tmp_path / "missing" / "stacks.txt"
    result = spanscope("analyze", str(KAFKA), "--folded", str(missing))
    assert result.returncode == 2 and result.stdout == ""
    assert "Invalid value for --folded" in result.stderr and str(missing.parent) in result.stderr
    # A write that fails (a full disk) is a message, not a traceback.
    result = spanscope("analyze", str(KAFKA), "--folded", "/dev/full")
    assert result.returncode == 1
    assert "cannot write /dev/full: No space left on device" in result.stderr


def test_the_report_opens_with_its_headline(tmp_path):
    path = tmp_path / "shop.jsonl"
    spanscope("generate", "--traces", "600", "-o", str(path))
    document = analyze_json(str(path))
    kinds = [item["kind"] for item in document["headline"]]
    assert kinds[0] == "slow" and "failed" in kinds
    text = spanscope("analyze", str(path)).stdout
    assert text.index("In short") < text.index("What to fix first")
    # Every sentence is printed whole, however the terminal wraps it.
    flat = " ".join(text[text.index("In short") : text.index("What to fix first")].split())
    for item in document["headline"]:
        assert f"• {item['text']}" in flat


# -- found by trying every example of the README and of --help, each fixed and held here --


@pytest.mark.parametrize(
    ("condition", "first"),
    [
        ("p99(POST /api/chekout) > 800ms", "POST /api/checkout"),
        ("p99(frontend:GET /api/kart) > 1s", "frontend:GET /api/cart"),
    ],
)
def test_a_fail_if_about_a_misspelt_endpoint_names_the_closest(
    small_shop: str, condition: str, first: str
) -> None:
    # It named no endpoint there is ('POST /api/chekout' and 'POST /api/checkout' look alike).
    result = CliRunner().invoke(main, ["analyze", small_shop, "--json", "--fail-if", condition])
    assert result.exit_code == 2, result.output
    assert f"--fail-if '{condition}' cannot be checked" in result.stderr
    assert f"(its endpoints: {first}, " in result.stderr


def test_a_fail_if_with_markup_in_it_is_printed_as_typed(small_shop: str) -> None:
    """With --json the conditions go to stderr through rich: '[/red]' raised a MarkupError."""
    missing = CliRunner().invoke(
        main, ["analyze", small_shop, "--json", "--fail-if", "p99(x[/red]) > 1ms"]
    )
    assert missing.exit_code == 2, missing.output
    assert "--fail-if 'p99(x[/red]) > 1ms' cannot be checked: no data for x[/red]" in (
        missing.stderr
    )


def test_the_readmes_in_short_example_is_what_the_tour_prints(tmp_path: Path) -> None:
    """The README quoted an In short line of another data set (246 checkouts): it is now the
    tour's first lines, run as written, and stays so."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme.split("- **In short**", 1)[1].split("- **What to fix first**", 1)[0]
    quoted = " ".join(re.search(r'\("(frontend:POST /api/checkout .*?)"', section, re.S)[1].split())
    shop = tmp_path / "shop.jsonl"
    made = CliRunner().invoke(main, ["generate", "--traces", "3000", "-o", str(shop)])
    assert made.exit_code == 0, made.output
    report = json.loads(CliRunner().invoke(main, ["analyze", str(shop), "--json"]).stdout)
    assert quoted in [line["text"] for line in report["headline"]]
