"""OTLP JSON times past 2^63-1 ns, the latest the model keeps (a fixed64 goes up to 2^64-1).

A span with a start, end or event time past 2^63-1 is left out with one warning naming the
source, the line (JSON lines) and its JSON path, in the OTLP protobuf reader's words, and the
rest is read: in real files (documents and JSON lines), in every shape the reader takes (arrays
of requests, Jaeger api_v3's wrapper, snake_case names, the old field names), and the same spans
and warnings as the protobuf reader for the same message (hypothesis, times around the bound).
Negative times and times past 2^64-1 are not OTLP: input errors at their path, as before.
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from opentelemetry.proto.trace.v1.trace_pb2 import TracesData

from spanscope.errors import Diagnostics, InputError
from spanscope.formats import otlp_json, otlp_proto, read_spans

from ..cli.run import spanscope
from ..conftest import FIXTURES
from .test_otlp_proto_times import timed_messages

LATEST = 2**63 - 1
DOCUMENTS = [
    FIXTURES / "opentelemetry-proto/examples__trace.json",
    FIXTURES / "jaeger/internal__storage__v2__memory__fixtures__otel_traces_01.json",
    FIXTURES
    / "jaeger-ui/packages__jaeger-ui__src__utils__fixtures__otlp2jaeger-multi-in-combined.json",
]
LINES = (
    FIXTURES / "jaeger-ui/packages__jaeger-ui__src__utils__fixtures__otlp2jaeger-multi-in.json.txt"
)


def _left_out(span: dict, field: str, value: int) -> str:
    """The warning's message, as the protobuf reader words it."""
    return (
        f"span {span['spanId']} ({span['name']!r}) of trace {span['traceId']}: {field} {value} "
        "is past 2^63-1 ns (the year 2262), the latest time spanscope keeps; the span is left out"
    )


def _read(data: bytes, source: str = "input.json") -> tuple[list, list[str]]:
    diagnostics = Diagnostics()
    spans = list(otlp_json.read(io.BytesIO(data), source, diagnostics))
    return spans, [str(warning) for warning in diagnostics.warnings]


def _error(data: bytes) -> InputError:
    with pytest.raises(InputError) as error:
        _read(data)
    return error.value


def _span_at(document: dict, ri: int, si: int, k: int) -> dict:
    return document["resourceSpans"][ri]["scopeSpans"][si]["spans"][k]


def _every_span(document: dict):
    for ri, rs in enumerate(document["resourceSpans"]):
        for si, ss in enumerate(rs["scopeSpans"]):
            for k, _ in enumerate(ss["spans"]):
                yield ri, si, k


