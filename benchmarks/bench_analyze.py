"""End-to-end ``spanscope analyze`` on 1M spans against the bare decode of the same file.

For OTLP JSON lines and Jaeger JSON (``synthetic_file``), each run is a fresh process:

- ours: the real CLI, ``spanscope analyze FILE --json`` with the report sent to /dev/null, as a
  user runs it: with the default ``--jobs`` it uses both cores where it can (one big OTLP
  JSON-lines file is read and analysed in two processes, ``spanscope.cli.split``);
- reference: the bare ``msgspec.json.decode`` of the same file to untyped objects (line by line
  for JSON lines, as a reader must; the whole document for Jaeger JSON).

The two alternate, so both see the same background load on a shared machine; medians of
``BENCH_REPEAT`` (3) runs. Reported: spans/s by wall time (what a user waits for) and by CPU
time (user + system of the child and of every process it forked and waited for: what the work
costs, and the fairer figure when other jobs compete for the cores), the ratios ours/bare
(``busiest``: the CPU time of the busier of ours' processes against bare's, about the wall
ratio on two free cores), the peak resident memory (VmHWM) of each child and, for ours, the
peak of the biggest process it forked (``worker MiB``; it runs at the same time, so the two add
up). The load average before and after each format is saved with the results. ``BENCH_SPANS``
sets the size (1M by default).

Target (DESIGN.md, issue 3): analyze at least half the bare-decode rate (ratio >= 0.5).

High cardinality: the same shop spans (``BENCH_CARDINALITY_SPANS``, 200k by default) with every
root span named after its request (``GET /users/<n>``, a distinct id each: a service that puts
ids in span names), against the plain file, alternating, ``BENCH_REPEAT`` runs each: CPU, wall
and peak memory of the ids file over the plain one. Target: at most about 1.3 (distinct names
are folded as they come, not kept as a row each).
"""

from __future__ import annotations

import os
import re
import resource
import statistics
import subprocess
import sys
import time

from benchmarks.common import DATA, save, synthetic_file

SPANS = int(os.environ.get("BENCH_SPANS", 1_000_000))
CARDINALITY_SPANS = int(os.environ.get("BENCH_CARDINALITY_SPANS", 200_000))
REPEAT = int(os.environ.get("BENCH_REPEAT", 3))
FORMATS = ("otlp-jsonl", "jaeger-json")

# Both children report their peak memory (and the reference its span count) on stderr at exit.
_PEAK = (
    "import atexit, os, re, resource\n"
    "def _peak():\n"
    "    status = open('/proc/self/status').read()\n"
    "    kb = re.search(r'VmHWM:\\s+(\\d+) kB', status).group(1)\n"
    "    me = resource.getrusage(resource.RUSAGE_SELF)\n"
    "    forked = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
    "    cpu = (me.ru_utime + me.ru_stime, forked.ru_utime + forked.ru_stime)\n"
    "    os.write(2, (f'\\nBENCH_VMHWM_KB={kb}\\nBENCH_FORKED_KB={forked.ru_maxrss}\\n'\n"
    "                 f'BENCH_CPU_MS={cpu[0] * 1000:.0f}\\n'\n"
    "                 f'BENCH_FORKED_CPU_MS={cpu[1] * 1000:.0f}\\n').encode())\n"
    "atexit.register(_peak)\n"
)
OURS = _PEAK + "import sys\nfrom spanscope.cli import main\nsys.argv[0] = 'spanscope'\nmain()\n"
BARE = _PEAK + (
    "import sys, msgspec\n"
    "decode = msgspec.json.decode\n"
    "path, kind = sys.argv[1], sys.argv[2]\n"
    "spans = 0\n"
    "if kind == 'otlp-jsonl':\n"
    "    with open(path, 'rb') as lines:\n"
    "        for line in lines:\n"
    "            if line.strip():\n"
    "                for r in decode(line)['resourceSpans']:\n"
    "                    for s in r['scopeSpans']:\n"
    "                        spans += len(s['spans'])\n"
    "else:\n"
    "    with open(path, 'rb') as f:\n"
    "        spans = sum(len(t['spans']) for t in decode(f.read())['data'])\n"
    "os.write(2, f'BENCH_SPANS={spans}\\n'.encode())\n"
)


def timed_run(command: list[str], **kwargs) -> tuple[float, float, str]:
    """Run ``command`` to completion: wall seconds, CPU seconds (user + system of the child and
    everything it waited for), and its stderr."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(command, stderr=subprocess.PIPE, text=True, **kwargs)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise RuntimeError(f"{command[:4]} exited {done.returncode}: {done.stderr[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, done.stderr


def _marker(stderr: str, name: str) -> int:
    return int(re.findall(rf"{name}=(\d+)", stderr)[-1])


def _run(code: str, args: list[str]) -> tuple[float, float, float, str, float, float]:
    """wall s, CPU s, peak MiB, stderr, peak MiB of the forked process, and the larger of the
    two processes' CPU seconds (on two free cores, about the wall time)."""
    with open(os.devnull, "wb") as sink:
        wall, cpu, stderr = timed_run([sys.executable, "-c", code, *args], stdout=sink)
    peak = _marker(stderr, "BENCH_VMHWM_KB") / 1024
    busiest = max(_marker(stderr, "BENCH_CPU_MS"), _marker(stderr, "BENCH_FORKED_CPU_MS")) / 1000
    return wall, cpu, peak, stderr, _marker(stderr, "BENCH_FORKED_KB") / 1024, busiest


