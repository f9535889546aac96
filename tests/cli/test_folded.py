"""``spanscope analyze ... --folded -`` (the profile alone, read through projections) prints
exactly what the full analysis prints, and reports inputs exactly as it does.

The full path is the same command with a ``--fail-if`` that never holds (conditions need the
whole report, so they take the full path): stdout, stderr and the exit status must be equal.
Real fixture files of every format, generated one-trace-per-file directories (CRISP's layout)
in one process and in forked workers, and the start-up imports of the real command.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from spanscope import cli
from spanscope.cli import COMMANDS, SUMMARIES, folded, main, sharded
from spanscope.formats import write_spans
from spanscope.formats.source import expand_sources
from spanscope.synthetic import generate_spans

from ..conftest import FIXTURES
from ..formats.test_every_fixture import TRACES
from ..taken import record_taken
from .test_sharded import run

NEVER = ["--fail-if", "count < 0"]  # forces the full report, prints nothing


def same_as_full(*args: str) -> str:
    lean = run(*args, "--folded", "-")
    full = run(*args, "--folded", "-", *NEVER)
    assert (lean.exit_code, lean.stdout, lean.stderr) == (
        full.exit_code,
        full.stdout,
        full.stderr,
    )
    return lean.stdout


@pytest.mark.parametrize("name", sorted(TRACES))
def test_every_trace_fixture(name: str) -> None:
    same_as_full(str(FIXTURES / name), "--jobs", "1")


@pytest.mark.parametrize(
    "options",
    [
        [],
        ["--folded-slow"],
        ["--jaeger-strict", "--no-adjust-skew"],
        ["--service", "payment", "--min-duration", "20ms"],
        ["--operation", "frontend:POST /api/checkout", "--since", "0"],
        ["--strict"],
    ],
)
def test_all_fixtures_as_one_data_set(options: list[str]) -> None:
    every = [str(FIXTURES / name) for name in sorted(TRACES)]
    bad = str(FIXTURES / "jaeger/internal__storage__integration__fixtures__queries.json")
    same_as_full(*every, bad, "--jobs", "1", *options)


@pytest.fixture(scope="module")
def one_trace_per_file(tmp_path_factory) -> Path:
    """A directory as CRISP reads it: one Jaeger JSON file per trace, plus a hidden marker and
    a subdirectory, which are not inputs."""
    directory = tmp_path_factory.mktemp("crisp")
    current: list = []

    def flush() -> None:
        if current:
            with open(directory / f"{current[0].trace_id}.json", "wb") as out:
                write_spans(current, out, "jaeger-json")

    for span in generate_spans(2500, seed=11):
        if current and span.trace_id != current[0].trace_id:
            flush()
            current = []
        current.append(span)
    flush()
    (directory / ".complete").touch()
    (directory / "nested").mkdir()
    (directory / "nested" / "other.json").write_text("not read")
    return directory


def test_a_directory_is_its_files(one_trace_per_file: Path) -> None:
    files = expand_sources([str(one_trace_per_file)])
    names = [os.path.basename(f) for f in files]
    assert names == sorted(names) and len(names) > 50
    assert ".complete" not in names and "nested" not in names
    by_name = run(*files, "--folded", "-", "--jobs", "1")
    by_directory = run(str(one_trace_per_file), "--folded", "-", "--jobs", "1")
    assert by_name.stdout == by_directory.stdout and by_directory.exit_code == 0


def test_an_empty_directory_says_so(tmp_path: Path) -> None:
    result = run(str(tmp_path), "--folded", "-")
    assert result.exit_code == 2
    assert "is a directory with no files to read" in result.stderr


def test_no_spans_read_says_so_as_the_report_does(one_trace_per_file: Path) -> None:
    """The stacks have no report to say why they are empty: stderr does (a Jaeger file read
    as OTLP JSON gives no spans, and no error)."""
    first = str(sorted(one_trace_per_file.glob("*.json"))[0])
    result = run(first, "--format", "otlp-json", "--folded", "-")
    assert (result.exit_code, result.stdout) == (0, "")
    assert "no traces to analyse: no spans were read (check the inputs)" in result.stderr


@pytest.mark.parametrize("options", [[], ["--folded-slow"], ["--service", "cart"]])
def test_workers_give_the_one_process_answer(
    one_trace_per_file: Path, monkeypatch: pytest.MonkeyPatch, options: list[str]
) -> None:
    monkeypatch.setattr(folded, "PROFILE_MIN_BYTES", 0)
    monkeypatch.setattr(folded, "PROFILE_MIN_SHARD_BYTES", 1)
    monkeypatch.setattr(sharded, "SHARDS_PER_JOB", 4)
    taken = record_taken(monkeypatch, sharded, "analyze_files")
    directory = str(one_trace_per_file)
    two = same_as_full(directory, "--jobs", "2", *options)
    one = same_as_full(directory, "--jobs", "1", *options)
    assert taken[0] is True  # the lean run took the workers
    assert two == one and two.count("\n") > 5


def test_fork_map_keeps_order_and_redoes_a_failed_child(tmp_path: Path) -> None:
    """In a fresh interpreter (no test-runner threads): results in task order, a child that
    dies is redone here, the same answer either way."""
    script = (
        "import os, sys\n"
        "from spanscope.cli.parallel import can_fork, fork_map\n"
        "parent = os.getpid()\n"
        "def square(n):\n"
        "    if n == 7 and os.getpid() != parent:\n"
        "        os._exit(3)  # a child dies on this task\n"
        "    return (n * n, os.getpid() == parent)\n"
        "assert can_fork()\n"
        "results = fork_map(square, list(range(12)), 3)\n"
        "assert [r[0] for r in results] == [n * n for n in range(12)], results\n"
        "# this process: 0, 3, ...; a child 2, 5, ...; the child that died 1, 4, 7, 10, redone\n"
        "assert results[0][1] and not results[2][1] and results[1][1] and results[7][1]\n"
        "print('ok')\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.stdout.strip() == "ok", done.stderr


HEAVY = ("rich", "google.protobuf", "duckdb", "starlette", "pyarrow", "opentelemetry")
HEAVY += ("jsonschema", "uvicorn", "grpc", "multiprocessing", "spanscope.analysis.analyze")
# Not heavy, but pathlib pulls urllib.parse and ipaddress: 4 ms of a 170 ms run at 1,000 files.
HEAVY += ("pathlib",)
# Nor these, but the profile alone uses none of them: dataclasses (each one built runs generated
# code at import), the report's structs and the analyses only they need.
HEAVY += ("dataclasses", "spanscope.analysis.results", "spanscope.report.json")
HEAVY += ("spanscope.analysis.dependencies", "spanscope.analysis.percentiles")
HEAVY += ("base64", "binascii")  # for binary attributes, rare: imported when one is met


def _imported(*args: str, cwd: Path) -> set[str]:
    command = [sys.executable, "-X", "importtime", "-m", "spanscope", *args]
    done = subprocess.run(command, capture_output=True, text=True, cwd=cwd)
    assert done.returncode == 0, done.stderr[-2000:]
    return {
        line.rsplit("|", 1)[1].strip()
        for line in done.stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    }


def test_profile_only_start_up_imports_little(one_trace_per_file: Path) -> None:
    modules = _imported("analyze", ".", "--folded", "-", cwd=one_trace_per_file)
    assert "spanscope.formats.jaeger_lean" in modules
    heavy = {m for m in modules if m.split(".")[0] in HEAVY or m in HEAVY}
    heavy |= {m for m in modules if any(m.startswith(h + ".") for h in HEAVY)}
    assert not heavy


# Runs the command line, then says on stderr how many times the cyclic garbage collector ran.
_COUNTING_COLLECTIONS = """
import gc, sys