# --- real files -----------------------------------------------------------------------------


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: p.name[-40:])
@pytest.mark.parametrize("field", ["startTimeUnixNano", "endTimeUnixNano", "event"])
def test_a_real_document_keeps_every_span_but_the_late_one(
    tmp_path: Path, path: Path, field: str
) -> None:
    document = json.loads(path.read_text())
    expected = list(read_spans(path))
    places = list(_every_span(document))
    ri, si, k = places[len(places) // 2]
    span = _span_at(document, ri, si, k)
    late = 2**63 + 7
    if field == "event":
        events = span.setdefault("events", [])
        events.append({"timeUnixNano": late, "name": "late"})  # a JSON number this time
        field = f"events[{len(events) - 1}].timeUnixNano"
    else:
        span[field] = str(late)
    changed = tmp_path / "late.json"
    changed.write_text(json.dumps(document, indent=2))
    diagnostics = Diagnostics()
    spans = list(read_spans(changed, diagnostics=diagnostics))
    left_out = (span["traceId"].lower(), span["spanId"].lower())
    assert spans == [s for s in expected if (s.trace_id, s.span_id) != left_out]
    [warning] = diagnostics.warnings
    assert warning.location.source == str(changed)
    assert warning.location.place == f"$.resourceSpans[{ri}].scopeSpans[{si}].spans[{k}]"
    assert warning.message == _left_out(span, field, late)


def test_real_json_lines_name_the_line_and_keep_the_rest(tmp_path: Path) -> None:
    lines = [json.loads(line) for line in LINES.read_text().splitlines() if line.strip()]
    expected = list(read_spans(LINES))
    first = _span_at(lines[1], 0, 0, 0)
    first["startTimeUnixNano"] = str(2**64 - 1)
    last = _span_at(lines[-1], *list(_every_span(lines[-1]))[-1])
    last["endTimeUnixNano"] = str(2**63)
    changed = tmp_path / "late.jsonl"
    changed.write_text("".join(json.dumps(line) + "\n" for line in lines))
    diagnostics = Diagnostics()
    spans = list(read_spans(changed, diagnostics=diagnostics))
    gone = {first["spanId"], last["spanId"]}
    assert spans == [s for s in expected if s.span_id not in gone]
    places = [warning.location.place for warning in diagnostics.warnings]
    ri, si, k = list(_every_span(lines[-1]))[-1]
    assert places == [
        "line 2, $.resourceSpans[0].scopeSpans[0].spans[0]",
        f"line {len(lines)}, $.resourceSpans[{ri}].scopeSpans[{si}].spans[{k}]",
    ]
    assert diagnostics.warnings[0].message == _left_out(first, "startTimeUnixNano", 2**64 - 1)


# --- the bound ------------------------------------------------------------------------------

GOOD = {"traceId": "5b8efff798038103d269b633813fc60c", "spanId": "eee19b7ec3c1b174", "name": "x"}


def _one_span(**times: object) -> bytes:
    span = {**GOOD, **times}
    return json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": [span]}]}]}).encode()


@pytest.mark.parametrize("as_text", [True, False])
@pytest.mark.parametrize(
    ("start", "end", "kept"),
    [
        (LATEST, LATEST, True),
        (0, 0, True),
        (9, 8, True),  # ends before it starts: read as given
        (2**63, 1, False),
        (1, 2**64 - 1, False),
    ],
)
def test_the_bound_is_2_to_the_63_minus_1(start: int, end: int, kept: bool, as_text: bool) -> None:
    encode = str if as_text else int
    spans, warnings = _read(_one_span(startTimeUnixNano=encode(start), endTimeUnixNano=encode(end)))
    if kept:
        assert warnings == [] and [(s.start_ns, s.end_ns) for s in spans] == [(start, end)]
    else:
        field, value = ("startTimeUnixNano", start) if start > LATEST else ("endTimeUnixNano", end)
        assert spans == []
        assert warnings == [
            "input.json: line 1, $.resourceSpans[0].scopeSpans[0].spans[0]: "
            + _left_out(GOOD, field, value)
        ]


@pytest.mark.parametrize(
    ("times", "field", "words"),
    [
        ({"startTimeUnixNano": "-1"}, "startTimeUnixNano", "Expected `int` >= 0"),
        ({"endTimeUnixNano": -5}, "endTimeUnixNano", "Expected `int` >= 0"),
        ({"startTimeUnixNano": str(2**64)}, "startTimeUnixNano", "past 2^64-1"),
        # Past 2^64-1 even where another time is only past 2^63-1: not OTLP, not left out.
        ({"startTimeUnixNano": 2**63, "endTimeUnixNano": 10**23}, "endTimeUnixNano", "2^64-1"),
        ({"events": [{"timeUnixNano": "-3"}]}, "events[0].timeUnixNano", ">= 0"),
    ],
)
def test_times_that_are_not_a_fixed64_are_errors_at_their_path(
    times: dict, field: str, words: str
) -> None:
    error = _error(_one_span(**times))
    assert error.location.place == f"line 1, $.resourceSpans[0].scopeSpans[0].spans[0].{field}"
    assert words in error.message


def test_an_error_after_a_late_span_names_its_index_in_the_input() -> None:
    spans = [
        {**GOOD, "spanId": "0000000000000001", "startTimeUnixNano": "1"},
        {**GOOD, "spanId": "0000000000000002", "startTimeUnixNano": str(2**63)},
        {**GOOD, "spanId": "0000000000000003", "startTimeUnixNano": "3"},
        {**GOOD, "spanId": "zz"},
    ]
    data = json.dumps({"resourceSpans": [{"scopeSpans": [{}, {"spans": spans}]}]}).encode()
    diagnostics = Diagnostics()
    read = []
    with pytest.raises(InputError) as error:
        read.extend(otlp_json.read(io.BytesIO(data), "input.json", diagnostics))
    assert [s.span_id for s in read] == ["0000000000000001", "0000000000000003"]
    assert error.value.location.place == "line 1, $.resourceSpans[0].scopeSpans[1].spans[3].spanId"
    assert diagnostics.warnings[0].location.place.endswith("scopeSpans[1].spans[1]")


def _late_request(n: int) -> dict:
    span = {**GOOD, "spanId": f"{n:016x}", "startTimeUnixNano": str(2**63 + n)}
    keep = {**GOOD, "spanId": f"{n + 100:016x}", "startTimeUnixNano": "5"}
    return {"resourceSpans": [{"scopeSpans": [{"spans": [keep, span]}]}]}


@pytest.mark.parametrize(
    ("document", "place"),
    [
        ([_late_request(1), _late_request(2)], "$[1].resourceSpans[0]"),
        ({"result": _late_request(2)}, "$.result.resourceSpans[0]"),
        (
            {
                "resource_spans": [
                    {
                        "scope_spans": [
                            {
                                "spans": _late_request(2)["resourceSpans"][0]["scopeSpans"][0][
                                    "spans"
                                ]
                            }
                        ]
                    }
                ]
            },
            "$.resourceSpans[0]",
        ),
        (
            {
                "resourceSpans": [
                    {
                        "instrumentationLibrarySpans": [
                            {
                                "spans": _late_request(2)["resourceSpans"][0]["scopeSpans"][0][
                                    "spans"
                                ]
                            }
                        ]
                    }
                ]
            },
            "$.resourceSpans[0]",
        ),
    ],
    ids=["array", "api-v3-result", "snake-case", "instrumentation-library"],
)
@pytest.mark.parametrize("lines", [False, True])
def test_every_shape_of_request_leaves_the_late_span_out(
    document: object, place: str, lines: bool
) -> None:
    text = json.dumps(document, indent=None if lines else 2)
    if lines and isinstance(document, list):
        text = "\n".join(json.dumps(request) for request in document)
        place = place.replace("$[1]", "$")
    spans, warnings = _read(text.encode())
    late = [w for w in warnings if "is past 2^63-1 ns" in w]
    assert len(spans) == len(late) == (2 if isinstance(document, list) else 1)
    line = ("line 2, " if isinstance(document, list) else "line 1, ") if lines else ""
    assert late[-1].startswith(f"input.json: {line}{place}.scopeSpans[0].spans[1]: span ")
    assert f"startTimeUnixNano {2**63 + 2} is past" in late[-1]
    assert all(span.start_ns == 5 for span in spans)


# --- the same as the protobuf reader --------------------------------------------------------


def _as_json(message: TracesData, numbers: bool) -> dict:
    """The OTLP JSON of ``message`` as the spec writes it (hex ids), times as JSON strings or
    numbers."""
    time = int if numbers else str
    return {
        "resourceSpans": [
            {
                "resource": {
                    "attributes": [{"key": "service.name", "value": {"stringValue": "svc"}}]
                },
                "scopeSpans": [
                    {
                        "spans": [
                            {
                                "traceId": s.trace_id.hex(),
                                "spanId": s.span_id.hex(),
                                "name": s.name,
                                "startTimeUnixNano": time(s.start_time_unix_nano),
                                "endTimeUnixNano": time(s.end_time_unix_nano),
                                "events": [
                                    {"timeUnixNano": time(e.time_unix_nano), "name": e.name}
                                    for e in s.events
                                ],
                            }
                            for s in ss.spans
                        ]
                    }
                    for ss in rs.scope_spans
                ],
            }
            for rs in message.resource_spans
        ]
    }


_PROTO_PLACE = re.compile(
    r"resource_spans\[(\d+)\]\.scope_spans\[(\d+)\]\.spans\[(\d+)\], byte \d+"
)
_PROTO_FIELDS = {
    "start_time_unix_nano": "startTimeUnixNano",
    "end_time_unix_nano": "endTimeUnixNano",
    "time_unix_nano": "timeUnixNano",
}


def _in_json_terms(warning: str, line: str) -> str:
    """A protobuf reader's warning as the JSON reader says it."""
    warning = _PROTO_PLACE.sub(
        lambda m: f"{line}$.resourceSpans[{m[1]}].scopeSpans[{m[2]}].spans[{m[3]}]", warning
    )
    for proto, camel in _PROTO_FIELDS.items():
        warning = warning.replace(f"{proto} ", f"{camel} ")
    return warning


@settings(max_examples=200, deadline=None)
@given(timed_messages(min_spans=0, distinct_traces=True), st.booleans(), st.booleans())
def test_the_same_spans_and_warnings_as_the_protobuf_reader(
    message: TracesData, numbers: bool, lines: bool
) -> None:
    document = _as_json(message, numbers)
    data = json.dumps(document, indent=None if lines else 1).encode()
    spans, warnings = _read(data, "input")
    proto_diagnostics = Diagnostics()
    pb = message.SerializeToString()
    expected = list(otlp_proto.read(io.BytesIO(pb), "input", proto_diagnostics))
    assert spans == expected
    line = "line 1, " if lines else ""
    assert warnings == [_in_json_terms(str(w), line) for w in proto_diagnostics.warnings]
    request = otlp_json.decode_request(data, "request")
    proto_request = otlp_proto.decode_request(pb, "request")
    assert (request.spans, request.rejected) == (proto_request.spans, proto_request.rejected)
    assert request.message == _in_json_terms(proto_request.message, line)


# --- commands -------------------------------------------------------------------------------


def test_commands_read_the_rest_and_show_the_warning(tmp_path: Path) -> None:
    path = DOCUMENTS[1]
    document = json.loads(path.read_text())
    span = _span_at(document, 0, 0, 0)
    span["startTimeUnixNano"] = str(2**63 + 1)
    changed = tmp_path / "late.json"
    changed.write_text(json.dumps(document))
    words = "$.resourceSpans[0].scopeSpans[0].spans[0]: span "
    total = len(list(read_spans(path)))
    for command in ("info", "analyze", "lint"):
        result = spanscope(command, str(changed))
        # As on the file without the late span (lint exits 1 for its findings there too).
        assert result.returncode == spanscope(command, str(path)).returncode, result.stderr
        assert words in result.stderr and "the span is left out" in result.stderr
    out = tmp_path / "out.jsonl"
    result = spanscope("convert", str(changed), str(out), "--to", "otlp-jsonl")
    assert result.returncode == 0 and words in result.stderr, result.stderr
    assert len(list(read_spans(out))) == total - 1
