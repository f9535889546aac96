"""A saved report's bins (``analysis.percentiles.Distribution``) are checked as the report is
read: a tampered one makes ``spanscope diff`` say the file is not a report (exit 2, one line),
not crash, overflow or hang; bins at the limits are read; ``bin_top`` is exact up to 2**64 in
about as many key calls as a duration has bits. Real reports of the real command, edited as a
user would edit them."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spanscope.analysis import percentiles
from spanscope.analysis.percentiles import (
    BINS_MAX_LENGTH,
    COUNT_LIMIT,
    DURATION_LIMIT,
    MAX_WIDTH,
    Distribution,
    bin_of,
    bin_top,
)
from spanscope.analysis.results import AnalysisReport
from spanscope.compare.noise import _Bins

from ..cli.run import spanscope

SCHEMA = Path(__file__).resolve().parents[2] / "schemas" / "analysis-report.schema.json"
# The guard against a hang (the old code took minutes or forever on some of these), not a
# timing assertion.
GUARD_S = 60


@pytest.fixture(scope="module")
def shop(tmp_path_factory) -> Path:
    """A folder with a.jsonl and b.jsonl (the shop, seeds 1 and 2, 200 traces) and base.json,
    ``analyze a.jsonl --json --top 1000``."""
    folder = tmp_path_factory.mktemp("tampered")
    for name, seed in (("a", 1), ("b", 2)):
        made = spanscope("generate", "--traces", "200", "--seed", str(seed), "-o", f"{name}.jsonl",
                         cwd=folder, timeout=GUARD_S)  # fmt: skip
        assert made.returncode == 0, made.stderr
    saved = spanscope("analyze", "a.jsonl", "--json", "--top", "1000", cwd=folder, timeout=GUARD_S)
    assert saved.returncode == 0, saved.stderr
    (folder / "base.json").write_text(saved.stdout)
    return folder


def _edited(folder: Path, name: str, **fields: object) -> Path:
    """base.json with ``fields`` set in its first endpoint's distribution, as ``name``."""
    report = json.loads((folder / "base.json").read_text())
    report["endpoints"][0]["distribution"].update(fields)
    path = folder / name
    path.write_text(json.dumps(report))
    return path


# Each edit as the review found it (what the old code did), then a few more.
TAMPERED = {
    "letters": ({"bins": "abc"}, "'abc' is not an \"i:count\" pair"),  # ValueError
    "not-a-count": ({"bins": "500:x"}, "'500:x' is not"),  # ValueError
    "5000-digits": ({"bins": "500:" + "7" * 5000}, 'is not an "i:count" pair'),  # int limit
    "far-bin": ({"bins": "99999:1000"}, "bin 99999 is past 1109"),  # OverflowError
    "wide": ({"width": 10**9}, "Expected `int` <= 64"),  # OverflowError
    "bin-1200": ({"bins": "1200:1000"}, "bin 1200 is past 1109"),  # hung
    "negative-count": ({"bins": "500:-3"}, "'500:-3' is not"),  # math domain error
    "negative-zeros": ({"zeros": -3}, "Expected `int` >= 0"),  # math domain error
    "53MB": (lambda: {"bins": "1:1 " * 13_250_000}, "length <= 65536"),  # 11.5 s
    "just-too-long": ({"bins": ("1:1 " * 16_385).rstrip()}, "length <= 65536"),
    "descending": ({"bins": "500:1 400:1"}, "bin 400 follows bin 500"),
    "count-past-int64": ({"bins": "500:9999999999999999999"}, "more than 2**63 - 1"),
    "sum-past-int64": ({"bins": f"500:{COUNT_LIMIT}", "zeros": 1}, "more than 2**63 - 1"),
    "width-0": ({"width": 0}, "Expected `int` >= 1"),
    "accuracy": ({"relative_accuracy": 1.0}, "Expected `float` <= 0.5"),
    "gamma": ({"gamma": 3.0}, "gamma 3.0 is not"),
    "two-spaces": ({"bins": "500:1  501:1"}, "separated by one space"),
    "newline": ({"bins": "500:1\n"}, "separated by one space"),
}


