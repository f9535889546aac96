"""The one span model every reader yields and every consumer takes.

Contract:
- ids are lowercase hex strings: trace ids 32 characters (64-bit ids from Zipkin/Jaeger are
  left-padded with zeros, as the OpenTelemetry translators do), span ids 16 characters; an empty
  ``parent_span_id`` means "no parent".
- times are integers in nanoseconds since the Unix epoch; ``end_ns == 0`` means the span never
  ended (unclosed). Formats convert at their edge (Jaeger and Zipkin use microseconds).
- ``resource_attributes`` and ``scope_attributes`` dicts may be shared between the spans of one
  resource or scope: treat them as read-only.
- This package imports nothing else of spanscope's.
"""

from __future__ import annotations

from spanscope.model.attributes import Attributes, AttributeValue
from spanscope.model.ids import (
    InvalidIdError,
    is_valid_span_id,
    is_valid_trace_id,
    normalize_span_id,
    normalize_trace_id,
)
from spanscope.model.span import Event, Link, Span, SpanKind, StatusCode
from spanscope.model.trace import Problem, ProblemKind, Trace

__all__ = [
    "AttributeValue",
    "Attributes",
    "Event",
    "InvalidIdError",
    "Link",
    "Problem",
    "ProblemKind",
    "Span",
    "SpanKind",
    "StatusCode",
    "Trace",
    "is_valid_span_id",
    "is_valid_trace_id",
    "normalize_span_id",
    "normalize_trace_id",
]
