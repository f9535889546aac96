"""OTLP JSON lines are named ``otlp-jsonl`` by detection and by reading (the name ``generate``
and ``convert --to`` write them under); one request, an array of them or a pretty-printed
document stay ``otlp-json``; either name reads either shape."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from spanscope.errors import InputError
from spanscope.formats import detect_format, encode_spans, read_spans
from spanscope.formats.detect import is_json_lines
from spanscope.formats.source import HEAD_SIZE
from spanscope.model import Span

from ..conftest import FIXTURES
from .strategies import span_lists

LINES = (
    FIXTURES / "jaeger-ui/packages__jaeger-ui__src__utils__fixtures__otlp2jaeger-multi-in.json.txt"
)
COMBINED = (
    FIXTURES
    / "jaeger-ui/packages__jaeger-ui__src__utils__fixtures__otlp2jaeger-multi-in-combined.json"
)
PRETTY = FIXTURES / "jaeger/internal__storage__v2__memory__fixtures__otel_traces_01.json"


def read_named(path: Path, format: str | None = None) -> tuple[list[str], list[Span]]:
    names: list[str] = []
    spans = list(read_spans(path, format, on_format=names.append))
    return names, spans


def test_fixtures_are_named_by_their_shape(tmp_path: Path) -> None:
    packed = tmp_path / "lines.jsonl.gz"
    packed.write_bytes(gzip.compress(LINES.read_bytes()))
    assert read_named(LINES)[0] == read_named(packed)[0] == ["otlp-jsonl"]
    assert read_named(COMBINED)[0] == read_named(PRETTY)[0] == ["otlp-json"]
    assert detect_format(LINES.read_bytes()[:HEAD_SIZE]) == "otlp-jsonl"
    assert detect_format(COMBINED.read_bytes()[:HEAD_SIZE]) == "otlp-json"


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(span_lists(), span_lists())
def test_two_requests_on_two_lines_are_json_lines_one_document_is_not(
    first: list[Span], second: list[Span]
) -> None:
    lines = encode_spans(first, "otlp-jsonl") + encode_spans(second, "otlp-jsonl")
    document = encode_spans(first + second, "otlp-json")
    if first and second:
        assert detect_format(lines[:HEAD_SIZE]) == "otlp-jsonl"
    assert detect_format(document[:HEAD_SIZE]) == "otlp-json"
    assert not is_json_lines(document)
    # One request on one line is one document: nothing says it is a file of lines.
    assert not is_json_lines(encode_spans(first, "otlp-jsonl"))


def test_a_first_line_longer_than_the_head_is_named_by_the_reader(tmp_path: Path) -> None:
    line = LINES.read_bytes().splitlines()[0]
    padding = b'{"key":"padding","value":{"stringValue":"' + b"x" * HEAD_SIZE + b'"}},'
    long_line = line.replace(b'"attributes":[', b'"attributes":[' + padding, 1)
    assert len(long_line) > HEAD_SIZE and long_line != line
    path = tmp_path / "long.jsonl"
    path.write_bytes(long_line + b"\n\n" + line + b"\n")
    assert detect_format(path.read_bytes()[:HEAD_SIZE]) == "otlp-json"  # the head cannot tell
    names, spans = read_named(path)
    assert names == ["otlp-jsonl"] and spans
    one = tmp_path / "one.json"
    one.write_bytes(long_line + b"\n")
    assert read_named(one)[0] == ["otlp-json"]


@pytest.mark.parametrize("forced", ["otlp-json", "otlp-jsonl", "otlp"])
def test_either_name_reads_either_shape(forced: str) -> None:
    for path in (LINES, COMBINED):
        names, spans = read_named(path, forced)
        assert spans == read_named(path)[1]
        assert names == read_named(path)[0]  # named by what it is, as detection would


def test_an_input_that_fails_in_its_first_line_keeps_the_detected_name(tmp_path: Path) -> None:
    path = tmp_path / "broken.jsonl"
    path.write_bytes(b'{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":7}]}]}]}\n{}\n')
    names: list[str] = []
    with pytest.raises(InputError):
        list(read_spans(path, on_format=names.append))
    assert names == ["otlp-jsonl"]  # as detection named it from the head
