"""Detecting a trace format from the first bytes of its content, never from the file name.

``detect_format(head)`` returns a format name from ``spanscope.formats.FORMAT_NAMES`` or raises
``UnknownFormat`` with a description of what the content looks like instead.

OTLP JSON is ``otlp-jsonl`` when the head shows JSON lines (a first line that is one whole JSON
object, and another line after it), else ``otlp-json``. One reader takes both shapes; when the
first line is longer than the head, only that reader can tell, and it does
(``spanscope.formats.read_spans`` names the input by what it found).
"""

from __future__ import annotations

import re

# Patterns compiled on first use (``re`` keeps them), not at import: compiling costs every
# command's start-up more than the search. _JSON_START is needed only when the first byte does
# not say (JSON after white space or a BOM; any input that is not JSON, protobuf included);
# _ZIPKIN_V1_ANNOTATION only for Zipkin-like JSON without a marker.
_JSON_START = rb"\A(?:\xef\xbb\xbf)?\s*([\[{])"  # after what the first byte tells
_ZIPKIN_V1_ANNOTATION = rb'"annotations"\s*:\s*\[\s*\{[^\]]*?"endpoint"'


class UnknownFormat(ValueError):
    """The content is not a trace format spanscope reads."""


def detect_format(head: bytes) -> str:
    if not head or head.isspace():  # not strip(): that copies the head
        raise UnknownFormat("the input is empty")
    if head[:1] in (b"{", b"[") or re.match(_JSON_START, head):
        return _detect_json(head)
    if head[:1] == b"\x0a":
        # OTLP TracesData and ExportTraceServiceRequest both start with field 1
        # (resource_spans), length-delimited: tag byte 0x0a.
        return "otlp-proto"
    if head.lstrip()[:1] in (b"<",):
        raise UnknownFormat("looks like XML or HTML, not a trace file")
    if _is_json_scalar(head):
        raise UnknownFormat("JSON, but a single value (a number, text, true/false or null)")
    raise UnknownFormat("not JSON and not OTLP protobuf")


def _is_json_scalar(head: bytes) -> bool:
    """Whether ``head`` is a whole JSON document that is one number, string or literal (a
    reply body saved by mistake: "not JSON" would be wrong)."""
    import msgspec

    try:
        msgspec.json.decode(head)
    except msgspec.DecodeError:
        return False
    return True


# The keys that tell the JSON formats apart. When the first of them is OTLP's or Jaeger's, it
# decides: a format's own structure comes before anything nested in it (an OTLP request opens
# with resourceSpans, a Jaeger trace or span with traceID), so one short scan from the start
# answers, where looking for each key through the whole head cost 30 us per input (a data set
# of 10,000 one-trace files paid that 10,000 times).
_MARKERS = re.compile(
    rb'"(resourceSpans|resource_spans|traceID|operationName|processes|traceId|trace_id)"'
)
_OTLP_MARKERS = (b"resourceSpans", b"resource_spans")
_JAEGER_MARKERS = (b"traceID", b"operationName", b"processes")


def _detect_json(head: bytes) -> str:
    first = None
    for found in _MARKERS.finditer(head):
        if found[1] != b"trace_id":  # snake_case: only when nothing else says more
            first = found[1]
            break
    if first in _OTLP_MARKERS:
        return _otlp_json(head)
    if first in _JAEGER_MARKERS:
        return "jaeger-json"
    # Zipkin-like or unclear: the whole head, as ever (Jaeger's keys anywhere mean Jaeger's
    # relatives, e.g. its domain model as protobuf JSON, which the Jaeger reader names).
    if b'"resourceSpans"' in head or b'"resource_spans"' in head:
        return _otlp_json(head)
    if b'"traceID"' in head or b'"operationName"' in head or b'"processes"' in head:
        return "jaeger-json"
    if b'"traceId"' in head:
        if (
            b'"localEndpoint"' in head
            or b'"remoteEndpoint"' in head
            or b'"tags"' in head
            or b'"kind"' in head
        ):
            return "zipkin-v2"
        if b'"binaryAnnotations"' in head or re.search(_ZIPKIN_V1_ANNOTATION, head, re.S):
            return "zipkin-v1"
        return "zipkin-v2"
    if b'"slow_threshold_ns"' in head and b'"version"' in head:
        # Checked before the snake_case ids below: a saved report holds "trace_id" keys too.
        raise UnknownFormat(
            "a spanscope analysis report (analyze --json): 'spanscope diff "
            "REPORT TRACES...' compares one with traces; the other commands read trace files"
        )
    if b'"trace_id"' in head:
        raise UnknownFormat(
            "a Zipkin or Jaeger Thrift/proto structure written as JSON (snake_case trace_id), "
            "not a wire format: export the traces as Zipkin JSON, Jaeger JSON or OTLP"
        )
    raise UnknownFormat(
        "JSON, but none of the trace formats: expected OTLP (resourceSpans), "
        "Jaeger (traceID/spans/processes) or Zipkin (traceId/id/name)"
    )


def _otlp_json(head: bytes) -> str:
    """``otlp-jsonl`` if ``head`` starts with JSON lines (see the module docstring)."""
    return "otlp-jsonl" if is_json_lines(head) else "otlp-json"


def is_json_lines(head: bytes) -> bool:
    """Whether ``head`` starts with a line that is one whole JSON object followed by another
    line that opens one: JSON lines, not one document (a document's first line is ``{`` or
    ends in a comma; a document on one line has nothing after it)."""
    first, newline, rest = head.lstrip(b"\xef\xbb\xbf \t\r\n").partition(b"\n")
    if not newline or not first.rstrip().endswith(b"}") or rest.lstrip()[:1] != b"{":
        return False
    import msgspec

    try:
        msgspec.json.decode(first)
    except msgspec.DecodeError:
        return False
    return True
