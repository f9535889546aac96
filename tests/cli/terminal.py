"""What a command shows on a terminal: a real child process with its standard output or error
on a pseudo-terminal (pty) of a given size, all it writes there read until it ends.

``on_terminal(command, stream=...)`` gives a ``Shown``: the text on the terminal (escape
sequences removed), the other stream's output and the exit code. The pty is read while the
child runs (a child writing more than the pty holds would otherwise wait for ever), until the
last holder of the terminal closes it; a child that never ends is killed at a deadline and
fails the test. ``progress_on_a_terminal`` and ``shown_on_terminal`` are the two ways the
tests use it with the console script: a progress bar on standard error, a table on standard
output.
"""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import struct
import subprocess
import tempfile
import termios
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from .run import GUARD_S, Environment, environment, executable

_ESCAPE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


@dataclass(frozen=True)
class Shown:
    text: str  # what the terminal got, decoded, escape sequences removed
    other: str  # the other stream (a file, not a terminal), as text
    returncode: int


def on_terminal(
    command: Sequence[str],
    *,
    stream: Literal["stdout", "stderr"],
    columns: int | None = None,
    rows: int = 24,
    env: Environment | None = None,
    stdin: Path | None = None,
    cwd: Path | None = None,
    timeout: float = GUARD_S,
) -> Shown:
    """``command`` with ``stream`` on a terminal ``columns`` wide and ``rows`` high (None: the
    size a new pty has, 0 x 0), the other stream to a file, ``stdin`` (a file) or nothing as
    its input; ``env`` as ``tests.cli.run.environment`` takes it."""
    leader, follower = pty.openpty()
    try:
        if columns is not None:
            fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
        with (
            tempfile.TemporaryFile() as other,
            open(stdin if stdin is not None else os.devnull, "rb") as source,
        ):
            process = subprocess.Popen(
                list(command),
                stdin=source,
                stdout=follower if stream == "stdout" else other,
                stderr=follower if stream == "stderr" else other,
                env=environment(env),
                cwd=cwd,
            )
            os.close(follower)
            follower = -1
            drawn = _read_until_closed(leader, process, time.monotonic() + timeout)
            returncode = process.wait(timeout=timeout)
            other.seek(0)
            written = other.read().decode("utf-8", "replace")
    finally:
        os.close(leader)
        if follower != -1:
            os.close(follower)
    text = _ESCAPE.sub("", drawn.decode("utf-8", "replace"))
    return Shown(text, written, returncode)


def _read_until_closed(leader: int, process: subprocess.Popen[bytes], deadline: float) -> bytes:
    chunks = []
    while True:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([leader], [], [], left)[0]:
            process.kill()
            process.wait()
            raise AssertionError(f"{process.args} did not end in time")
        try:
            chunk = os.read(leader, 1 << 16)
        except OSError:  # EIO: the terminal closed, the command ended
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


def progress_on_a_terminal(*args: str, columns: int = 80, stdin: Path | None = None) -> str:
    """What ``spanscope ARGS`` draws on standard error when that is a terminal ``columns``
    wide (told by the terminal, not by ``COLUMNS``; not on CI, where no bar is drawn), its
    standard input ``stdin`` (a file) if given. The command must succeed."""
    shown = on_terminal(
        [executable(), *args],
        stream="stderr",
        columns=columns,
        env={"CI": None, "COLUMNS": None, "LINES": None},
        stdin=stdin,
    )
    assert shown.returncode == 0, shown.text
    return shown.text


def shown_on_terminal(args: Sequence[str], columns: int) -> str:
    """What ``spanscope ARGS`` prints on a terminal ``columns`` wide, without colour, each line
    without its trailing blanks. The command must succeed."""
    shown = on_terminal(
        [executable(), *args],
        stream="stdout",
        columns=columns,
        rows=50,
        env={"COLUMNS": str(columns), "LINES": "50", "NO_COLOR": "1"},
    )
    assert shown.returncode == 0, shown.other
    return "\n".join(line.rstrip() for line in shown.text.splitlines())
