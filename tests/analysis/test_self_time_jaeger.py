"""Self time matches Jaeger UI's trace statistics.

Expected numbers are those asserted in jaeger-ui's ``TraceStatistics/tableValues.test.js`` at
commit c321fb32bbca0bdce9e8c2d40afb35abbf54c12b (values in ms rounded to 2 decimals the way
JavaScript's ``Math.round`` does; ``percent`` is self total over the trace's duration).
"""

from __future__ import annotations

import math

import pytest

from spanscope.analysis.self_time import self_times
from tests.analysis.jaeger_legacy import load_file

PREFIX = "packages__jaeger-ui__src__components__TracePage__TraceStatistics__tableValuesTestTrace__"


def _ms(ns: int) -> float:
    return math.floor(ns / 1e6 * 100 + 0.5) / 100  # JS Math.round, half up


def _table(name: str, key) -> dict:
    trace, _ = load_file(PREFIX + name + ".json")
    selfs = self_times(trace)
    rows: dict = {}
    for span in trace.spans:
        row = rows.setdefault(key(span), {"count": 0, "total": 0, "self": [], "dur": []})
        row["count"] += 1
        row["total"] += span.duration_ns
        row["dur"].append(span.duration_ns)
        row["self"].append(selfs[span.span_id])
    out = {}
    for k, row in rows.items():
        self_total = sum(row["self"])
        out[k] = {
            "count": row["count"],
            "total": _ms(row["total"]),
            "min": _ms(min(row["dur"])),
            "max": _ms(max(row["dur"])),
            "selfTotal": _ms(self_total),
            "selfMin": _ms(min(row["self"])),
            "selfMax": _ms(max(row["self"])),
            "percent": math.floor(self_total * 100 / trace.duration_ns * 100 + 0.5) / 100,
        }
    return out


def _service(span):
    return span.service_name


def _operation(span):
    return span.name


def _both(span):
    return (span.service_name, span.name)


# jaeger-ui's table columns, in its order.
_COLUMNS = ("count", "total", "min", "max", "selfTotal", "selfMin", "selfMax", "percent")


@pytest.mark.parametrize(
    ("key", "row", "values"),
    [
        (_service, "api-gateway", (2, 7.4, 2.5, 4.9, 3.16, 0.76, 2.4, 64.52)),
        (_service, "customers-service", (3, 1.81, 0.02, 1.74, 1.74, 0.02, 1.67, 35.48)),
        (
            _operation,
            "GET /api/customer/owners/8/pets/10",
            (1, 4.9, 4.9, 4.9, 2.4, 2.4, 2.4, 49.02),
        ),
        (_operation, "GET /owners/8/pets/10", (2, 4.24, 1.74, 2.5, 2.43, 0.76, 1.67, 49.49)),
        (
            _operation,
            "HikariProxyPreparedStatement.executeQuery",
            (2, 0.07, 0.02, 0.05, 0.07, 0.02, 0.05, 1.49),
        ),
    ],
)
def test_normal_trace_rows(key, row: str, values: tuple) -> None:
    assert _table("testTraceNormal", key)[row] == dict(zip(_COLUMNS, values, strict=True))


def test_normal_trace_by_service_and_operation():
    table = _table("testTraceNormal", _both)
    assert table[("api-gateway", "GET /owners/8/pets/10")]["selfTotal"] == 0.76
    assert table[("api-gateway", "GET /owners/8/pets/10")]["percent"] == 15.5
    assert table[("customers-service", "GET /owners/8/pets/10")]["selfTotal"] == 1.67
    assert table[("customers-service", "GET /owners/8/pets/10")]["percent"] == 33.99


@pytest.mark.parametrize(
    ("name", "key", "expected"),
    [
        ("spansAmongEachOther", ("customers-service", "GET /owners"), 1.67),
        ("spansAmongEachOtherGrouped", ("customers-service", "GET /owners"), 1.63),
        ("spanAmongEachOtherGroupedAndSpans", ("customers-service", "GET /owners"), 1.56),
        ("spanLongerAsParent", ("api-gateway", "GET /owners/8/pets/10"), 1.22),
    ],
)
def test_self_time_of_operation(name, key, expected):
    assert _table(name, _both)[key]["selfTotal"] == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("traceWithOverlappingChildrenLongerThanParent", 0.03),
        ("traceWithTwoNonOverlappingChildren", 0.03),
        ("traceWithOverlappingChildren", 0),
        ("traceWithSingleChildLongerThanParentAndStartsAfterParent", 0.04),
        ("traceWithThreeShortChildren", 0.01),
        ("traceWithTwoChildrenStartedAtTraceStart", 0),
    ],
)
def test_self_time_of_first_service(name, expected):
    assert _table(name, _service)["service-one"]["selfTotal"] == expected
