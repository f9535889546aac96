"""``spanscope analyze ... --folded -`` prints, warns and exits exactly alike with the C profile
engine (``spanscope.analysis.native_profile``) and without it (``SPANSCOPE_NO_NATIVE=1``).

Both runs go through the real command, in one process (``--jobs 1``) and in forked workers (the
size thresholds lowered so small files make several shards): a directory of one trace per file
(CRISP's layout), one file of many traces, a trace cut over two files, files the C engine must
decline (clock skew, an orphan, a cut-off file, a file that is not Jaeger at all) among good
ones, hostile bytes, and the real Jaeger fixtures. These run whether or not the engine is built
here; where it is, ``test_the_c_engine_runs`` checks the command really takes it.
"""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from spanscope.analysis import native_profile
from spanscope.cli import folded, main, sharded
from spanscope.formats import write_spans
from spanscope.model import Span
from spanscope.native_switch import VARIABLE
from spanscope.synthetic import generate_spans

from ..analysis.test_native_profile import HOSTILE, jaeger_fixtures
from ..conftest import FIXTURES
from ..taken import record_taken


def analyze(*args: str, native: bool) -> Result:
    """``spanscope analyze ARGS --folded -``, the C engine allowed or switched off (forked
    workers inherit the environment)."""
    return CliRunner().invoke(
        main,
        ["analyze", *args, "--folded", "-"],
        env={VARIABLE: None if native else "1"},  # None: unset
        catch_exceptions=False,
    )


def same_both_ways(*args: str) -> Result:
    with_c = analyze(*args, native=True)
    without = analyze(*args, native=False)
    assert (with_c.exit_code, with_c.stdout, with_c.stderr) == (
        without.exit_code,
        without.stdout,
        without.stderr,
    )
    assert "Traceback" not in with_c.stderr
    return with_c


