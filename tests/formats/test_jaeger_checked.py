"""Jaeger JSON's two decoding flavours (``jaeger_structs``): checked tags, the fast path, and
lenient tags, the fallback, give the same spans and the same warnings for every document.

Each document is read as ``jaeger_json.read`` reads it (checked first) and again with the
lenient flavour only; the results must be equal, including where the checked decode refuses a
tag and the reader falls back."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spanscope.errors import Diagnostics, InputError
from spanscope.formats import jaeger_json
from spanscope.formats.jaeger_structs import CHECKED, LENIENT

from ..conftest import FIXTURES
from .test_jaeger_json import JAEGER_FILES, comparable, spans_strategy


def _read(data: bytes, monkeypatch: pytest.MonkeyPatch | None = None) -> Any:
    diagnostics = Diagnostics()
    try:
        spans = list(jaeger_json.read(io.BytesIO(data), "<test>", diagnostics))
    except InputError as error:
        return ("error", str(error))
    return comparable(spans), [str(w) for w in diagnostics.warnings]


def _both(data: bytes) -> tuple[Any, Any]:
    """(as read, as read with lenient tags only)."""
    checked = _read(data)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(jaeger_json, "CHECKED", LENIENT)
        lenient = _read(data)
    return checked, lenient


@pytest.mark.parametrize("name", sorted(JAEGER_FILES))
def test_every_jaeger_fixture_reads_the_same_both_ways(name: str) -> None:
    checked, lenient = _both((FIXTURES / name).read_bytes())
    assert checked == lenient


def test_the_writers_output_takes_the_checked_path() -> None:
    data = (FIXTURES / next(iter(JAEGER_FILES))).read_bytes()
    spans = list(jaeger_json.read(io.BytesIO(data), "<test>", Diagnostics()))
    out = io.BytesIO()
    jaeger_json.write(spans, out)
    doc = CHECKED.top.decode(out.getvalue())  # raises if any tag does not fit its type
    assert doc.data and doc.data[0].spans


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])
@given(spans_strategy())
def test_written_spans_read_the_same_both_ways(spans: list) -> None:
    out = io.BytesIO()
    jaeger_json.write(spans, out)
    checked, lenient = _both(out.getvalue())
    assert checked == lenient


# Tags as other producers write them: values of the declared type and of every other, types
# in other cases or missing, special tags with odd values, repeated keys.
_TYPES = st.sampled_from(
    ["string", "int64", "float64", "bool", "binary", "STRING", "Int64", "weird", None]
)
_VALUES = st.one_of(
    st.text(max_size=6),
    st.sampled_from(["true", "false", "12", "1.5", "NaN", "YWI=", "6162", "zz", "server"]),
    st.integers(-(2**64), 2**64),
    st.floats(allow_nan=False),
    st.booleans(),
    st.none(),
    st.lists(st.integers(0, 3), max_size=2),
)
_KEYS = st.sampled_from(
    [
        "a",
        "b",
        "http.status_code",
        "span.kind",
        "error",
        "otel.status_code",
        "otel.status_description",
        "otel.scope.name",
        "otel.scope.version",
        "otel.library.name",
        "w3c.tracestate",
    ]
)


@st.composite
def _tag(draw: st.DrawFn) -> dict[str, Any]:
    tag: dict[str, Any] = {"key": draw(_KEYS), "value": draw(_VALUES)}
    kind = draw(_TYPES)
    if kind is not None:
        tag["type"] = kind
    return tag


@st.composite
def _document(draw: st.DrawFn) -> bytes:
    spans = []
    for index in range(draw(st.integers(1, 3))):
        span: dict[str, Any] = {
            "traceID": "0af7651916cd43dd8448eb211c80319c",
            "spanID": f"{index + 1:016x}",
            "operationName": "op",
            "references": [],
            "startTime": 1_700_000_000_000_000 + index,
            "duration": 10,
            "tags": draw(st.lists(_tag(), max_size=5)),
            "logs": [
                {"timestamp": 1_700_000_000_000_001, "fields": draw(st.lists(_tag(), max_size=3))}
            ],
            "processID": "p1",
        }
        if index:
            span["references"] = [
                {"refType": "CHILD_OF", "traceID": span["traceID"], "spanID": f"{index:016x}"}
            ]
        spans.append(span)
    process = {"serviceName": "svc", "tags": draw(st.lists(_tag(), max_size=3))}
    trace = {"traceID": spans[0]["traceID"], "spans": spans, "processes": {"p1": process}}
    return json.dumps({"data": [trace]}).encode()


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(_document())
def test_any_tags_read_the_same_both_ways(data: bytes) -> None:
    checked, lenient = _both(data)
    assert checked == lenient
