"""The Jaeger JSON projection (``jaeger_lean``) gives the full reader's values for every field
it projects, and gives up (None) whenever the full reader would warn or fail.

Checked on every fixture file, on the writer's output for generated traces (which must take the
projection), and on hypothesis documents with tags, ids, references and processes of every
kind, including those that make the full reader warn or refuse the document.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spanscope.errors import Diagnostics, InputError
from spanscope.formats import jaeger_json
from spanscope.formats.jaeger_lean import read_projected
from spanscope.model import Span
from spanscope.synthetic import generate_spans

from ..conftest import FIXTURES
from .test_jaeger_checked import _document as tag_documents
from .test_jaeger_json import spans_strategy

# What the projection promises to give exactly as the full reader does.
PROJECTED = (
    "trace_id",
    "span_id",
    "parent_span_id",
    "name",
    "start_ns",
    "end_ns",
    "kind",
    "follows_from",
    "flags",
    "service_name",
    "resource_attributes",
    "warnings",
)
HOST_ATTRIBUTES = ("network.local.address", "net.host.ip")


def projected(span: Span) -> tuple:
    host = {key: span.attributes[key] for key in HOST_ATTRIBUTES if key in span.attributes}
    return (*(getattr(span, name) for name in PROJECTED), host)


def full(data: bytes) -> tuple[list[Span], int] | None:
    """The full reader's spans and warning count, or None if it refuses the document."""
    diagnostics = Diagnostics()
    try:
        spans = list(jaeger_json.read(io.BytesIO(data), "<test>", diagnostics))
    except InputError:
        return None
    return spans, diagnostics.count


def check(data: bytes) -> bool:
    """Asserts the contract on one document; returns whether the projection read it."""
    lean = read_projected(data, "<test>")
    if lean is None:
        return False
    read = full(data)
    assert read is not None, "the projection read a document the full reader refuses"
    spans, warnings = read
    assert warnings == 0, "the projection read a document the full reader warns about"
    assert [projected(s) for s in lean] == [projected(s) for s in spans]
    return True


def _json_files() -> list[Path]:
    return sorted(
        path
        for path in FIXTURES.rglob("*")
        if path.is_file() and path.suffix in (".json", ".txt") and path.name != "INDEX.md"
    )


@pytest.mark.parametrize("path", _json_files(), ids=lambda p: p.name[-60:])
def test_every_fixture_is_projected_exactly_or_given_back(path: Path) -> None:
    check(path.read_bytes())


def test_real_exports_take_the_projection() -> None:
    taken = [
        path.name for path in _json_files() if check(path.read_bytes())
    ]  # e.g. the UI's test traces, Jaeger's converter fixtures
    assert len(taken) >= 5, taken


def _written(spans: list[Span]) -> bytes:
    out = io.BytesIO()
    jaeger_json.write(spans, out)
    return out.getvalue()


def test_the_writers_output_takes_the_projection() -> None:
    spans = list(generate_spans(400, seed=5))
    data = _written(spans)
    assert check(data)
    assert len(read_projected(data, "<test>") or []) == len(spans)


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(spans_strategy())
def test_written_spans(spans: list[Span]) -> None:
    check(_written(spans))


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(tag_documents())
def test_any_tags(data: bytes) -> None:
    check(data)


_IDS = st.sampled_from(
    ["00f067aa0ba902b7", "00F067AA0BA902B7", "f067aa0ba902b7", "0", "", "span-1", "0" * 16, "x"]
)
_TRACE_IDS = st.sampled_from(
    ["4bf92f3577b34da6a3ce929d0e0e4736", "4BF92F3577B34DA6A3CE929D0E0E4736", "a3ce929d0e0e4736",
     "", "trace-123", "0" * 32]
)  # fmt: skip
_REF_TYPES = st.sampled_from(["CHILD_OF", "FOLLOWS_FROM", "child_of", "OTHER"])


