"""Reading many files in worker processes (``spanscope.cli.parallel``) gives exactly what reading
them in one process gives: the same spans in the same order, the same input reports, warnings
and errors, and through ``spanscope analyze`` the same report, byte for byte."""

from __future__ import annotations

import gzip
import io
import json
import os
import re
import signal
from pathlib import Path

import msgspec
import pytest

from spanscope.cli import parallel
from spanscope.cli.reading import InputFailure, ReadSession
from spanscope.formats import write_spans
from spanscope.synthetic import generate_spans

from ..conftest import FIXTURES
from .run import spanscope

UI = "jaeger-ui/packages__jaeger-ui__src__components__TracePage__"
# Real files of every JSON format, some with warnings (jaeger-ui's traces have non-hex ids).
REAL = [
    FIXTURES / (UI + "TraceFlamegraph__testTrace.json"),
    FIXTURES / (UI + "TraceGraph__testTrace.json"),
    FIXTURES / "jaeger/internal__uimodel__converter__v1__json__fixtures__ui_01.json",
    FIXTURES / "jaeger/internal__storage__v2__memory__fixtures__otel_traces_01.json",
    FIXTURES / "zipkin/zipkin-lens__testdata__smartthings-oauth-authorization.json",
    FIXTURES / "zipkin/zipkin-lens__testdata__messaging-kafka.json",
]


@pytest.fixture
def small_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Workers for any input size, a run per one or two files: every path is exercised."""
    monkeypatch.setattr(parallel, "MIN_BYTES", 0)
    monkeypatch.setattr(parallel, "MAX_RUN_FILES", 2)


@pytest.fixture
def inputs(tmp_path: Path) -> list[str]:
    """The real files, a gzipped one, an empty one and one cut short, in one list."""
    files = [str(path) for path in REAL]
    zipped = tmp_path / "flamegraph.json.gz"
    zipped.write_bytes(gzip.compress(REAL[0].read_bytes()))
    empty = tmp_path / "empty.json"
    empty.write_bytes(b"")
    cut = tmp_path / "cut.json"
    cut.write_bytes(REAL[1].read_bytes()[:3000])
    return [files[0], str(zipped), files[1], str(empty), *files[2:4], str(cut), *files[4:]]


def _read(sources: list[str], jobs: int, strict: bool = False) -> dict:
    session = ReadSession(sources, strict=strict, progress=False, jobs=jobs)
    spans = []
    failure = None
    try:
        spans.extend(session.spans())
    except InputFailure as error:
        failure = str(error)
    return {
        "spans": msgspec.json.encode(spans),
        "inputs": [(r.source, r.format, r.spans, str(r.error)) for r in session.inputs],
        "warnings": [str(w) for w in session.diagnostics.warnings],
        "count": session.diagnostics.count,
        "failure": failure,
    }


@pytest.mark.usefixtures("small_runs")
def test_workers_read_what_one_process_reads(inputs: list[str]) -> None:
    assert parallel.plan_runs(inputs, 2) is not None
    alone, workers = _read(inputs, 1), _read(inputs, 2)
    assert workers == alone
    assert alone["warnings"] and alone["failure"] is None
    assert [r[3] != "None" for r in alone["inputs"]].count(True) == 2  # empty and cut short


@pytest.mark.usefixtures("small_runs")
def test_strict_stops_at_the_same_input(inputs: list[str]) -> None:
    alone, workers = _read(inputs, 1, strict=True), _read(inputs, 2, strict=True)
    assert workers == alone
    assert "the input is empty" in alone["failure"]


@pytest.mark.usefixtures("small_runs")
def test_spans_of_a_run_share_resource_dicts_again(inputs: list[str]) -> None:
    spans = list(ReadSession([str(REAL[1])] * 2, progress=False, jobs=2).spans())
    resources = {id(span.resource_attributes) for span in spans}
    assert len(resources) < len({span.span_id for span in spans})


def _dies_in_a_worker(task: tuple[int, int]) -> int:
    parent, value = task
    if value == 3 and os.getpid() != parent:
        os.kill(os.getpid(), signal.SIGKILL)  # as the out-of-memory killer ends a worker
    return value * 10


def test_a_worker_that_dies_leaves_its_tasks_to_this_process(
    capfd: pytest.CaptureFixture[str],
) -> None:
    tasks = [(os.getpid(), value) for value in range(8)]
    with parallel.ordered_results(_dies_in_a_worker, tasks, 2) as results:
        assert list(results) == [value * 10 for value in range(8)]
    said = capfd.readouterr().err
    assert "a worker process ended abruptly" in said
    # Task 3 never came back, so at least its 5 (3 to 7) of the 8 were left to this process.
    assert re.search(r"the [5-8] of 8 parts of the input not yet done are read", said), said


def test_when_workers_are_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files = [str(path) for path in REAL]
    monkeypatch.setattr(parallel, "MIN_BYTES", 0)
    assert parallel.plan_runs(files, 2) == [files]  # all in one run: under RUN_BYTES
    assert parallel.plan_runs(files, 1) is None  # --jobs 1
    assert parallel.plan_runs(files[:1], 2) is None  # one file
    assert parallel.plan_runs([*files, "-"], 2) is None  # stdin
    assert parallel.plan_runs([*files, str(tmp_path)], 2) is None  # not a regular file
    assert parallel.plan_runs([*files, str(tmp_path / "missing")], 2) is None
    monkeypatch.setattr(parallel, "RUN_BYTES", 1)
    assert parallel.plan_runs(files, 2) == [[name] for name in files]
    monkeypatch.setattr(parallel, "MIN_BYTES", 10**12)
    assert parallel.plan_runs(files, 2) is None  # too little to be worth it


# ------------------------------------------------- the real command on a real-sized data set


@pytest.fixture(scope="module")
def one_trace_per_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Synthetic traces as one Jaeger JSON file each (CRISP's layout), past ``MIN_BYTES``."""
    directory = tmp_path_factory.mktemp("one-trace-per-file")
    current: list = []
    size = 0

    def flush() -> int:
        out = io.BytesIO()
        write_spans(current, out, "jaeger-json")
        (directory / f"{current[0].trace_id}.json").write_bytes(out.getvalue())
        return len(out.getvalue())

    for span in generate_spans(20_000, seed=5):
        if current and span.trace_id != current[0].trace_id:
            size += flush()
            current = []
            if size > parallel.MIN_BYTES * 1.2:
                break
        current.append(span)
    (directory / "broken.json").write_text('{"data": [{"traceID": "ab", "spans": [')
    return directory


