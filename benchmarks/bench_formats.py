"""Read throughput per format on 1M synthetic spans, against the bare decode of the same bytes.

For each format: our reader (``spanscope.formats.read_spans``, yielding model spans) versus the
bare decode (``msgspec.json.decode`` to untyped objects, or protobuf ``TracesData.FromString``),
medians of 3 runs in one process, reported as spans/s and as a ratio. Then peak memory of
streaming a 1M-span JSON-lines file versus holding all its spans as Python dicts, each in a fresh
interpreter.

Targets (DESIGN.md): OTLP protobuf >= 400k spans/s, OTLP JSON >= 100k spans/s.
"""

from __future__ import annotations

import os

import msgspec

from benchmarks.common import median_seconds, peak_rss_mib, save, synthetic_file

SPANS = int(os.environ.get("BENCH_SPANS", 1_000_000))
FORMATS = ("otlp-proto", "otlp-json", "otlp-jsonl", "jaeger-json", "zipkin-v2", "zipkin-v1")


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


def main() -> None:
    results: dict[str, dict] = {"spans": SPANS, "formats": {}}
    print(f"{'format':<12} {'ours spans/s':>14} {'bare spans/s':>14} {'ratio':>7}")
    for name in FORMATS:
        path = synthetic_file(name, SPANS)
        data = path.read_bytes()
        count = _read_all(path)
        ours = median_seconds(lambda path=path: _read_all(path))
        bare = median_seconds(lambda name=name, data=data: _bare_decode(name, data))
        row = {
            "spans": count,
            "bytes": len(data),
            "ours_spans_per_s": round(count / ours),
            "bare_spans_per_s": round(count / bare),
            "ratio_to_bare": round(bare / ours, 3),
        }
        results["formats"][name] = row
        print(
            f"{name:<12} {row['ours_spans_per_s']:>14,} {row['bare_spans_per_s']:>14,} "
            f"{row['ratio_to_bare']:>7.2f}",
            flush=True,
        )

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
    save("formats", results)
