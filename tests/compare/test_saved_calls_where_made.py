"""A saved report (``analyze --json``, version 5 on) keeps how many traces hold each operation,
so ``diff BASELINE.json CURRENT`` gives each operation's calls in each request that makes it
("where made") as ``diff BASELINE.jsonl CURRENT`` does, and tells a new loop from more
checkouts in the mix alike. The count is right through the worker processes of ``analyze
--jobs``; an older report still diffs as before (no "where made" on its side). Real generated
shops through the real console script."""

from __future__ import annotations

import io
import json
from collections import defaultdict
from pathlib import Path

import jsonschema
import msgspec
import pytest
from click.testing import CliRunner

from spanscope.analysis.name_folding import name_template
from spanscope.analysis.results import AnalysisReport
from spanscope.formats import write_spans
from spanscope.synthetic import generate_spans

from ..cli.run import spanscope
from ..taken import record_taken
from .shop_changes import plant_cache_loop, plant_checkout_share

SCHEMA = Path(__file__).resolve().parents[2] / "schemas" / "analysis-report.schema.json"
WHERE_MADE = ("calls_where_made_before", "calls_where_made_after")


def _write_shop(path: Path, traces: int, seed: int) -> None:
    with open(path, "wb") as out:
        write_spans(generate_spans(traces, seed=seed), out, "otlp-jsonl")


@pytest.fixture(scope="module")
def shops(tmp_path_factory) -> dict[str, Path]:
    """The shop (seed 1, 1,000 traces) as traces and as a saved report; seed 5 with checkout
    60% of the requests (the stock query made twice as often per request, not in each
    checkout); seed 5 with the product page reading the catalog's cache 8 times a request."""

    folder = tmp_path_factory.mktemp("where made")
    made = {name: folder / f"{name}.jsonl" for name in ("base", "busier", "looping")}
    _write_shop(made["base"], 1000, 1)
    with pytest.MonkeyPatch.context() as patch:
        plant_checkout_share(patch, 0.6)
        _write_shop(made["busier"], 1000, 5)
    with pytest.MonkeyPatch.context() as patch:
        plant_cache_loop(patch)
        _write_shop(made["looping"], 1000, 5)
    saved = spanscope("analyze", str(made["base"]), "--json", "--top", "1000")
    assert saved.returncode == 0, saved.stderr
    made["base.json"] = folder / "base.json"
    made["base.json"].write_text(saved.stdout)
    return made


