"""OTLP JSON written by the OpenTelemetry JS SDK's own serializer (the bytes its HTTP exporter
posts), as one request in a .json file and as one request a line in a .jsonl file, is read by
``spanscope analyze --json`` and ``spanscope convert`` with exactly the spans it holds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from spanscope.formats import decode_spans
from tests.cli.run import spanscope

from .conftest import run_node_json
from .otlp_sent import held, sent_spans


@pytest.mark.parametrize("name", ["trace.json", "traces.jsonl"])
def test_spanscope_reads_the_js_sdks_otlp_json(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    extra = ["--jsonl"] if name.endswith(".jsonl") else []
    requests = run_node_json("write_otlp_json.mjs", "--out", str(path), *extra)
    assert isinstance(requests, list)
    sent = {span_id: span for request in requests for span_id, span in sent_spans(request).items()}
    assert len(sent) == 6

    converted = tmp_path / "trace.pb"
    done = spanscope("convert", str(path), str(converted), "--to", "otlp-proto")
    assert done.returncode == 0, done.stderr
    read = decode_spans(converted.read_bytes(), "otlp-proto")
    assert {span.span_id: held(span) for span in read} == sent

    done = spanscope("analyze", str(path), "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    (source,) = report["inputs"]
    assert source["format"] == ("otlp-jsonl" if extra else "otlp-json")
    assert (source["spans"], source["error"]) == (6, None)
    summary = report["summary"]
    assert (summary["traces"], summary["spans"]) == (2, 6)
    assert summary["services"] == ["frontend", "payments"]
    starts = [int(str(span["start_ns"])) for span in sent.values()]
    assert summary["start_ns"] == min(starts)
    errors = [s for s in sent.values() if s["status"][0] == 2]  # type: ignore[index]
    assert summary["error_spans"] == len(errors) == 2
