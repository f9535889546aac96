"""``--since``/``--until`` mean the same in every command: a duration ago, ``now``, an ISO 8601
time or Unix seconds (``spanscope.cli.times``). Checked through the real console script on a
trace file, and through ``query`` on a real DuckDB store, whose traces start at known times
before now: 150, 90 and 20 minutes ago, a batch of shop requests each."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from spanscope.cli import main
from spanscope.cli.times import parse_time
from spanscope.formats import read_spans, write_spans
from spanscope.model import SpanKind
from spanscope.store import open_store
from spanscope.synthetic import generate_spans

from .run import spanscope
from .test_analyze import analyze_json

MINUTE = 60 * 10**9
BATCHES = {"old": 150, "middle": 90, "recent": 20}  # minutes before now each batch starts
PER_BATCH = 15


@pytest.fixture(scope="module")
def batches() -> dict:
    now = time.time_ns()
    return {
        name: list(generate_spans(PER_BATCH, seed=seed, start_ns=now - minutes * MINUTE))
        for seed, (name, minutes) in enumerate(BATCHES.items(), 1)
    }


@pytest.fixture(scope="module")
def traces_file(batches, tmp_path_factory):
    path = tmp_path_factory.mktemp("times") / "recent.jsonl"
    with open(path, "wb") as out:
        write_spans([span for spans in batches.values() for span in spans], out, "otlp-jsonl")
    return path


@pytest.fixture(scope="module")
def db(batches, tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("times") / "recent.duckdb"
    with open_store(path) as store:
        for spans in batches.values():
            store.write(spans)
    return str(path)


def iso(minutes_ago: int, zone: str = "") -> str:
    moment = datetime.now(UTC) - timedelta(minutes=minutes_ago)
    if zone == "+01:00":
        moment = moment.astimezone(UTC) + timedelta(hours=1)
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + zone


def traces_in(*arguments: str | Path) -> int:
    return analyze_json(*map(str, arguments))["summary"]["traces"]


def test_analyze_durations_ago(traces_file):
    assert traces_in(traces_file) == 3 * PER_BATCH
    assert traces_in(traces_file, "--since", "30m") == PER_BATCH
    assert traces_in(traces_file, "--since", "2h", "--until", "1h") == PER_BATCH
    assert traces_in(traces_file, "--until", "1h") == 2 * PER_BATCH
    assert traces_in(traces_file, "--since", "1d", "--until", "now") == 3 * PER_BATCH
    assert traces_in(traces_file, "--since", "10m") == 0


def test_analyze_absolute_times_in_every_form(traces_file):
    middle = [
        ("--since", iso(100), "--until", iso(80)),  # ISO 8601 without a zone: UTC
        ("--since", iso(100, "Z"), "--until", iso(80, "+01:00")),
        ("--since", str(time.time() - 100 * 60), "--until", str(int(time.time()) - 80 * 60)),
        ("--since", iso(100), "--until", "80m"),  # the forms mix
    ]
    for options in middle:
        assert traces_in(traces_file, *options) == PER_BATCH, options


def test_analyze_text_report_names_the_window(traces_file):
    result = spanscope("analyze", str(traces_file), "--since", "30m")
    assert result.returncode == 0, result.stderr
    (line,) = [line for line in result.stdout.splitlines() if line.startswith("filters")]
    assert "_ns" not in line  # was since_ns=1795748400000000000
    since = datetime.fromisoformat(line.split("since=")[1].split(",")[0])
    assert abs(since - (datetime.now(UTC) - timedelta(minutes=30))) < timedelta(minutes=1)


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("30", "'30' has no unit: write 30s, 30m or 30h"),
        ("yesterday", "use a duration ago (30m, 2h, 1d), an ISO 8601 time"),
        ("-30m", "is not a time"),
        ("1795748400000", "milliseconds?"),
        ("2026-13-01", "is not a time"),
        ("999999999999d", "is before 1970-01-01"),  # these two were tracebacks
        ("9999-12-31", "is after 2262-04-11"),
    ],
)
def test_bad_values_are_usage_errors_naming_the_option(traces_file, db, value, says):
    result = spanscope("analyze", str(traces_file), "--until", value)
    assert result.returncode == 2
    assert "Invalid value for '--until'" in result.stderr and says in result.stderr
    result = CliRunner().invoke(main, ["query", "--db", db, "--since", value])
    assert result.exit_code == 2
    assert "Invalid value for '--since'" in result.output and says in result.output


def test_an_empty_window_is_a_usage_error(traces_file, db):
    result = spanscope("analyze", str(traces_file), "--since", "10m", "--until", "1h")
    assert result.returncode == 2 and "--since (" in result.stderr
    assert "is not before --until" in result.stderr and result.stdout == ""
    result = CliRunner().invoke(main, ["query", "--db", db, "--since", "now", "--until", "1h"])
    assert result.exit_code == 2 and "is not before --until" in result.output
    # --metrics's window runs to now without --until: a --since after now leaves it empty
    future = CliRunner().invoke(main, ["query", "--db", db, "--metrics", "--since", "2200-01-01"])
    assert future.exit_code == 2 and "is not before --until" in future.output
    assert future.exception is None or isinstance(future.exception, SystemExit)


def query_traces(db: str, *options: str) -> set[str]:
    result = CliRunner().invoke(main, ["query", "--db", db, "--limit", "1000", "--json", *options])
    assert result.exit_code == 0, result.output
    return {row["trace_id"] for row in json.loads(result.stdout)}  # (stderr: why none)


def trace_ids(spans) -> set[str]:
    return {span.trace_id for span in spans}


def test_query_durations_and_times(db, batches):
    assert query_traces(db, "--since", "30m") == trace_ids(batches["recent"])
    assert query_traces(db, "--since", "2h", "--until", "1h") == trace_ids(batches["middle"])
    assert query_traces(db, "--since", iso(100), "--until", iso(80, "Z")) == trace_ids(
        batches["middle"]
    )
    assert query_traces(db, "--until", "2h") == trace_ids(batches["old"])


def server_calls(spans) -> int:
    return sum(span.kind == SpanKind.SERVER for span in spans)


def test_query_metrics_window(db, batches):
    def calls(*options: str) -> int:
        result = CliRunner().invoke(main, ["query", "--db", db, "--metrics", "--json", *options])
        assert result.exit_code == 0, result.output
        return sum(row["calls"] for row in json.loads(result.output))

    assert calls() == server_calls(batches["recent"])  # the last hour by default
    assert calls("--since", "30m") == server_calls(batches["recent"])
    assert calls("--since", "2h", "--until", "1h") == server_calls(batches["middle"])
    assert calls("--until", "2h") == server_calls(batches["old"])  # the hour before --until
    table = CliRunner().invoke(
        main,
        ["query", "--db", db, "--metrics", "--since", iso(100), "--until", iso(80)],
        env={"COLUMNS": "160"},
    )
    assert table.exit_code == 0, table.output
    title = table.output.splitlines()[0].strip()  # one line, though wider than the table
    assert title.startswith(f"7 services, server spans, {iso(100)[:16]}")
    assert title.endswith(" UTC, most errors first")


def test_help_says_what_until_means():
    for command in ("analyze", "query"):
        result = CliRunner().invoke(main, [command, "--help"], env={"COLUMNS": "100"})
        text = " ".join(result.output.split())
        assert "--until 10m is ten minutes ago" in text
        assert "--since 2h --until 1h" in text


@given(
    moment=st.datetimes(
        min_value=datetime(2001, 9, 10), max_value=datetime(2262, 4, 10), timezones=st.just(UTC)
    ),
    minutes=st.integers(min_value=0, max_value=10**6),
)
def test_the_forms_agree(moment: datetime, minutes: int) -> None:
    now = time.time_ns()
    ns = round(moment.timestamp()) * 10**9  # to the second: Unix seconds below are whole
    moment = datetime.fromtimestamp(ns // 10**9, UTC)
    assert parse_time(moment.isoformat(), now) == ns
    assert parse_time(moment.strftime("%Y-%m-%dT%H:%M:%S"), now) == ns
    assert parse_time(moment.strftime("%Y-%m-%dT%H:%M:%SZ"), now) == ns
    assert parse_time(str(ns // 10**9), now) == ns
    assert parse_time(f"{minutes}m", now) == now - minutes * MINUTE
    hours = minutes // 60
    assert parse_time(f"{hours}h", now) == parse_time(f"{hours * 60}m", now)
    # what a report prints (format_duration: 2h05m, 3m20s) can be typed back
    assert parse_time(f"{hours}h{minutes % 60:02d}m", now) == now - minutes * MINUTE
    # as Grafana writes it, and as people say it
    assert parse_time(f"now-{minutes}m", now) == parse_time(f"{minutes}m ago", now)
    assert parse_time(f"NOW-{minutes}m", now) == now - minutes * MINUTE


@pytest.mark.parametrize("value", ["now-", "now-1x", " ago", "now-2026-11-27", "ago"])
def test_durations_ago_in_other_words_must_be_durations(value: str) -> None:
    with pytest.raises(ValueError, match="is not a time"):
        parse_time(value, time.time_ns())


def test_generate_starts_when_told_so_the_monitor_sees_it(tmp_path):
    path = tmp_path / "live.jsonl"
    result = spanscope("generate", "--traces", "200", "--start", "5m", "-o", str(path))
    assert result.returncode == 0, result.stderr
    summary = analyze_json(str(path))["summary"]
    assert abs(summary["start_ns"] - (time.time_ns() - 5 * MINUTE)) < MINUTE
    assert traces_in(path, "--since", "6m", "--until", "now") == 200
    db = tmp_path / "live.duckdb"
    with open_store(db) as store:
        store.write(list(read_spans(path)))
    result = CliRunner().invoke(main, ["query", "--db", str(db), "--metrics", "--since", "15m"])
    assert result.exit_code == 0 and "frontend" in result.output, result.output

    # One seed and one start give one file; another start gives other requests, so a store
    # fed twice does not join them into year-long traces.
    def ids(*options: str) -> set[str]:
        result = spanscope("generate", "--traces", "5", *options)
        return {
            json.loads(line)["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["traceId"]
            for line in result.stdout.splitlines()
        }

    at = ("--start", "2026-11-27T03:00:00Z")
    assert ids(*at) == ids(*at) and ids() == ids()
    assert not ids(*at) & ids() and not ids(*at) & ids("--start", "2026-11-27T03:00:01Z")


def test_query_titles_say_the_window_as_typed(db):
    def title(*options: str) -> str:
        result = CliRunner().invoke(main, ["query", "--db", db, *options], env={"COLUMNS": "160"})
        assert result.exit_code == 0, result.output
        return result.output.splitlines()[0].strip()

    assert title("--metrics") == "7 services, server spans, last 1h, most errors first"
    assert title("--metrics", "--since", "30m").startswith("7 services, server spans, last 30m")
    assert title("--metrics", "--service", "checkout").startswith("1 operation of checkout,")
    assert title("--limit", "1") == "1 trace, most recent first"


def test_a_window_that_misses_the_data_says_so(traces_file):
    result = spanscope("analyze", str(traces_file), "--since", "10m")
    assert result.returncode == 0, result.stderr
    spans = sum(1 for _ in read_spans(traces_file))
    assert f"none of the {spans:,} spans read is in a trace that passes the filters" in (
        " ".join(result.stdout.split())
    )
    # Why, on stderr: the time the traces start beside the window asked (match_feedback).
    assert "its traces start from" in result.stderr
    assert "all before the --since time" in result.stderr


def test_analyze_a_store_with_the_same_windows(db):
    assert traces_in("--db", db, "--since", "30m") == PER_BATCH
    assert traces_in("--db", db, "--since", "2h", "--until", "1h") == PER_BATCH
    assert traces_in("--db", db, "--since", iso(100), "--until", iso(80, "Z")) == PER_BATCH
    assert traces_in("--db", db, "--until", "2h") == PER_BATCH


def test_until_is_exclusive_everywhere(db, traces_file, batches):
    first = min(batches["recent"], key=lambda span: span.start_ns)
    at, just_after = (
        f"{ns // 10**9}.{ns % 10**9:09d}" for ns in (first.start_ns, first.start_ns + 1)
    )
    assert first.trace_id not in query_traces(db, "--since", "30m", "--until", at)
    assert first.trace_id in query_traces(db, "--since", "30m", "--until", just_after)
    assert traces_in(traces_file, "--since", "30m", "--until", at) == 0
    assert traces_in(traces_file, "--since", "30m", "--until", just_after) == 1


def test_an_empty_metrics_window_says_which_and_what_to_try(db):
    result = CliRunner().invoke(main, ["query", "--db", db, "--metrics", "--since", "10m"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("no server spans in the window (last 10m): a longer --since")
    result = CliRunner().invoke(
        main, ["query", "--db", db, "--metrics", "--service", "checkout", "--until", "3h"]
    )
    assert result.output.startswith("no server spans of checkout in the window (20")
    assert " UTC): a longer --since, or another --kind" in result.output


@given(
    text=st.one_of(
        st.text(max_size=40),
        st.from_regex(r"\d{1,22}(\.\d{1,12})?(ns|us|ms|s|m|min|h|d|w)?", fullmatch=True),
        st.datetimes().map(datetime.isoformat),
        st.datetimes(timezones=st.timezones()).map(datetime.isoformat),
    )
)
def test_any_text_is_a_time_a_store_can_hold_or_a_value_error(text: str) -> None:
    # A time before 1970 or past 2262 was a traceback (DuckDB's and msgspec's overflows).
    try:
        ns = parse_time(text, time.time_ns())
    except ValueError as exc:
        assert repr(text) in str(exc) or repr(text.strip()) in str(exc)  # names the value
        return
    assert 0 <= ns < 2**63