runs = []
gc.callbacks.append(lambda phase, info: runs.append(info) if phase == "start" else None)
from spanscope.cli import main

try:
    main(sys.argv[1:], prog_name="spanscope")
finally:
    print(len(runs), file=sys.stderr)
"""


def test_profile_only_start_up_is_not_collected(one_trace_per_file: Path) -> None:
    """The collector does not walk what the imports make, again and again, while they make it
    (``spanscope.cli.imports_without_collection``): on one file it ran 31 times, 2 ms of 45."""
    first = sorted(p.name for p in one_trace_per_file.iterdir() if not p.name.startswith("."))[0]
    command = [sys.executable, "-c", _COUNTING_COLLECTIONS, "analyze", first, "--folded", "-"]
    done = subprocess.run(
        [*command, "--jobs", "1"], capture_output=True, text=True, cwd=one_trace_per_file
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert int(done.stderr.splitlines()[-1]) <= 8


def test_one_small_file_imports_no_splitter(one_trace_per_file: Path) -> None:
    """Only a big OTLP JSON-lines file is cut in two: a small Jaeger file must not pay for
    multiprocessing's pipes or the OTLP JSON reader at start-up (they cost it ~15 ms)."""
    first = sorted(p.name for p in one_trace_per_file.iterdir() if not p.name.startswith("."))[0]
    for extra in (["--folded", "-"], ["--json"]):
        modules = _imported("analyze", first, *extra, cwd=one_trace_per_file)
        assert "spanscope.cli.split" in modules  # the single-file path was taken
        assert not {m for m in modules if m.split(".")[0] == "multiprocessing"}
        assert "spanscope.formats.otlp_json" not in modules


def test_help_imports_no_listed_command(tmp_path: Path) -> None:
    modules = _imported("--help", cwd=tmp_path)
    listed = {f"spanscope.cli.{COMMANDS[name].split(':')[0]}" for name in SUMMARIES}
    assert not listed & modules
    assert not {m for m in modules if m.split(".")[0] in HEAVY}


