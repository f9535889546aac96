"""The installed ``spanscope`` console script, run as a user runs it: a real child process.

``spanscope(*args)`` runs it with its output captured as text, under a guard against a hang,
and fails the test on a traceback (bad input gets one clear message, never a traceback). The
child inherits this process's environment; ``env`` sets variables (a value) or removes them
(None), e.g. ``COLUMNS``, which would make a pipe look like a terminal of that width.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

# Against a hang only, never a timing assertion: a loaded 2-core machine is slow.
GUARD_S = 180

Environment = Mapping[str, str | None]


@functools.cache
def executable() -> str:
    """The console script installed beside this Python (not a ``python -m`` stand-in)."""
    found = shutil.which("spanscope", path=str(Path(sys.executable).parent))
    assert found, "the spanscope console script is installed"
    return found


def environment(changes: Environment | None = None) -> dict[str, str]:
    """This process's environment with ``changes`` made: a value set, None removed."""
    changed = dict(os.environ)
    for name, value in (changes or {}).items():
        if value is None:
            changed.pop(name, None)
        else:
            changed[name] = value
    return changed


def spanscope(
    *args: str,
    stdin: str | None = None,
    cwd: Path | str | None = None,
    env: Environment | None = None,
    timeout: float = GUARD_S,
) -> subprocess.CompletedProcess[str]:
    """``spanscope ARGS``, ``stdin`` its standard input (else none), its exit code and output."""
    result = subprocess.run(
        [executable(), *args],
        input=stdin,
        stdin=None if stdin is not None else subprocess.DEVNULL,
        capture_output=True,
        text=True,
        cwd=cwd,
        env=environment(env),
        timeout=timeout,
    )
    assert "Traceback" not in result.stderr, result.stderr
    return result