@pytest.fixture
def shards(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Forked workers for any number of bytes, a few files per shard, with the C engine and
    without; records how many shards each run was cut into (0: none, done in this process)."""
    for name in ("PROFILE_MIN_BYTES", "NATIVE_MIN_BYTES"):
        monkeypatch.setattr(folded, name, 0)
    for name in ("PROFILE_MIN_SHARD_BYTES", "NATIVE_MIN_SHARD_BYTES"):
        monkeypatch.setattr(folded, name, 1)
    monkeypatch.setattr(sharded, "SHARDS_PER_JOB", 4)
    planned: list[int] = []
    plan = sharded.plan_shards

    def recorded(*args, **kwargs):
        found = plan(*args, **kwargs)
        planned.append(len(found) if found else 0)
        return found

    monkeypatch.setattr(sharded, "plan_shards", recorded)
    return planned


def _jaeger(spans: list[Span]) -> bytes:
    out = io.BytesIO()
    write_spans(spans, out, "jaeger-json")
    return out.getvalue()


def _by_trace(count: int, seed: int) -> list[list[Span]]:
    traces: list[list[Span]] = []
    for span in generate_spans(count, seed=seed):
        if not traces or span.trace_id != traces[-1][0].trace_id:
            traces.append([])
        traces[-1].append(span)
    return traces


@pytest.fixture(scope="module")
def one_trace_per_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The generated shop, one Jaeger JSON file per request."""
    directory = tmp_path_factory.mktemp("per-trace")
    for spans in _by_trace(250, seed=21):
        (directory / f"{spans[0].trace_id}.json").write_bytes(_jaeger(spans))
    return directory


def _skewed(trace_id: str) -> dict:
    """A request whose child, on another host, ends after it: clock-skew adjustment moves it."""
    us0 = 1_764_150_000_000_000

    def span(span_id: str, parent: str | None, start: int, duration: int, process: str) -> dict:
        references = [{"refType": "CHILD_OF", "traceID": trace_id, "spanID": parent}]
        return {"traceID": trace_id, "spanID": span_id, "operationName": f"op {span_id[-2:]}",
                "references": references if parent else [], "startTime": us0 + start,
                "duration": duration, "tags": [], "processID": process}  # fmt: skip

    processes = {
        "p1": {"serviceName": "web", "tags": [{"key": "hostname", "type": "string", "value": "a"}]},
        "p2": {"serviceName": "db", "tags": [{"key": "hostname", "type": "string", "value": "b"}]},
    }  # fmt: skip
    spans = [
        span("00000000000000a1", None, 0, 100, "p1"),
        span("00000000000000b2", "00000000000000a1", 80, 50, "p2"),  # ends 30 µs late
        span("00000000000000c3", "00000000000000b2", 90, 10, "p2"),
    ]
    return {"data": [{"traceID": trace_id, "spans": spans, "processes": processes}]}


@pytest.fixture(scope="module")
def mixed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Good files around ones the C engine must leave to the Python path, in whole or in
    part: clock skew, an orphan, a cut-off file, an OTLP JSON file, an empty one, a file of
    many traces with one skewed."""
    directory = tmp_path_factory.mktemp("mixed")
    traces = _by_trace(80, seed=22)
    for index, spans in enumerate(traces[10:]):
        (directory / f"{index:03}.json").write_bytes(_jaeger(spans))
    skewed = json.dumps(_skewed("0000000000000000000000000000abcd")).encode()
    (directory / "010-skewed.json").write_bytes(skewed)
    orphan = [span for span in traces[0] if span.parent_span_id]  # its root left out
    (directory / "020-orphan.json").write_bytes(_jaeger(orphan))
    (directory / "030-cut.json").write_bytes(_jaeger(traces[1])[:-40])
    otlp = FIXTURES / "opentelemetry-proto" / "examples__trace.json"
    shutil.copy(otlp, directory / "040-otlp.json")
    (directory / "050-empty.json").write_bytes(b"")
    # Many traces in one file, one of them skewed: that one alone needs the Python path.
    many = json.loads(_jaeger([span for spans in traces[4:10] for span in spans]))
    many["data"].insert(2, _skewed("0000000000000000000000000000abce")["data"][0])
    (directory / "060-many-one-skewed.json").write_bytes(json.dumps(many).encode())
    return directory


@pytest.mark.parametrize(
    "options",
    [
        ["--jobs", "1"],
        ["--jobs", "1", "--strict"],
        ["--jobs", "1", "--cardinality-min", "2"],
        ["--jobs", "2"],
        ["--jobs", "2", "--folded-slow"],
        ["--jobs", "2", "--no-adjust-skew", "--jaeger-strict"],
        ["--jobs", "2", "--service", "cart", "--min-duration", "5ms"],
    ],
)
def test_one_trace_per_file(
    one_trace_per_file: Path, shards: list[int], options: list[str]
) -> None:
    result = same_both_ways(str(one_trace_per_file), *options)
    assert result.exit_code == 0 and result.stdout.count("\n") > 5
    if options[1] == "2":
        assert len(shards) == 2 and min(shards) > 1  # both runs forked workers


def test_one_file_of_many_traces(tmp_path: Path) -> None:
    path = tmp_path / "shop.json"
    path.write_bytes(_jaeger(list(generate_spans(600, seed=23))))
    for options in ([], ["--jaeger-strict"], ["--no-adjust-skew", "--folded-slow"]):
        assert same_both_ways(str(path), *options).exit_code == 0


def test_one_file_of_one_trace(one_trace_per_file: Path) -> None:
    first = min(one_trace_per_file.iterdir())
    assert same_both_ways(str(first)).stdout


@pytest.mark.parametrize(
    "options",
    [
        ["--jobs", "1"],
        ["--jobs", "1", "--no-adjust-skew"],
        ["--jobs", "1", "--strict"],
        ["--jobs", "2"],
        ["--jobs", "2", "--strict"],
    ],
)
def test_files_the_c_engine_declines(mixed: Path, shards: list[int], options: list[str]) -> None:
    result = same_both_ways(str(mixed), *options)
    assert result.exit_code == 2 and "030-cut.json" in result.stderr
    if options[1] == "2":
        assert len(shards) == 2 and min(shards) > 1


@pytest.mark.parametrize("whole_first", [False, True], ids=["halves", "whole-tree-first"])
@pytest.mark.parametrize("second", ["0-second.json", "z-second.json"])
def test_a_trace_over_two_files(
    one_trace_per_file: Path, tmp_path: Path, shards: list[int], second: str, whole_first: bool
) -> None:
    """The parts side by side (one shard) or far apart (two shards); the first part either
    half the spans or a whole tree (the root and its children: the C engine takes it alone),
    the second the rest."""
    spans = _by_trace(40, seed=24)[0]
    assert len(spans) > 2
    root = next(span for span in spans if not span.parent_span_id)
    if whole_first:
        first = [span for span in spans if span.parent_span_id in ("", root.span_id)]
    else:
        first = spans[: len(spans) // 2]
    assert 1 < len(first) < len(spans)
    for name in sorted(path.name for path in one_trace_per_file.iterdir())[:30]:
        shutil.copy(one_trace_per_file / name, tmp_path / name)
    (tmp_path / "0-first.json").write_bytes(_jaeger(first))
    (tmp_path / second).write_bytes(_jaeger([span for span in spans if span not in first]))
    for jobs in ("1", "2"):
        result = same_both_ways(str(tmp_path), "--jobs", jobs)
        assert result.exit_code == 0 and result.stdout


@pytest.mark.parametrize("options", [["--jobs", "1"], ["--jobs", "2"], ["--jobs", "2", "--strict"]])
def test_hostile_files(tmp_path: Path, shards: list[int], options: list[str]) -> None:
    """Truncated, deeply nested, invalid UTF-8, NUL bytes, huge numbers... one file each: the
    same messages, never a traceback."""
    for index, (_, data) in enumerate(sorted(HOSTILE.items())):
        (tmp_path / f"{index:02}.json").write_bytes(data)
    assert same_both_ways(str(tmp_path), *options).exit_code == 2


@pytest.mark.parametrize("path", jaeger_fixtures(), ids=lambda path: path.name[-60:])
def test_every_jaeger_fixture(path: Path) -> None:
    for options in ([], ["--no-adjust-skew", "--jaeger-strict"]):
        same_both_ways(str(path), "--jobs", "1", *options)


def test_the_jaeger_fixtures_as_one_data_set(tmp_path: Path, shards: list[int]) -> None:
    for index, path in enumerate(jaeger_fixtures()):
        shutil.copy(path, tmp_path / f"{index:02}-{path.name[-40:]}")
    for jobs in ("1", "2"):
        same_both_ways(str(tmp_path), "--jobs", jobs)


needs_engine = pytest.mark.skipif(
    not native_profile.available(),
    reason="the C profile engine is not built here (no C compiler) or SPANSCOPE_NO_NATIVE=1",
)


@pytest.fixture
def taken(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Records, for each document the command offers the C engine, whether it took it."""
    return record_taken(monkeypatch, native_profile, "charge_document")


@pytest.fixture
def native_shards(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Records the number of files of each shard the C profile's route runs."""
    shards: list[int] = []
    run = folded.native_shard

    def counted(task: tuple) -> bytes:
        shards.append(len(task[0]))
        return run(task)

    monkeypatch.setattr(folded, "native_shard", counted)
    return shards


@needs_engine
def test_the_c_engine_runs(one_trace_per_file: Path, taken: list[bool]) -> None:
    """Without it the runs above compare the Python path with itself: in this process
    (``--jobs 1``), the C engine takes the ordinary files, and none when switched off."""
    files = sum(1 for _ in one_trace_per_file.iterdir())
    assert analyze(str(one_trace_per_file), "--jobs", "1", native=True).exit_code == 0
    assert len(taken) == files and taken.count(True) > 0.95 * files
    taken.clear()
    analyze(str(one_trace_per_file), "--jobs", "1", "--no-adjust-skew", native=True)
    assert taken == [True] * files
    taken.clear()
    analyze(str(one_trace_per_file), "--jobs", "1", native=False)
    assert True not in taken


@needs_engine
def test_a_terminal_takes_the_c_engine_too(
    one_trace_per_file: Path,
    taken: list[bool],
    native_shards: list[int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """On a terminal the files are done here in a few shards, one step of the progress bar
    each: the C engine still reads them (it was left out whenever a bar was asked for), same
    stacks. (Only this module's bar is faked: stderr, where each path draws its own, is not
    compared.)"""
    monkeypatch.setattr(sharded, "show_progress", lambda enabled=True: enabled)
    files = sum(1 for _ in one_trace_per_file.iterdir())
    on_terminal = analyze(str(one_trace_per_file), "--jobs", "1", native=True)
    without = analyze(str(one_trace_per_file), "--jobs", "1", native=False)
    assert (on_terminal.exit_code, on_terminal.stdout) == (0, without.stdout)
    assert on_terminal.stdout and "Traceback" not in on_terminal.stderr
    assert len(taken) == files and taken.count(True) > 0.95 * files
    assert 1 < len(native_shards) <= sharded.IN_PROCESS_STEPS and sum(native_shards) == files


@needs_engine
def test_a_data_set_of_another_format_keeps_the_python_path(
    tmp_path: Path, one_trace_per_file: Path, native_shards: list[int]
) -> None:
    """Only a Jaeger data set (by --format, or by its first file) goes the C profile's way:
    an OTLP one keeps the Python path and its threshold for workers (the C profile's, four
    times higher, took them away from 2-8 MB of OTLP), and reads each file once."""
    for index in range(3):
        shutil.copy(
            FIXTURES / "opentelemetry-proto" / "examples__trace.json", tmp_path / f"{index}.json"
        )
    otlp = same_both_ways(str(tmp_path), "--jobs", "1")
    assert otlp.exit_code == 0 and otlp.stdout and native_shards == []
    assert analyze(str(one_trace_per_file), "--jobs", "1", native=True).exit_code == 0
    assert sum(native_shards) == sum(1 for _ in one_trace_per_file.iterdir())
