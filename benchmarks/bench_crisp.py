"""Side by side with Uber's CRISP: critical paths + aggregated profile for 1k and 10k traces.

Both tools read the same directory of Jaeger JSON files, one trace per file (the layout CRISP
expects), all requests of one endpoint (root ``frontend`` ``POST /api/checkout``), written by our
Jaeger writer from the synthetic shop. Comparable outputs:

- CRISP ``--lightMode --parallelism 2``: its fastest mode; it computes each trace's critical path
  and writes only the aggregated calling-context profile (``light-flame-graph-P100.cct``, folded
  stacks of critical-path exclusive time, plus the same as ``.dot`` and ``.pb``). Its full mode
  adds HTML, CSV and per-percentile SVGs on top of the same work, so it can only be slower.
- ``spanscope analyze DIR --folded -`` (the headline: the same job): each trace's critical path
  and the aggregated critical-path profile as folded stacks, nothing else; the inputs are read
  through the C profile (``spanscope.analysis.native_profile``). With ``--jobs 1`` too, and
  with the C profile switched off (``SPANSCOPE_NO_NATIVE=1``: the Python engine, which reads
  through a projection, ``spanscope.formats.jaeger_lean``).
- ``spanscope analyze FILES --folded stacks.folded --json`` (the "full report", reported
  honestly next to it): the same stacks plus everything else ``analyze`` reports (latency,
  errors, dependencies, anti-patterns), every tag decoded: more work than CRISP's.

Each command runs in a fresh process (wall time and CPU time of the process tree), alternating,
median of ``BENCH_REPEAT`` (3) runs. A last process, the bare ``msgspec`` decode of the same files
into dicts, is the floor for any tool that decodes them whole. Then the answers are compared:
our four runs (the profile, ``--jobs 1``, without the C engine, the full report) must print
the same stacks byte for byte, and the share of critical-path time per service must agree with
CRISP's ``.cct``.

CRISP is not ours and is never committed: point ``CRISP_DIR`` at an exported source tree and
``CRISP_PYTHON`` at a Python with its requirements (default ``$CRISP_DIR/.venv/bin/python``);
see ``benchmarks/CRISP.md``. Without them this suite says so and skips.

Target (issue 3): spanscope at least 10x faster.
"""

from __future__ import annotations

import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import DATA, save
from spanscope import native_switch

TRACES = tuple(int(n) for n in os.environ.get("BENCH_CRISP_TRACES", "1000,10000").split(","))
REPEAT = int(os.environ.get("BENCH_REPEAT", 3))
SERVICE, OPERATION = "frontend", "POST /api/checkout"
SEED = 11
CRISP_OUTPUTS = ("light-flame-graph-P100.cct", "light-flame-graph-P100.dot")
CRISP_OUTPUTS_ALL = (*CRISP_OUTPUTS, "light-flame-graph-P100.pb")
_OURS = "import sys\nfrom spanscope.cli import main\nsys.argv[0] = 'spanscope'\nmain()\n"
# The floor for any tool that decodes every file: msgspec's bare decode, no analysis at all.
_BARE = (
    "import glob, msgspec\n"
    "for name in sorted(glob.glob('*.json')):\n"
    "    with open(name, 'rb') as f:\n"
    "        msgspec.json.decode(f.read())\n"
)


def locate_crisp() -> tuple[str, Path] | str:
    """(python, source dir) of a runnable CRISP, or why there is none."""
    source = os.environ.get("CRISP_DIR")
    if not source:
        return "CRISP_DIR is not set (see benchmarks/CRISP.md)"
    directory = Path(source)
    if not (directory / "crisp" / "process_trace.py").is_file():
        return f"CRISP_DIR={source} has no crisp/process_trace.py"
    python = os.environ.get("CRISP_PYTHON") or str(directory / ".venv" / "bin" / "python")
    check = subprocess.run(
        [python, "-c", "import crisp.process_trace"],
        cwd=directory,
        capture_output=True,
        text=True,
        env=_crisp_env(directory),
    )
    if check.returncode != 0:
        last = (check.stderr.strip().splitlines() or ["?"])[-1]
        return f"CRISP_PYTHON={python} cannot import CRISP: {last}"
    return python, directory