def test_analyze_reports_the_same_with_any_number_of_jobs(
    one_trace_per_file: Path, tmp_path: Path
) -> None:
    files = sorted(str(path) for path in one_trace_per_file.iterdir())
    assert parallel.plan_runs(files, 2) is not None  # --jobs 2 does use workers here
    results = {}
    for jobs in ("1", "2"):
        folded = tmp_path / "stacks.folded"  # one name: stderr says it
        result = spanscope("analyze", *files, "--json", "--folded", str(folded), "--jobs", jobs)
        assert result.returncode == 2  # broken.json, reported; the rest analysed
        assert "broken.json" in result.stderr
        results[jobs] = (result.stdout, result.stderr, folded.read_text())
    assert results["1"] == results["2"]
    report = json.loads(results["2"][0])
    assert report["summary"]["traces"] == len(files) - 1


def test_many_files_are_planned_from_a_sample(tmp_path) -> None:
    """Past 4 x SAMPLED files, sizes are estimated from an even sample (planning only)."""
    paths = []
    for index in range(4 * parallel.SAMPLED + 100):
        path = tmp_path / f"{index:05d}.json"
        path.write_bytes(b"x" * (100 + index % 7))
        paths.append(str(path))
    estimated = parallel.estimated_sizes(paths)
    exact = parallel.file_sizes(paths)
    assert estimated is not None and exact is not None and len(estimated) == len(exact)
    assert abs(sum(estimated) - sum(exact)) <= 0.02 * sum(exact)
    assert parallel.estimated_sizes([*paths, "-"]) is None  # stdin is never a worker's
    few = paths[:10]
    assert parallel.estimated_sizes(few) == parallel.file_sizes(few)  # few: measured
