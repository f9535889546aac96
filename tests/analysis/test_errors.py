"""Error spans, originating errors and message templates."""

from __future__ import annotations

import pytest

from spanscope.analysis.errors import (
    error_detail,
    error_ids,
    is_error_span,
    message_template,
    originating_error,
)
from spanscope.model import Event, StatusCode
from tests.analysis.builders import build, sid, span


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({}, False),
        ({"status_code": StatusCode.ERROR}, True),
        ({"status_code": StatusCode.OK}, False),
        ({"attributes": {"http.response.status_code": 503}}, True),
        ({"attributes": {"http.response.status_code": 404}}, False),
        ({"attributes": {"http.status_code": "500"}}, True),
        ({"attributes": {"http.status_code": 499}}, False),
        ({"attributes": {"rpc.grpc.status_code": 14}}, True),
        ({"attributes": {"rpc.grpc.status_code": 0}}, False),
        ({"attributes": {"error": True}}, True),
        ({"attributes": {"error": "false"}}, False),
        ({"events": [Event(1, "exception", {"exception.type": "E"})]}, True),
        ({"events": [Event(1, "log", {})]}, False),
    ],
)
def test_is_error_span(fields, expected):
    assert is_error_span(span("a", None, 0, 1, **fields)) is expected


def test_originating_error_is_the_deepest_failed_descendant():
    error = {"status_code": StatusCode.ERROR}
    trace = build(
        span("root", None, 0, 100, **error),
        span("checkout", "root", 10, 90, **error),
        span("payment", "checkout", 20, 80, **error),
        span("provider", "payment", 25, 75, **error),
        span("fine", "payment", 76, 79),
        span("other", "root", 91, 95, **error),  # a failed sibling, shallower
    )
    assert originating_error(trace).span_id == sid("provider")


def test_originating_error_when_the_root_did_not_fail():
    trace = build(
        span("root", None, 0, 100),
        span("retry1", "root", 10, 20, status_code=StatusCode.ERROR),
        span("cause", "retry1", 12, 18, attributes={"http.response.status_code": 503}),
        span("retry2", "root", 30, 40),
    )
    assert error_ids(trace) == {sid("retry1"), sid("cause")}
    assert originating_error(trace).span_id == sid("cause")
    assert originating_error(build(span("ok", None, 0, 1))) is None


def test_error_detail_sources():
    exc = Event(1, "exception", {"exception.type": "TimeoutError", "exception.message": "boom 42"})
    assert error_detail(span("a", None, 0, 1, events=[exc])).exception_type == "TimeoutError"
    assert error_detail(span("a", None, 0, 1, events=[exc])).message == "boom 42"
    by_status = span("b", None, 0, 1, status_code=StatusCode.ERROR, status_message="bad input")
    assert error_detail(by_status).message == "bad input"
    http = span("c", None, 0, 1, attributes={"http.response.status_code": 502})
    assert error_detail(http).message == "HTTP 502"
    grpc = span("d", None, 0, 1, attributes={"rpc.grpc.status_code": 14})
    assert error_detail(grpc).message == "gRPC status 14"


@pytest.mark.parametrize(
    ("message", "template"),
    [
        ("timeout after 3012ms for order 8812", "timeout after <num>ms for order <num>"),
        ("charge 033a5c03 timed out", "charge <hex> timed out"),
        ("user 550e8400-e29b-41d4-a716-446655440000 not found", "user <uuid> not found"),
        ("span 0x1f failed", "span <hex> failed"),
        ("v2 api  deadline   exceeded", "v2 api deadline exceeded"),
        ("", ""),
    ],
)
def test_message_template(message, template):
    assert message_template(message) == template


def test_message_templates_group_the_same_problem():
    assert message_template("timeout after 250 ms for order 7") == message_template(
        "timeout after 3012 ms for order 8812"
    )