def _environment() -> dict[str, str]:
    """Both tools with their bytecode cached, as an installed program has it: this machine's
    PYTHONDONTWRITEBYTECODE would have each run compile every module of both from source
    again (tens of ms a run). The cache lives under benchmarks/data, outside the sources."""
    environment = dict(os.environ)
    environment.pop("PYTHONDONTWRITEBYTECODE", None)
    environment.pop(native_switch.VARIABLE, None)
    environment["PYTHONPYCACHEPREFIX"] = str(DATA / "pycache")
    return environment


def _crisp_env(directory: Path) -> dict[str, str]:
    return {**_environment(), "PYTHONPATH": str(directory)}


def trace_directory(traces: int) -> Path:
    """``traces`` checkout requests as one Jaeger JSON file each, made once and cached."""
    from spanscope.formats import write_spans
    from spanscope.synthetic import generate_spans

    directory = DATA / f"crisp-checkout-{traces}"
    if (directory / ".complete").exists():
        return directory
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    written = 0
    current: list = []

    def flush() -> int:
        root = next((s for s in current if not s.parent_span_id), None)
        if root is None or (root.service_name, root.name) != (SERVICE, OPERATION):
            return 0
        with open(directory / f"{root.trace_id}.json", "wb") as out:
            write_spans(current, out, "jaeger-json")
        return 1

    # The shop mixes three endpoints; keep generating until enough checkouts were seen.
    for span in generate_spans(traces * 8, seed=SEED):
        if current and span.trace_id != current[0].trace_id:
            written += flush()
            current = []
            if written == traces:
                break
        current.append(span)
    else:
        written += flush()
    if written < traces:
        raise RuntimeError(f"only {written} checkout traces generated, wanted {traces}")
    (directory / ".complete").touch()
    return directory


def _become_subreaper() -> bool:
    """Make this process adopt orphaned descendants (Linux), so their CPU time is counted.

    Our ``--jobs`` workers are forked by multiprocessing's forkserver, which nobody waits for:
    without this their CPU time would be missing from ours (CRISP's pool workers are its
    direct children and always counted)."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(36, 1, 0, 0, 0) == 0  # PR_SET_CHILD_SUBREAPER
    except (OSError, AttributeError):
        return False


_SUBREAPER = _become_subreaper()


def _reap_descendants() -> None:
    """Wait for every adopted descendant (e.g. a forkserver) so its CPU time is counted."""
    while True:
        try:
            os.waitpid(-1, 0)
        except ChildProcessError:
            return


def _timed(command: list[str], **kwargs) -> tuple[float, float]:
    """Wall and CPU seconds (user + system of the process and all its descendants). Wall time
    ends when the command exits; descendants it leaves behind are then waited for, for CPU."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, check=True, **kwargs)
    wall = time.perf_counter() - start
    _reap_descendants()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def run_crisp(python: str, crisp_dir: Path, traces_dir: Path, out: Path) -> tuple[float, float]:
    command = [
        python,
        "-m",
        "crisp.process_trace",
        "-a",
        OPERATION,
        "-s",
        SERVICE,
        "-i",
        str(traces_dir),
        "-o",
        str(out),
        "--parallelism",
        "2",
        "--lightMode",
    ]
    with open(out / "crisp.log", "wb") as log:
        return _timed(
            command, cwd=crisp_dir, env=_crisp_env(crisp_dir), stdout=log, stderr=subprocess.STDOUT
        )


