"""``--fail-if`` conditions: a small, strict expression language checked against a report.

Grammar (whitespace is free around the parts)::

    condition := metric [ "(" target ")" ] op value
    metric    := p50 | p90 | p95 | p99 | max | error_rate | count
    op        := ">" | ">=" | "<" | "<=" | "==" | "!="
    value     := duration (p50..max: a number with a unit ns, us, µs, ms, s, m, h)
               | rate     (error_rate: "1%" or a fraction 0..1 such as "0.01")
               | integer  (count)

Targets: none (every request: root spans of all traces); an endpoint by its root operation
(``GET /checkout``), or ``service:operation`` (an endpoint if one has that root service and
operation, else the spans of that operation wherever they occur). A bare name that is the root
operation of endpoints in several services is ambiguous and rejected.

``parse_condition`` raises ``ConditionError`` naming what is wrong; ``evaluate`` returns a
``ConditionResult``: a condition about something with no data does not hold (and says so).
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from typing import TypeVar

import msgspec

from spanscope import units
from spanscope.analysis.percentiles import LatencyStats
from spanscope.analysis.results import (
    AnalysisReport,
    ConditionResult,
    EndpointStats,
    OperationStats,
)

METRICS = ("p50", "p90", "p95", "p99", "max", "error_rate", "count")
_OPS: dict[str, Callable[[float, float], bool]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
    "==": operator.eq,
    "!=": operator.ne,
}
_SHAPE = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:\((.*)\))?\s*(>=|<=|==|!=|>|<)\s*(.*?)\s*$")
_NUMBER_UNIT = re.compile(r"^([0-9]+(?:\.[0-9]+)?|\.[0-9]+)\s*([A-Za-zµ%]*)$")
_Row = TypeVar("_Row", EndpointStats, OperationStats)


class ConditionError(ValueError):
    """A condition that cannot be parsed or resolved; the message says why."""


def parse_duration(text: str) -> int:
    """``"800ms"`` -> 800_000_000 (ns); a unit is required (``spanscope.units``)."""
    try:
        return units.parse_duration(text)
    except ValueError as exc:
        raise ConditionError(str(exc)) from None


class Condition(msgspec.Struct, frozen=True):
    expression: str
    metric: str
    target: str | None
    op: str
    threshold: float  # ns for durations, a fraction for error_rate, a number for count
    unit: str  # how to show values: a duration unit, "%" or ""


def _rate(text: str) -> tuple[float, str]:
    match = _NUMBER_UNIT.match(text)
    if not match or match.group(2) not in ("", "%"):
        raise ConditionError(f"error_rate needs a percentage or a fraction, not {text!r}")
    number = float(match.group(1))
    if match.group(2) == "%":
        if number > 100:
            raise ConditionError(f"error rate {text!r} is over 100%")
        return number / 100, "%"
    if number > 1:
        raise ConditionError(f"error rate {text!r} is over 1; write a percentage such as 2%")
    return number, "%"


def parse_condition(expression: str) -> Condition:
    """Parse one ``--fail-if`` expression (see the module docstring)."""
    match = _SHAPE.match(expression)
    if not match:
        raise ConditionError(
            f"cannot read {expression!r}: expected METRIC[(TARGET)] OP VALUE, "
            "e.g. 'p99(GET /checkout) > 800ms' or 'error_rate > 1%'"
        )
    metric, target, op, value = match.groups()
    metric = metric.lower()
    if metric not in METRICS:
        raise ConditionError(f"unknown metric {metric!r} in {expression!r}; use one of {METRICS}")
    if target is not None:
        target = target.strip()
        if not target:
            raise ConditionError(f"empty target in {expression!r}")
    if not value:
        raise ConditionError(f"no value after {op!r} in {expression!r}")
    if metric == "error_rate":
        threshold, unit = _rate(value)
    elif metric == "count":
        if not value.isdecimal():
            raise ConditionError(f"count needs a whole number, not {value!r}")
        threshold, unit = float(value), ""
    else:
        threshold = float(parse_duration(value))
        shape = _NUMBER_UNIT.match(value)
        unit = shape.group(2) if shape else ""
    return Condition(expression.strip(), metric, target, op, threshold, unit)


def _resolve(report: AnalysisReport, target: str | None) -> tuple[LatencyStats, int, str] | None:
    """(latency, errors, description) of what ``target`` names; None when there is no data."""
    if target is None:
        summary = report.summary
        return summary.latency, summary.failed_traces, "all requests"
    for index, char in enumerate(target):
        if char != ":":
            continue
        service, operation = target[:index], target[index + 1 :]
        for endpoint in report.endpoints:
            if endpoint.service == service and endpoint.operation == operation:
                return endpoint.latency, endpoint.failed, f"endpoint {target}"
        for op in report.operations:
            if op.service == service and op.operation == operation:
                return op.latency, op.errors, f"operation {target}"
    named = _only(report.endpoints, target, f"{target!r} is an endpoint of several services")
    if named is not None:
        return named.latency, named.failed, f"endpoint {target}"
    spans = _only(report.operations, target, f"operation {target!r} occurs in several services")
    if spans is not None:
        return spans.latency, spans.errors, f"operation {target}"
    return None


def _only(rows: list[_Row], name: str, several: str) -> _Row | None:
    """The row of ``rows`` whose operation is ``name``, None if there is none; rows of several
    services with that operation make the name ambiguous (``several`` says what it names)."""
    matches = [row for row in rows if row.operation == name]
    if len(matches) > 1:
        services = ", ".join(sorted(row.service for row in matches))
        raise ConditionError(f"{several} ({services}); write SERVICE:{name}")
    return matches[0] if matches else None


def _scale(unit: str) -> int:
    """ns per duration ``unit`` as written (any case), by ``spanscope.units``' own table; 1 for
    a unit it does not know (a threshold's unit was checked when it was parsed)."""
    try:
        return units.parse_duration(f"1{unit}")
    except ValueError:
        return 1


def _show(value: float, unit: str) -> str:
    if unit == "%":
        return f"{value * 100:.4g}%"
    if unit:
        return f"{value / _scale(unit):.6g}{unit}"
    return f"{value:.6g}"


def evaluate(condition: Condition, report: AnalysisReport) -> ConditionResult:
    """Check ``condition`` against ``report``. Raises ``ConditionError`` for an ambiguous
    target."""
    resolved = _resolve(report, condition.target)
    if resolved is None or resolved[0].count == 0:
        return ConditionResult(
            condition.expression, False, None, f"no data for {condition.target or 'requests'}"
        )
    latency, errors, what = resolved
    if condition.metric == "error_rate":
        value = errors / latency.count
    elif condition.metric == "count":
        value = float(latency.count)
    else:
        value = float(getattr(latency, f"{condition.metric}_ns"))
    holds = _OPS[condition.op](value, condition.threshold)
    shown = f"{condition.metric} of {what} is {_show(value, condition.unit)}"
    verdict = "" if holds else "not "
    message = f"{shown}: {verdict}{condition.op} {_show(condition.threshold, condition.unit)}"
    scale = _scale(condition.unit) if condition.unit and condition.unit != "%" else 1.0
    return ConditionResult(condition.expression, holds, value / scale, message)
