"""Query latency with a big store: trace by id and service search, through the store API and
through the HTTP API of ``spanscope serve``, in one run.

The store (``BENCH_STORE_SPANS`` synthetic shop spans, default 10M, about 8 per trace and 50
traces per second of simulated time, so 10M spans cover about 7 hours) is built once under
``benchmarks/data/`` with ``store.write`` in batches of 100k spans, and reused; a side file
keeps an evenly spread sample of its trace ids and its time range.

Measured, each as the median (and p95) over many random picks:

- trace by id: ``store.get_trace`` and ``GET /api/traces/{id}`` (the Jaeger JSON of the trace);
- service search as Jaeger's UI sends it (one service, a one-hour window placed at random in
  the stored time, 20 traces): ``store.find_traces`` and ``GET /api/traces?service=&start=&end=``
  (full traces, as the API returns them);
- the same search over the whole stored time (the worst case: every span of the service);
- the 10,000 most recent traces before a random time, whole, as ``analyze --db`` reads them: on
  the store, and through a running server (``ServerStore``, the store API over HTTP);
- the Monitor page's RED metrics (``metrics_summary_and_series``, every service, SERVER
  spans): a one-hour window at one-minute steps (``store.*`` and ``GET /api/v1/monitor``) and
  the whole stored time in about 100 steps; on the store API also its two-scan reference
  (``metrics_summary`` + ``metrics_series``, ``*_two_scans``), measured pick by pick in turn.

Next to each wall-clock median is the mean CPU time per query (this process with DuckDB's
threads for the store API, the server process for HTTP): on a shared machine the wall time
includes waiting for a core, which the CPU time does not.

Targets (DESIGN.md, issue 5): trace by id < 50 ms, service search < 200 ms, with 10M spans.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import statistics
import threading
import time
import urllib.parse
from pathlib import Path
from queue import Queue

from benchmarks.common import DATA, save
from benchmarks.loadgen import free_port
from benchmarks.serving import cpu_seconds, serve_command, serving

STORE_SPANS = int(os.environ.get("BENCH_STORE_SPANS", 10_000_000))
BUILD_BATCH = 100_000
SAMPLE_IDS = 2000
TRACE_PICKS = 200
SEARCH_PICKS = 40
RECENT_PICKS = 5  # 10,000 traces each (analyze --db)
HOUR_NS = 3600 * 10**9
TARGET_BY_ID_MS, TARGET_SEARCH_MS = 50, 200


def _paths() -> tuple[Path, Path]:
    base = DATA / f"store-{STORE_SPANS}"
    return base.with_suffix(".duckdb"), base.with_suffix(".meta.json")


def build_store() -> tuple[Path, dict]:
    """The store file and its metadata, building them if missing (takes a while for 10M)."""
    from spanscope.store import open_store
    from spanscope.synthetic import generate_spans

    path, meta_path = _paths()
    if meta_path.exists() and path.exists():
        meta = json.loads(meta_path.read_text())
        if _readable(path, meta):
            return path, meta
        print(f"{path.name} is not readable by this spanscope: building it again", flush=True)
    DATA.mkdir(exist_ok=True)
    for stale in (meta_path, path, path.with_name(path.name + ".wal")):
        stale.unlink(missing_ok=True)
    traces = STORE_SPANS // 8 + 1
    stride = max(1, traces // SAMPLE_IDS)
    store = open_store(path)
    # Generating spans holds the GIL; DuckDB's insert releases it: overlap the two.
    batches: Queue = Queue(maxsize=2)
    failure: list[BaseException] = []

    def writer() -> None:
        try:
            while (batch := batches.get()) is not None:
                store.write(batch)
        except BaseException as exc:
            failure.append(exc)
            while batches.get() is not None:  # let the producer finish
                pass

    thread = threading.Thread(target=writer)
    thread.start()
    started = time.perf_counter()
    sample, first_ns, last_ns, trace_count, written = [], None, 0, 0, 0
    batch: list = []
    current = None
    for span in generate_spans(traces, seed=11):
        if span.trace_id != current:
            current = span.trace_id
            if trace_count % stride == 0:
                sample.append(current)
            trace_count += 1
        first_ns = span.start_ns if first_ns is None else min(first_ns, span.start_ns)
        last_ns = max(last_ns, span.start_ns)
        batch.append(span)
        if len(batch) == BUILD_BATCH or written + len(batch) == STORE_SPANS:
            batches.put(batch)
            written += len(batch)
            batch = []
            if written % 1_000_000 == 0:
                rate = written / (time.perf_counter() - started)
                print(f"  built {written:,} spans ({rate:,.0f} spans/s)", flush=True)
            if written == STORE_SPANS:
                break
    if batch:
        batches.put(batch)
        written += len(batch)
    batches.put(None)
    thread.join()
    store.close()
    if failure:
        raise failure[0]
    meta = {
        "spans": written,
        "traces": trace_count,
        "first_ns": first_ns,
        "last_ns": last_ns,
        "sample_trace_ids": sample,
        "build_seconds": round(time.perf_counter() - started, 1),
    }
    meta_path.write_text(json.dumps(meta) + "\n")
    return path, meta


def _readable(path: Path, meta: dict) -> bool:
    """Whether this spanscope reads the store built earlier (its layout may have changed)."""
    from spanscope.store import StoreError, open_store

    try:
        with open_store(path, read_only=True) as store:
            return bool(store.get_trace(meta["sample_trace_ids"][0]))
    except StoreError:
        return False


def _stats_ms(seconds: list[float], cpu_ms: float) -> dict:
    values = sorted(1000 * s for s in seconds)
    p95 = values[min(len(values) - 1, round(0.95 * (len(values) - 1)))]
    return {
        "median_ms": round(statistics.median(values), 2),
        "p95_ms": round(p95, 2),
        "mean_cpu_ms": cpu_ms,
        "picks": len(values),
    }


def _timed(run, picks, cpu=time.process_time) -> tuple[list[float], list, float]:
    """Wall time of each call, the answers, and the mean CPU ms per call as ``cpu`` counts it
    (this process by default, DuckDB's threads included): on a shared machine the wall time
    includes waiting for a core, the CPU time does not."""
    times, answers = [], []
    cpu_before = cpu()
    for pick in picks:
        started = time.perf_counter()
        answers.append(run(pick))
        times.append(time.perf_counter() - started)
    return times, answers, round(1000 * (cpu() - cpu_before) / len(picks), 2)


def _searches(meta: dict, services: list[str], rng: random.Random) -> list[tuple[str, int, int]]:
    """(service, start, end) picks: a one-hour window somewhere in the stored time."""
    low, high = meta["first_ns"], meta["last_ns"]
    picks = []
    for _ in range(SEARCH_PICKS):
        end = rng.randint(min(low + HOUR_NS, high), high)
        picks.append((rng.choice(services), end - HOUR_NS, end))
    return picks


def _store_api(path: Path, meta: dict, ids: list[str], rng: random.Random) -> tuple[dict, list]:
    from spanscope.store import TraceQuery, open_store

    results: dict = {}
    with open_store(path, read_only=True) as store:
        services = store.services()
        store.get_trace(ids[0])  # first touch opens the file's metadata: not what we measure
        times, answers, cpu_ms = _timed(store.get_trace, ids)
        assert all(answers), "a sampled trace id was not found"
        results["trace_by_id"] = _stats_ms(times, cpu_ms) | {
            "mean_spans": round(statistics.mean(map(len, answers)), 1),
        }
        searches = _searches(meta, services, rng)

        def hour(pick):
            service, start, end = pick
            return store.find_traces(
                TraceQuery(service=service, start_time_min=start, start_time_max=end)
            )

        times, answers, cpu_ms = _timed(hour, searches)
        assert all(answers), "a one-hour service search found nothing"
        results["search_service_1h"] = _stats_ms(times, cpu_ms)
        whole = [(rng.choice(services),) for _ in range(SEARCH_PICKS // 2)]
        times, answers, cpu_ms = _timed(
            lambda pick: store.find_traces(TraceQuery(service=pick[0])), whole
        )
        results["search_service_all_time"] = _stats_ms(times, cpu_ms)
        results["recent_10k_traces"] = _recent_traces(store, searches)
        results.update(_red_metrics(store, meta, searches))
    return results, searches


def _recent_traces(store, searches: list) -> dict:
    """What ``analyze --db`` reads: the 10,000 most recent traces before a random time, whole
    (``find_traces``), on the store itself or through a running server (``ServerStore``)."""
    from spanscope.store import TraceQuery

    picks = searches[:RECENT_PICKS]
    times, answers, cpu_ms = _timed(
        lambda pick: store.find_traces(TraceQuery(start_time_max=pick[2], num_traces=10_000)),
        picks,
    )
    assert all(len(answer) == 10_000 for answer in answers), "fewer than 10,000 traces found"
    return _stats_ms(times, cpu_ms) | {
        "mean_spans": round(statistics.mean(sum(map(len, a)) for a in answers)),
    }


def _red_metrics(store, meta: dict, searches: list) -> dict:
    """The Monitor page's queries: every service's calls, errors and latency quantiles over a
    one-hour window (per minute and in total), and over the whole stored time.

    ``metrics_summary_and_series`` (one GROUPING SETS scan, what ``/api/v1/monitor`` runs) is
    measured against its reference, ``metrics_summary`` then ``metrics_series`` (two scans,
    what it ran before), alternating pick by pick (ABBA) in the same run: ``*_two_scans``."""
    from spanscope.store.metrics_sql import MetricsQuery

    def one_scan(window: tuple[int, int, int]) -> int:
        summary, series = store.metrics_summary_and_series(MetricsQuery(*window))
        return len(summary) + len(series)

    def two_scans(window: tuple[int, int, int]) -> int:
        query = MetricsQuery(*window)
        return len(store.metrics_summary(query)) + len(store.metrics_series(query))

    results = {}
    hours = [(start, end, 60 * 10**9) for _, start, end in searches]
    low, high = meta["first_ns"], meta["last_ns"] + 1
    whole = [(low, high, max(60 * 10**9, -(-(high - low) // 100)))] * 10
    for name, windows in (("red_metrics_1h", hours), ("red_metrics_all_time", whole)):
        times: dict = {one_scan: [], two_scans: []}
        answers: dict = {one_scan: [], two_scans: []}
        cpu_ms: dict = {one_scan: 0.0, two_scans: 0.0}
        load = os.getloadavg()[0]
        for index, window in enumerate(windows):
            order = (one_scan, two_scans) if index % 2 == 0 else (two_scans, one_scan)
            for run in order:
                took, found, cpu = _timed(run, [window])
                times[run] += took
                answers[run] += found
                cpu_ms[run] += cpu
        assert answers[one_scan] == answers[two_scans], f"{name}: the two ways disagree"
        assert all(answers[one_scan]), f"{name}: a window had no metrics"
        for run, suffix in ((one_scan, ""), (two_scans, "_two_scans")):
            results[name + suffix] = _stats_ms(times[run], round(cpu_ms[run] / len(windows), 2))
        results[name]["load_average"] = round((load + os.getloadavg()[0]) / 2, 2)
        results[name]["vs_two_scans"] = round(
            results[name]["median_ms"] / results[name + "_two_scans"]["median_ms"], 3
        )
    return results


def _clickhouse_red_metrics(path: Path, meta: dict, searches: list) -> dict:
    """``_red_metrics`` on the ClickHouse store (embedded, chDB; skipped without it or with
    ``BENCH_QUERY_CLICKHOUSE=0``): a copy of the DuckDB store's columns that RED metrics
    (attributes and event names included) and trace lookups read, made once under
    ``benchmarks/data/``."""
    try:
        import chdb  # noqa: F401
    except ImportError:
        return {}
    if os.environ.get("BENCH_QUERY_CLICKHOUSE", "1") == "0":
        return {}
    import duckdb

    from spanscope.store import open_store

    folder = path.with_name(path.stem + "-chdb")
    done = folder / "spans.txt"
    url = f"chdb:{folder}?database=bench"
    # The span attributes and event names are copied for the failure rule (``failure_sql``);
    # a copy made without them is made again.
    marker = f"{meta['spans']} spans with attributes"
    if not done.exists() or done.read_text() != marker:
        columns = "Timestamp, TraceId, SpanId, ParentSpanId, SpanName, SpanKind, ServiceName, "
        columns += "Duration, StatusCode"
        # The attributes as the exporter's text map (values as text, as attribute_text writes).
        copied = (
            "json_transform(SpanAttributes, '\"MAP(VARCHAR, VARCHAR)\"') AS Attributes, "
            '"Events.Timestamp" AS EventTimes, "Events.Name" AS EventNames'
        )
        parquet = folder.with_suffix(".parquet")
        folder.mkdir(parents=True, exist_ok=True)
        with duckdb.connect() as con:
            con.execute(f"ATTACH '{path}' AS source (READ_ONLY)")
            con.execute(
                f"COPY (SELECT {columns}, {copied} FROM source.otel_traces) "
                f"TO '{parquet}' (FORMAT parquet)"
            )
        with open_store(url) as store:
            for table in ("otel_traces", "otel_traces_trace_id_ts"):
                store.client.query(f"TRUNCATE TABLE bench.{table}")
            store.client.query(
                f"INSERT INTO bench.otel_traces ({columns}, SpanAttributes, `Events.Timestamp`, "
                f"`Events.Name`) SELECT {columns}, Attributes, EventTimes, EventNames "
                f"FROM file('{parquet}', Parquet)"
            )
        parquet.unlink()
        done.write_text(marker)
    with open_store(url, read_only=True) as store:
        return _red_metrics(store, meta, searches)


def _http_api(path: Path, ids: list[str], searches: list) -> dict:
    port = free_port()
    log = path.with_suffix(".serve.log")
    results: dict = {}
    url = f"http://127.0.0.1:{port}"
    with serving(serve_command(path, ui_port=port), url, log) as process:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)

        def get(url: str) -> dict:
            connection.request("GET", url)
            response = connection.getresponse()
            body = response.read()
            if response.status != 200:
                raise RuntimeError(f"GET {url}: {response.status} {body[:200]!r}")
            return json.loads(body)

        get(f"/api/traces/{ids[0]}")

        def server_cpu() -> float:
            return cpu_seconds(process.pid)

        times, answers, cpu_ms = _timed(
            lambda trace_id: get(f"/api/traces/{trace_id}"), ids, server_cpu
        )
        assert all(answer["data"] for answer in answers), "a sampled trace was not served"
        results["trace_by_id"] = _stats_ms(times, cpu_ms)

        def search(pick) -> dict:
            service, start, end = pick
            query = urllib.parse.urlencode(
                {"service": service, "start": start // 1000, "end": end // 1000, "limit": 20}
            )
            return get(f"/api/traces?{query}")

        times, answers, cpu_ms = _timed(search, searches, server_cpu)
        assert all(answer["data"] for answer in answers), "a one-hour search found nothing"
        results["search_service_1h"] = _stats_ms(times, cpu_ms)

        def monitor(pick) -> dict:
            _, _, end = pick
            return get(f"/api/v1/monitor?lookback=1h&end={end // 10**6}")

        times, answers, cpu_ms = _timed(monitor, searches, server_cpu)
        assert all(answer["services"] for answer in answers), "a monitor window was empty"
        results["red_metrics_1h"] = _stats_ms(times, cpu_ms)
        connection.close()
        from spanscope.store.server_store import ServerStore

        with ServerStore(url) as through_server:  # what query/analyze --db do beside serve
            results["recent_10k_traces"] = _recent_traces(through_server, searches)
    log.unlink(missing_ok=True)
    return results


def main() -> None:
    path, meta = build_store()
    size_gib = sum(p.stat().st_size for p in path.parent.glob(path.name + "*")) / 2**30
    print(f"store: {meta['spans']:,} spans, {meta['traces']:,} traces, {size_gib:.2f} GiB")
    rng = random.Random(5)
    ids = rng.sample(meta["sample_trace_ids"], min(TRACE_PICKS, len(meta["sample_trace_ids"])))
    store_results, searches = _store_api(path, meta, ids, rng)
    http_results = _http_api(path, ids, searches)
    clickhouse_results = _clickhouse_red_metrics(path, meta, searches)
    results = {
        "spans": meta["spans"],
        "store_gib": round(size_gib, 2),
        "store_api": store_results,
        "http_api": http_results,
        "clickhouse_store_api": clickhouse_results,
        "targets_ms": {"trace_by_id": TARGET_BY_ID_MS, "search": TARGET_SEARCH_MS},
    }
    print("query                           API     median      p95   CPU/query")
    for name in (
        "trace_by_id",
        "search_service_1h",
        "search_service_all_time",
        "recent_10k_traces",
        "red_metrics_1h",
        "red_metrics_1h_two_scans",
        "red_metrics_all_time",
        "red_metrics_all_time_two_scans",
    ):
        for api, found in (
            ("store", store_results),
            ("HTTP", http_results),
            ("chDB", clickhouse_results),
        ):
            row = found.get(name)
            if row:
                print(
                    f"{name:<31} {api:<5} {row['median_ms']:>7.1f} ms {row['p95_ms']:>6.1f} ms "
                    f"{row['mean_cpu_ms']:>6.1f} ms"
                )
    save("query", results)


if __name__ == "__main__":
    main()
