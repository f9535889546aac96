"""The serving process's interpreter settings (``tune_process_for_serving``) and event loop
(``run_serving``), checked in a fresh interpreter so this test process keeps its own."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from spanscope.server.app import GC_THRESHOLDS, SWITCH_INTERVAL_S

_PROBE = """
import asyncio, gc, json, sys
from spanscope.server.app import run_serving, tune_process_for_serving

before = {"threshold": gc.get_threshold(), "interval": sys.getswitchinterval()}
tune_process_for_serving()

async def main():
    loop = asyncio.get_running_loop()
    await asyncio.sleep(0)
    return type(loop).__module__

module = run_serving(main())
print(json.dumps({
    "before": before,
    "threshold": gc.get_threshold(),
    "interval": sys.getswitchinterval(),
    "frozen": gc.get_freeze_count(),
    "gc_enabled": gc.isenabled(),
    "loop_module": module,
}))
"""


def _probe() -> dict:
    result = subprocess.run(
        [sys.executable, "-c", _PROBE], capture_output=True, text=True, timeout=60, check=True
    )
    return json.loads(result.stdout)


def test_tuning_sets_gc_and_switch_interval():
    seen = _probe()
    assert tuple(seen["before"]["threshold"]) != GC_THRESHOLDS  # it really changed something
    assert tuple(seen["threshold"]) == GC_THRESHOLDS
    assert seen["interval"] == pytest.approx(SWITCH_INTERVAL_S)
    assert seen["before"]["interval"] == pytest.approx(0.005)
    # Start-up objects are frozen, and the collector still runs for what makes cycles.
    assert seen["frozen"] > 10_000
    assert seen["gc_enabled"]


def test_run_serving_uses_uvloop_when_installed():
    try:
        import uvloop  # noqa: F401
    except ImportError:
        expected = "asyncio"
    else:
        expected = "uvloop"
    assert _probe()["loop_module"].split(".")[0] == expected
