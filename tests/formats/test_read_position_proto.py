"""``watch_position`` for OTLP protobuf, read whole at once: the position moves with the share of
its spans converted (it used to stand at the end as soon as the bytes were read, while a million
spans took another second or more to convert), with the C decoder, with upb alone, and on the
upb path that a span past 2^63-1 ns sends a message to; and reading gives the same spans and
warnings whether a progress bar watches or not."""

from __future__ import annotations

from pathlib import Path

import pytest
from opentelemetry.proto.trace.v1.trace_pb2 import TracesData

from spanscope.errors import Diagnostics
from spanscope.formats import encode_spans, otlp_native, read_spans
from spanscope.formats.source import watch_position
from spanscope.model import Span
from spanscope.native_switch import VARIABLE

from .test_read_position import LINES, positions


@pytest.fixture(scope="module")
def spans() -> list[Span]:
    """Real spans, repeated under new trace ids: ~40k, ten reports' worth."""
    base = list(read_spans(LINES))
    fields = Span.__struct_fields__
    return [
        Span(**{**{name: getattr(span, name) for name in fields}, "trace_id": f"{n:032x}"})
        for n in range(1, 5001)
        for span in base
    ]


def _with_a_late_span(data: bytes) -> bytes:
    """``data`` and one more span, starting past 2^63-1 ns: the upb path reads it."""
    message = TracesData()
    message.resource_spans.add().scope_spans.add().spans.add(
        trace_id=b"\x01" * 16, span_id=b"\x02" * 8, name="late", start_time_unix_nano=2**63
    )
    return data + message.SerializeToString()


@pytest.mark.parametrize("engine", ["c", "upb", "late-span"])
def test_protobuf_moves_as_its_spans_are_converted(
    spans: list[Span], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, engine: str
) -> None:
    data = encode_spans(spans, "otlp-proto")
    if engine == "late-span":
        data = _with_a_late_span(data)
        assert not otlp_native._otlp_native.check(data)  # the C decoder gives it up
    elif engine == "upb":
        monkeypatch.setenv(VARIABLE, "1")
    else:
        assert otlp_native.enabled() and otlp_native.scan(data) == len(spans)
    path = tmp_path / "spans.pb"
    path.write_bytes(data)
    seen, position = positions(path)
    size = path.stat().st_size
    assert position.size == size and None not in seen
    assert seen == sorted(seen)
    # Read at once, but not shown as done while most of it is still being converted.
    assert seen[0] < size // 10 and any(size // 3 < done < 2 * size // 3 for done in seen), seen
    assert position.done() == size  # and done at the end
    assert len(seen) == len(spans) // 200


@pytest.mark.parametrize("late", [False, True])
def test_the_same_spans_and_warnings_with_and_without_a_watch(
    spans: list[Span], tmp_path: Path, late: bool
) -> None:
    data = encode_spans(spans[:9000], "otlp-proto")
    path = tmp_path / "spans.pb"
    path.write_bytes(_with_a_late_span(data) if late else data)
    unwatched = Diagnostics()
    expected = list(read_spans(path, diagnostics=unwatched))
    watched = Diagnostics()
    with watch_position():
        assert list(read_spans(path, diagnostics=watched)) == expected
    assert len(expected) == 9000
    assert watched.warnings == unwatched.warnings and len(watched.warnings) == late
