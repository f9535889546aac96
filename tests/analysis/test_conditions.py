"""--fail-if: the parser is strict, evaluation holds exactly when it should."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from spanscope.analysis import analyze
from spanscope.analysis.conditions import ConditionError, evaluate, parse_condition
from spanscope.model import StatusCode
from tests.analysis.builders import MS, build_all, span


def test_parse():
    c = parse_condition("p99(GET /checkout) > 800ms")
    assert (c.metric, c.target, c.op, c.threshold, c.unit) == (
        "p99", "GET /checkout", ">", 800 * MS, "ms"
    )  # fmt: skip
    c = parse_condition("  error_rate>=1.5% ")
    assert (c.metric, c.target, c.op, c.threshold) == ("error_rate", None, ">=", 0.015)
    assert parse_condition("error_rate < 0.02").threshold == 0.02
    assert parse_condition("count(web:GET /a(b)) != 3").target == "web:GET /a(b)"
    assert parse_condition("MAX < 2s").metric == "max"


@pytest.mark.parametrize(
    ("expression", "problem"),
    [
        ("p99 > 800", "invalid duration"),
        ("p98 > 1s", "unknown metric"),
        ("p99(GET /) => 1s", "cannot read"),
        ("p99() > 1s", "empty target"),
        ("p99 >", "no value"),
        ("error_rate > 150%", "over 100%"),
        ("error_rate > 2", "over 1"),
        ("error_rate > 1ms", "percentage or a fraction"),
        ("count > 1.5", "whole number"),
        ("p50 > 3 parsecs", "invalid duration"),
        ("", "cannot read"),
    ],
)
def test_bad_expressions_name_the_problem(expression, problem):
    with pytest.raises(ConditionError, match=problem):
        parse_condition(expression)


@given(st.text(max_size=40))
def test_parser_never_crashes(text):
    """Anything typed gives a condition or a ConditionError, never another exception."""
    try:
        condition = parse_condition(text)
    except ConditionError:
        return
    assert condition.metric in ("p50", "p90", "p95", "p99", "max", "error_rate", "count")


@pytest.fixture(scope="module")
def report():
    spans = []
    for index in range(1, 11):  # GET /a lasts 10..100 ms; request 10 failed
        error = {"status_code": StatusCode.ERROR} if index == 10 else {}
        spans.append(span(f"a{index}", None, 0, 10 * index, service="web", operation="GET /a",
                          trace=f"{index:x}", **error))  # fmt: skip
        spans.append(span(f"q{index}", f"a{index}", 1, 2, service="db", operation="SELECT",
                          trace=f"{index:x}"))  # fmt: skip
    spans.append(span("b", None, 0, 5, service="api", operation="GET /a", trace="ff"))
    return analyze(build_all(*spans))


@pytest.mark.parametrize(
    ("expression", "holds"),
    [
        ("p99(web:GET /a) > 99ms", True),
        ("p99(web:GET /a) > 100ms", False),
        ("p50(web:GET /a) == 50ms", True),
        ("max(web:GET /a) >= 100ms", True),
        ("count(web:GET /a) == 10", True),
        ("error_rate(web:GET /a) > 9%", True),
        ("error_rate(web:GET /a) > 10%", False),
        ("error_rate > 9.1%", False),  # 1 of 11 requests: 9.09%
        ("error_rate > 9%", True),
        ("count < 11", False),
        ("p99(SELECT) <= 1ms", True),  # an operation anywhere, not an endpoint
        ("p99(db:SELECT) < 1ms", False),
    ],
)
def test_evaluate(report, expression, holds):
    result = evaluate(parse_condition(expression), report)
    assert result.holds is holds, result.message


def test_missing_and_ambiguous_targets(report):
    result = evaluate(parse_condition("p99(GET /nothing) > 1ms"), report)
    assert result.holds is False and result.value is None and "no data" in result.message
    with pytest.raises(ConditionError, match="several services"):
        evaluate(parse_condition("p99(GET /a) > 1ms"), report)