@pytest.mark.parametrize("case", TAMPERED)
def test_a_tampered_report_is_not_a_report_in_one_line(shop, case):
    fields, expected = TAMPERED[case]
    path = _edited(shop, f"{case}.json", **(fields() if callable(fields) else fields))
    result = spanscope("diff", path.name, "b.jsonl", cwd=shop, timeout=GUARD_S)
    assert result.returncode == 2, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and len(lines[0]) < 400, result.stderr[:2000]
    assert lines[0].startswith(f"error: {path.name}: not a spanscope analysis report: ")
    assert expected in lines[0]
    assert "at `$.endpoints[0].distribution" in lines[0]  # where, in the file
    assert result.stdout == ""


def test_the_schema_states_the_same_limits(shop):
    schema = json.loads(SCHEMA.read_text())
    report = json.loads((shop / "base.json").read_text())
    jsonschema.validate(report, schema)
    for case in ("letters", "not-a-count", "5000-digits", "wide", "negative-count",
                 "negative-zeros", "just-too-long", "width-0", "accuracy", "two-spaces"):  # fmt: skip
        edited = json.loads(json.dumps(report))
        edited["endpoints"][0]["distribution"].update(TAMPERED[case][0])
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(edited, schema)


def test_bins_at_the_limits_are_read_and_judged(shop):
    """The last bin at width 2 (durations up to 2**64 ns), every count at its most: read, and
    diffed with the bins' tops computed; one past it is not read (above)."""
    last = bin_of(DURATION_LIMIT, 2)
    assert last == 1109
    top = _edited(shop, "top.json", zeros=0, bins=f"0:1 {last}:{COUNT_LIMIT - 1}")
    result = spanscope("diff", top.name, "b.jsonl", "--json", cwd=shop, timeout=GUARD_S)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr and json.loads(result.stdout)["endpoints"]


def test_traces_near_2_63_ns_long_analyze_and_diff(shop):
    """40 traces from 1 ns to 2**63 - 2 ns since the epoch (the longest the readers keep): their
    bins are at the top of the range, where bin_top stepped millions of times a bin; the saved
    report diffs against the traces, and each bin's top holds its durations."""
    lines = []
    for number in range(40):
        span = {
            "traceId": f"{number + 1:032x}",
            "spanId": f"{number + 1:016x}",
            "name": "GET /long",
            "kind": 2,
            "startTimeUnixNano": str(1 + number),
            "endTimeUnixNano": str(2**63 - 2 - number * 10**15),
        }
        resource = {"attributes": [{"key": "service.name", "value": {"stringValue": "edge"}}]}
        lines.append(json.dumps({"resourceSpans": [
            {"resource": resource, "scopeSpans": [{"spans": [span]}]}
        ]}))  # fmt: skip
    (shop / "long.jsonl").write_text("\n".join(lines) + "\n")
    saved = spanscope("analyze", "long.jsonl", "--json", "--top", "1000", cwd=shop, timeout=GUARD_S)
    assert saved.returncode == 0, saved.stderr
    (shop / "long.json").write_text(saved.stdout)
    report = msgspec.json.decode(saved.stdout, type=AnalysisReport)
    found = report.endpoints[0].distribution
    assert found is not None and found.count == 40
    durations = [2**63 - 3 - number * 10**15 - number for number in range(40)]
    assert report.endpoints[0].latency.max_ns == max(durations)
    for duration in durations:
        index = bin_of(duration, found.width)
        assert bin_top(index - 1, found.width) < duration <= bin_top(index, found.width)
        assert index in dict(found.pairs())
    result = spanscope("diff", "long.json", "long.jsonl", "--json", cwd=shop, timeout=GUARD_S)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["headline"] == []


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.sampled_from([0, 1, 2, 2**53 - 1, 2**53, 2**53 + 1, 2**63 - 1, 2**63, 2**64 - 1]),
        st.integers(0, 2**64 - 1),
        st.integers(0, 10**6),
    ),
    st.integers(1, MAX_WIDTH),
)
def test_a_durations_bin_lies_between_two_tops(value, width):
    index = bin_of(value, width)
    assert bin_top(index - 1, width) < value <= bin_top(index, width)


def test_bin_top_is_the_longest_duration_of_its_key_up_to_past_2_64():
    """The defining property, at every key: key(top) <= k < key(top + 1)."""
    for key in range(0, bin_of(DURATION_LIMIT, 1) + 100):
        top = percentiles._base_top(key)
        assert percentiles._key(top) <= key < percentiles._key(top + 1)
    assert percentiles._base_top(-1) == 0