def ids_file(spans: int) -> str:
    """``synthetic_file("otlp-jsonl", spans)``'s spans with a distinct id in each root's name."""
    import msgspec

    from spanscope.formats import write_spans
    from spanscope.synthetic import generate_spans

    path = DATA / f"shop-{spans}-ids-otlp-jsonl.jsonl"
    if not path.exists():
        DATA.mkdir(exist_ok=True)
        roots = iter(range(100_000, 10**9))
        renamed = (
            msgspec.structs.replace(span, name=f"GET /users/{next(roots)}")
            if not span.parent_span_id
            else span
            for span in generate_spans(spans // 8, seed=7)
        )
        partial = path.with_suffix(".partial")
        with open(partial, "wb") as out:
            write_spans(renamed, out, "otlp-jsonl")
        partial.rename(path)
    return str(path)


def cardinality() -> dict:
    """The ids file against the plain one (module docstring)."""
    plain, ids = str(synthetic_file("otlp-jsonl", CARDINALITY_SPANS)), ids_file(CARDINALITY_SPANS)
    runs: dict[str, list] = {"plain": [], "ids": []}
    load_before = os.getloadavg()
    for _ in range(REPEAT):
        for name, path in (("plain", plain), ("ids", ids)):
            runs[name].append(_run(OURS, ["analyze", path, "--json"]))
    medians = {
        name: [statistics.median(r[index] for r in rows) for index in (0, 1, 2)]
        for name, rows in runs.items()
    }
    row = {
        "spans": CARDINALITY_SPANS,
        "cpu_ratio_ids_to_plain": round(medians["ids"][1] / medians["plain"][1], 3),
        "wall_ratio_ids_to_plain": round(medians["ids"][0] / medians["plain"][0], 3),
        "peak_ratio_ids_to_plain": round(medians["ids"][2] / medians["plain"][2], 3),
        "cpu_s": {name: round(m[1], 2) for name, m in medians.items()},
        "wall_s": {name: round(m[0], 2) for name, m in medians.items()},
        "peak_mib": {name: round(m[2], 1) for name, m in medians.items()},
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
    }
    print(
        f"high cardinality ({CARDINALITY_SPANS:,} spans, a name per root): ids/plain CPU"
        f" {row['cpu_ratio_ids_to_plain']:.2f}, wall {row['wall_ratio_ids_to_plain']:.2f},"
        f" peak {row['peak_ratio_ids_to_plain']:.2f}   load {load_before[0]:.1f}",
        flush=True,
    )
    return row


def main() -> None:
    results: dict = {"spans": SPANS, "repeat": REPEAT, "formats": {}}
    print(
        f"{'format':<12} {'analyze spans/s':>16} {'bare spans/s':>13} {'ratio':>6}"
        f" {'CPU ratio':>9} {'busiest':>7} {'analyze MiB':>12} {'worker MiB':>11} {'bare MiB':>9}"
    )
    for name in FORMATS:
        path = str(synthetic_file(name, SPANS))
        ours, bare = [], []
        spans = 0
        load_before = os.getloadavg()
        for _ in range(REPEAT):
            ours.append(_run(OURS, ["analyze", path, "--json"]))
            bare.append(_run(BARE, [path, name]))
            spans = _marker(bare[-1][3], "BENCH_SPANS")
        ours_wall = statistics.median(r[0] for r in ours)
        bare_wall = statistics.median(r[0] for r in bare)
        ours_cpu = statistics.median(r[1] for r in ours)
        bare_cpu = statistics.median(r[1] for r in bare)
        row = {
            "spans": spans,
            "bytes": os.path.getsize(path),
            "analyze_spans_per_s": round(spans / ours_wall),
            "bare_spans_per_s": round(spans / bare_wall),
            "ratio_to_bare": round(bare_wall / ours_wall, 3),
            "analyze_cpu_spans_per_s": round(spans / ours_cpu),
            "bare_cpu_spans_per_s": round(spans / bare_cpu),
            "cpu_ratio_to_bare": round(bare_cpu / ours_cpu, 3),
            # The busier process's CPU time against the bare decode's: what the wall ratio
            # would be with both cores free (the forked process runs alongside).
            "busiest_process_cpu_ratio_to_bare": round(
                bare_cpu / statistics.median(r[5] for r in ours), 3
            ),
            "analyze_peak_mib": round(statistics.median(r[2] for r in ours), 1),
            "analyze_worker_peak_mib": round(statistics.median(r[4] for r in ours), 1),
            "bare_peak_mib": round(statistics.median(r[2] for r in bare), 1),
            "runs_wall_s": {"analyze": [r[0] for r in ours], "bare": [r[0] for r in bare]},
            "runs_cpu_s": {"analyze": [r[1] for r in ours], "bare": [r[1] for r in bare]},
            "load_average_before": [round(x, 2) for x in load_before],
            "load_average_after": [round(x, 2) for x in os.getloadavg()],
        }
        results["formats"][name] = row
        print(
            f"{name:<12} {row['analyze_spans_per_s']:>16,} {row['bare_spans_per_s']:>13,}"
            f" {row['ratio_to_bare']:>6.2f} {row['cpu_ratio_to_bare']:>9.2f}"
            f" {row['busiest_process_cpu_ratio_to_bare']:>7.2f}"
            f" {row['analyze_peak_mib']:>12,.0f} {row['analyze_worker_peak_mib']:>11,.0f}"
            f" {row['bare_peak_mib']:>9,.0f}   load {load_before[0]:.1f}",
            flush=True,
        )
    results["high_cardinality"] = cardinality()
    save("analyze", results)