@st.composite
def reference_documents(draw: st.DrawFn) -> bytes:
    """Documents whose ids, references, processes and shape vary: the cases the projection
    must either read exactly or give back."""
    trace_id = draw(_TRACE_IDS)
    spans = []
    for index in range(draw(st.integers(1, 4))):
        span: dict[str, Any] = {
            "traceID": draw(st.sampled_from([trace_id, "", "4bf92f3577b34da6a3ce929d0e0e4736"])),
            "spanID": f"{index + 1:016x}" if draw(st.booleans()) else draw(_IDS),
            "operationName": "op",
            "startTime": 1_700_000_000_000_000 + draw(st.integers(0, 50)),
            "processID": draw(st.sampled_from(["p1", "p2", "p9", ""])),
        }
        if draw(st.booleans()):
            span["duration"] = draw(st.integers(-5, 100))
        references = [
            {
                "refType": draw(_REF_TYPES),
                "traceID": draw(st.sampled_from([span["traceID"], trace_id, ""])),
                "spanID": f"{draw(st.integers(1, 4)):016x}" if draw(st.booleans()) else draw(_IDS),
            }
            for _ in range(draw(st.integers(0, 2)))
        ]
        if references or draw(st.booleans()):
            span["references"] = references
        if draw(st.integers(0, 4)) == 0:
            span["parentSpanID"] = draw(_IDS)
        if draw(st.integers(0, 4)) == 0:
            span["tags"] = [{"key": "span.kind", "type": "string", "value": draw(
                st.sampled_from(["client", "server", "producer", "consumer", "Server", "x"])
            )}]  # fmt: skip
        if draw(st.integers(0, 5)) == 0:
            span["tags"] = [{"key": "net.host.ip", "type": "string", "value": "10.0.0.1"}]
        if draw(st.integers(0, 6)) == 0:
            span["warnings"] = ["clock skew"]
        if draw(st.integers(0, 8)) == 0:
            span["process"] = {"serviceName": "inline"}
        spans.append(span)
    processes = {
        "p1": {"serviceName": "a", "tags": [{"key": "hostname", "type": "string", "value": "h"}]},
        "p2": {"serviceName": draw(st.sampled_from(["b", ""])), "tags": draw(st.sampled_from([
            [], [{"key": "ip", "type": "int64", "value": 167772161}],
            [{"key": "ip", "type": "int64", "value": "x"}],
        ]))},
        "": {"serviceName": "keyed by nothing"},
    }  # fmt: skip
    trace: dict[str, Any] = {"traceID": trace_id, "spans": spans, "processes": processes}
    if draw(st.integers(0, 6)) == 0:
        trace["warnings"] = ["partial"]
    shape = draw(st.sampled_from(["data", "trace", "array", "errors"]))
    if shape == "data":
        document: Any = {"data": [trace]}
    elif shape == "trace":
        document = trace
    elif shape == "array":
        document = [trace]
    else:
        document = {"data": None, "errors": [{"code": 500, "msg": "boom"}]}
    return json.dumps(document).encode()


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(reference_documents())
def test_any_ids_references_and_processes(data: bytes) -> None:
    check(data)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"{",
        b"[]",
        b'{"data": []}',
        b'{"data": {"traceID": "1", "spans": []}}',
        b'\xef\xbb\xbf{"data": []}',
        '{"data": [{"traceID": "4bf92f3577b34da6a3ce929d0e0e4736", "spans": [{"spanID": '
        '"00f067aa0ba902b7", "operationName": "\u00e9", "processID": "p1"}], "processes": '
        '{"p1": {"serviceName": "s"}}}]}'.encode(),
        b'{"data": [{"traceID": "4bf92f3577b34da6a3ce929d0e0e4736", "spans": [{"spanID": '
        b'"00f067aa0ba902b7", "operationName": "\xff", "processID": "p1"}], "processes": '
        b'{"p1": {"serviceName": "s"}}}]}',
    ],
)
def test_odd_documents(data: bytes) -> None:
    check(data)
