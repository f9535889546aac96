"""``spanscope diff BASELINE.json CURRENT`` judges percentile moves against chance as a diff of
the trace files does: the saved report keeps each endpoint's and operation's durations in log
bins (``analysis.percentiles.Distribution``), and ``compare.noise`` asks its test at the bins'
edges. Real generated shops through the real console script; an older report (its bins
removed) still diffs, with the note it had."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from ..cli.run import spanscope

SCHEMA = Path(__file__).resolve().parents[2] / "schemas" / "analysis-report.schema.json"


@pytest.fixture(scope="module")
def shops(tmp_path_factory) -> dict[str, Path]:
    """The shop at 2,000 traces (seeds 1, 3, 5; its next release, seed 2) and at 1,000 (seeds 2
    and 5; the next release, seed 22), and a report saved of each baseline (seeds 1 and 2)."""
    folder = tmp_path_factory.mktemp("saved baseline")
    made: dict[str, Path] = {}
    for name, traces, seed, planted in (
        ("shop-1", 2000, 1, False),
        ("shop-3", 2000, 3, False),
        ("shop-5", 2000, 5, False),
        ("next-2", 2000, 2, True),
        ("small-2", 1000, 2, False),
        ("small-5", 1000, 5, False),
        ("small-next-22", 1000, 22, True),
    ):
        path = folder / f"{name}.jsonl"
        args = ["generate", "--traces", str(traces), "--seed", str(seed), "-o", str(path)]
        result = spanscope(*args, *(["--next-release"] if planted else []))
        assert result.returncode == 0, result.stderr
        made[name] = path
    for name in ("shop-1", "small-2"):
        saved = spanscope("analyze", str(made[name]), "--json", "--top", "1000")
        assert saved.returncode == 0, saved.stderr
        made[f"{name}.json"] = folder / f"{name}.json"
        made[f"{name}.json"].write_text(saved.stdout)
    return made


def _older(saved: Path, folder: Path) -> Path:
    """``saved`` as a report from before version 4: no distributions."""
    report = json.loads(saved.read_text())
    for row in report["endpoints"] + report["operations"]:
        del row["distribution"]
    older = folder / "older.json"
    older.write_text(json.dumps(report))
    return older


def _moves(found: dict) -> list[str]:
    """The percentile moves a comparison lists: its headline, operations listed for p95."""
    return found["headline"] + [
        f"{o['service']}: {o['operation']}" for o in found["operations"] if "p95" in o["reasons"]
    ]


def test_the_saved_report_keeps_every_duration_in_a_few_dozen_bins(shops):
    report = json.loads(shops["shop-1.json"].read_text())
    jsonschema.validate(report, json.loads(SCHEMA.read_text()))
    assert report["version"] == 5
    rows = report["endpoints"] + report["operations"]
    for row in rows:
        found = row["distribution"]
        assert found["encoding"] == "log-bins/1" and found["width"] == 2
        pairs = [tuple(map(int, pair.split(":"))) for pair in found["bins"].split()]
        indexes = [index for index, _ in pairs]
        assert indexes == sorted(set(indexes)) and all(count > 0 for _, count in pairs)
        assert found["zeros"] + sum(count for _, count in pairs) == row["latency"]["count"]
        # the bins hold the percentiles: p95's bin has gamma**(i-1) < p95 <= gamma**i
        gamma, p95 = found["gamma"], row["latency"]["p95_ns"]
        assert any(
            gamma ** (i - 1) < p95 * 1.000001 and p95 <= gamma**i * 1.000001 for i in indexes
        )
    endpoints = sorted(len(e["distribution"]["bins"].split()) for e in report["endpoints"])
    assert 10 <= endpoints[len(endpoints) // 2] <= 80  # a few dozen


def test_the_schema_rejects_a_distribution_without_its_bins(shops):
    report = json.loads(shops["shop-1.json"].read_text())
    del report["endpoints"][0]["distribution"]["bins"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(report, json.loads(SCHEMA.read_text()))


def test_an_unchanged_pair_from_a_saved_baseline_lists_no_moves(shops, tmp_path):
    """Seeds 1 and 3 of the unchanged shop: checkout's p95 sits at the knee of its 2 s timeouts
    and moves by chance. Without durations the saved baseline listed it (and operations for
    'p95'); with its bins, nothing, as the trace files say; an older report still lists them,
    with the note."""
    current = str(shops["shop-3"])
    from_traces = spanscope("diff", str(shops["shop-1"]), current, "--json")
    assert from_traces.returncode == 0, from_traces.stderr
    assert _moves(json.loads(from_traces.stdout)) == []
    from_saved = spanscope("diff", str(shops["shop-1.json"]), current, "--json")
    assert from_saved.returncode == 0, from_saved.stderr
    assert _moves(json.loads(from_saved.stdout)) == []
    assert from_saved.stderr == ""  # no note: the report keeps its durations
    text = spanscope("diff", str(shops["shop-1.json"]), current)
    assert "no endpoint moved beyond chance" in text.stdout

    older = _older(shops["shop-1.json"], tmp_path)
    from_older = spanscope("diff", str(older), current, "--json")
    assert from_older.returncode == 0, from_older.stderr
    assert f"note: {older} is a saved report, which keeps no durations" in from_older.stderr
    assert "not judged against chance" in from_older.stderr
    assert _moves(json.loads(from_older.stdout))  # judged moved, as before


def test_the_planted_regression_is_found_from_the_saved_baseline(shops):
    args = [str(shops["next-2"]), "--json"]
    from_saved = json.loads(spanscope("diff", str(shops["shop-1.json"]), *args).stdout)
    from_traces = json.loads(spanscope("diff", str(shops["shop-1"]), *args).stdout)
    assert from_saved["headline"] == from_traces["headline"]
    line = from_saved["headline"][0]
    assert line.startswith("frontend: POST /api/checkout p50 ") and " p95 " in line
    assert "ms a request in inventory: SELECT shop.stock" in line
    stock = next(o for o in from_saved["operations"] if o["operation"] == "SELECT shop.stock")
    assert "p95" in stock["reasons"]


def test_fail_if_slower_from_a_saved_baseline(shops, tmp_path):
    """Seed 5's checkout p95 is 11% above seed 1's, by chance: a 10% gate passes from the saved
    baseline as from the traces (it tripped from the saved report before); the next release
    trips it."""
    gate = ["--json", "--fail-if-slower", "10%"]
    for baseline in (shops["shop-1.json"], shops["shop-1"]):
        same = spanscope("diff", str(baseline), str(shops["shop-5"]), *gate)
        assert same.returncode == 0, same.stderr
        assert "within chance: frontend: POST /api/checkout p95" in same.stderr
        assert "regression:" not in same.stderr
        slower = spanscope("diff", str(baseline), str(shops["next-2"]), *gate)
        assert slower.returncode == 1, slower.stderr
        assert "regression: frontend: POST /api/checkout p95" in slower.stderr
        assert ", z = " in slower.stderr
    # An older report cannot tell chance: its gate trips on the unchanged shop, as it did.
    older = _older(shops["shop-1.json"], tmp_path)
    blind = spanscope("diff", str(older), str(shops["shop-5"]), *gate)
    assert blind.returncode == 1, blind.stderr
    assert "regression: frontend: POST /api/checkout p95" in blind.stderr


def test_fail_if_errors_rise_from_a_saved_baseline(shops):
    """The error gate needs counts only: from the saved report it says what the trace files
    say (checkout 5/260 -> 18/253 failed, p = 0.0037; and 5/260 -> 12/232, p = 0.042)."""
    gate = ["--json", "--fail-if-errors-rise", "1%"]
    for baseline in (shops["small-2.json"], shops["small-2"]):
        rise = spanscope("diff", str(baseline), str(shops["small-next-22"]), *gate)
        assert rise.returncode == 1, rise.stderr
        assert (
            "regression: frontend: POST /api/checkout error rate 1.92% → 7.11% (more than +1 "
            "points), 5/260 → 18/253 failed, p = 0.0037"
        ) in rise.stderr
        same = spanscope("diff", str(baseline), str(shops["small-5"]), *gate)
        assert same.returncode == 0, same.stderr
        assert "p = 0.042" in same.stderr and "regression:" not in same.stderr


def test_bins_of_an_encoding_unknown_here_are_not_read(shops, tmp_path):
    """A report from a later version whose bins are encoded otherwise: not misread as these,
    but diffed as an older report is, with the note."""
    report = json.loads(shops["shop-1.json"].read_text())
    for row in report["endpoints"] + report["operations"]:
        row["distribution"]["encoding"] = "log-bins/2"
    later = tmp_path / "later.json"
    later.write_text(json.dumps(report))
    result = spanscope("diff", str(later), str(shops["shop-3"]), "--json")
    assert result.returncode == 0, result.stderr
    assert "not judged against chance" in result.stderr
    assert _moves(json.loads(result.stdout))


def test_operations_a_top_10_report_left_out_are_not_listed_as_new_time(shops, tmp_path):
    # A report saved with the default --top 10 keeps 10 operations per endpoint's profile:
    # one it left out is unknown on that side, not 0 ns. Before, the diff of a saved report
    # with its own traces listed them under "where the time per request changed" as 0ns ->
    # their whole time.
    saved = spanscope("analyze", str(shops["small-2"]), "--json")  # --top 10
    assert saved.returncode == 0, saved.stderr
    report = tmp_path / "top-10.json"
    report.write_text(saved.stdout)
    assert any(len(p["frames"]) == 10 for p in json.loads(saved.stdout)["profiles"])
    result = spanscope("diff", str(report), str(shops["small-2"]), "--json")
    assert result.returncode == 0, result.stderr
    contributors = [
        frame
        for endpoint in json.loads(result.stdout)["endpoints"]
        for frame in endpoint["contributors"]
    ]
    assert contributors  # the kept operations are still compared
    assert all(frame["delta_ns"] == 0 for frame in contributors), contributors
    # A full report still lists what only the traces hold: nothing here, the same traces.
    full = spanscope("diff", str(shops["small-2.json"]), str(shops["small-2"]), "--json")
    assert all(
        frame["delta_ns"] == 0
        for endpoint in json.loads(full.stdout)["endpoints"]
        for frame in endpoint["contributors"]
    )
