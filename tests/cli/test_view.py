"""``spanscope view``, ``flamegraph`` and ``servicemap`` on real files."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

from click.testing import CliRunner

from spanscope.assembly import assemble
from spanscope.cli import main
from spanscope.formats import read_spans, write_spans
from spanscope.synthetic import generate_spans

FIXTURES = Path(__file__).parent.parent / "fixtures"
SMARTTHINGS = FIXTURES / "zipkin/zipkin-lens__testdata__smartthings-oauth-authorization.json"
TWO_TRACES = FIXTURES / "jaeger/internal__storage__v2__memory__fixtures__otel_traces_01.json"
NOT_TRACES = FIXTURES / "zipkin-api/zipkin-api.yaml"


def _run(*args: str, cwd: Path | None = None):
    runner = CliRunner()
    return runner.invoke(main, list(args), catch_exceptions=False)


def _embedded(html: str) -> dict:
    match = re.search(
        r'<script type="application/json" id="spanscope-data">(.*?)</script>', html, re.S
    )
    assert match
    return json.loads(match.group(1))


def test_view_writes_one_self_contained_page(tmp_path):
    out = tmp_path / "trace.html"
    result = _run("view", str(SMARTTHINGS), "-o", str(out))
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    assert "http://" not in html.split("<script", 1)[0].lower().replace("http://www.w3", "")
    assert not re.search(r'<(script|link|img)[^>]+(src|href)="(https?:)?//', html)
    data = _embedded(html)
    assert [t["n"] for t in data["traces"]] == [175]
    assert html.count('type="application/json"') == 2


def test_view_embeds_the_data_once(tmp_path):
    source = tmp_path / "shop.jsonl"
    with open(source, "wb") as out:
        write_spans(generate_spans(20, seed=9), out, "otlp-jsonl")
    page = tmp_path / "page.html"
    assert _run("view", str(source), "-o", str(page)).exit_code == 0
    html = page.read_text(encoding="utf-8")
    ids = [sid for t in _embedded(html)["traces"] for sid in t["cols"]["sid"]]
    assert len(ids) == sum(len(t.spans) for t in assemble(read_spans(source)))
    assert all(html.count(sid) == 1 for sid in ids)
    assert html.count("shop.checkout/PlaceOrder") == 1  # names are in a string table


def test_view_of_several_traces_and_one_picked_by_prefix(tmp_path):
    out = tmp_path / "all.html"
    assert _run("view", str(TWO_TRACES), "-o", str(out)).exit_code == 0
    data = _embedded(out.read_text(encoding="utf-8"))
    assert len(data["traces"]) == 2
    wanted = data["traces"][1]["id"]
    one = tmp_path / "one.html"
    result = _run("view", str(TWO_TRACES), "--trace-id", wanted.lstrip("0")[:10], "-o", str(one))
    assert result.exit_code == 0, result.output
    assert [t["id"] for t in _embedded(one.read_text(encoding="utf-8"))["traces"]] == [wanted]

    result = _run("view", str(TWO_TRACES), "--trace-id", "abcdef0123", "-o", str(one))
    assert result.exit_code == 1
    assert "no trace with id abcdef0123 among 2 traces" in result.output


def test_view_keeps_the_slowest_traces_and_says_so(tmp_path):
    source = tmp_path / "shop.jsonl"
    with open(source, "wb") as out:
        write_spans(generate_spans(30, seed=2), out, "otlp-jsonl")
    page = tmp_path / "page.html"
    result = _run("view", str(source), "--max-traces", "5", "-o", str(page))
    assert result.exit_code == 0, result.output
    data = _embedded(page.read_text(encoding="utf-8"))
    durations = sorted((t.duration_ns for t in assemble(read_spans(source))), reverse=True)
    assert sorted((t["dur"] for t in data["traces"]), reverse=True) == durations[:5]
    assert data["note"] == "showing the 5 slowest of 30 traces"


def test_flamegraph_one_trace_and_aggregate(tmp_path):
    source = tmp_path / "shop.jsonl"
    with open(source, "wb") as out:
        write_spans(generate_spans(60, seed=4), out, "otlp-jsonl")
    single = tmp_path / "flame.svg"
    result = _run("flamegraph", str(source), "-o", str(single))
    assert result.exit_code == 0, result.output
    assert "drawing the slowest" in result.output
    ET.fromstring(single.read_text(encoding="utf-8"))

    agg = tmp_path / "agg.svg"
    result = _run(
        "flamegraph",
        str(source),
        "--aggregate",
        "--endpoint",
        "frontend:POST /api/checkout",
        "-o",
        str(agg),
    )
    assert result.exit_code == 0, result.output
    root = ET.fromstring(agg.read_text(encoding="utf-8"))
    names = {g.get("data-name") for g in root.iter("{http://www.w3.org/2000/svg}g")}
    assert "frontend:POST /api/checkout" in names
    assert "frontend:GET /api/cart" not in names

    result = _run("flamegraph", str(source), "--endpoint", "x:y", "-o", str(agg))
    assert result.exit_code == 2 and "--aggregate" in result.output
    result = _run("flamegraph", str(source), "--aggregate", "--endpoint", "nope:GET", "-o", "x")
    assert result.exit_code == 1 and "no trace has the root nope:GET" in result.output


def test_servicemap_as_html_or_svg(tmp_path):
    html = tmp_path / "map.html"
    svg = tmp_path / "map.svg"
    assert _run("servicemap", str(SMARTTHINGS), "-o", str(html)).exit_code == 0
    assert _run("servicemap", str(SMARTTHINGS), "-o", str(svg)).exit_code == 0
    assert html.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    root = ET.fromstring(svg.read_text(encoding="utf-8"))
    assert root.get("class") == "servicemap"


def test_bad_input_is_a_clear_message_not_a_traceback(tmp_path):
    result = _run("view", str(NOT_TRACES), "-o", str(tmp_path / "x.html"))
    assert result.exit_code == 2
    assert "zipkin-api.yaml" in result.output and "not a trace file" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "x.html").exists()

    # a good and a bad input: the page is written from the good one, exit code says 2
    out = tmp_path / "partial.html"
    result = _run("view", str(SMARTTHINGS), str(NOT_TRACES), "-o", str(out))
    assert result.exit_code == 2
    assert out.exists() and "not a trace file" in result.output


# -- found by trying every example of the README and of --help, each fixed and held here --


def test_flamegraph_of_a_misspelt_endpoint_names_the_endpoints(
    small_shop: str, tmp_path: Path
) -> None:
    # It said only that no trace had that root; --service and --fail-if name the closest.
    output = tmp_path / "f.svg"
    result = CliRunner().invoke(
        main,
        [
            "flamegraph",
            small_shop,
            "--aggregate",
            "--endpoint",
            "frontend:GET /api/kart",
            "-o",
            str(output),
        ],
    )
    assert result.exit_code == 1 and not output.exists()
    assert "no trace has the root frontend:GET /api/kart" in result.output
    assert "(its endpoints: frontend:GET /api/cart, " in result.output
