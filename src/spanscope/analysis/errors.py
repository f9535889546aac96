"""Which spans failed, and which failure a failed request started from.

A span is an error span (``is_error_span``) when any of these holds:
- its status is ERROR;
- the OpenTracing ``error`` tag is true (Jaeger and Zipkin data that carries no status);
- its HTTP response status (``http.response.status_code``, or the older ``http.status_code``)
  is 500 or more;
- its gRPC status (``rpc.grpc.status_code``) is not OK (0);
- it has an ``exception`` event.

The *originating* error of a trace (``originating_error``) is where the failure started: from
the top-most error span (the root if it failed, else the earliest error span whose parent did
not fail), follow failed children down and take the deepest one. That is the span to look at
first; the ones above it only passed the failure on.

Error *signatures* group failures that are the same problem: service, operation, exception
type and the message with numbers, ids and uuids replaced by placeholders
(``message_template``). Pure functions; nothing is modified.
"""

from __future__ import annotations

import re

import msgspec

from spanscope.model import Span, StatusCode, Trace
from spanscope.model.attributes import attribute_int

_HTTP_KEYS = ("http.response.status_code", "http.status_code")
_GRPC_KEY = "rpc.grpc.status_code"
_ERROR = StatusCode.ERROR  # a local name: enum attribute lookups are slow in loops


_ERROR_KEYS = frozenset(("error", *_HTTP_KEYS, _GRPC_KEY))


def is_error_span(span: Span) -> bool:
    """True when ``span`` failed (see the module docstring for the rules)."""
    if span.status_code == _ERROR:
        return True
    attributes = span.attributes
    # One C-level set check first: most spans carry none of the keys that can mark an error.
    if attributes and not _ERROR_KEYS.isdisjoint(attributes):
        error = attributes.get("error")
        if error is True or error == "true":
            return True
        for key in _HTTP_KEYS:
            code = attributes.get(key)
            if code is not None:
                number = attribute_int(code)
                if number is not None and number >= 500:
                    return True
                break
        grpc = attributes.get(_GRPC_KEY)
        if grpc is not None:
            number = attribute_int(grpc)
            if number is not None and number != 0:
                return True
    if span.events:
        return any(event.name == "exception" for event in span.events)
    return False


def error_ids(trace: Trace) -> set[str]:
    """Ids of the error spans of ``trace``."""
    found = set()
    keys = _ERROR_KEYS
    error_status = _ERROR
    for span in trace.spans:
        if span.status_code == error_status:
            found.add(span.span_id)
            continue
        attributes = span.attributes
        # Cheap screen first: most spans have no status, no error keys and no events.
        if attributes and not keys.isdisjoint(attributes):
            # The usual shape decided here, without calls: a gRPC code that is a plain int and
            # none of the other keys or events (``is_error_span`` gives the same answer).
            grpc = attributes.get(_GRPC_KEY)
            if (
                type(grpc) is int
                and not span.events
                and "error" not in attributes
                and "http.response.status_code" not in attributes
                and "http.status_code" not in attributes
            ):
                if grpc != 0:
                    found.add(span.span_id)
                continue
            if is_error_span(span):
                found.add(span.span_id)
        elif span.events and is_error_span(span):
            found.add(span.span_id)
    return found


def originating_error(trace: Trace, errors: set[str] | None = None) -> Span | None:
    """The span a failed trace's failure started from, or None if no span failed.

    ``errors`` may pass ``error_ids(trace)`` when the caller already has it."""
    if errors is None:
        errors = error_ids(trace)
    if not errors:
        return None
    by_id = trace.by_id
    top: Span | None = None
    root = trace.roots[0] if trace.roots else None
    if root is not None and root.span_id in errors:
        top = root
    else:
        for span in trace.spans:  # sorted by start: the earliest top-most error wins
            if span.span_id in errors and span.parent_span_id not in errors:
                top = span
                break
    if top is None:  # every error span's parent failed too: only possible with a cycle
        return by_id[next(iter(errors))]
    # Deepest failed descendant reachable through failed spans; ties go to the earliest.
    best, best_depth = top, 0
    stack = [(top, 0)]
    children = trace.children
    while stack:
        span, depth = stack.pop()
        if depth > best_depth or (
            depth == best_depth and (span.start_ns, span.span_id) < (best.start_ns, best.span_id)
        ):
            best, best_depth = span, depth
        for child in children.get(span.span_id, ()):
            if child.span_id in errors:
                stack.append((child, depth + 1))
    return best


class ErrorDetail(msgspec.Struct, frozen=True):
    """What an error span says about its failure."""

    exception_type: str
    message: str


def error_detail(span: Span) -> ErrorDetail:
    """Exception type and message of an error span, from the best source it has: an
    ``exception`` event, the status message, the HTTP or gRPC status code."""
    for event in span.events:
        if event.name == "exception":
            attributes = event.attributes
            return ErrorDetail(
                str(attributes.get("exception.type", "") or ""),
                str(attributes.get("exception.message", "") or span.status_message),
            )
    attributes = span.attributes
    error_type = str(attributes.get("error.type", "") or "")
    if span.status_message:
        return ErrorDetail(error_type, span.status_message)
    for key in _HTTP_KEYS:
        code = attribute_int(attributes.get(key))
        if code is not None and code >= 500:
            return ErrorDetail(error_type or str(code), f"HTTP {code}")
    code = attribute_int(attributes.get(_GRPC_KEY))
    if code:
        return ErrorDetail(error_type or f"grpc {code}", f"gRPC status {code}")
    return ErrorDetail(error_type, "")


_TEMPLATE_RULES = [
    (
        re.compile(
            r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b"
        ),
        "<uuid>",
    ),
    # Hex ids (trace/span ids, hashes): long runs of hex with at least one digit.
    (re.compile(r"\b(?=[0-9a-fA-F]*[0-9])(?=[0-9a-fA-F]*[a-fA-F])[0-9a-fA-F]{6,}\b"), "<hex>"),
    (re.compile(r"\b0x[0-9a-fA-F]+\b"), "<hex>"),
    # Numbers not glued to a word before them ("v2" stays), units may follow ("3012ms").
    (re.compile(r"(?<![A-Za-z0-9_])[-+]?\d+(?:\.\d+)?"), "<num>"),
]
_MAX_MESSAGE = 300


def message_template(message: str) -> str:
    """``message`` with uuids, hex ids and numbers replaced by ``<uuid>``, ``<hex>``,
    ``<num>``, so "timeout after 3012 ms for order 8812" and "timeout after 250 ms for order 7"
    group together. Long messages are cut to keep groups few and readable."""
    text = message[:_MAX_MESSAGE]
    for pattern, placeholder in _TEMPLATE_RULES:
        text = pattern.sub(placeholder, text)
    return " ".join(text.split())
