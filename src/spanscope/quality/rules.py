"""The instrumentation-quality rules: what each one means, why it matters and how to fix it.

A rule is data (``Rule``); the checks that find its cases live in ``spanscope.quality.checks``.
Severity says what a finding costs the person reading traces in an incident:

- ``error``: the traces are broken, so analysis is wrong or impossible (a trace in pieces, no
  service name, duplicate ids);
- ``warning``: analysis is misleading (errors that are not marked as errors, spans of unknown
  kind or peer, names with ids in them, clock skew, secrets in attributes);
- ``info``: hygiene that makes data harder to use or to keep (deprecated attribute names, a
  resource without a version, huge attribute values).

Rule ids are stable: scripts filter on them (``--rule``, ``--skip``, the JSON report).
"""

from __future__ import annotations

from enum import IntEnum

import msgspec


class Severity(IntEnum):
    """Ordered, so ``severity >= Severity.WARNING`` reads as it should."""

    INFO = 1
    WARNING = 2
    ERROR = 3

    @property
    def label(self) -> str:
        return self.name.lower()


class Rule(msgspec.Struct, frozen=True):
    id: str
    severity: Severity
    title: str
    why: str
    fix: str


_RULES = (
    Rule(
        "broken-trace",
        Severity.ERROR,
        "trace in pieces (orphan spans, extra roots)",
        "A span names a parent that never arrived, or a request started a new root: the "
        "critical path and every per-request figure are computed on part of the request.",
        "Propagate the context on every hop (the same propagator, W3C tracecontext, on both "
        "sides; `spanscope propagation test` checks a live path) and make every service export "
        "the traces its parents sampled (a ParentBased sampler).",
    ),
    Rule(
        "service-name-missing",
        Severity.ERROR,
        "no service name",
        "Spans without a service name (or the SDK's unknown_service default) cannot be told "
        "apart: per-service latency, the service map and the profile lump them together.",
        "Set service.name on the resource, e.g. OTEL_SERVICE_NAME=checkout.",
    ),
    Rule(
        "duplicate-span-id",
        Severity.ERROR,
        "span ids used twice in one trace",
        "Two spans with one id make parent links ambiguous; assembly renamed one of them.",
        "Let the SDK generate span ids; never copy a span id into a new span.",
    ),
    Rule(
        "negative-duration",
        Severity.ERROR,
        "span ends before it starts",
        "Its duration is counted as 0, and its children cannot be placed under it.",
        "Take start and end from one monotonic clock (the SDK does unless times are passed in).",
    ),
    Rule(
        "parent-cycle",
        Severity.ERROR,
        "parent links form a loop",
        "No span of the loop can be the root; assembly cut the loop to show the trace.",
        "A span's parent must be the span active when it started; check manual parent ids.",
    ),
    Rule(
        "error-not-marked",
        Severity.WARNING,
        "failed call not marked as an error",
        "An HTTP 5xx answer (4xx or 5xx received by a client), a failing gRPC code or an "
        "escaped exception on a span whose status is not ERROR: error rates undercount and the "
        "origin of a failure is looked for in the wrong place.",
        "Set the span status to ERROR when the call failed (the semantic conventions say which "
        "codes fail); instrumentation libraries do this, hand-written spans often do not.",
    ),
    Rule(
        "kind-missing",
        Severity.WARNING,
        "call without a client or server kind",
        "A span with HTTP, RPC, database or messaging attributes whose kind is INTERNAL or "
        "unspecified: dependencies, the service map and propagation checks cannot see the call.",
        "Create the span with kind CLIENT (outgoing) or SERVER (incoming), PRODUCER/CONSUMER "
        "for messages.",
    ),
    Rule(
        "http-route-missing",
        Severity.WARNING,
        "HTTP server span without http.route",
        "Without the route, requests cannot be grouped by endpoint, and names tend to carry "
        "the raw path with its ids.",
        "Use the framework's instrumentation (it sets http.route) or set http.route to the "
        "route template, e.g. /users/{id}.",
    ),
    Rule(
        "peer-unknown",
        Severity.WARNING,
        "client call without its target",
        "A CLIENT span with no server.address, url.full or peer service: the dependency has no "
        "callee, so the service map and the per-dependency figures miss it.",
        "Set server.address (and server.port), or url.full for HTTP.",
    ),
    Rule(
        "high-cardinality-name",
        Severity.WARNING,
        "span names with ids in them",
        "Each request becomes its own operation: percentiles never group, and backends index "
        "one name per request.",
        "Name spans by route or method (GET /users/{id}) and put the id in an attribute.",
    ),
    Rule(
        "sensitive-data",
        Severity.WARNING,
        "credentials in attributes",
        "Passwords, tokens, cookies or authorization headers recorded in clear end up in every "
        "backend and export that keeps the trace.",
        "Do not capture these headers or parameters, or redact them in the SDK or collector "
        "(the Collector's redaction or attributes processor).",
    ),
    Rule(
        "unclosed-span",
        Severity.WARNING,
        "span never ended",
        "A span without an end is missing from durations and the critical path, and usually "
        "means a code path that forgets to end it (an exception, an early return).",
        "End spans in a finally block or use the SDK's context manager.",
    ),
    Rule(
        "clock-skew",
        Severity.WARNING,
        "child outside its parent because of clock skew",
        "Host clocks disagree: spans were shifted to fit under their parents; the shifted times "
        "are estimates.",
        "Synchronise host clocks (chrony/NTP).",
    ),
    Rule(
        "sampling-mixed",
        Severity.WARNING,
        "sampled and unsampled spans in one trace",
        "A service made its own head-sampling decision instead of following its parent's, so "
        "traces arrive with holes.",
        "Use a ParentBased sampler in every service (the SDK default), with the same ratio at "
        "the root.",
    ),
    Rule(
        "dropped-data",
        Severity.WARNING,
        "attributes, events or links dropped by SDK limits",
        "The span was cut by the SDK's limits: the data that would explain it may be what was "
        "dropped.",
        "Raise OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT / OTEL_SPAN_EVENT_COUNT_LIMIT / "
        "OTEL_SPAN_LINK_COUNT_LIMIT, or record less per span.",
    ),
    Rule(
        "invalid-data",
        Severity.WARNING,
        "something else wrong in the data",
        "A reader or assembly found a field it could not use as it was.",
        "See the detail; it names the field.",
    ),
    Rule(
        "error-unexplained",
        Severity.INFO,
        "error without a message or exception",
        "The span says it failed but not why: no status message, exception event or error.type.",
        "Record the exception (span.record_exception) or set a status description.",
    ),
    Rule(
        "exception-not-error",
        Severity.INFO,
        "exception recorded on a span that did not fail",
        "Often a handled exception, which is fine; but if the request failed, its status should "
        "say so.",
        "Set status ERROR when the exception made the operation fail; otherwise ignore.",
    ),
    Rule(
        "deprecated-attribute",
        Severity.INFO,
        "deprecated semantic-convention attribute",
        "Dashboards and queries written for the current conventions do not find these keys.",
        "Upgrade the instrumentation, or opt in to the stable conventions "
        "(OTEL_SEMCONV_STABILITY_OPT_IN=http, database, ...).",
    ),
    Rule(
        "resource-incomplete",
        Severity.INFO,
        "resource without version or environment",
        "Without service.version and deployment.environment.name a regression cannot be tied "
        "to a release, or production told apart from staging.",
        "Set them on the resource, e.g. OTEL_RESOURCE_ATTRIBUTES=service.version=1.4.2,"
        "deployment.environment.name=prod.",
    ),
    Rule(
        "scope-missing",
        Severity.INFO,
        "span without an instrumentation scope",
        "The tracer was created without a name, so nobody can tell which library or module "
        "made the span.",
        "Name tracers after the module: trace.get_tracer(__name__).",
    ),
    Rule(
        "long-attribute",
        Severity.INFO,
        "very long attribute values",
        "Values over 4 KiB (whole payloads, SQL dumps) cost storage and transfer in every "
        "backend and rarely help.",
        "Set OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT, or record a summary instead.",
    ),
)

RULES: dict[str, Rule] = {rule.id: rule for rule in _RULES}
