"""Propagation across a real Node.js hop: an OpenTelemetry JS service (one propagator per
format: W3C tracecontext, B3 single and multi, Jaeger, X-Ray; W3C baggage beside them) between
two echo probes, every service exporting to a real server. ``spanscope propagation test`` walks
the three hops (the Node service answers with the headers it received and sent, which the
tester reads itself) and, with ``--backend``, reads the trace back through the server's Jaeger
API. A Node hop that does not propagate fails naming that hop, also when it answers like any
service and only the trace store shows it."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable, Iterator

import pytest

from spanscope.propagation import codecs
from spanscope.propagation.echo import EchoConfig, EchoServer
from spanscope.propagation.results import FormatReport
from spanscope.propagation.tester import run_test
from tests.server.conftest import RunningServer

from .conftest import NODE_DIR, node_ready

SERVICES = ["gateway", "orders", "payments"]
Chain = Callable[..., str]


@pytest.fixture
def node_chain(live_server: RunningServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[Chain]:
    """``node_chain(propagator, *flags)`` -> the URL of gateway (echo) -> orders (Node, with
    ``propagator``) -> payments (echo); all three export their spans to ``live_server``."""
    missing = node_ready()
    if missing:
        pytest.fail(missing)
    monkeypatch.setenv("OTEL_BSP_SCHEDULE_DELAY", "50")  # the echo probes export within 50 ms
    started: list[EchoServer] = []
    nodes: list[subprocess.Popen[str]] = []

    def build(propagator: str, *flags: str) -> str:
        payments = EchoServer(EchoConfig(service="payments", otlp_endpoint=live_server.http))
        started.append(payments.start())
        node = subprocess.Popen(
            [
                "node",
                str(NODE_DIR / "propagation_hop.mjs"),
                "--service",
                "orders",
                "--propagator",
                propagator,
                "--next",
                payments.url + "pay",
                "--otlp-endpoint",
                f"{live_server.http}/v1/traces",
                *flags,
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        nodes.append(node)
        assert node.stdout is not None
        orders = json.loads(node.stdout.readline())["url"]  # printed once it listens
        gateway = EchoServer(
            EchoConfig(service="gateway", forward=[orders], otlp_endpoint=live_server.http)
        )
        started.append(gateway.start())
        return gateway.url

    yield build
    for node in nodes:
        node.terminate()
        node.wait(10)
    for probe in started:
        probe.stop()


def check(
    url: str, fmt: str, server: RunningServer, wait: float, sampled: bool = True
) -> FormatReport:
    report = run_test(
        url,
        fmt,
        hops=3,
        expect_services=SERVICES,
        backend=server.ui,
        backend_wait=wait,
        sampled=sampled,
    )
    return report.formats[0]


@pytest.mark.parametrize("fmt", codecs.FORMAT_NAMES)
def test_node_hop_passes_in_every_format(
    node_chain: Chain, live_server: RunningServer, fmt: str
) -> None:
    result = check(node_chain(fmt), fmt, live_server, wait=10)
    assert result.ok, result.failures()
    assert [hop.service for hop in result.hops] == SERVICES
    orders = result.hops[1]
    checks = {c.name for c in orders.checks}
    assert {"context received", "trace id kept", "sampling kept", "baggage kept"} <= checks
    assert {"context sent on", "new parent id"} <= checks
    assert result.hops[2].received is not None
    assert result.hops[2].received["trace_id"] == result.trace_id
    assert result.backend is not None and result.backend.found
    assert sorted(result.backend.services) == sorted(SERVICES)
    assert result.backend.span_count == 5  # 3 server spans, 2 client spans


@pytest.mark.parametrize("fmt", ["b3multi", "xray"])
def test_node_hop_keeps_a_not_sampled_decision(
    node_chain: Chain, live_server: RunningServer, fmt: str
) -> None:
    result = check(node_chain(fmt), fmt, live_server, wait=1, sampled=False)
    assert result.ok, result.failures()
    assert all(hop.received and hop.received["sampled"] is False for hop in result.hops)
    assert result.backend is not None and not result.backend.found


@pytest.mark.parametrize("fmt", ["w3c", "xray"])
def test_node_hop_that_does_not_inject_is_named(
    node_chain: Chain, live_server: RunningServer, fmt: str
) -> None:
    result = check(node_chain(fmt, "--no-inject"), fmt, live_server, wait=1)
    assert not result.ok
    failures = result.failures()
    assert failures[0].startswith(f"hop 2 (orders) called its next hop without {fmt} headers")
    assert any(
        "service payments has no spans" in f and "orders did not pass the context on" in f
        for f in failures
    ), failures


def test_node_hop_with_propagators_off_is_named(
    node_chain: Chain, live_server: RunningServer
) -> None:
    result = check(node_chain("none"), "w3c", live_server, wait=1)
    assert not result.ok
    assert result.hops[1].checks[0].name == "context received"  # the headers did arrive
    failures = result.failures()
    assert failures[0].startswith("hop 2 (orders) called its next hop without w3c headers")
    assert any("service orders has no spans" in f for f in failures), failures


def test_node_hop_that_answers_like_any_service_is_named_by_the_store(
    node_chain: Chain, live_server: RunningServer
) -> None:
    # Only gateway's echo answer and the store see this hop. The store alone would blame
    # gateway ("gateway did not pass the context on to orders", and to payments, which it never
    # calls); gateway's echo answer shows it sent the context.
    url = node_chain("none", "--plain-answer")
    report = run_test(
        url, "b3multi", expect_services=SERVICES, backend=live_server.ui, backend_wait=1
    )
    result = report.formats[0]
    assert not result.ok and [hop.service for hop in result.hops] == ["gateway"]
    failures = result.failures()
    assert len(failures) == 2, failures
    assert "service orders has no spans" in failures[0]
    assert "gateway sent the context on" in failures[0]
    assert "orders did not continue it" in failures[0]
    assert "payments has no spans" in failures[1] and "broke before it, at orders" in failures[1]
    assert not any("gateway did not pass" in failure for failure in failures)
