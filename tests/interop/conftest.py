"""Real non-Python peers for the interop tests: the Node.js programs in ``node/`` (the
OpenTelemetry JS SDK and zipkin-js, at the versions ``node/package-lock.json`` pins) run as
child processes against a real server on loopback (``tests.server.conftest``). Each program
prints what it sent as JSON on stdout, so the tests compare the store with the peer's own
account, not with a copy of it written here."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.server.conftest import live_server  # noqa: F401 - the same real server, for these tests

NODE_DIR = Path(__file__).parent / "node"


def node_ready() -> str:
    """Why the Node programs cannot run here, or "" when they can."""
    if shutil.which("node") is None:
        return "node is not installed (make test installs Debian's nodejs)"
    if not (NODE_DIR / "node_modules" / "@opentelemetry" / "sdk-trace-base").is_dir():
        return f"the node packages are not installed: npm ci --prefix {NODE_DIR}"
    return ""


def run_node(script: str, *args: str, timeout: float = 60) -> str:
    """Run ``node/<script> args``; its stdout, after it exits 0 (else the test fails with its
    stderr)."""
    missing = node_ready()
    if missing:
        pytest.fail(missing)
    done = subprocess.run(
        ["node", str(NODE_DIR / script), *args], capture_output=True, timeout=timeout, text=True
    )
    assert done.returncode == 0, f"{script} failed: {done.stderr}"
    return done.stdout


def run_node_json(script: str, *args: str) -> object:
    return json.loads(run_node(script, *args))
