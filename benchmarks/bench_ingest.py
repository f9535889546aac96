"""Sustained OTLP/HTTP ingest into DuckDB, against a receiver that discards, in one run.

Both servers are real ``spanscope.server.app.Server`` processes on free loopback ports; the
only difference is the store behind the write pipeline:

- ``duckdb``: ``spanscope serve`` (the command users run) with a fresh DuckDB file;
- ``discard``: the same ``Server`` (receiver, decode, bounded queue, coalescing writer) in a
  small script whose store's ``write`` does nothing: the ceiling the store is compared with.

The load generator (``benchmarks.loadgen``: closed-loop threads, pre-encoded 512-span protobuf
bodies, keep-alive) sends to each for ``BENCH_INGEST_SECONDS`` (default 30) after a 3 s
warm-up, once per sender count (``BENCH_INGEST_SENDERS``, default ``8,32``): each sender has
one request in flight, as an SDK's batch processor does, so the sender count bounds the spans
in flight and with them the batches the store can write (8 senders: at most 4,096 spans; 32
senders, say 32 services exporting at once: 16,384). For each count the discard reference runs
first, then the store. Reported per target: sustained spans/s, p50/p99 export latency, refusals, the
server's peak RSS (VmHWM) and its CPU time per 1,000 accepted spans (a figure the noise of a
shared machine disturbs much less than a rate; with it, the spans per server CPU-second and
the cores the server actually got). After the run the store file is checked to hold
exactly the accepted spans: the span count, distinct (trace, span) ids, and one trace id prefix
per accepted request. The machine's load average is printed with each figure.

Target (DESIGN.md): >= 100k spans/s sustained into DuckDB on a 2-core machine.
Environment: ``BENCH_INGEST_SECONDS``, ``BENCH_INGEST_SENDERS`` (comma-separated counts),
``BENCH_INGEST_QUEUE`` (the server's ``--queue-spans``, default 200000).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from benchmarks.common import save
from benchmarks.loadgen import LoadResult, free_port, prepare_pool, run_load
from benchmarks.serving import cpu_seconds, serve_command, serving

SECONDS = float(os.environ.get("BENCH_INGEST_SECONDS", 30))
# One run per sender count (closed-loop senders, one request in flight each: the spans in
# flight, and so the batches the store can get, grow with it).
SENDERS = [int(n) for n in os.environ.get("BENCH_INGEST_SENDERS", "8,32").split(",")]
QUEUE_SPANS = int(os.environ.get("BENCH_INGEST_QUEUE", 200_000))
POOL_BATCHES = 128
TARGET_SPANS_PER_S = 100_000

# The same Server as ``spanscope serve``, with a store that keeps nothing.
_DISCARD_SERVER = """
import asyncio, signal, sys
from spanscope.server.app import Server, ServerConfig, run_serving, tune_process_for_serving

class Discard:
    def write(self, spans):
        pass

async def main():
    config = ServerConfig(otlp_grpc_port=None, otlp_http_port=int(sys.argv[1]),
                          zipkin_port=None, ui_port=None, queue_spans=int(sys.argv[2]))
    server = Server(config, Discard())
    tune_process_for_serving()  # as spanscope serve does
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, server.stop)
    await server.serve()

run_serving(main())
"""


def _command(target: str, port: int, db: Path) -> list[str]:
    if target == "discard":
        return [sys.executable, "-c", _DISCARD_SERVER, str(port), str(QUEUE_SPANS)]
    return serve_command(db, http_port=port, extra=("--queue-spans", str(QUEUE_SPANS)))


def _peak_rss_mib(pid: int) -> float:
    """The peak resident memory (VmHWM) of a running process."""
    status = Path(f"/proc/{pid}/status").read_text()
    match = re.search(r"VmHWM:\s+(\d+) kB", status)
    assert match is not None, status
    return int(match.group(1)) / 1024


def _write_metrics(url: str) -> dict:
    """How the server's writer batched: writes made and the mean spans per write."""
    with urllib.request.urlopen(f"{url}/metrics", timeout=30) as response:
        text = response.read().decode()
    values = dict(re.findall(r"^(spanscope_\w+) ([0-9.e+]+)$", text, re.MULTILINE))
    writes = int(float(values.get("spanscope_write_seconds_count", 0)))
    accepted = int(float(values.get("spanscope_spans_accepted_total", 0)))
    seconds = float(values.get("spanscope_write_seconds_sum", 0))
    return {
        "writes": writes,
        "mean_spans_per_write": round(accepted / writes) if writes else 0,
        "mean_write_ms": round(1000 * seconds / writes, 1) if writes else 0,
    }


