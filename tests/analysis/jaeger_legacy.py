"""A small loader for the Jaeger UI test traces (legacy Jaeger JSON with times in µs).

Those traces use ids such as ``span-A`` that no real reader accepts, so the tests map each id to
a stable hex id and keep the mapping to compare results with Jaeger's expected values.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from spanscope.assembly import assemble
from spanscope.model import Span, SpanKind, StatusCode, Trace

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "jaeger-ui"
_HEX = set("0123456789abcdef")
_KINDS = {
    "client": SpanKind.CLIENT,
    "server": SpanKind.SERVER,
    "producer": SpanKind.PRODUCER,
    "consumer": SpanKind.CONSUMER,
    "internal": SpanKind.INTERNAL,
}


def hex_id(value: str, width: int = 16) -> str:
    lowered = value.lower()
    if lowered and len(lowered) <= width and _HEX.issuperset(lowered):
        return lowered.rjust(width, "0")
    return hashlib.sha256(value.encode()).hexdigest()[:width]


def load_trace(data: dict) -> tuple[Trace, dict[str, str]]:
    """Jaeger UI trace dict -> (assembled Trace, our span id -> Jaeger span id)."""
    if "data" in data:
        data = data["data"][0] if isinstance(data["data"], list) else data["data"]
    processes = data.get("processes", {})
    trace_id = hex_id(data.get("traceID", "trace"), 32)
    back: dict[str, str] = {}
    spans = []
    for raw in data["spans"]:
        span_id = hex_id(raw["spanID"])
        back[span_id] = raw["spanID"]
        refs = raw.get("references") or []
        parent = ""
        follows = False
        if refs:
            parent = hex_id(refs[0]["spanID"])
            follows = refs[0].get("refType") == "FOLLOWS_FROM"
        tags = {tag["key"]: tag["value"] for tag in raw.get("tags") or []}
        start = raw["startTime"] * 1000
        spans.append(
            Span(
                trace_id=trace_id,
                span_id=span_id,
                name=raw["operationName"],
                start_ns=start,
                end_ns=start + raw["duration"] * 1000,
                parent_span_id=parent,
                kind=_KINDS.get(str(tags.get("span.kind", "")), SpanKind.UNSPECIFIED),
                service_name=processes.get(raw.get("processID"), {}).get("serviceName", ""),
                status_code=StatusCode.ERROR if tags.get("error") in (True, "true") else 0,
                attributes=tags,
                follows_from=follows,
            )
        )
    traces = assemble(spans, adjust_skew=False)
    assert len(traces) == 1
    return traces[0], back


def load_file(name: str) -> tuple[Trace, dict[str, str]]:
    return load_trace(json.loads((FIXTURES / name).read_text()))
