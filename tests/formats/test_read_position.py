"""``watch_position``: how far reading an input has got, in bytes of the file as stored, for
streamed JSON lines (plain and gzip, read whole or streamed), documents read whole (by the
share of their pieces converted), and nothing for a missing input or outside a watch."""

from __future__ import annotations

import gzip
from pathlib import Path
from random import Random

import pytest

from spanscope.errors import InputError
from spanscope.formats import encode_spans, read_spans, source
from spanscope.formats.source import ReadPosition, document_share, watch_position
from spanscope.model import Span

from ..conftest import FIXTURES

LINES = (
    FIXTURES / "jaeger-ui/packages__jaeger-ui__src__utils__fixtures__otlp2jaeger-multi-in.json.txt"
)


@pytest.fixture(scope="module")
def spans() -> list[Span]:
    """Real spans, repeated under new trace ids, with an attribute of random text each so
    that gzip leaves hundreds of KB: enough for a file of many lines, streamed when packed."""
    base = list(read_spans(LINES))
    random = Random(7)
    return [
        span.__class__(
            **{
                **_fields(span),
                "trace_id": f"{n:032x}",
                "attributes": {**span.attributes, "noise": f"{random.getrandbits(256):064x}"},
            }
        )
        for n in range(1, 3001)
        for span in base
    ]


def _fields(span: Span) -> dict:
    return {name: getattr(span, name) for name in span.__struct_fields__}


def positions(path: Path, format: str | None = None) -> tuple[list[int | None], ReadPosition]:
    """The position after every 200th span, and the position at the end."""
    seen: list[int | None] = []
    with watch_position() as position:
        for count, _ in enumerate(read_spans(path, format), 1):
            if count % 200 == 0:
                seen.append(position.done())
        return seen, position


@pytest.mark.parametrize("streamed", [False, True])
@pytest.mark.parametrize("packed", [False, True])
def test_json_lines_move_through_the_file_to_its_end(
    spans: list[Span], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, streamed: bool, packed: bool
) -> None:
    if streamed:  # every file past the size read whole: the stream layers
        monkeypatch.setattr(source, "SMALL_FILE", 0)
    data = b"".join(
        encode_spans(spans[i : i + 500], "otlp-jsonl") for i in range(0, len(spans), 500)
    )
    path = tmp_path / ("lines.jsonl.gz" if packed else "lines.jsonl")
    path.write_bytes(gzip.compress(data) if packed else data)
    seen, position = positions(path)
    size = path.stat().st_size
    assert position.size == size  # of the compressed file for gzip
    assert None not in seen and seen == sorted(seen)
    assert any(0 < done < size for done in seen), seen
    assert position.done() == size


@pytest.mark.parametrize("format", ["jaeger-json", "zipkin-v2", "otlp-json"])
def test_a_document_moves_as_its_pieces_are_converted(
    spans: list[Span], tmp_path: Path, format: str
) -> None:
    path = tmp_path / "document.json"
    path.write_bytes(encode_spans(spans, format))
    seen, position = positions(path)
    size = path.stat().st_size
    assert None not in seen and seen == sorted(seen)
    assert position.size == size
    # Read at once, but not shown as done while most of it is still being converted.
    assert seen[0] < size // 2 and any(0 < done < size for done in seen), seen[:5]


def test_a_missing_input_has_no_position(tmp_path: Path) -> None:
    with watch_position() as position:
        list(read_spans(LINES))
        assert position.done() == position.size == LINES.stat().st_size
        with pytest.raises(InputError):
            list(read_spans(tmp_path / "missing.json"))
        assert position.size is None and position.done() is None  # not the previous input's


def test_nothing_is_recorded_outside_a_watch() -> None:
    assert document_share() is None
    with watch_position():
        assert document_share() is not None
    assert document_share() is None
