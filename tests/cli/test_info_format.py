"""``spanscope info`` names an OTLP file of JSON lines ``otlp-jsonl``, as ``generate``,
``convert --to`` and the README do; one OTLP request stays ``otlp-json``."""

from __future__ import annotations

import gzip
from pathlib import Path

from ..conftest import FIXTURES
from .test_info_convert import OTLP, info_json

LINES = (
    FIXTURES / "jaeger-ui/packages__jaeger-ui__src__utils__fixtures__otlp2jaeger-multi-in.json.txt"
)
COMBINED = (
    FIXTURES
    / "jaeger-ui/packages__jaeger-ui__src__utils__fixtures__otlp2jaeger-multi-in-combined.json"
)


def test_info_calls_json_lines_otlp_jsonl_and_one_request_otlp_json(tmp_path: Path) -> None:
    packed = tmp_path / "lines.jsonl.gz"
    packed.write_bytes(gzip.compress(LINES.read_bytes()))
    document = info_json(str(LINES), str(COMBINED), str(OTLP), str(packed))
    formats = [row["format"] for row in document["inputs"]]
    assert formats == ["otlp-jsonl", "otlp-json", "otlp-json", "otlp-jsonl"]
    assert document["inputs"][0]["spans"] == document["inputs"][1]["spans"] > 0
