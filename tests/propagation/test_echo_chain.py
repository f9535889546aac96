"""Chains of real echo probes on loopback: every format passes through three hops; a hop that
does not propagate, a proxy that drops headers, a short chain and a dead next hop each fail
with an explanation naming where the context broke; spans the probes export over OTLP form one
tree in a trace store."""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator

import pytest

from spanscope.formats import encode_spans
from spanscope.model import Span
from spanscope.propagation import codecs
from spanscope.propagation.backend import verify_not_exported
from spanscope.propagation.tester import run_test

from .loopback import LoopbackServer, QuietHandler
from .tracestore import TraceStore

SERVICES = ["gateway", "orders", "payments"]


@pytest.mark.parametrize("fmt", codecs.FORMAT_NAMES)
def test_three_echo_probes_pass_in_every_format(echo_chain, fmt: str) -> None:
    chain = echo_chain(SERVICES)
    report = run_test(chain[0].url + "checkout", fmt, hops=3, expect_services=SERVICES)
    assert report.ok, report.formats[0].failures()
    result = report.formats[0]
    assert [h.service for h in result.hops] == SERVICES
    sent_ids = {result.span_id} | {h.received["span_id"] for h in result.hops}
    assert len(sent_ids) == 3  # hop 2 and 3 each received a parent id never seen before
    names = {c.name for h in result.hops for c in h.checks}
    assert {"context received", "trace id kept", "new parent id", "baggage kept"} <= names
    assert all(h.received["trace_id"] == result.trace_id for h in result.hops)


def test_not_sampled_decision_is_kept_in_every_format(echo_chain) -> None:
    chain = echo_chain(SERVICES)
    report = run_test(chain[0].url, "all", hops=3, sampled=False)
    assert report.ok, [f.failures() for f in report.formats]
    for result in report.formats:
        assert all(h.received["sampled"] is False for h in result.hops)
        assert all(any(c.name == "sampling kept" for c in h.checks) for h in result.hops)


def test_all_formats_in_one_run(echo_chain) -> None:
    chain = echo_chain(SERVICES)
    report = run_test(chain[0].url, "all", hops=3)
    assert report.ok and [f.format for f in report.formats] == list(codecs.FORMAT_NAMES)


def test_hop_that_does_not_propagate_is_named(echo_chain) -> None:
    chain = echo_chain(SERVICES, orders={"propagate": False})
    report = run_test(chain[0].url, "w3c,b3", hops=3)
    assert not report.ok
    for result in report.formats:
        failures = result.failures()
        assert failures[0].startswith("hop 2 (orders) called its next hop without")
        assert result.hops[0].ok and not result.hops[1].ok


class DroppingProxy(LoopbackServer):
    """A proxy that forwards to ``target`` but drops every trace-context header."""

    def __init__(self, target: str) -> None:
        class Handler(QuietHandler):
            def do_GET(self) -> None:
                request = urllib.request.Request(target)
                for name, value in self.headers.items():
                    if not codecs.is_context_header(name) and name.lower() != "host":
                        request.add_header(name, value)
                with urllib.request.urlopen(request, timeout=10) as response:
                    payload = response.read()
                self.answer(200, payload)

        super().__init__(Handler)
        self.url = self.base_url + "/"


@pytest.fixture
def proxy_factory() -> Iterator:
    made: list[DroppingProxy] = []

    def make(target: str) -> DroppingProxy:
        made.append(DroppingProxy(target))
        return made[-1]

    yield make
    for proxy in made:
        proxy.stop()


def test_proxy_between_hops_that_drops_headers_is_located(echo_factory, proxy_factory) -> None:
    payments = echo_factory(service="payments")
    orders = echo_factory(service="orders", forward=[payments.url])
    proxy = proxy_factory(orders.url)
    gateway = echo_factory(service="gateway", forward=[proxy.url])
    report = run_test(gateway.url, "jaeger", hops=3)
    assert not report.ok
    failure = report.formats[0].failures()[0]
    assert "between hop 1 (gateway) and hop 2 (orders)" in failure
    assert "dropped the headers" in failure


