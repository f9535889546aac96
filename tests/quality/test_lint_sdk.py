"""``lint`` on spans made by the real OpenTelemetry SDK (``sdk_scenario``), read back by
spanscope's OTLP protobuf reader: the report must name each planted fault, in the right service,
and nothing in the well-instrumented one."""

from __future__ import annotations

import pytest

from spanscope.assembly import assemble
from spanscope.formats import decode_spans
from spanscope.quality.linter import lint

from .sdk_scenario import ORDERS, export


@pytest.fixture(scope="module")
def report():
    spans = decode_spans(export(), "otlp-proto", source="sdk export")
    return lint(assemble(spans))


def by_id(report) -> dict:
    return {rule.id: rule for rule in report.rules}


def test_the_counts(report):
    assert report.traces == ORDERS + 1
    assert report.spans == ORDERS * 4 + 1


def test_the_well_instrumented_service_is_clean(report):
    (frontend,) = [s for s in report.services if s.service == "frontend"]
    assert frontend.score == 1.0
    assert frontend.rules == []


def nameless_service(report) -> str:
    # The SDK's default: unknown_service:<the executable's name>.
    (name,) = [s.service for s in report.services if s.service.startswith("unknown_service")]
    return name


def test_every_planted_fault_is_named_in_its_service(report):
    rules = by_id(report)
    nameless = nameless_service(report)
    expected = {
        # rule: (service, spans)
        "error-not-marked": ("checkout", ORDERS),
        "http-route-missing": ("checkout", ORDERS),
        "kind-missing": ("checkout", ORDERS),
        "sensitive-data": ("checkout", ORDERS),
        "high-cardinality-name": ("checkout", ORDERS),
        "exception-not-error": ("checkout", ORDERS),
        "deprecated-attribute": ("checkout", 2 * ORDERS),
        "service-name-missing": (nameless, 1),
        "broken-trace": (nameless, 1),
        "error-unexplained": (nameless, 1),
    }
    assert set(rules) == {*expected, "resource-incomplete"}
    for rule_id, (service, spans) in expected.items():
        assert rules[rule_id].services == {service: spans}, rule_id
    # Both have an SDK resource (telemetry.sdk.*) without version and environment.
    assert rules["resource-incomplete"].services == {"checkout": 2 * ORDERS, nameless: 1}
    assert rules["error-not-marked"].details == {"HTTP 500 answered by a SERVER span": ORDERS}
    assert rules["kind-missing"].details == {"INTERNAL span with db.system": ORDERS}
    assert rules["deprecated-attribute"].details == {
        "db.statement → db.query.text": ORDERS,
        "db.system → db.system.name": ORDERS,
        "http.method → http.request.method": ORDERS,
        "http.status_code → http.response.status_code": ORDERS,
    }
    assert rules["resource-incomplete"].details == {
        "no service.version, no deployment.environment.name": 2 * ORDERS + 1
    }
    assert rules["high-cardinality-name"].examples[0].name == "POST /orders/<num>"


def test_scores_and_order(report):
    services = {s.service: s for s in report.services}
    # checkout: both its spans have warnings (the handler many, the database call its kind).
    assert services["checkout"].spans_with_warnings == 2 * ORDERS
    assert services["checkout"].score == 0.0
    assert report.score == pytest.approx(2 * ORDERS / (4 * ORDERS + 1))
    assert services[nameless_service(report)].spans_with_errors == 1
    assert report.services[0].service == nameless_service(report)  # worst first
    assert report.rules[0].severity == "error"
    assert report.worst().label == "error"


def test_no_credential_in_the_report(report):
    import msgspec

    assert "s3cr3t" not in msgspec.json.encode(report).decode()
