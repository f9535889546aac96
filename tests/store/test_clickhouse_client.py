"""The embedded ClickHouse (chDB) client on a data folder another process runs ClickHouse on:
a message naming that process and what to do, not chDB's "Error initializing EmbeddedServer"."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from tests.cli.run import spanscope

pytest.importorskip("chdb", reason="chdb (embedded ClickHouse) is not installed")

_HOLD = textwrap.dedent(
    """
    import sys
    from chdb import session
    held = session.Session(sys.argv[1])
    print("ready", flush=True)
    sys.stdin.read()  # until the test closes our stdin
    """
)


@pytest.fixture
def held_folder(tmp_path):
    folder = tmp_path / "traces-ch"
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLD, str(folder)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        yield folder, holder.pid
    finally:
        holder.kill()
        holder.wait(timeout=30)


def test_a_folder_another_process_runs_is_named_with_its_process(held_folder):
    folder, pid = held_folder
    result = spanscope("query", "--db", f"chdb:{folder}")
    assert result.returncode != 0
    assert f"process {pid} runs ClickHouse on this folder" in result.stderr
    assert "--db http://" in result.stderr  # what to do instead
    assert "Error initializing EmbeddedServer" not in result.stderr


def test_diff_on_such_a_folder_is_an_input_error(held_folder):
    folder, pid = held_folder
    result = spanscope("diff", "--db", f"chdb:{folder}", "--since", "1h", "--json")
    assert result.returncode == 2
    assert result.stdout == "" and f"process {pid}" in result.stderr