def test_proxy_in_front_of_the_first_hop(echo_factory, proxy_factory) -> None:
    gateway = echo_factory(service="gateway")
    report = run_test(proxy_factory(gateway.url).url, "xray")
    assert not report.ok
    assert "in front of hop 1 (gateway)" in report.formats[0].failures()[0]


def test_short_chain_and_dead_next_hop(echo_chain, echo_factory) -> None:
    chain = echo_chain(SERVICES)
    short = run_test(chain[0].url, "b3multi", hops=4)
    assert not short.ok
    assert "ended at hop 3 (payments) after 3 of 4 hops" in short.formats[0].failures()[0]
    dead = echo_factory(service="lonely", forward=["http://127.0.0.1:9/"])
    report = run_test(dead.url, "w3c", hops=2)
    assert "hop 1 (lonely) could not reach its next hop" in report.formats[0].failures()[0]
    wrong = run_test(chain[0].url, "w3c", expect_services=["gateway", "billing", "payments"])
    assert "expected services gateway, billing, payments" in wrong.formats[0].failures()[0]


def test_unreachable_or_not_an_echo_probe_without_backend() -> None:
    unreachable = run_test("http://127.0.0.1:9/", "w3c")
    assert not unreachable.ok and "could not reach" in unreachable.formats[0].failures()[0]
    store = TraceStore()  # answers JSON, but not an echo answer
    try:
        report = run_test(store.url + "/api/traces/1", "w3c")
    finally:
        store.stop()
    assert not report.ok
    assert "is not an echo probe" in report.formats[0].failures()[0]
    assert report.formats[0].notes == [f"{store.url}/api/traces/1 answered HTTP 404"]


def test_echo_probes_export_one_connected_tree(echo_chain, monkeypatch) -> None:
    monkeypatch.setenv("OTEL_BSP_SCHEDULE_DELAY", "50")  # export within 50 ms
    store = TraceStore()
    try:
        endpoint = {"otlp_endpoint": store.url}
        chain = echo_chain(SERVICES, **{name: endpoint for name in SERVICES})
        report = run_test(chain[0].url, "w3c", hops=3, expect_services=SERVICES, backend=store.url)
        assert report.ok, report.formats[0].failures()
        backend = report.formats[0].backend
        assert backend.found and set(backend.services) == set(SERVICES)
        assert backend.span_count == 5  # 3 server spans, 2 client spans
    finally:
        store.stop()


def test_a_trace_of_one_service_says_service(echo_chain, monkeypatch) -> None:
    """One probe where two hops were expected: the store holds "1 service", not "1 services"."""
    monkeypatch.setenv("OTEL_BSP_SCHEDULE_DELAY", "50")  # export within 50 ms
    store = TraceStore()
    try:
        chain = echo_chain(["gateway"], gateway={"otlp_endpoint": store.url})
        report = run_test(chain[0].url, "w3c", hops=2, backend=store.url, backend_wait=3)
    finally:
        store.stop()
    failures = report.formats[0].failures()
    assert any(
        "the trace holds 1 service (gateway), expected 2 hops: the chain broke after it" in text
        for text in failures
    ), failures


def test_one_span_exported_against_the_decision_says_span() -> None:
    """A trace marked not sampled with one span in the store: "1 span of", not "1 spans of"."""
    store = TraceStore()
    try:
        span = Span(
            trace_id="4bf92f3577b34da6a3ce929d0e0e4736",
            span_id="00f067aa0ba902b7",
            parent_span_id="a2fb4a1d1a96d312",
            name="GET /",
            start_ns=1_764_000_000 * 10**9,
            end_ns=1_764_000_001 * 10**9,
            service_name="orders",
        )
        request = urllib.request.Request(
            f"{store.url}/v1/traces",
            data=encode_spans([span], "otlp-proto"),
            headers={"Content-Type": "application/x-protobuf"},
        )
        urllib.request.urlopen(request, timeout=10).close()
        result = verify_not_exported(store.url, span.trace_id, wait=0)
    finally:
        store.stop()
    assert result.found and "(1 span of orders stored)" in result.problems[0], result.problems
