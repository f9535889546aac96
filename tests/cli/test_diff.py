"""``spanscope diff`` through the real console script: the shop's current release against its
next one (``generate --next-release``), from trace files in two formats and from a saved
baseline report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ..compare.shop_changes import write_renamed
from .run import spanscope

FIXTURES = Path(__file__).parent.parent / "fixtures"


@pytest.fixture(scope="module")
def sides(tmp_path_factory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("diff")
    before, after = folder / "before.jsonl", folder / "after.json"
    assert (
        spanscope("generate", "--traces", "1500", "--seed", "1", "-o", str(before)).returncode == 0
    )
    made = spanscope(
        "generate",
        "--traces",
        "1500",
        "--seed",
        "2",
        "--next-release",
        "--to",
        "jaeger",
        "-o",
        str(after),
    )
    assert made.returncode == 0, made.stderr
    return before, after


def test_text_report_says_what_changed_and_where(sides):
    result = spanscope("diff", *map(str, sides))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "what changed" in out
    assert "frontend: POST /api/checkout p50" in out
    assert "inventory: SELECT shop.stock" in out
    assert "new error: CarrierRateLimited" in out
    assert "where the time per request changed" in out


def test_json_and_a_saved_baseline_give_the_same_comparison(sides, tmp_path):
    before, after = sides
    direct = spanscope("diff", str(before), str(after), "--json")
    assert direct.returncode == 0, direct.stderr
    saved = tmp_path / "baseline.json"
    analysed = spanscope("analyze", str(before), "--json", "--top", "1000")
    assert analysed.returncode == 0, analysed.stderr
    saved.write_text(analysed.stdout)
    from_saved = spanscope("diff", str(saved), str(after), "--json")
    assert from_saved.returncode == 0, from_saved.stderr
    first, second = json.loads(direct.stdout), json.loads(from_saved.stdout)
    # A saved report keeps its durations in log bins: its percentile moves are judged against
    # chance as the traces' are, and nothing is said of it (compare.noise).
    assert from_saved.stderr == ""
    for key in ("before", "after", "endpoints", "errors", "dependencies"):
        assert first[key] == second[key], key
    assert first["headline"] == second["headline"] and first["headline"]

    # A saved report (version 5) keeps the calls in the requests that make each call too.
    assert first["operations"] == second["operations"]
    assert all(o["calls_where_made_before"] is not None for o in second["operations"])
    assert first["before"]["traces"] == first["after"]["traces"] == 1500


@pytest.mark.parametrize(
    ("gate", "code", "message"),
    [
        (["--fail-if-slower", "50%"], 1, "POST /api/checkout p95"),
        (["--fail-if-slower", "5000%"], 0, ""),
        (["--fail-if-slower", "5%", "--percentile", "p50", "--ignore-below", "1h"], 0, ""),
        (["--fail-if-errors-rise", "1%"], 1, "error rate"),
        (["--fail-if-errors-rise", "50"], 0, ""),
    ],
)
def test_gates_exit_1_exactly_when_they_trip(sides, gate, code, message):
    result = spanscope("diff", *map(str, sides), "--json", *gate)
    assert result.returncode == code, result.stderr
    if message:
        assert "regression:" in result.stderr and message in result.stderr
    json.loads(result.stdout)  # the comparison is printed either way


def test_a_side_that_cannot_be_read_is_named_and_exits_2(sides, tmp_path):
    result = spanscope("diff", str(tmp_path / "missing.jsonl"), str(sides[1]))
    assert result.returncode == 2
    assert "missing.jsonl" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("value", ["lots", "nan", "inf%", "-5%", "-inf"])
@pytest.mark.parametrize("option", ["--fail-if-slower", "--fail-if-errors-rise"])
def test_bad_percentage_is_a_usage_error(sides, option, value):
    result = spanscope("diff", *map(str, sides), option, value)
    assert result.returncode == 2
    assert f"Invalid value for {option}: '{value}'" in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""


def test_more_files_per_side(sides, tmp_path):
    before, after = sides
    extra = tmp_path / "more.jsonl"
    assert spanscope("generate", "--traces", "300", "--seed", "9", "-o", str(extra)).returncode == 0
    result = spanscope("diff", str(before), str(after), "--before-also", str(extra), "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["before"]["traces"] == 1800


def test_a_truncated_saved_report_is_named_without_a_traceback(sides, tmp_path):
    before, after = sides
    analysed = spanscope("analyze", str(before), "--json", "--top", "1000")
    broken = tmp_path / "baseline.json"
    broken.write_text(analysed.stdout[: len(analysed.stdout) // 2])
    result = spanscope("diff", str(broken), str(after))
    assert result.returncode == 2
    assert "baseline.json" in result.stderr and "not a spanscope analysis report" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("store", ["missing.duckdb", "chdb:missing-folder"])
def test_a_store_that_is_not_there_exits_2_not_as_a_tripped_gate(tmp_path, store):
    """Exit 1 says "regression" to a CI job: a store that cannot be read is an input error."""
    if store.startswith("chdb:"):
        pytest.importorskip("chdb")
        db = f"chdb:{tmp_path / store.removeprefix('chdb:')}"
    else:
        db = str(tmp_path / store)
    result = spanscope("diff", "--db", db, "--since", "1h", "--fail-if-slower", "10%")
    assert result.returncode == 2, result.stderr
    assert "missing" in result.stderr and result.stdout == ""


def test_two_samples_of_one_shop_say_nothing_changed(sides, tmp_path):
    """Seeds 1 and 3 of the same shop: checkout's p95 moves by chance (its 2 s timeouts put it at
    a knee); diff judges percentiles against chance and says nothing moved."""
    other = tmp_path / "other.jsonl"
    made = spanscope("generate", "--traces", "1500", "--seed", "3", "-o", str(other))
    assert made.returncode == 0, made.stderr
    result = spanscope("diff", str(sides[0]), str(other), "--json")
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    assert found["headline"] == [] and found["errors"] == []
    assert not [o for o in found["operations"] if set(o["reasons"]) & {"p95", "error rate"}]
    text = spanscope("diff", str(sides[0]), str(other))
    assert "no endpoint moved beyond chance" in text.stdout


def test_one_trace_against_an_edited_copy_of_itself(tmp_path):
    """A Zipkin trace from Zipkin's own test data, and the same trace with one call 200 ms
    longer (the call, its server span and the root): the 200 ms are put on that call, and the
    report says one request a side is too few to judge rather than "nothing moved"."""
    source = FIXTURES / "zipkin" / "zipkin-lens__testdata__ascend.json"
    spans = json.loads(source.read_text())
    for span in spans:
        if span["id"] in ("c21c6c51ac71b3ba", "ecc00062ceef4bf0", "ef86c83c0a05a6d6"):
            span["duration"] += 200_000  # µs
    edited = tmp_path / "ascend-slower.json"
    edited.write_text(json.dumps(spans))
    result = spanscope("diff", str(source), str(edited), "--json")
    assert result.returncode == 0, result.stderr
    (endpoint,) = json.loads(result.stdout)["endpoints"]
    assert endpoint["few_requests"]
    top = endpoint["contributors"][0]
    assert (top["service"], top["operation"], top["delta_ns"]) == (
        "content-service",
        "get",
        200_000_000,
    )
    text = spanscope("diff", str(source), str(edited)).stdout
    assert "before: 1 trace, 8 spans" in text
    assert "too few requests to judge" in text and "no endpoint moved" not in text


def _with_ids_in_names(path: Path, traces: int, seed: int) -> None:
    """The shop's traces with the product page's root span named after its product
    (``GET /api/products/2428``), as an instrumentation that puts ids in names does."""
    import msgspec

    from spanscope.formats import write_spans
    from spanscope.synthetic import generate_spans

    def renamed(span):
        if span.name == "GET /api/products/{id}":
            return msgspec.structs.replace(span, name=f"GET {span.attributes['url.path']}")
        return span

    with open(path, "wb") as out:
        write_spans(map(renamed, generate_spans(traces, seed=seed)), out, "otlp-jsonl")


def test_names_with_ids_fold_alike_on_a_big_and_a_small_side(tmp_path):
    """1,500 requests before (hundreds of product ids: folded to <num>) against 12 after (a
    handful of ids, too few to fold alone): the product page is one endpoint on both sides, not
    'gone' and a new endpoint per id."""
    big, small = tmp_path / "day.jsonl", tmp_path / "first-minutes.jsonl"
    _with_ids_in_names(big, 1500, seed=1)
    _with_ids_in_names(small, 12, seed=2)
    result = spanscope("diff", str(big), str(small), "--json")
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    assert found["new_endpoints"] == [] and found["gone_endpoints"] == []
    names = {e["operation"] for e in found["endpoints"]}
    assert "GET /api/products/<num>" in names
    assert not [o for o in found["operations"] if o["reasons"] in (["new"], ["gone"])]


def test_a_filter_that_leaves_a_side_empty_says_why(sides):
    before, after = sides
    result = spanscope("diff", str(before), str(after), "--service", "chekout", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["headline"] == [
        "no traces before or after: nothing to compare"
    ]
    for side in sides:
        assert f"no traces in {side} match --service chekout" in result.stderr
    assert "it has no service 'chekout' (its services: checkout, " in result.stderr


def test_a_gate_does_not_trip_on_chance(sides, tmp_path):
    """Seed 5 of the same shop: checkout's p95 is 11% above seed 1's, by chance (its 2 s
    timeouts put p95 at a knee). A 10% gate says so on stderr and passes; the regression of
    the next release still trips it."""
    before = tmp_path / "seed-1.jsonl"
    same = tmp_path / "seed-5.jsonl"
    for path, seed in ((before, "1"), (same, "5")):
        made = spanscope("generate", "--traces", "2000", "--seed", seed, "-o", str(path))
        assert made.returncode == 0, made.stderr
    result = spanscope("diff", str(before), str(same), "--json", "--fail-if-slower", "10%")
    assert result.returncode == 0, result.stderr
    assert "within chance: frontend: POST /api/checkout p95" in result.stderr
    assert "regression:" not in result.stderr
    slower = spanscope("diff", str(before), str(sides[1]), "--json", "--fail-if-slower", "10%")
    assert (
        slower.returncode == 1 and "regression: frontend: POST /api/checkout p95" in slower.stderr
    )


def test_endpoints_too_small_to_judge_are_named_under_the_headline(sides, tmp_path):
    small = tmp_path / "first-minute.jsonl"
    made = spanscope(
        "generate", "--traces", "60", "--seed", "9", "--next-release", "-o", str(small)
    )
    assert made.returncode == 0, made.stderr
    result = spanscope("diff", str(sides[0]), str(small))
    assert result.returncode == 0, result.stderr
    unjudged = next(line for line in result.stdout.splitlines() if line.startswith("not judged"))
    assert "frontend: POST /api/checkout" in unjudged
    assert "GET /api/products" not in unjudged  # 30-odd requests: judged


# Names rich would read as markup: SQL Server's brackets, and a closing tag.
_ODD_NAMES = {
    "SELECT shop.stock": "SELECT [dbo].[stock]",
    "POST /api/checkout": "POST /api/[/red]checkout",
}
_ODD: dict = {"names": _ODD_NAMES, "services": {"shipping": "shipping[eu]"}}


@pytest.fixture(scope="module")
def odd_sides(tmp_path_factory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("odd [dbo] names")
    before, after = folder / "before[dbo].jsonl", folder / "after.jsonl"
    write_renamed(before, 1500, seed=1, **_ODD)
    write_renamed(after, 1500, seed=2, next_release=True, **_ODD)
    return before, after


def test_names_that_look_like_markup_are_printed_as_they_are(odd_sides):
    """A SQL Server statement is the regression's cause: '[dbo].[stock]' must not print as
    '.'; a name holding '[/red]' must not end the report with a markup error."""
    result = spanscope("diff", *map(str, odd_sides))
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    out = result.stdout
    assert "frontend: POST /api/[/red]checkout p50" in out  # the headline
    assert "in inventory: SELECT [dbo].[stock]" in out
    assert "frontend: POST /api/[/red]checkout\n" in out  # the endpoint's title
    assert out.count("inventory: SELECT [dbo].[stock]") >= 2  # the headline, and its table
    assert "checkout → shipping[eu]" in out  # the service calls
    assert "new shipping[eu]: POST" in out  # the new error origin
    assert "before[dbo].jsonl" in out  # the sides' sources


def test_markup_in_names_of_gate_messages_and_notes(odd_sides, tmp_path):
    before, after = odd_sides
    gated = spanscope("diff", str(before), str(after), "--json", "--fail-if-slower", "50%")
    assert gated.returncode == 1, gated.stderr
    assert "regression: frontend: POST /api/[/red]checkout p95" in gated.stderr
    json.loads(gated.stdout)
    # Seed 1 against seed 5 of the unchanged shop: checkout's p95 11% apart, within chance.
    first, same = tmp_path / "seed-1.jsonl", tmp_path / "seed-5.jsonl"
    write_renamed(first, 2000, seed=1, **_ODD)
    write_renamed(same, 2000, seed=5, **_ODD)
    chance = spanscope("diff", str(first), str(same), "--json", "--fail-if-slower", "10%")
    assert chance.returncode == 0, chance.stderr
    assert "within chance: frontend: POST /api/[/red]checkout p95" in chance.stderr
    saved = tmp_path / "baseline[dbo].json"
    analysed = spanscope("analyze", str(before), "--json", "--top", "1000")
    # (saved as before version 4, without distributions: the note names it)
    report = json.loads(analysed.stdout)
    for row in report["endpoints"] + report["operations"]:
        del row["distribution"]
    saved.write_text(json.dumps(report))
    from_saved = spanscope("diff", str(saved), str(after), "--fail-if-slower", "50%")
    assert from_saved.returncode == 1, from_saved.stderr
    assert f"note: {saved} is a saved report" in from_saved.stderr
    assert "regression: frontend: POST /api/[/red]checkout p95" in from_saved.stderr
    assert "SELECT [dbo].[stock]" in from_saved.stdout
    assert "Traceback" not in from_saved.stderr


@pytest.fixture(scope="module")
def thousand(tmp_path_factory) -> dict[str, Path]:
    """1,000 traces a side: the shop (seeds 2, 3, 5) and its next release (seeds 22, 23)."""
    folder = tmp_path_factory.mktemp("thousand")
    made = {}
    for seed, next_release in ((2, False), (3, False), (5, False), (22, True), (23, True)):
        path = folder / f"{'next' if next_release else 'shop'}-{seed}.jsonl"
        args = ["generate", "--traces", "1000", "--seed", str(seed), "-o", str(path)]
        result = spanscope(*args, *(["--next-release"] if next_release else []))
        assert result.returncode == 0, result.stderr
        made[path.stem] = path
    return made


def test_the_error_gate_trips_on_a_planted_rise_and_says_p(thousand):
    """Checkout 5/260 failed -> 18/253 (1.9% -> 7.1%): z = 2.84, which the two-sided z >= 3
    of the reports called chance; the gate asks one question, one-sided (Fisher, p <= 0.01)."""
    gate = ["--json", "--fail-if-errors-rise", "1%"]
    result = spanscope("diff", str(thousand["shop-2"]), str(thousand["next-22"]), *gate)
    assert result.returncode == 1, result.stderr
    assert (
        "regression: frontend: POST /api/checkout error rate 1.92% → 7.11% (more than +1 "
        "points), 5/260 → 18/253 failed, p = 0.0037"
    ) in result.stderr
    # 10/247 -> 18/241: a rise chance gives one time in thirteen
    unsure = spanscope("diff", str(thousand["shop-3"]), str(thousand["next-23"]), *gate)
    assert unsure.returncode == 0, unsure.stderr
    assert "within chance: frontend: POST /api/checkout error rate 4.05% → 7.47%" in unsure.stderr
    assert "p = 0.076 (one-sided, 0.01 needed): too few requests to tell" in unsure.stderr
    assert "can differ this much" not in unsure.stderr


def test_the_error_gate_passes_two_samples_of_one_shop(thousand):
    """Seeds 2 and 5 of the unchanged shop, the closest to a false alarm of 55 pairs of seeds 1
    to 11: checkout 5/260 -> 12/232 failed (p = 0.042)."""
    gate = ["--json", "--fail-if-errors-rise", "1%"]
    result = spanscope("diff", str(thousand["shop-2"]), str(thousand["shop-5"]), *gate)
    assert result.returncode == 0, result.stderr
    assert "within chance: frontend: POST /api/checkout error rate" in result.stderr
    assert "p = 0.042" in result.stderr and "regression:" not in result.stderr


@pytest.mark.parametrize(
    ("selection", "why"),
    [
        (["--service", "chekout"], "no traces before or after"),
        (["--min-requests", "100000"], "no endpoint has 100000 requests (--min-requests) on both"),
    ],
)
def test_a_gate_with_nothing_to_judge_exits_2(sides, selection, why):
    """A mistyped --service left both sides empty and the gate passed (exit 0): CI read 'no
    regression' from a comparison of nothing."""
    result = spanscope("diff", *map(str, sides), "--fail-if-slower", "1%", *selection)
    assert result.returncode == 2, result.stderr
    assert f"error: --fail-if-slower: {why}" in result.stderr
    assert "nothing was judged: the gate can neither pass nor fail" in result.stderr
    both = ["--fail-if-slower", "1%", "--fail-if-errors-rise", "1%"]
    result = spanscope("diff", *map(str, sides), "--json", *both, *selection)
    assert result.returncode == 2 and "--fail-if-slower and --fail-if-errors-rise: " in (
        result.stderr
    )
    json.loads(result.stdout)  # the comparison is still printed
    assert spanscope("diff", *map(str, sides), *selection).returncode == 0  # no gate: a report