def run_profile(
    traces_dir: Path, out: Path, jobs: int = 0, native: bool = True
) -> tuple[float, float]:
    """``spanscope analyze DIR --folded -``: the profile alone, what CRISP computes; ``jobs``
    0 is the default (a process per CPU); ``native`` False switches the C profile off."""
    command = [sys.executable, "-c", _OURS, "analyze", str(traces_dir), "--folded", "-"]
    if jobs:
        command += ["--jobs", str(jobs)]
    environment = _environment()
    if not native:
        environment[native_switch.VARIABLE] = "1"
    with open(out / "stacks.folded", "wb") as stacks, open(out / "ours.log", "wb") as log:
        return _timed(command, cwd=traces_dir, stdout=stacks, stderr=log, env=environment)


def run_full(traces_dir: Path, out: Path) -> tuple[float, float]:
    """``spanscope analyze FILES --folded F --json``: the full report, stacks to a file."""
    files = sorted(p.name for p in traces_dir.glob("*.json"))
    command = [sys.executable, "-c", _OURS, "analyze", *files]
    command += ["--folded", str(out / "stacks.folded"), "--json"]
    with open(out / "report.json", "wb") as report, open(out / "ours.log", "wb") as log:
        return _timed(command, cwd=traces_dir, stdout=report, stderr=log, env=_environment())


def run_bare(traces_dir: Path) -> tuple[float, float]:
    return _timed([sys.executable, "-c", _BARE], cwd=traces_dir, env=_environment())


def service_shares(lines: list[str], crisp: bool) -> dict[str, float]:
    """Share of critical-path time per service, from the leaf frame of each folded stack."""
    totals: dict[str, float] = {}
    for line in lines:
        if not line.strip():
            continue
        if crisp:  # "[svc] op;[svc] op 123.4 <<freq>>"
            stack, value, _ = line.rsplit(" ", 2)
            leaf = stack.split(";")[-1]
            service = leaf[1 : leaf.index("]")]
        else:  # "svc:op;svc:op 123"
            stack, value = line.rsplit(" ", 1)
            service = stack.split(";")[-1].split(":", 1)[0]
        totals[service] = totals.get(service, 0.0) + float(value)
    whole = sum(totals.values()) or 1.0
    return {s: v / whole for s, v in sorted(totals.items(), key=lambda kv: -kv[1])}


def compare(crisp_lines: list[str], our_lines: list[str]) -> dict:
    theirs = service_shares(crisp_lines, crisp=True)
    ours = service_shares(our_lines, crisp=False)
    services = sorted(set(theirs) | set(ours), key=lambda s: -ours.get(s, 0.0))
    return {
        "crisp_shares": {s: round(v, 4) for s, v in theirs.items()},
        "spanscope_shares": {s: round(v, 4) for s, v in ours.items()},
        "same_top3": list(theirs)[:3] == list(ours)[:3],
        "max_share_difference": round(
            max(abs(theirs.get(s, 0.0) - ours.get(s, 0.0)) for s in services), 4
        ),
    }


