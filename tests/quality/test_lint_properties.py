"""Invariants of ``lint`` on arbitrary spans, with the keys the checks look at given arbitrary
values (wrong types, odd URLs, huge codes): it never fails, the report fits its schema and its
counts add up."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import msgspec
from hypothesis import given, settings
from hypothesis import strategies as st

from spanscope.assembly import assemble
from spanscope.quality.linter import lint
from spanscope.quality.rules import RULES
from tests.formats.strategies import attribute_values, span_lists

SCHEMA = json.loads(
    (Path(__file__).resolve().parents[2] / "schemas/lint-report.schema.json").read_text()
)
KEYS = [
    "http.request.method",
    "http.method",
    "http.route",
    "http.response.status_code",
    "http.status_code",
    "rpc.system",
    "rpc.grpc.status_code",
    "rpc.response.status_code",
    "db.system.name",
    "server.address",
    "url.full",
    "url.query",
    "http.target",
    "http.request.header.authorization",
    "password",
    "error.type",
]
URLS = st.sampled_from(
    [
        "http://[::1",
        "https://u:p@h/?token=1",
        "https://h:99999/?a=b",
        "?api_key=&x",
        "http://h/?password=%ZZ",
        "=",
        "@",
    ]
)


@st.composite
def planted(draw):
    spans = draw(span_lists(max_size=6, nested=False))
    for span in spans:
        extra = draw(
            st.dictionaries(
                st.sampled_from(KEYS), st.one_of(attribute_values(nested=False), URLS), max_size=5
            )
        )
        span.attributes = {**span.attributes, **extra}
    return spans


@settings(max_examples=100, deadline=None)
@given(planted())
def test_lint_never_fails_and_its_counts_add_up(spans):
    traces = assemble(spans)
    total = sum(len(trace.spans) for trace in traces)  # after assembly merged duplicates
    report = lint(traces)
    document = msgspec.to_builtins(report)
    jsonschema.validate(document, SCHEMA)
    assert report.spans == total
    assert 0.0 <= report.score <= 1.0
    for rule in report.rules:
        assert rule.id in RULES
        assert rule.spans <= total
        assert sum(rule.services.values()) == rule.spans
        assert rule.traces <= report.traces
    for service in report.services:
        assert service.spans_with_errors + service.spans_with_warnings <= service.spans
        assert 0.0 <= service.score <= 1.0
    assert sum(service.spans for service in report.services) == total