def test_help_lists_what_the_commands_say(monkeypatch: pytest.MonkeyPatch) -> None:
    summarised = CliRunner().invoke(main, ["--help"], terminal_width=100)
    narrow = CliRunner().invoke(main, ["--help"], terminal_width=60)
    monkeypatch.setattr(cli, "SUMMARIES", {})  # each command asked for its own help
    asked = CliRunner().invoke(main, ["--help"], terminal_width=100)
    asked_narrow = CliRunner().invoke(main, ["--help"], terminal_width=60)
    assert summarised.stdout == asked.stdout and "Commands:" in asked.stdout
    assert narrow.stdout == asked_narrow.stdout


def test_writes_the_same_stacks_to_a_file(one_trace_per_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "stacks.folded"
    written = run(str(one_trace_per_file), "--folded", str(out), "--json", "--jobs", "1")
    printed = run(str(one_trace_per_file), "--folded", "-", "--jobs", "1")
    assert written.exit_code == printed.exit_code == 0
    assert out.read_text() == printed.stdout
    assert io.StringIO(printed.stdout).readline().startswith("frontend:")


def test_a_big_jaeger_file_is_projected_too(monkeypatch: pytest.MonkeyPatch) -> None:
    """Past ``SMALL_FILE`` inputs are streamed, but Jaeger JSON is read whole either way."""
    from spanscope.formats import source

    monkeypatch.setattr(source, "SMALL_FILE", 1024)
    projected: list[int] = []
    original = folded.project

    def spy(data: bytes, name: str):
        spans = original(data, name)
        projected.append(len(data) if spans is not None else 0)
        return spans

    monkeypatch.setattr(folded, "project", spy)
    name = (
        "jaeger-ui/packages__jaeger-ui__src__components__TracePage__TraceFlamegraph__testTrace.json"
    )
    same_as_full(str(FIXTURES / name), "--jobs", "1")
    assert projected and projected[0] > 1024


@pytest.mark.parametrize("cardinality_min", ["20", "41"])
def test_names_with_ids_fold_alike_in_both_paths(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cardinality_min: str
) -> None:
    """40 requests named GET /users/<id>, one Jaeger file each, read by two workers: both
    paths count them as one endpoint (or 40 with the threshold past them)."""
    from spanscope.model import Span, SpanKind

    monkeypatch.setattr(folded, "PROFILE_MIN_BYTES", 0)
    monkeypatch.setattr(folded, "PROFILE_MIN_SHARD_BYTES", 1)
    for index in range(40):
        trace_id = f"{index + 1:032x}"
        spans = [
            Span(trace_id, f"{1:016x}", f"GET /users/{index}", 1_000, 9_000 + index,
                 kind=SpanKind.SERVER, service_name="api"),
            Span(trace_id, f"{2:016x}", f"SELECT user {index}", 2_000, 5_000, f"{1:016x}",
                 kind=SpanKind.CLIENT, service_name="api"),
        ]  # fmt: skip
        with open(tmp_path / f"{index:03}.json", "wb") as out:
            write_spans(spans, out, "jaeger-json")
    stacks = same_as_full(str(tmp_path), "--jobs", "2", "--cardinality-min", cardinality_min)
    roots = [line for line in stacks.splitlines() if ";" not in line]
    if cardinality_min == "20":
        assert [line.rpartition(" ")[0] for line in roots] == ["api:GET /users/<num>"]
    else:
        assert len(roots) == 40 and "<num>" not in stacks


# -- found by trying every example of the README and of --help, each fixed and held here --


def test_folded_slow_without_folded_is_a_usage_error(small_shop: str) -> None:
    """--folded-slow alone was dropped without a word: the report and no stacks anywhere."""
    alone = CliRunner().invoke(main, ["analyze", small_shop, "--folded-slow"])
    assert alone.exit_code == 2
    assert "add --folded FILE" in alone.output
    stacks = CliRunner().invoke(main, ["analyze", small_shop, "--folded-slow", "--folded", "-"])
    assert stacks.exit_code == 0, stacks.output
    assert stacks.stdout.startswith("frontend:POST /api/checkout;")


def test_imports_without_collection_keeps_what_the_caller_set() -> None:
    """It pauses the collector and moves what was made to the oldest generation, but leaves a
    collector the caller had switched off switched off, and a freeze made on purpose (serve's,
    ``holding_many_objects``) frozen."""
    import gc

    from spanscope.cli import imports_without_collection

    before = gc.get_freeze_count()  # (other tests in this process may have frozen some)
    assert gc.isenabled()
    with imports_without_collection():
        assert not gc.isenabled()
    assert gc.isenabled() and gc.get_freeze_count() == before

    gc.disable()
    try:
        with imports_without_collection():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()

    ours = not before  # freeze here only if nothing is frozen: never unfreeze others' objects
    if ours:
        gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        assert frozen
        with imports_without_collection():
            made = [object() for _ in range(100)]
        assert gc.get_freeze_count() == frozen and made
    finally:
        if ours:
            gc.unfreeze()
