"""Shared benchmark helpers: data sets, timing with medians, peak memory in a child process.

These machines are shared and noisy, so every figure is a median of several runs and is reported
next to a reference measured in the same run (e.g. the bare decode of the same bytes).
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

DATA = Path(__file__).parent / "data"
RESULTS = Path(__file__).parent / "results"


def median_seconds(run: Callable[[], object], repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def synthetic_file(format_name: str, spans: int) -> Path:
    """A file of about ``spans`` synthetic shop spans in ``format_name``, made once and cached."""
    from spanscope.formats import resolve_format, write_spans
    from spanscope.synthetic import generate_spans

    fmt = resolve_format(format_name)
    DATA.mkdir(exist_ok=True)
    path = DATA / f"shop-{spans}-{fmt.name}{fmt.extension}"
    if path.exists():
        return path
    traces = spans // 8  # the shop averages about 8 spans per trace
    partial = path.with_suffix(path.suffix + ".partial")
    with open(partial, "wb") as out:
        write_spans(generate_spans(traces, seed=7), out, fmt.name)
    partial.rename(path)
    return path


def peak_rss_mib(code: str) -> float:
    """Run ``code`` in a fresh interpreter and return its peak resident memory in MiB."""
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss over exec from the (big) parent.
    wrapper = (
        code
        + "\nimport re\n"
        + "status = open('/proc/self/status').read()\n"
        + "print(int(re.search(r'VmHWM:\\s+(\\d+) kB', status).group(1)) / 1024)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", wrapper], check=True, capture_output=True, text=True
    ).stdout
    return float(out.strip().splitlines()[-1])


def save(name: str, results: dict) -> None:
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(results, indent=2) + "\n")
