"""Jaeger's own OTLP -> Jaeger conversions hold for ours: OTLP JSON reader, then Jaeger writer.

The pairs come from Jaeger's query service tests and jaeger-ui's file loader tests. They are
compared as data (``normalise_export``): same traces, spans, fields, tags and processes, order
of traces, spans, tags and processes aside. jaeger-ui's copies were made by an older Jaeger that
named the scope tags ``otel.library.*``; current Jaeger (its own copy of the first pair) writes
``otel.scope.*``, as we do, so the older files are compared with that one rename.

The first input exports the same span twice (same ids, same everything). Jaeger's output keeps
both copies, and so does a plain conversion here; de-duplication is assembly's job, checked last.
"""

from __future__ import annotations

import io
import json

import pytest

from spanscope.assembly import assemble
from spanscope.formats import read_spans, write_spans
from spanscope.model import ProblemKind

from ..conftest import FIXTURES
from .test_jaeger_json import normalise_export

UI = "jaeger-ui/packages__jaeger-ui__src__utils__fixtures__"
JAEGER = "jaeger/cmd__jaeger__internal__extension__jaegerquery__internal__fixture__"

PAIRS = [
    # (OTLP input, Jaeger's output, written by an older Jaeger with otel.library.* tags)
    (JAEGER + "otlp2jaeger-in.json", JAEGER + "otlp2jaeger-out.json", False),
    (UI + "otlp2jaeger-in.json", UI + "otlp2jaeger-out.json", True),
    (UI + "otlp2jaeger-multi-in.json.txt", UI + "oltp2jaeger-multi-out.json", True),
    (UI + "otlp2jaeger-multi-in-combined.json", UI + "oltp2jaeger-multi-out.json", True),
]


def convert(name: str) -> dict:
    out = io.BytesIO()
    write_spans(read_spans(FIXTURES / name), out, "jaeger-json")
    return json.loads(out.getvalue())


@pytest.mark.parametrize(("source", "expected", "older"), PAIRS, ids=lambda v: str(v)[-40:])
def test_otlp_to_jaeger_matches_jaegers_output(source: str, expected: str, older: bool) -> None:
    ours = convert(source)
    theirs = json.loads((FIXTURES / expected).read_text())
    assert normalise_export(ours) == normalise_export(theirs, library_to_scope=older)
    assert {k: ours[k] for k in ("total", "limit", "offset", "errors")} == {
        "total": 0,
        "limit": 0,
        "offset": 0,
        "errors": None,
    }


def test_jaeger_output_of_the_first_pair_is_byte_for_byte_the_same_data() -> None:
    """Stricter than the data comparison: the same tag order and process ids, as written."""
    ours = convert(JAEGER + "otlp2jaeger-in.json")
    theirs = json.loads((FIXTURES / (JAEGER + "otlp2jaeger-out.json")).read_text())
    assert ours == theirs


def test_the_duplicated_span_is_kept_by_conversion_and_dropped_by_assembly() -> None:
    spans = list(read_spans(FIXTURES / (UI + "otlp2jaeger-in.json")))
    assert len(spans) == 2 and spans[0] == spans[1]
    (trace,) = assemble(spans)
    assert len(trace.spans) == 1
    kinds = [problem.kind for problem in trace.problems]
    assert kinds.count(ProblemKind.DUPLICATE_SPAN_ID) == 1
    assert ProblemKind.ORPHAN in kinds  # its parent 909541b92cf05311 is not in the file