def _diff(before: Path, after: Path) -> dict:
    result = spanscope("diff", str(before), str(after), "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def _where_made(found: dict) -> dict[tuple[str, str], tuple[float | None, float | None]]:
    return {
        (o["service"], o["operation"]): tuple(o[key] for key in WHERE_MADE)
        for o in found["operations"]
    }


@pytest.mark.parametrize("current", ["busier", "looping"])
def test_a_saved_baseline_gives_the_calls_where_made_that_its_traces_give(shops, current):
    from_traces = _diff(shops["base"], shops[current])
    from_saved = _diff(shops["base.json"], shops[current])
    assert _where_made(from_saved) == _where_made(from_traces)  # the same division
    listed = [o for o in from_saved["operations"] if o["reasons"] not in (["new"], ["gone"])]
    assert listed and all(o["calls_where_made_before"] is not None for o in listed)
    assert from_saved["headline"] == from_traces["headline"]


def test_more_checkouts_from_a_saved_baseline_are_not_a_new_loop(shops):
    """The saved baseline used to know calls per request only: twice the checkouts in the mix
    read as a loop in the stock query."""
    found = _diff(shops["base.json"], shops["busier"])
    stock = next(o for o in found["operations"] if o["operation"] == "SELECT shop.stock")
    assert stock["calls_per_request_after"] > 2 * stock["calls_per_request_before"]
    before, after = stock["calls_where_made_before"], stock["calls_where_made_after"]
    assert before == pytest.approx(after, rel=0.2)
    assert not any("a new loop?" in line for line in found["headline"])


def test_a_loop_from_a_saved_baseline_is_counted_where_made(shops):
    found = _diff(shops["base.json"], shops["looping"])
    assert (
        "product-catalog: GET 1.0 → 8.0 calls in each request that makes it (×8.0): a new loop?"
        in found["headline"]
    )


def test_the_saved_report_counts_the_traces_of_each_operation(shops):
    report = json.loads(shops["base.json"].read_text())
    assert report["version"] == 5
    jsonschema.validate(report, json.loads(SCHEMA.read_text()))
    holding: defaultdict[tuple[str, str], set[str]] = defaultdict(set)
    for line in shops["base"].read_bytes().splitlines():
        for resource in json.loads(line)["resourceSpans"]:
            service = next(
                a["value"]["stringValue"]
                for a in resource["resource"]["attributes"]
                if a["key"] == "service.name"
            )
            for scope in resource["scopeSpans"]:
                for span in scope["spans"]:
                    holding[service, span["name"]].add(span["traceId"])
    counted = {(o["service"], o["operation"]): o["traces"] for o in report["operations"]}
    assert counted == {key: len(traces) for key, traces in holding.items()}


def _older(saved: Path, folder: Path, version: int) -> Path:
    """``saved`` as a report of ``version`` 4 (no trace counts) or 3 (no distributions)."""
    report = json.loads(saved.read_text())
    report["version"] = version
    for row in report["operations"]:
        del row["traces"]
    if version < 4:
        for row in report["endpoints"] + report["operations"]:
            del row["distribution"]
    older = folder / f"version-{version}.json"
    older.write_text(json.dumps(report))
    return older


@pytest.mark.parametrize("version", [4, 3])
def test_an_older_report_validates_and_diffs_without_calls_where_made(shops, tmp_path, version):
    older = _older(shops["base.json"], tmp_path, version)
    jsonschema.validate(json.loads(older.read_text()), json.loads(SCHEMA.read_text()))
    found = _diff(older, shops["looping"])
    listed = [o for o in found["operations"] if o["reasons"] not in (["new"], ["gone"])]
    assert listed
    assert all(o["calls_where_made_before"] is None for o in listed)
    assert all(o["calls_where_made_after"] is not None for o in listed)
    # calls per request alone still tell the loop
    assert any(
        "product-catalog: GET" in line and "a new loop?" in line for line in found["headline"]
    )


@pytest.mark.parametrize(
    ("traces", "expected"),
    [
        (0, "Expected `int` >= 1"),
        ("many", "Expected `int | null`, got `str`"),
        (10**9, "traces: 1000000000 traces hold the operation, more than its"),
    ],
)
def test_an_edited_count_is_not_a_report_in_one_line(shops, tmp_path, traces, expected):
    report = json.loads(shops["base.json"].read_text())
    report["operations"][2]["traces"] = traces
    line = _refused(report, shops, tmp_path)
    assert expected in line and "$.operations[2]" in line
    if not isinstance(traces, str) and traces < 1:
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(report, json.loads(SCHEMA.read_text()))


# ------------------------------------------------------- analyze --jobs: merged analyzers


def test_workers_count_the_traces_of_each_operation(tmp_path, monkeypatch):
    """One Jaeger file per trace, cut into shards that worker processes analyse and this one
    merges (``Analyzer.merge``), product pages and each stock query of checkout's loop named
    after their id (folded into one operation each, from the names of every shard): each
    operation's count is the traces that hold it, as one process counts them; a checkout
    with several stock queries, each named apart, counts once."""
    from spanscope.cli import main, parallel, sharded

    monkeypatch.setattr(parallel, "MIN_BYTES", 0)
    monkeypatch.setattr(sharded, "MIN_SHARD_BYTES", 1)
    monkeypatch.setattr(sharded, "SHARDS_PER_JOB", 1000)
    taken = record_taken(monkeypatch, sharded, "analyze_files")

    def renamed(span):
        if span.name == "GET /api/products/{id}":
            return msgspec.structs.replace(span, name=f"GET {span.attributes['url.path']}")
        if span.name == "SELECT shop.stock":
            return msgspec.structs.replace(span, name=f"SELECT shop.stock {int(span.span_id, 16)}")
        return span

    by_trace: dict[str, list] = {}
    for span in map(renamed, generate_spans(400, seed=4)):
        by_trace.setdefault(span.trace_id, []).append(span)
    files = []
    for trace_id, spans in by_trace.items():
        out = io.BytesIO()
        write_spans(spans, out, "jaeger-json")
        path = tmp_path / f"{trace_id}.json"
        path.write_bytes(out.getvalue())
        files.append(str(path))
    files.sort()

    reports = {}
    for jobs in ("1", "2"):
        result = CliRunner().invoke(
            main, ["analyze", *files, "--json", "--jobs", jobs], catch_exceptions=False
        )
        assert result.exit_code == 0, result.stderr
        reports[jobs] = result.stdout
    assert taken == [True]  # --jobs 2 took the workers' path (--jobs 1 does not try it)
    assert reports["1"] == reports["2"]

    report = msgspec.json.decode(reports["2"], type=AnalysisReport)
    names = {(o.service, o.operation) for o in report.operations}
    assert ("frontend", "GET /api/products/<num>") in names
    stock = next(o for o in report.operations if o.operation == "SELECT shop.stock <num>")
    assert stock.traces is not None and stock.traces < stock.latency.count  # a loop
    holding: defaultdict[tuple[str, str], set[str]] = defaultdict(set)
    for trace_id, spans in by_trace.items():
        for span in spans:
            key = (span.service_name, span.name)
            if key not in names:
                key = (span.service_name, name_template(span.name) or span.name)
            holding[key].add(trace_id)
    assert {(o.service, o.operation): o.traces for o in report.operations} == {
        key: len(traces) for key, traces in holding.items()
    }


def test_a_count_above_the_reports_traces_is_refused(shops, tmp_path):
    # Within the operation's spans but above the report's own traces: still an edit.
    report = json.loads(shops["base.json"].read_text())
    traces = report["summary"]["traces"]
    index, operation = next(
        (index, operation)
        for index, operation in enumerate(report["operations"])
        if operation["latency"]["count"] > traces
    )
    operation["traces"] = traces + 1
    line = _refused(report, shops, tmp_path)
    assert f"operations[{index}].traces: {traces + 1} traces hold" in line
    assert f"more than the report's {traces}" in line


def _refused(report: dict, shops, tmp_path) -> str:
    """The one line ``diff`` refuses an edited ``report`` with (exit 2, nothing on stdout)."""
    edited = tmp_path / "edited.json"
    edited.write_text(json.dumps(report))
    result = spanscope("diff", str(edited), str(shops["looping"]))
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {edited}: not a spanscope analysis")
    return lines[0]
