"""``lint`` on every third-party trace fixture: it reads them all without failing, the report
fits its schema, and on the Zipkin traces it does not blame B3's shared client/server spans
(a legitimate model, which assembly resolves) for duplicate ids."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import msgspec
import pytest

from spanscope.assembly import assemble
from spanscope.errors import Diagnostics
from spanscope.formats import read_spans
from spanscope.quality.linter import lint
from tests.conftest import FIXTURES
from tests.formats.test_every_fixture import TRACES

SCHEMA = json.loads(
    (Path(__file__).resolve().parents[2] / "schemas/lint-report.schema.json").read_text()
)
SMARTTHINGS = "zipkin/zipkin-lens__testdata__smartthings-oauth-authorization.json"


def report_of(name: str):
    spans = list(read_spans(str(FIXTURES / name), diagnostics=Diagnostics()))
    return lint(assemble(spans))


@pytest.mark.parametrize("name", sorted(TRACES))
def test_every_fixture_lints(name):
    report = report_of(name)
    jsonschema.validate(msgspec.to_builtins(report), SCHEMA)
    assert report.spans > 0


def test_zipkin_shared_spans_are_not_duplicate_ids():
    spans = list(read_spans(str(FIXTURES / SMARTTHINGS), diagnostics=Diagnostics()))
    (trace,) = assemble(spans)
    # The trace does have client/server pairs sharing an id, which assembly split...
    assert any(p.cause == "shared" for p in trace.problems)
    assert {p.cause for p in trace.problems if p.kind == "duplicate_span_id"} == {"shared"}
    rules = {rule.id: rule for rule in lint([trace]).rules}
    # ...and none is reported as a fault.
    assert "duplicate-span-id" not in rules
    assert "invalid-data" not in rules
    # What is wrong in it is: Zipkin spans without a duration, HTTP servers without a route.
    assert rules["unclosed-span"].spans == 19
    assert rules["http-route-missing"].details == {"SERVER span with an HTTP method": 19}
    assert "scope-missing" not in rules  # Zipkin has no scopes to miss


def test_two_different_spans_with_one_id_is_an_error_and_a_resent_copy_is_not():
    from spanscope.model import Span

    def make(span_id: str, name: str, start: int) -> Span:
        return Span(
            "0af7651916cd43dd8448eb211c80319c", span_id, name, start, start + 10, service_name="a"
        )

    (clash,) = assemble([make("b7ad6b7169203331", "x", 0), make("b7ad6b7169203331", "y", 5)])
    assert [p.cause for p in clash.problems if p.kind == "duplicate_span_id"] == ["clash"]
    different = lint([clash])
    (rule,) = [r for r in different.rules if r.id == "duplicate-span-id"]
    assert rule.details == {"two different spans with one id": 1}
    (copied,) = assemble([make("b7ad6b7169203331", "x", 0), make("b7ad6b7169203331", "x", 0)])
    assert [p.cause for p in copied.problems if p.kind == "duplicate_span_id"] == ["copy"]
    copy = lint([copied])
    assert [r.id for r in copy.rules] == ["invalid-data"]
    assert copy.rules[0].details == {"the same span received more than once": 1}


# Zipkin's and Jaeger's own clients (Envoy, Brave, jaeger-client) name attributes by their own
# conventions; 'deprecated semantic-convention attribute, upgrade the instrumentation or set
# OTEL_SEMCONV_STABILITY_OPT_IN' was said of Envoy's http.method and Jaeger's peer.service.
@pytest.mark.parametrize(
    "name",
    [
        "zipkin/zipkin-lens__testdata__envoy.json",
        SMARTTHINGS,
        "zipkin/benchmarks__src__test__resources__zipkin2-chinese.json",
        "jaeger/internal__uimodel__converter__v1__json__fixtures__ui_01.json",
    ],
)
def test_clients_with_their_own_conventions_are_not_told_their_names_are_deprecated(name):
    spans = list(read_spans(str(FIXTURES / name), diagnostics=Diagnostics()))
    keys = {key for span in spans for key in span.attributes}
    assert keys & {"http.method", "http.status_code", "http.url", "peer.service"}
    rules = {rule.id for rule in lint(assemble(spans)).rules}
    assert "deprecated-attribute" not in rules


def test_an_otel_sdk_exporting_zipkin_is_still_told(tmp_path):
    from opentelemetry.exporter.zipkin.json.v2 import JsonV2Encoder
    from opentelemetry.exporter.zipkin.node_endpoint import NodeEndpoint
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": "checkout"}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    with provider.get_tracer("shop.checkout").start_as_current_span(
        "GET /cart", attributes={"http.method": "GET", "http.route": "/cart"}
    ):
        pass
    path = tmp_path / "zipkin.json"
    path.write_text(JsonV2Encoder().serialize(exporter.get_finished_spans(), NodeEndpoint()))
    spans = list(read_spans(str(path), diagnostics=Diagnostics()))
    assert spans[0].scope_name == "shop.checkout"  # the exporter's otel.scope.name tag
    rules = {rule.id: rule for rule in lint(assemble(spans)).rules}
    assert rules["deprecated-attribute"].details == {"http.method → http.request.method": 1}
