"""``--db`` in every command that reads traces: convert, view, flamegraph, servicemap, lint,
diff, info and sample read a store as analyze does.

Real DuckDB stores written with ``open_store``; each output is compared with the same command
on the same spans written to a file (``encode_spans``): equal apart from the line that names
the input. A real ``spanscope serve`` child process holds a store for the read-through case.
"""

from __future__ import annotations

import json
import random
import signal
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner, Result

from spanscope.assembly import group_by_trace
from spanscope.cli import main
from spanscope.formats import decode_spans, encode_spans
from spanscope.model import Span
from spanscope.store import TraceQuery, open_store
from spanscope.store.codec import sample_key
from spanscope.synthetic import generate_spans
from tests.cli.run import spanscope
from tests.server.conftest import post_spans, serve_process, start_server, stop_server

T0 = 1_764_150_000_000_000_000  # 2025-11-26T09:40:00Z
T0_S = T0 // 10**9
DAY_S = 86_400
TRACES = 120


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The same spans in a trace file and in a store. The file holds its traces oldest first
    (by their first span's start), as a store gives them: a page lists traces in the order
    read. (Jaeger's JSON keeps that order; OTLP groups spans by resource.)"""
    folder = tmp_path_factory.mktemp("shop")
    groups = group_by_trace(generate_spans(TRACES, seed=7, start_ns=T0))
    ordered = sorted(groups.items(), key=lambda item: (min(s.start_ns for s in item[1]), item[0]))
    path = folder / "shop.json"
    path.write_bytes(encode_spans([span for _, group in ordered for span in group], "jaeger"))
    db = folder / "shop.duckdb"
    with open_store(db) as store:
        store.write(list(decode_spans(path.read_bytes(), "jaeger")))
    return path, db


def _spans(path: Path, format_name: str) -> list:
    spans = decode_spans(path.read_bytes(), format_name)
    return sorted(spans, key=lambda span: (span.trace_id, span.span_id))


@pytest.mark.parametrize("target", ["otlp-json", "zipkin-v2"])
def test_convert_exports_a_store_as_the_file_converts(
    shop: tuple[Path, Path], tmp_path: Path, target: str
) -> None:
    path, db = shop
    exported, converted = tmp_path / "exported.json", tmp_path / "converted.json"
    done = run("convert", "--db", str(db), "--to", target, "-o", str(exported))
    assert done.exit_code == 0, done.output
    assert f"from {db}" in done.stderr
    assert run("convert", str(path), str(converted), "--to", target).exit_code == 0
    from_store, from_file = _spans(exported, target), _spans(converted, target)
    assert len(from_store) > TRACES
    assert from_store == from_file


def test_convert_selects_the_same_traces_from_a_store_and_a_file(
    shop: tuple[Path, Path], tmp_path: Path
) -> None:
    path, db = shop
    chosen = ("--service", "payment", "--min-duration", "50ms")
    exported, converted = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    assert run("convert", "--db", str(db), *chosen, "-o", str(exported)).exit_code == 0
    assert run("convert", str(path), *chosen, str(converted)).exit_code == 0
    from_store, from_file = _spans(exported, "otlp-jsonl"), _spans(converted, "otlp-jsonl")
    everything = _spans(path, "jaeger")
    assert 0 < len(from_store) < len(everything)
    assert from_store == from_file
    # whole traces: every span of a chosen trace is there
    kept = {span.trace_id for span in from_store}
    assert len(from_store) == sum(span.trace_id in kept for span in everything)


@pytest.mark.parametrize(
    ("command", "output", "extra"),
    [
        ("view", "page.html", ()),
        ("view", "page.html", ("--service", "payment", "--since", str(T0_S))),
        ("flamegraph", "flame.svg", ()),
        ("flamegraph", "flame.svg", ("--aggregate", "--slow")),
        ("servicemap", "map.html", ()),
        ("servicemap", "map.svg", ("--until", str(T0_S + 2))),
    ],
)
def test_pages_and_images_of_a_store_are_those_of_the_file(
    shop: tuple[Path, Path], tmp_path: Path, command: str, output: str, extra: tuple[str, ...]
) -> None:
    path, db = shop
    stored, filed = tmp_path / f"db-{output}", tmp_path / f"file-{output}"
    done = run(command, "--db", str(db), *extra, "-o", str(stored))
    assert done.exit_code == 0, done.output
    assert run(command, str(path), *extra, "-o", str(filed)).exit_code == 0
    assert stored.read_bytes() == filed.read_bytes()


def test_view_finds_a_stored_trace_by_its_id_or_a_prefix(
    shop: tuple[Path, Path], tmp_path: Path
) -> None:
    path, db = shop
    trace_id = _spans(path, "jaeger")[-1].trace_id
    pages = {}
    for name, source, wanted in (
        ("whole", ("--db", str(db)), trace_id),
        ("prefix", ("--db", str(db)), trace_id[:8]),
        ("file", (str(path),), trace_id[:8]),
        ("copied", ("--db", str(db)), f"{trace_id[:26]}…"),  # as diff's tables show it
    ):
        pages[name] = tmp_path / f"{name}.html"
        done = run("view", *source, "--trace-id", wanted, "-o", str(pages[name]))
        assert done.exit_code == 0, done.output
        assert "1 trace," in done.stderr
    assert pages["whole"].read_bytes() == pages["prefix"].read_bytes()
    assert pages["whole"].read_bytes() == pages["file"].read_bytes()
    assert pages["whole"].read_bytes() == pages["copied"].read_bytes()
    missing = run("view", "--db", str(db), "--trace-id", "f" * 32, "-o", str(tmp_path / "x"))
    assert missing.exit_code == 1
    assert f"it has no trace with the id {'f' * 32}" in missing.output


def test_limit_reads_a_sample_by_trace_id_and_says_so(
    shop: tuple[Path, Path], tmp_path: Path
) -> None:
    path, db = shop
    done = run("view", "--db", str(db), "--limit", "5", "-o", str(tmp_path / "five.html"))
    assert done.exit_code == 0, done.output
    assert "(5 traces," in done.stderr
    said = "a sample of 5 of 120 traces with a matching span in the store was read, spread "
    said += "over it (by trace id)"
    assert said in done.stderr
    sampled = run("sample", "--db", str(db), "--limit", "7", "-p", "all", "--json")
    assert json.loads(sampled.stdout)["traces"] == 7
    # The traces with the smallest sample keys, as every engine chooses them.
    ids = sorted({span.trace_id for span in _spans(path, "jaeger")}, key=_by_key)[:5]
    listed = run("convert", "--db", str(db), "--limit", "5", "-o", str(tmp_path / "five.jsonl"))
    assert listed.exit_code == 0, listed.output
    written = decode_spans((tmp_path / "five.jsonl").read_bytes(), "otlp-jsonl")
    assert {span.trace_id for span in written} == set(ids)


@pytest.mark.parametrize("command", ["convert", "sample", "analyze", "info"])
def test_help_says_a_cut_read_is_a_sample_spread_over_the_window(command: str) -> None:
    shown = " ".join(run(command, "--help").output.split())
    assert "spread over the window, chosen by trace id" in shown
    assert "most recent" not in shown


def _by_key(trace_id: str) -> tuple[int, str]:
    return sample_key(trace_id), trace_id


HOUR = 3600 * 10**9


def test_analyze_of_a_cut_window_reads_a_sample_of_all_of_it(tmp_path: Path) -> None:
    """Three hours of traces, --limit well under their count: the report covers the whole
    window (its first and last traces near its edges), not its newest minutes."""
    db = tmp_path / "hours.duckdb"
    with open_store(db) as store:
        for step in range(36):  # 10 traces every 5 minutes
            store.write(list(generate_spans(10, seed=step, start_ns=T0 + step * 5 * 60 * 10**9)))
    since, until = T0, T0 + 3 * HOUR
    done = run(
        "analyze", "--db", str(db), "--since", str(since // 10**9), "--until",
        str(until // 10**9), "--limit", "40", "--json",
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    summary = json.loads(done.stdout)["summary"]
    assert summary["traces"] == 40
    assert summary["start_ns"] < since + 20 * 60 * 10**9
    assert summary["end_ns"] > until - 20 * 60 * 10**9
    said = "a sample of 40 of 360 traces with a matching span in the window was read"
    assert said in done.stderr


def test_a_cut_sample_keeps_what_a_ratio_sampler_keeps_of_the_window(tmp_path: Path) -> None:
    """A ratio sampler keeps the traces whose low 64 bits are small: a sample cut by --limit is
    not those (it would keep them all), so probability=10% keeps about a tenth of it."""
    db = tmp_path / "many.duckdb"
    with open_store(db) as store:
        store.write(list(generate_spans(3_000, seed=3, start_ns=T0)))
    done = run("sample", "--db", str(db), "--limit", "200", "-p", "probability=10%", "--json")
    assert done.exit_code == 0, done.output
    assert "a sample of 200 of 3,000 traces with a matching span in the store" in done.stderr
    report = json.loads(done.stdout)
    assert report["traces"] == 200
    assert 0.04 * 200 <= report["traces_kept"] <= 0.20 * 200


def _trace(trace_id: str, root_ns: int, payment_ns: int) -> list[Span]:
    """A request: a frontend root span and a payment span (which may start after it ends)."""
    root = Span(trace_id, "1" * 16, "GET /", root_ns, root_ns + 10**6, service_name="frontend")
    child = Span(
        trace_id, "2" * 16, "charge", payment_ns, payment_ns + 10**6, parent_span_id="1" * 16,
        service_name="payment",
    )  # fmt: skip
    return [root, child]


def test_a_sample_keeps_the_window_of_traces_that_straddle_its_edges(tmp_path: Path) -> None:
    """--service with a window: a trace is in it when its root starts in it, wherever its
    service's span is (a search for the service reaches STRADDLE_NS past --until). With a
    sample as with every trace: the one before --since is left out, the one whose payment span
    comes after --until is in."""
    since, until = T0 + HOUR, T0 + 2 * HOUR
    before = "1" + "0" * 31  # the smallest sample keys (0, ties by id): both in the sample
    after = "2" + "0" * 31
    rng = random.Random(5)
    spans = _trace(before, since - 10**9, since + 10**6)
    spans += _trace(after, until - 10**7, until + 5 * 10**7)
    for number in range(30):
        start = since + number * 60 * 10**9
        spans += _trace(f"{rng.getrandbits(128) | 1 << 127:032x}", start, start + 10**6)
    db = tmp_path / "edges.duckdb"
    with open_store(db) as store:
        store.write(spans)
    out = tmp_path / "read.jsonl"
    done = run(
        "convert", "--db", str(db), "--service", "payment", "--since", str(since // 10**9),
        "--until", str(until // 10**9), "--limit", "10", "-o", str(out),
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    assert "a sample of 10 of 32 traces with a matching span in the window" in done.stderr
    read = {span.trace_id for span in decode_spans(out.read_bytes(), "otlp-jsonl")}
    assert after in read and before not in read
    assert len(read) == 9  # the sample's 10, less the trace that starts before the window


def test_a_server_older_than_samples_gives_the_most_recent_traces_and_that_is_said(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server whose store API has no sample_trace_ids (it answers "unknown store method"):
    --db through it reads the newest --limit matching traces, as before samples, and says so."""
    from spanscope.server import store_api

    running, thread = start_server(tmp_path / "older.duckdb")
    try:
        post_spans(running, generate_spans(60, seed=4, start_ns=T0))
        monkeypatch.delitem(store_api._METHODS, "sample_trace_ids")  # as an older server's
        url = running.ui
        newest = set(running.store.find_trace_ids(TraceQuery(num_traces=20)))
        out = tmp_path / "read.jsonl"
        done = run("convert", "--db", url, "--limit", "20", "-o", str(out))
        assert done.exit_code == 0, done.output
        said = " ".join(done.stderr.split())
        assert "the most recent 20 matching traces were read (--limit)" in said
        assert "cannot sample" in said and "a sample of" not in said
        read = {span.trace_id for span in decode_spans(out.read_bytes(), "otlp-jsonl")}
        assert read == newest
        whole = run("lint", "--db", url, "--json")  # all fit: nothing to say
        assert whole.exit_code == 0, whole.output
        assert "most recent" not in whole.stderr and "a sample of" not in whole.stderr
        exactly = run("lint", "--db", url, "--json", "--limit", "60")  # all 60: none left out
        assert exactly.exit_code == 0, exactly.output
        assert "most recent" not in exactly.stderr
        # What a diff side records: read, and matched unknown when cut at the newest (the
        # server cannot count); every one read, all matched.
        from spanscope.analysis.filters import TraceFilter
        from spanscope.cli.store_reading import read_store

        counted: list[tuple[int, int | None]] = []
        for limit in (20, 60):
            read_store(url, TraceFilter(), limit, False, counted=counted)
        assert counted == [(20, None), (60, 60)]
    finally:
        stop_server(running, thread)


@pytest.mark.parametrize(
    "args",
    [
        ("lint", "--json"),
        ("lint", "--json", "--service", "email"),
        ("sample", "-p", "errors", "-p", "latency>=100ms", "-p", "probability=20%", "--json"),
        ("sample", "-p", "all", "--json", "--operation", "shop.payment/Charge"),
    ],
)
def test_lint_and_sample_of_a_store_are_those_of_the_file(
    shop: tuple[Path, Path], args: tuple[str, ...]
) -> None:
    path, db = shop
    stored = run(*args[:1], "--db", str(db), *args[1:])
    filed = run(*args[:1], str(path), *args[1:])
    assert stored.exit_code == filed.exit_code, stored.output
    assert json.loads(stored.stdout) == json.loads(filed.stdout)
    assert json.loads(stored.stdout)  # a report, not an empty answer


def test_info_describes_a_store_whole_and_a_selection_as_a_file(shop: tuple[Path, Path]) -> None:
    path, db = shop
    whole = run("info", "--db", str(db), "--json")
    assert whole.exit_code == 0, whole.output
    described = json.loads(whole.stdout)
    filed = json.loads(run("info", str(path), "--json").stdout)
    assert described["kind"] == "store"
    assert (described["spans"], described["traces"]) == (filed["spans"], filed["traces"])
    assert described["services"] == filed["services"]
    assert described["start"] == filed["start"]
    assert described["file_bytes"] > 0 and described["schema_version"] >= 1
    text = run("info", "--db", str(db))
    assert f"{TRACES} traces, {filed['spans']:,} spans" in text.stdout
    assert "payment" in text.stdout

    chosen = ("--service", "payment", "--json")
    stored, selected = run("info", "--db", str(db), *chosen), run("info", str(path), *chosen)
    from_store, from_file = json.loads(stored.stdout), json.loads(selected.stdout)
    assert from_store.pop("inputs") == [
        {"source": str(db), "format": "store", "spans": from_file["spans"], "error": None}
    ]
    from_file.pop("inputs")
    assert from_store == from_file
    assert 0 < from_file["traces"] < TRACES


def test_a_chdb_store_reads_as_the_duckdb_one(shop: tuple[Path, Path], tmp_path: Path) -> None:
    pytest.importorskip("chdb", reason="chdb (embedded ClickHouse) is not installed")
    path, _ = shop
    folder = tmp_path / "clickhouse"
    with open_store(f"chdb:{folder}") as store:
        store.write(list(decode_spans(path.read_bytes(), "jaeger")))
    linted = run("lint", "--db", f"chdb:{folder}", "--json")
    assert json.loads(linted.stdout) == json.loads(run("lint", str(path), "--json").stdout)
    described = json.loads(run("info", "--db", f"chdb:{folder}", "--json").stdout)
    assert (described["traces"], described["kind"]) == (TRACES, "store")
    page, filed = tmp_path / "ch.svg", tmp_path / "file.svg"
    assert run("servicemap", "--db", f"chdb:{folder}", "-o", str(page)).exit_code == 0
    assert run("servicemap", str(path), "-o", str(filed)).exit_code == 0
    assert page.read_bytes() == filed.read_bytes()


# --- diff: a window of a store against the one before it, or a day before -----------------


@pytest.fixture(scope="module")
def releases(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """Yesterday's release and today's next one: two files and one store of both."""
    folder = tmp_path_factory.mktemp("releases")
    before = list(generate_spans(300, seed=1, start_ns=T0))
    after = list(generate_spans(300, seed=2, start_ns=T0 + DAY_S * 10**9, next_release=True))
    before_path, after_path = folder / "before.pb", folder / "after.pb"
    before_path.write_bytes(encode_spans(before, "otlp-proto"))
    after_path.write_bytes(encode_spans(after, "otlp-proto"))
    db = folder / "both.duckdb"
    with open_store(db) as store:
        store.write(before)
        store.write(after)
    return before_path, after_path, db


def _without_sources(document: str) -> dict:
    """The comparison without what says how each side was read: its sources, and (from a
    store) how many traces it read of how many matched."""
    comparison = json.loads(document)
    for side in ("before", "after"):
        comparison[side].pop("sources")
        comparison[side].pop("read"), comparison[side].pop("matched")
    return comparison


def test_diff_of_a_store_compares_the_window_with_the_same_one_a_day_before(
    releases: tuple[Path, Path, Path],
) -> None:
    before, after, db = releases
    window = ("--since", str(T0_S + DAY_S), "--until", str(T0_S + DAY_S + 600))
    stored = run("diff", "--db", str(db), *window, "--baseline-offset", "1d", "--json")
    assert stored.exit_code == 0, stored.output
    filed = run("diff", str(before), str(after), "--json")
    assert filed.exit_code == 0, filed.output
    assert _without_sources(stored.stdout) == _without_sources(filed.stdout)
    read = json.loads(stored.stdout)
    assert [(read[side]["read"], read[side]["matched"]) for side in ("before", "after")] == [
        (300, 300),
        (300, 300),
    ]
    cut = run("diff", "--db", str(db), *window, "--baseline-offset", "1d", "--limit", "50")
    assert cut.stdout and "a sample of 50 of 300 traces with a matching span" in cut.stderr
    sides = json.loads(stored.stdout)
    assert sides["before"]["sources"] == [
        f"{db} 2025-11-26T09:40:00.000+00:00 .. 2025-11-26T09:50:00.000+00:00"
    ]
    assert sides["after"]["sources"] == [
        f"{db} 2025-11-27T09:40:00.000+00:00 .. 2025-11-27T09:50:00.000+00:00"
    ]
    # the text report says the same, and the gates trip on the next release as on the files
    # (on p50: 81 checkouts against 88 put p95 on a handful of requests, within chance)
    gated = ("--fail-if-slower", "20%", "--percentile", "p50")
    assert run("diff", "--db", str(db), *window, "--baseline-offset", "1d", *gated).exit_code == 1
    assert run("diff", str(before), str(after), *gated).exit_code == 1


def test_diff_of_a_store_defaults_to_the_window_just_before(
    releases: tuple[Path, Path, Path],
) -> None:
    _, _, db = releases
    # The ten minutes before today's traces hold none: the comparison says so.
    window = ("--since", str(T0_S + DAY_S), "--until", str(T0_S + DAY_S + 600))
    stored = run("diff", "--db", str(db), *window, "--json")
    assert stored.exit_code == 0, stored.output
    assert "warning: no traces in" in stored.stderr
    assert "2025-11-27T09:30:00.000+00:00 .. 2025-11-27T09:40:00.000+00:00" in stored.stderr
    sides = json.loads(stored.stdout)
    assert sides["before"]["traces"] == 0
    assert sides["after"]["traces"] == 300
    # A window over both days: its baseline is the equally long one before yesterday's.
    both = run("diff", "--db", str(db), "--since", str(T0_S), "--until", str(T0_S + 2 * DAY_S))
    assert both.exit_code == 0, both.output
    assert "2025-11-24T09:40:00.000+00:00 .. 2025-11-26T09:40:00.000+00:00" in both.stdout


def test_diff_with_a_store_wants_a_window(releases: tuple[Path, Path, Path]) -> None:
    before, after, db = releases
    no_window = CliRunner().invoke(main, ["diff", "--db", str(db)])
    assert no_window.exit_code == 2
    assert "say which window to compare with --since" in no_window.output
    offset = CliRunner().invoke(main, ["diff", str(before), str(after), "--baseline-offset", "1d"])
    assert offset.exit_code == 2
    assert "--baseline-offset goes with --db" in offset.output
    too_early = CliRunner().invoke(main, ["diff", "--db", str(db), "--since", "1971-01-01",
                                          "--baseline-offset", "400d"])  # fmt: skip
    assert too_early.exit_code == 2
    assert "before 1970" in too_early.output


# --- what a user gets wrong: both inputs, a bad store ---------------------------------------

COMMANDS = [
    ("convert", "--to", "otlp-json", "-o", "out.json"),
    ("view", "-o", "page.html"),
    ("flamegraph", "-o", "flame.svg"),
    ("servicemap", "-o", "map.html"),
    ("lint",),
    ("diff", "--since", "1h"),
    ("info",),
    ("sample", "-p", "errors"),
]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda command: command[0])
def test_files_and_a_store_together_are_a_usage_error(
    shop: tuple[Path, Path], tmp_path: Path, command: tuple[str, ...], monkeypatch
) -> None:
    path, db = shop
    monkeypatch.chdir(tmp_path)
    files = (str(path), str(path)) if command[0] == "diff" else (str(path),)
    both = CliRunner().invoke(main, [*command, *files, "--db", str(db)])
    assert both.exit_code == 2, both.output
    assert "give trace files or --db, not both" in both.output
    assert not list(tmp_path.iterdir())  # nothing written
    reading_files = CliRunner().invoke(main, [*command, "--db", str(db), "--format", "otlp"])
    assert reading_files.exit_code == 2, reading_files.output
    assert "--format read files: leave them out with --db" in reading_files.output


@pytest.mark.parametrize("command", COMMANDS, ids=lambda command: command[0])
def test_a_bad_store_is_a_clear_error(
    shop: tuple[Path, Path], tmp_path: Path, command: tuple[str, ...], monkeypatch
) -> None:
    path, _ = shop
    monkeypatch.chdir(tmp_path)
    (tmp_path / "folder").mkdir()
    for db, said in (
        ("none.duckdb", "none.duckdb: no such store"),
        (str(path), f"{path}: a trace file (jaeger-json), not a store"),
        ("folder", "folder: a directory, not a store"),
        ("http://127.0.0.1:9", "http://127.0.0.1:9: no spanscope server answers there"),
    ):
        failed = CliRunner().invoke(main, [*command, "--db", db])
        # (2 as for a file that cannot be read: diff's 1 is a --fail-if gate that tripped)
        assert failed.exit_code == 2, failed.output
        assert said in failed.output
        assert isinstance(failed.exception, SystemExit), failed.exception
    assert sorted(p.name for p in tmp_path.iterdir()) == ["folder"]


# --- a store held by a running server is read through it ----------------------------------


@pytest.fixture
def served(tmp_path: Path, shop: tuple[Path, Path]) -> Iterator[tuple[Path, int]]:
    path, _ = shop
    db = tmp_path / "served.duckdb"
    process, http_port, ui_port = serve_process(str(db))
    try:
        answer = httpx.post(
            f"http://127.0.0.1:{http_port}/v1/traces",
            content=encode_spans(decode_spans(path.read_bytes(), "jaeger"), "otlp-proto"),
            headers={"Content-Type": "application/x-protobuf"},
            timeout=60,
        )
        assert answer.status_code == 200, answer.text
        yield db, ui_port
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(60)


def test_commands_read_a_served_store_through_its_server(
    served: tuple[Path, int], shop: tuple[Path, Path], tmp_path: Path
) -> None:
    db, ui_port = served
    path, _ = shop
    held = "held by a running 'spanscope serve': reading it through"

    exported = tmp_path / "exported.json"
    done = spanscope("convert", "--db", str(db), "--to", "zipkin-v2", "-o", str(exported))
    assert done.returncode == 0, done.stderr
    assert held in done.stderr and f"http://127.0.0.1:{ui_port}" in done.stderr
    converted = tmp_path / "converted.json"
    assert run("convert", str(path), str(converted), "--to", "zipkin-v2").exit_code == 0
    assert _spans(exported, "zipkin-v2") == _spans(converted, "zipkin-v2")

    linted = spanscope("lint", "--db", str(db), "--json")
    assert linted.returncode == 0, linted.stderr
    assert held in linted.stderr
    assert json.loads(linted.stdout) == json.loads(run("lint", str(path), "--json").stdout)

    page, filed = tmp_path / "served.html", tmp_path / "filed.html"
    by_url = spanscope("view", "--db", f"http://127.0.0.1:{ui_port}", "-o", str(page))
    assert by_url.returncode == 0, by_url.stderr
    assert run("view", str(path), "-o", str(filed)).exit_code == 0
    assert page.read_bytes() == filed.read_bytes()

    described = spanscope("info", "--db", str(db), "--json")
    assert described.returncode == 0, described.stderr
    stats = json.loads(described.stdout)
    assert stats["kind"] == "spanscope server"
    assert stats["traces"] == TRACES
    assert stats["services"] == json.loads(run("info", str(path), "--json").stdout)["services"]