def test_bin_top_near_2_63_bisects(monkeypatch):
    """At key 2200 (about 2**63.5 ns) the old steps from gamma**2200 took 2.7 million key
    calls; the bisection takes about as many as the duration has bits."""
    calls = []
    key = percentiles._key
    monkeypatch.setattr(percentiles, "_key", lambda value: calls.append(value) or key(value))
    percentiles._base_top.cache_clear()
    try:
        top = percentiles._base_top(2200)
        assert len(calls) <= 70
    finally:
        percentiles._base_top.cache_clear()
    assert key(top) <= 2200 < key(top + 1) and 2**63 < top < 2**64


def test_the_last_bin_and_the_longest_bins_fit_the_limits():
    """The limit on indexes (computed from the distribution's accuracy) is bin_of's, at every
    width, and the longest bins of this encoding (every bin, each count at its most) fit in
    BINS_MAX_LENGTH."""
    for width in range(1, MAX_WIDTH + 1):
        last = bin_of(DURATION_LIMIT, width)
        Distribution(relative_accuracy=0.01, width=width, gamma=1.0202020202020203**width,
                     zeros=0, bins=f"{last}:1")  # fmt: skip
        with pytest.raises(ValueError, match="is past"):
            Distribution(relative_accuracy=0.01, width=width, gamma=1.0202020202020203**width,
                         zeros=0, bins=f"{last + 1}:1")  # fmt: skip
    longest = " ".join(f"{index}:{COUNT_LIMIT}" for index in range(bin_of(DURATION_LIMIT, 1) + 1))
    assert len(longest) <= BINS_MAX_LENGTH


def test_bins_are_parsed_once(shop, monkeypatch):
    """As the report is read; counts and the test's bins then use the parsed pairs."""
    parsed = []
    parse = percentiles._parsed
    monkeypatch.setattr(percentiles, "_parsed", lambda found: parsed.append(found) or parse(found))
    report = msgspec.json.decode((shop / "base.json").read_bytes(), type=AnalysisReport)
    rows = report.endpoints + report.operations
    assert len(parsed) == len(rows)
    for row in rows:
        found = row.distribution
        assert found is not None
        for _ in range(3):
            assert found.count == row.latency.count == _Bins(found, 2 * found.width).count
    assert len(parsed) == len(rows)
    # The parsed pairs are not encoded: each distribution written again is the one read.
    written = json.loads((shop / "base.json").read_text())
    for row, found in zip(written["endpoints"] + written["operations"], rows, strict=True):
        assert msgspec.to_builtins(found.distribution) == row["distribution"]


_ACCURACY = 0.01
_fields = st.fixed_dictionaries(
    {
        "relative_accuracy": st.sampled_from([_ACCURACY, 0.0, 0.5, 0.7, -1.0]),
        "width": st.one_of(st.integers(-2, 70), st.sampled_from([10**9, 2**70])),
        "zeros": st.one_of(st.integers(-2, 5), st.sampled_from([COUNT_LIMIT, 2**64])),
        "bins": st.one_of(
            st.text(alphabet="0123456789: -x\n", max_size=60),
            st.lists(st.tuples(st.integers(-3, 3000), st.integers(-2, 2**64)), max_size=8).map(
                lambda pairs: " ".join(f"{i}:{c}" for i, c in pairs)
            ),
        ),
    }
)


@settings(max_examples=400, deadline=None)
@given(_fields)
def test_a_decoded_distribution_is_read_or_refused_never_crashes(fields):
    """Whatever a distribution holds: a ValidationError, or bins the test can use (ascending,
    within the limits, every bin top computed)."""
    a, width = fields["relative_accuracy"], fields["width"]
    fields["gamma"] = ((1 + a) / (1 - a)) ** width if 0 < a <= 0.5 and 1 <= width <= 64 else 2.0
    try:
        found = msgspec.json.decode(json.dumps(fields), type=Distribution)
    except msgspec.ValidationError:
        return
    pairs = found.pairs()
    indexes = [index for index, _ in pairs]
    assert indexes == sorted(set(indexes)) and all(count > 0 for _, count in pairs)
    assert found.count <= COUNT_LIMIT
    bins = _Bins(found, found.width)
    for index in indexes:
        assert bin_top(index, found.width) >= 0
        assert 0 <= bins.above(index) <= found.count
