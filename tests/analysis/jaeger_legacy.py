"""Jaeger UI test traces read with our own Jaeger JSON reader.

Those traces use ids such as ``span-A``; the reader turns them into valid hex ids, so the tests
keep a map back to Jaeger's ids (spans come out in input order) to compare with Jaeger's
expected values. Clock-skew adjustment is off: Jaeger UI computes on the times as recorded.
"""

from __future__ import annotations

import json
from pathlib import Path

from spanscope.assembly import assemble
from spanscope.errors import Diagnostics
from spanscope.formats import decode_spans
from spanscope.model import Trace

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "jaeger-ui"


def load_trace(data: dict) -> tuple[Trace, dict[str, str]]:
    """Jaeger UI trace dict -> (assembled Trace, our span id -> Jaeger span id)."""
    if "data" in data:
        data = data["data"][0] if isinstance(data["data"], list) else data["data"]
    diagnostics = Diagnostics()
    spans = decode_spans(json.dumps({"data": [data]}).encode(), "jaeger-json", "test", diagnostics)
    assert len(spans) == len(data["spans"])
    back = {span.span_id: raw["spanID"] for span, raw in zip(spans, data["spans"], strict=True)}
    traces = assemble(spans, adjust_skew=False)
    assert len(traces) == 1
    return traces[0], back


def load_file(name: str) -> tuple[Trace, dict[str, str]]:
    return load_trace(json.loads((FIXTURES / name).read_text()))