def _verify_store(db: Path, result: LoadResult) -> dict:
    """Whether the store holds exactly the spans that got a success answer."""
    import duckdb

    from spanscope.store.schema import TRACES

    con = duckdb.connect(str(db), read_only=True)
    try:
        spans, distinct = con.execute(
            f"SELECT count(*), count(DISTINCT (TraceId, SpanId)) FROM {TRACES}"
        ).fetchone()
        prefixes = {
            prefix
            for (prefix,) in con.execute(
                f"SELECT DISTINCT substr(TraceId, 1, 16) FROM {TRACES}"
            ).fetchall()
        }
    finally:
        con.close()
    expected = result.expected_prefixes()
    return {
        "stored_spans": spans,
        "distinct_span_ids": distinct,
        "accepted_spans": result.total_accepted_spans,
        "requests_missing": len(expected - prefixes),
        "requests_unexpected": len(prefixes - expected),
        "exact": spans == distinct == result.total_accepted_spans and prefixes == expected,
    }


def _run_target(target: str, pool, workdir: Path, senders: int) -> dict:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    db = workdir / f"{target}-{senders}.duckdb"
    log = workdir / f"{target}.log"
    with serving(_command(target, port, db), url, log) as process:
        cpu_before = cpu_seconds(process.pid)
        result = run_load(url, pool, senders=senders, duration=SECONDS)
        rss_mib, cpu_after = _peak_rss_mib(process.pid), cpu_seconds(process.pid)
        writer = _write_metrics(url)
    row = result.summary()
    row["load_average"] = os.getloadavg()[0]  # the machine's, over the last minute
    row["server_peak_rss_mib"] = round(rss_mib, 1)
    row["writer"] = writer
    server_cpu = cpu_after - cpu_before
    row["server_cpu_s"] = round(server_cpu, 2)
    row["server_cpu_ms_per_1k_spans"] = round(
        1000 * server_cpu / max(result.total_accepted_spans, 1) * 1000, 2
    )
    # What the server would sustain per core it fully had, and how much of a core it got here:
    # on a shared machine the wall-clock rate mostly says how busy the neighbours were.
    row["spans_per_server_cpu_s"] = round(result.total_accepted_spans / max(server_cpu, 1e-9))
    row["server_cores_used"] = round(server_cpu / result.wall_s, 2)
    if process.returncode not in (0, -signal.SIGTERM):
        row["exit"] = f"server exited with {process.returncode}:\n{log.read_text()[-2000:]}"
    if target == "duckdb":
        row["verify"] = _verify_store(db, result)
        row["db_mib"] = round(
            sum(path.stat().st_size for path in workdir.glob(f"{db.name}*")) / 2**20, 1
        )
    return row


def _print_row(senders: int, target: str, row: dict) -> None:
    print(
        f"{senders:>3} senders {target:<8} {row['spans_per_s']:>9,} spans/s  "
        f"p50 {row['p50_ms']:>7.1f} ms  p99 {row['p99_ms']:>7.1f} ms  "
        f"refused {row['refused_requests']:>4}  RSS {row['server_peak_rss_mib']:>5.0f} MiB  "
        f"server CPU {row['server_cpu_ms_per_1k_spans']:.1f} ms/1k spans "
        f"= {row['spans_per_server_cpu_s']:,} spans per CPU-second, "
        f"{row['server_cores_used']:.2f} cores used  "
        f"(generator CPU {row['generator_cpu_s']:.1f} s); "
        f"{row['writer']['mean_spans_per_write']:,} spans/write, "
        f"{row['writer']['mean_write_ms']} ms/write; load average {row['load_average']}",
        flush=True,
    )
    if "exit" in row:
        print(row["exit"])


def main() -> None:
    started = time.perf_counter()
    pool = prepare_pool(POOL_BATCHES)
    print(
        f"pre-encoded {len(pool.bodies)} bodies, {pool.spans:,} spans, "
        f"{sum(map(len, pool.bodies)) / 2**20:.0f} MiB in {time.perf_counter() - started:.0f} s; "
        f"senders {', '.join(map(str, SENDERS))}, {SECONDS:.0f} s per target",
        flush=True,
    )
    workdir = Path(tempfile.mkdtemp(prefix="spanscope-bench-ingest-"))
    results: dict = {"seconds": SECONDS, "queue_spans": QUEUE_SPANS, "runs": []}
    try:
        for senders in SENDERS:
            run: dict = {"senders": senders}
            # The reference first, then the store, with the same generator and pool.
            for target in ("discard", "duckdb"):
                row = run[target] = _run_target(target, pool, workdir, senders)
                _print_row(senders, target, row)
            duck, discard = run["duckdb"], run["discard"]
            run["ratio_to_discard"] = round(duck["spans_per_s"] / max(discard["spans_per_s"], 1), 3)
            run["meets_target"] = duck["spans_per_s"] >= TARGET_SPANS_PER_S
            verify = duck["verify"]
            print(
                f"{senders:>3} senders: duckdb / discard = {run['ratio_to_discard']:.2f}; target "
                f"{TARGET_SPANS_PER_S:,} spans/s {'met' if run['meets_target'] else 'NOT met'}; "
                f"store holds {verify['stored_spans']:,} spans for "
                f"{verify['accepted_spans']:,} accepted: "
                f"{'exact' if verify['exact'] else 'MISMATCH ' + str(verify)}",
                flush=True,
            )
            results["runs"].append(run)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    save("ingest", results)


if __name__ == "__main__":
    main()
