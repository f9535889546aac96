"""Read throughput per format on 1M synthetic spans, against the bare decode of the same bytes.

For each format: our reader (``spanscope.formats.read_spans``, yielding model spans) versus the
bare decode (``msgspec.json.decode`` to untyped objects, or protobuf ``TracesData.FromString``),
medians of 3 runs in one process, reported as spans/s and as a ratio. OTLP protobuf has two
engines: the row is the C decoder, and the upb reference path (``SPANSCOPE_NO_NATIVE=1``) is
measured in the same run, runs alternating, with its ratio to the C decoder. Then peak memory of
streaming a 1M-span JSON-lines file versus holding all its spans as Python dicts, each in a fresh
interpreter. The load average is saved with the figures (the machines are shared).

Targets (DESIGN.md): OTLP protobuf >= 400k spans/s, OTLP JSON >= 100k spans/s.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable

import msgspec

from benchmarks.common import median_seconds, peak_rss_mib, save, synthetic_file

SPANS = int(os.environ.get("BENCH_SPANS", 1_000_000))
ALL_FORMATS = ("otlp-proto", "otlp-json", "otlp-jsonl", "jaeger-json", "zipkin-v2", "zipkin-v1")
# BENCH_FORMATS=otlp-proto measures one row (and the memory figures) only.
FORMATS = tuple(os.environ.get("BENCH_FORMATS", ",".join(ALL_FORMATS)).split(","))


def _bare_decode(format_name: str, data: bytes) -> None:
    if format_name == "otlp-proto":
        from opentelemetry.proto.trace.v1.trace_pb2 import TracesData

        TracesData.FromString(data)
    elif format_name == "otlp-jsonl":
        decode = msgspec.json.decode
        for line in data.splitlines():
            decode(line)
    else:
        msgspec.json.decode(data)


def _read_all(path) -> int:
    from spanscope.formats import read_spans

    count = 0
    for _ in read_spans(path):
        count += 1
    return count


def _read_all_upb(path) -> int:
    """``_read_all`` on the upb reference path (the C decoder switched off)."""
    os.environ["SPANSCOPE_NO_NATIVE"] = "1"
    try:
        return _read_all(path)
    finally:
        del os.environ["SPANSCOPE_NO_NATIVE"]


def _alternating_medians(
    runs: dict[str, Callable[[], object]], repeat: int = 3
) -> tuple[dict[str, float], dict[str, float]]:
    """Median wall and CPU seconds of each run, the runs taking turns so load changes hit them
    alike. CPU time (this process's) says what a run costs when other work shares the cores."""
    wall: dict[str, list[float]] = {name: [] for name in runs}
    cpu: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(repeat):
        for name, run in runs.items():
            start, start_cpu = time.perf_counter(), time.process_time()
            run()
            wall[name].append(time.perf_counter() - start)
            cpu[name].append(time.process_time() - start_cpu)
    return (
        {name: statistics.median(values) for name, values in wall.items()},
        {name: statistics.median(values) for name, values in cpu.items()},
    )


def _proto_engines(path, data: bytes, count: int) -> tuple[float, float, dict]:
    """C decoder, upb path and bare decode of the protobuf file, alternating in one run."""
    from spanscope.formats import otlp_native

    if not otlp_native.enabled():
        print("  (the C decoder is not built or is switched off: both rows are upb)")
    medians, cpu = _alternating_medians(
        {
            "native": lambda: _read_all(path),
            "upb": lambda: _read_all_upb(path),
            "bare": lambda: _bare_decode("otlp-proto", data),
        }
    )
    upb = {
        "native_built": otlp_native.enabled(),
        "upb_spans_per_s": round(count / medians["upb"]),
        "native_to_upb": round(medians["upb"] / medians["native"], 2),
        "cpu_spans_per_s": {name: round(count / seconds) for name, seconds in cpu.items()},
    }
    return medians["native"], medians["bare"], upb


def main() -> None:
    results: dict[str, dict] = {"spans": SPANS, "formats": {}}
    print(f"{'format':<12} {'ours spans/s':>14} {'bare spans/s':>14} {'ratio':>7}")
    for name in FORMATS:
        path = synthetic_file(name, SPANS)
        data = path.read_bytes()
        count = _read_all(path)
        extra: dict = {}
        if name == "otlp-proto":
            ours, bare, extra = _proto_engines(path, data, count)
        else:
            ours = median_seconds(lambda path=path: _read_all(path))
            bare = median_seconds(lambda name=name, data=data: _bare_decode(name, data))
        row = {
            "spans": count,
            "bytes": len(data),
            "ours_spans_per_s": round(count / ours),
            "bare_spans_per_s": round(count / bare),
            "ratio_to_bare": round(bare / ours, 3),
            **extra,
            "load_average_1m": round(os.getloadavg()[0], 2),
        }
        results["formats"][name] = row
        print(
            f"{name:<12} {row['ours_spans_per_s']:>14,} {row['bare_spans_per_s']:>14,} "
            f"{row['ratio_to_bare']:>7.2f}",
            flush=True,
        )
        if extra:
            print(
                f"{'  upb path':<12} {extra['upb_spans_per_s']:>14,} {'':>14} {'':>7}   "
                f"C decoder / upb path: {extra['native_to_upb']:.2f}x",
                flush=True,
            )
            per_cpu = ", ".join(f"{k} {v:,}" for k, v in extra["cpu_spans_per_s"].items())
            print(f"  per CPU second: {per_cpu} spans/s", flush=True)

    jsonl = synthetic_file("otlp-jsonl", SPANS)
    streaming = peak_rss_mib(
        "from spanscope.formats import read_spans\n"
        f"n = sum(1 for _ in read_spans({str(jsonl)!r}))\n"
    )
    as_dicts = peak_rss_mib(
        "import json\n"
        f"lines = [json.loads(line) for line in open({str(jsonl)!r}, 'rb')]\n"
        "spans = [s for l in lines for r in l['resourceSpans'] for ss in r['scopeSpans']"
        " for s in ss['spans']]\n"
    )
    baseline = peak_rss_mib("import spanscope.formats.otlp_json\n")
    results["memory_mib"] = {
        "interpreter_and_imports": round(baseline, 1),
        "streaming_jsonl_read": round(streaming, 1),
        "all_spans_as_dicts": round(as_dicts, 1),
    }
    print(
        f"peak RSS reading {SPANS:,}-span JSON lines: streaming {streaming:.0f} MiB "
        f"(imports alone {baseline:.0f} MiB) vs all spans as dicts {as_dicts:.0f} MiB"
    )
    # A partial run (BENCH_FORMATS) does not overwrite the full run's figures.
    save("formats" if FORMATS == ALL_FORMATS else "formats-" + "-".join(FORMATS), results)
