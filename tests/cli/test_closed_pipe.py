"""A reader that closes the output early (``spanscope query --db X | head -1``) ends the command
quietly with status 141, as a Unix tool that SIGPIPE ends: no traceback, no "Exception ignored
... BrokenPipeError" as the interpreter exits, and not 1, which ``diff`` gives when a gate
trips. Real console-script processes writing into a real pipe that the test closes after one
line; outputs well past a pipe's 64 KiB, so that the write fails whatever the timing. Each case
runs a few times: the outcome must not depend on who is faster."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import msgspec
import pytest

from spanscope.formats import write_spans
from spanscope.store import open_store
from spanscope.synthetic import generate_spans

from .run import executable

EXIT_CLOSED_PIPE = 141
RUNS = 3
# What no output of a closed pipe may hold.
NOISE = ("Traceback", "Exception ignored", "BrokenPipeError", "Broken pipe")


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    """shop.jsonl (1,000 traces of the shop), the same spans in shop.duckdb, and
    services.jsonl (500 traces, each span of a service of its own), in one folder."""
    folder = tmp_path_factory.mktemp("closed pipe")
    spans = list(generate_spans(1000, seed=3))
    with open(folder / "shop.jsonl", "wb") as out:
        write_spans(spans, out, "otlp-jsonl")
    with open_store(folder / "shop.duckdb") as store:
        store.write(spans)
    own = (
        msgspec.structs.replace(span, service_name=f"service-{number:05d}")
        for number, span in enumerate(generate_spans(500, seed=3))
    )
    with open(folder / "services.jsonl", "wb") as out:
        write_spans(own, out, "otlp-jsonl")
    return folder


def _closed_after(args: list[str], cwd: Path, end: bytes = b"\n") -> tuple[int, str, bytes]:
    """Run ``spanscope ARGS``, read its output until what was read ends with ``end`` (a line),
    close the pipe: the status, standard error, and what was read."""
    process = subprocess.Popen(
        [executable(), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=cwd,
        env={"PATH": "/usr/bin:/bin", "COLUMNS": "100"},
        bufsize=0,  # reads return what the pipe holds
    )
    assert process.stdout is not None and process.stderr is not None
    read = b""
    # (a byte at a time up to a first line: what is left in the pipe stays there)
    size = 1 if end == b"\n" else 65536
    while not read.endswith(end) and not read.endswith(end + b"\n"):
        chunk = process.stdout.read(size)
        if not chunk:
            break
        read += chunk
    process.stdout.close()
    errors = process.stderr.read().decode(errors="replace")
    return process.wait(timeout=120), errors, read


# Each command's output is 140 KiB or more (``diff``'s is a few KiB: its writes may all end in
# the pipe before the reader closes it).
CASES = {
    "analyze": ["analyze", "shop.jsonl", "--top", "1000"],
    "analyze --json": ["analyze", "shop.jsonl", "--json"],
    "query --db": ["query", "--db", "shop.duckdb", "--limit", "700"],
    "query --db --json": ["query", "--db", "shop.duckdb", "--limit", "1000", "--json"],
    "convert -o -": ["convert", "shop.jsonl", "-o", "-", "--to", "otlp-jsonl"],
    "info": ["info", "services.jsonl"],
}


@pytest.mark.parametrize("case", CASES)
def test_a_closed_pipe_ends_the_command_quietly(data, case):
    for _ in range(RUNS):
        status, errors, read = _closed_after(CASES[case], data)
        assert read  # it did write
        assert not any(noise in errors for noise in NOISE), errors[-3000:]
        assert errors == ""
        assert status == EXIT_CLOSED_PIPE


def test_output_left_for_the_exit_is_flushed_where_a_closed_pipe_is_handled(data):
    """query --json writes its JSON, then a newline that stays buffered: the reader takes the
    whole JSON and goes. The interpreter's flush as it exited failed ("Exception ignored ...
    BrokenPipeError", status 120); the command flushes it itself."""
    args = ["query", "--db", "shop.duckdb", "--limit", "40", "--json"]
    for _ in range(RUNS):
        status, errors, read = _closed_after(args, data, end=b"\n]")
        assert len(read) > 8192  # past the buffer: the JSON was written at once
        assert not any(noise in errors for noise in NOISE), errors[-3000:]
        assert errors == ""
        if read.endswith(b"]\n"):  # the newline reached the pipe before the reader closed it
            assert status == 0
        else:
            assert read.endswith(b"]") and status == EXIT_CLOSED_PIPE


def test_stderr_in_the_same_pipe_is_closed_too(data):
    """``2>&1 | head -1``: nothing more is written to the pipe, from either stream."""
    for _ in range(RUNS):
        process = subprocess.Popen(
            [executable(), *CASES["convert -o -"]],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            cwd=data,
            env={"PATH": "/usr/bin:/bin", "COLUMNS": "100"},
        )
        assert process.stdout is not None
        assert process.stdout.readline()
        process.stdout.close()
        assert process.wait(timeout=120) == EXIT_CLOSED_PIPE


def test_a_broken_pipe_that_is_not_the_output_is_reported() -> None:
    # A command whose own output is open but that meets a broken pipe elsewhere (a socket to
    # a store, a child's pipe) fails visibly, in one line: ending quietly with 141 would hide
    # the failure.
    script = (
        "import click\n"
        "from spanscope.cli import _closed_pipe_ends_quietly\n"
        "try:\n"
        "    with _closed_pipe_ends_quietly():\n"
        "        print('written')\n"
        "        raise BrokenPipeError(32, 'a store connection broke')\n"
        "except click.ClickException as error:\n"
        "    print('reported:', error.format_message())\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == (
        "written\nreported: a pipe or connection broke: [Errno 32] a store connection broke\n"
    )
