"""Header examples from the formats' own documents: the B3 specification README (examples
extracted from the file here) and the compiled B3 / X-Ray / Jaeger examples with the facts their
documents state."""

from __future__ import annotations

import re

import pytest

from spanscope.propagation import b3, codecs, jaeger, xray

from .conftest import FIXTURES, load_json

DOCS = load_json("propagation-doc-vectors/header_examples_from_docs.json")
README = (FIXTURES / "b3-propagation" / "README.md").read_text()
HEADER_LINE = re.compile(r"^(b3|X-B3-[A-Za-z]+|x-b3-[a-z]+): ?(.*)$")


def _readme_blocks() -> list[list[tuple[str, str]]]:
    """Header lines in fenced code blocks of the B3 README, one list per block."""
    blocks = []
    for body in re.findall(r"```\n(.*?)```", README, flags=re.S):
        lines = [HEADER_LINE.match(line.strip()) for line in body.splitlines()]
        headers = [(m.group(1), m.group(2)) for m in lines if m]
        if headers:
            blocks.append(headers)
    return blocks


def _readme_inline() -> list[tuple[str, str]]:
    spans = re.findall(r"`((?:b3|X-B3-[A-Za-z]+|x-b3-[a-z]+): ?[^`]*)`", README)
    return [(m.group(1), m.group(2)) for m in map(HEADER_LINE.match, spans) if m]


def _parse(headers: list[tuple[str, str]]):
    if any(name.lower() == "b3" for name, _ in headers):
        return b3.parse_single([v for n, v in headers if n.lower() == "b3"])
    return b3.parse_multi(headers)


README_BLOCKS = _readme_blocks()
README_INLINE = _readme_inline()
# the README calls exactly these two inline examples malformed data
MALFORMED = {("X-B3-Sampled", ""), ("X-B3-ParentSpanId", "-")}


def test_readme_examples_were_found() -> None:
    assert len(README_BLOCKS) >= 6
    assert len(README_INLINE) >= 8
    assert set(README_INLINE) >= MALFORMED


@pytest.mark.parametrize("headers", README_BLOCKS, ids=lambda h: h[0][1][:40] or h[0][0])
def test_readme_code_block_examples_are_valid(headers) -> None:
    parsed = _parse(headers)
    assert parsed.ok, parsed.reason
    # and survive a round trip through our writer in the same form
    context = parsed.value.to_context()
    if len(headers) == 1:
        assert b3.format_single(context) == headers[0][1]


def _inline(name: str) -> tuple[str, str]:
    return next(h for h in README_INLINE if h[0] == name and h not in MALFORMED)


@pytest.mark.parametrize("header", README_INLINE, ids=lambda h: f"{h[0]}:{h[1]}")
def test_readme_inline_examples(header) -> None:
    name = header[0]
    if header in MALFORMED:
        parsed = _parse([header])
        assert not parsed.ok
        assert name in parsed.reason
        return
    if name == "X-B3-Debug":
        # the FAQ's hypothetical header that B3 never adopted: not a B3 header at all
        assert not _parse([header]).present
        return
    headers = [header]
    if name in ("X-B3-TraceId", "X-B3-SpanId"):
        # an id alone is not a context (strict); with its README partner it is
        alone = _parse(headers)
        assert not alone.ok and "both are needed" in alone.reason
        other = "X-B3-SpanId" if name == "X-B3-TraceId" else "X-B3-TraceId"
        headers.append(_inline(other))
    parsed = _parse(headers)
    assert parsed.ok, parsed.reason


def test_readme_multi_and_single_forms_are_the_same_context() -> None:
    multi = next(block for block in README_BLOCKS if len(block) == 4)
    single = ("b3", "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1-05e3ac9a4f6e3b90")
    assert _parse(multi).value.to_context() == _parse([single]).value.to_context()


SAMPLING = {
    "accept": ("accept",),
    "deny": ("deny",),
    "debug": ("debug",),
    "debug (implies accept)": ("debug",),
}


@pytest.mark.parametrize("vector", DOCS["b3"]["vectors"], ids=lambda v: v["name"])
def test_b3_doc_vectors(vector: dict) -> None:
    headers = list(vector["headers"].items())
    parsed = _parse(headers)
    expect = vector["expect"]
    note = expect.get("note", "")
    if "malformed" in note or "malformed" in vector["name"]:
        assert not parsed.ok
        assert parsed.reason
        return
    assert parsed.ok, parsed.reason
    value = parsed.value
    for field in ("trace_id", "span_id", "parent_span_id"):
        if field in expect:
            assert getattr(value, field) == (expect[field] or "")
    if "sampling" in expect:
        assert value.sampling in SAMPLING[expect["sampling"]]
    if "lenient" in vector["name"]:
        assert value.sampling == "accept"
        assert any("legacy" in w for w in parsed.warnings)
    if vector["name"] == "multi-header debug flag":
        assert value.to_context().sampled is True  # debug implies accept
    if "equivalent_single" in vector:
        single = b3.parse_single(vector["equivalent_single"])
        assert single.value.to_context() == value.to_context()
        assert b3.format_single(value.to_context()) == vector["equivalent_single"]


@pytest.mark.parametrize("vector", DOCS["xray"]["vectors"], ids=lambda v: v["name"])
def test_xray_doc_vectors(vector: dict) -> None:
    parsed = xray.parse_xray(vector["headers"]["X-Amzn-Trace-Id"])
    assert parsed.ok, parsed.reason
    expect, derived = vector["expect"], vector["derived_by_doc_rule"]
    assert parsed.value.root == expect["root"]
    assert parsed.value.parent == (expect["parent"] or "")
    assert parsed.value.sampled is expect["sampled"]
    context = parsed.value.to_context()
    assert context.trace_id == derived["otel_trace_id"]
    if "otel_parent_span_id" in derived:
        assert context.span_id == derived["otel_parent_span_id"]
    # and back: the X-Ray header written from the W3C ids is the documented one
    assert xray.format_xray(context) == vector["headers"]["X-Amzn-Trace-Id"]


@pytest.mark.parametrize("vector", DOCS["jaeger"]["vectors"], ids=lambda v: v["name"])
def test_jaeger_baggage_doc_vectors(vector: dict) -> None:
    entries = jaeger.parse_baggage(list(vector["headers"].items()))
    assert {e.key: e.value for e in entries} == vector["expect"]["baggage"]


def test_jaeger_doc_example_with_padding_and_short_parent() -> None:
    line = DOCS["jaeger"]["extra_examples_from_other_docs"][0]["header"]
    headers = codecs.parse_header_text(line)
    assert headers == [("uber-trace-id", line.split(": ", 1)[1])]
    parsed = jaeger.extract(headers)
    assert parsed.ok, parsed.reason
    context = parsed.value
    assert context.trace_id == "000000000000000000000000deadbeef"
    assert context.span_id == "00000000deadbef0"
    assert context.parent_span_id == ""  # 0 means root
    assert context.sampled is True and context.debug is False


def test_jaeger_url_encoded_uber_trace_id() -> None:
    parsed = jaeger.parse_uber_trace_id("deadbeef%3Adeadbef0%3A0%3A1")
    assert parsed.ok
    assert parsed.value.to_context().trace_id == "000000000000000000000000deadbeef"
    assert any("URL-encoded" in w for w in parsed.warnings)