def main() -> None:
    found = locate_crisp()
    if isinstance(found, str):
        print(f"skipped: {found}")
        return
    python, crisp_dir = found
    commit = os.environ.get("CRISP_COMMIT", "unknown")
    results: dict = {
        "crisp_commit": commit,
        "repeat": REPEAT,
        "cpu_of_all_descendants": _SUBREAPER,
        "traces": {},
    }
    print(
        f"{'traces':>7} {'CRISP':>13} {'profile':>13} {'ratio':>11} {'--jobs 1':>13}"
        f" {'no C':>13} {'full report':>13} {'bare decode':>11}   (wall s / CPU s)"
    )
    for count in TRACES:
        traces_dir = trace_directory(count)
        spans = sum(p.read_bytes().count(b'"operationName"') for p in traces_dir.glob("*.json"))
        times: dict[str, list[tuple[float, float]]] = {
            "crisp": [],
            "profile": [],
            "profile_jobs1": [],
            "profile_python": [],
            "full": [],
            "bare": [],
        }
        load = [os.getloadavg()[0]]
        with tempfile.TemporaryDirectory(prefix="bench-crisp-") as tmp:
            out = Path(tmp)
            outs = {name: out / name for name in ("crisp", "profile", "jobs1", "python", "full")}
            for directory in outs.values():
                directory.mkdir()
            crisp_lines: list[str] = []
            # One untimed round first: it fills the bytecode cache and the page cache.
            run_crisp(python, crisp_dir, traces_dir, outs["crisp"])
            for name in CRISP_OUTPUTS_ALL:
                (traces_dir / name).unlink(missing_ok=True)
            run_profile(traces_dir, outs["profile"])
            run_full(traces_dir, outs["full"])
            for _ in range(REPEAT):  # alternating, so all see the same background load
                times["crisp"].append(run_crisp(python, crisp_dir, traces_dir, outs["crisp"]))
                # Light mode writes next to the traces whatever -o says: take its profile and
                # clear them away before spanscope reads the directory.
                crisp_lines = (traces_dir / CRISP_OUTPUTS[0]).read_text().splitlines()
                for name in CRISP_OUTPUTS_ALL:
                    (traces_dir / name).unlink(missing_ok=True)
                times["profile"].append(run_profile(traces_dir, outs["profile"]))
                times["profile_jobs1"].append(run_profile(traces_dir, outs["jobs1"], jobs=1))
                without_c = run_profile(traces_dir, outs["python"], native=False)
                times["profile_python"].append(without_c)
                times["full"].append(run_full(traces_dir, outs["full"]))
                times["bare"].append(run_bare(traces_dir))
                load.append(os.getloadavg()[0])
            stacks = {
                name: (outs[name] / "stacks.folded").read_bytes()
                for name in ("profile", "jobs1", "python", "full")
            }
            our_lines = stacks["profile"].decode().splitlines()
        wall = {name: statistics.median(t[0] for t in runs) for name, runs in times.items()}
        cpu = {name: statistics.median(t[1] for t in runs) for name, runs in times.items()}
        row = {
            "spans": spans,
            "wall_s": {name: round(value, 3) for name, value in wall.items()},
            "cpu_s": {name: round(value, 3) for name, value in cpu.items()},
            "speedup_wall": round(wall["crisp"] / wall["profile"], 2),
            "speedup_cpu": round(cpu["crisp"] / cpu["profile"], 2),
            "speedup_wall_jobs1": round(wall["crisp"] / wall["profile_jobs1"], 2),
            "speedup_wall_without_c": round(wall["crisp"] / wall["profile_python"], 2),
            "speedup_wall_full_report": round(wall["crisp"] / wall["full"], 2),
            "speedup_cpu_full_report": round(cpu["crisp"] / cpu["full"], 2),
            "crisp_cpu_over_bare_decode": round(cpu["crisp"] / cpu["bare"], 2),
            "load_average_1min": [round(value, 2) for value in load],
            "runs_wall_s": {name: [round(t[0], 3) for t in runs] for name, runs in times.items()},
            "same_stacks_profile_jobs1_no_c_full": len(set(stacks.values())) == 1,
            "agreement": compare(crisp_lines, our_lines),
        }
        results["traces"][str(count)] = row

        cell = {name: f"{wall[name]:.3f} / {cpu[name]:.3f}" for name in times}
        print(
            f"{count:>7} {cell['crisp']:>13} {cell['profile']:>13}"
            f" {row['speedup_wall']:>4.1f}x/{row['speedup_cpu']:.1f}x"
            f" {cell['profile_jobs1']:>13} {cell['profile_python']:>13} {cell['full']:>13}"
            f" {cpu['bare']:>11.3f}"
            f"   load {min(load):.1f}-{max(load):.1f}",
            flush=True,
        )
        agreement = row["agreement"]
        print(
            f"        shares CRISP {agreement['crisp_shares']}\n"
            f"        shares ours  {agreement['spanscope_shares']}\n"
            f"        same top 3: {agreement['same_top3']}, "
            f"largest difference {agreement['max_share_difference']:.1%}; "
            f"profile, --jobs 1, without C and full report print the same stacks: "
            f"{row['same_stacks_profile_jobs1_no_c_full']}",
            flush=True,
        )
    save("crisp", results)
