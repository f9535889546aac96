"""``spanscope analyze`` on many files in worker processes (``spanscope.cli.sharded``) gives the
one-process report: same stdout, stderr and exit status, through the real command.

The size thresholds are lowered so that small real files are cut into several shards;
everything else is real: the worker processes, the pickled analyzers, ``Analyzer.merge``.
"""

from __future__ import annotations

import io
import random
from pathlib import Path

import pytest
from click.testing import CliRunner

from spanscope import native_switch
from spanscope.cli import main, parallel, sharded
from spanscope.formats import write_spans
from spanscope.synthetic import generate_spans

from ..taken import record_taken
from .test_parallel import REAL  # real files of every JSON format, some with warnings


@pytest.fixture
def taken(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Shards of a file or two at any size; records whether each run took the shard path.
    The profile's C path, which runs its shards through the same function in one process
    too, is off: tests/cli/test_folded_native.py compares it with this one."""
    monkeypatch.setenv(native_switch.VARIABLE, "1")
    monkeypatch.setattr(parallel, "MIN_BYTES", 0)
    monkeypatch.setattr(sharded, "MIN_SHARD_BYTES", 1)
    monkeypatch.setattr(sharded, "SHARDS_PER_JOB", 1000)
    return record_taken(monkeypatch, sharded, "analyze_files")


def run(*args: str):
    return CliRunner().invoke(main, ["analyze", *args], catch_exceptions=False)


@pytest.fixture(scope="module")
def traces_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Synthetic requests, one Jaeger JSON file per trace, plus the real files."""
    directory = tmp_path_factory.mktemp("sharded")
    current: list = []

    def flush() -> None:
        out = io.BytesIO()
        write_spans(current, out, "jaeger-json")
        (directory / f"{current[0].trace_id}.json").write_bytes(out.getvalue())

    for span in generate_spans(1500, seed=7):
        if current and span.trace_id != current[0].trace_id:
            flush()
            current = []
        current.append(span)
    flush()
    for path in REAL:
        (directory / path.name).write_bytes(path.read_bytes())
    return directory


def _files(directory: Path) -> list[str]:
    return sorted(str(path) for path in directory.iterdir())


@pytest.mark.parametrize(
    "options",
    [
        ["--json"],
        ["--json", "--service", "payment", "--top", "3", "--jaeger-strict"],
        ["--folded", "-", "--folded-slow"],
        ["--slow-threshold", "50ms", "--fail-if", "error_rate > 1%"],  # the text report
    ],
)
def test_workers_report_what_one_process_does(
    traces_dir: Path, taken: list[bool], options: list[str]
) -> None:
    files = _files(traces_dir)
    many = run(*files, "--jobs", "2", *options)
    one = run(*files, "--jobs", "1", *options)
    assert taken == [True]
    assert (many.exit_code, many.stdout, many.stderr) == (one.exit_code, one.stdout, one.stderr)
    assert "warning" in one.stderr  # the jaeger-ui trace's non-hex ids


def test_bad_inputs_are_reported_the_same(
    traces_dir: Path, taken: list[bool], tmp_path: Path
) -> None:
    files = _files(traces_dir)
    broken = tmp_path / "broken.json"
    broken.write_text('{"data": [{"traceID": "ab", "spans": [')
    empty = tmp_path / "empty.json"
    empty.write_bytes(b"")
    inputs = [*files[:40], str(broken), *files[40:80], str(empty), *files[80:]]
    for strict in ([], ["--strict"]):
        many = run(*inputs, "--json", "--jobs", "3", *strict)
        one = run(*inputs, "--json", "--jobs", "1", *strict)
        assert (many.exit_code, many.stdout, many.stderr) == (
            one.exit_code,
            one.stdout,
            one.stderr,
        )
        assert one.exit_code == 2 and "broken.json" in one.stderr
    assert taken == [True, True]


def test_a_trace_cut_across_shards_goes_the_one_process_way(
    traces_dir: Path, taken: list[bool], tmp_path: Path
) -> None:
    spans = list(generate_spans(40, seed=9))
    trace_id = spans[0].trace_id
    trace = [span for span in spans if span.trace_id == trace_id]
    assert len(trace) > 2
    halves = []
    for name, part in (("first", trace[: len(trace) // 2]), ("second", trace[len(trace) // 2 :])):
        path = tmp_path / f"{name}.json"
        out = io.BytesIO()
        write_spans(part, out, "jaeger-json")
        path.write_bytes(out.getvalue())
        halves.append(str(path))
    files = _files(traces_dir)
    inputs = [halves[0], *files, halves[1]]
    many = run(*inputs, "--json", "--jobs", "2")
    one = run(*inputs, "--json", "--jobs", "1")
    assert taken == [False]
    assert (many.exit_code, many.stdout, many.stderr) == (one.exit_code, one.stdout, one.stderr)


def test_shards_are_runs_of_consecutive_files(monkeypatch: pytest.MonkeyPatch) -> None:
    files = [str(path) for path in REAL]
    assert sharded.plan_shards(files, 2) is None  # far below MIN_BYTES
    monkeypatch.setattr(parallel, "MIN_BYTES", 0)
    monkeypatch.setattr(sharded, "MIN_SHARD_BYTES", 1)
    shards = sharded.plan_shards(files, 2)
    assert shards is not None and len(shards) >= 2
    assert [name for shard in shards for name in shard] == files
    assert sharded.plan_shards(files, 1) is None
    assert sharded.plan_shards([*files, "-"], 2) is None


@pytest.mark.parametrize("jobs", [2, 3, 4])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_shards_are_a_multiple_of_the_jobs(tmp_path: Path, jobs: int, seed: int) -> None:
    """The workers take the shards in turn: a count that is a multiple of them makes them
    finish together (cutting greedily at a target size gave 15 shards of 100 files for 2)."""
    rng = random.Random(seed)
    files = []
    for index in range(rng.randint(200, 400)):  # each shard several files
        path = tmp_path / f"{index:03}.json"
        path.write_bytes(b" " * rng.randint(500, 3000))
        files.append(str(path))
    shards = sharded.plan_shards(files, jobs, min_bytes=0, min_shard_bytes=1)
    assert shards is not None and len(shards) % jobs == 0
    assert [source for shard in shards for source in shard] == files  # in order, each once
    sizes = [sum(Path(source).stat().st_size for source in shard) for shard in shards]
    per_job = [sum(sizes[worker::jobs]) for worker in range(jobs)]
    assert max(per_job) - min(per_job) <= 2 * 3000 + sum(sizes) // len(sizes)
