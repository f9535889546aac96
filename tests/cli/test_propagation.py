"""``spanscope propagation parse|test|echo`` through the real console script, as a user runs
them: exit codes, human output and JSON."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator

import pytest

from spanscope.propagation.echo import EchoConfig, EchoServer

from ..propagation.tracestore import TraceStore
from .run import executable, spanscope

TP = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def test_parse_valid_header_and_convert() -> None:
    result = spanscope("propagation", "parse", f"traceparent: {TP}", "tracestate: rojo=1")
    assert result.returncode == 0, result.stderr
    assert "w3c: valid" in result.stdout
    assert "b3: 4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1" in result.stdout
    assert "uber-trace-id: 4bf92f3577b34da6a3ce929d0e0e4736:00f067aa0ba902b7:0:1" in result.stdout
    assert "Root=1-4bf92f35-77b34da6a3ce929d0e0e4736" in result.stdout
    assert "X-Ray drops such traces" in result.stdout  # the time part is from 2010s docs


def test_parse_invalid_header_says_why() -> None:
    result = spanscope("propagation", "parse", TP.replace("-01", "-1"))
    assert result.returncode == 1
    assert "w3c: invalid - trace-flags '1' has 1 character," in result.stdout
    none = spanscope("propagation", "parse", "Content-Type: text/plain")
    assert none.returncode == 1 and "no trace context header found" in none.stdout


def test_parse_json_and_stdin() -> None:
    text = "uber-trace-id: deadbeef%3Adeadbef0%3A0%3A3\nuberctx-user: a%20b\nb3: 0\n"
    result = spanscope("propagation", "parse", "-", "--json", "--to", "w3c", stdin=text)
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    jaeger = out["formats"]["jaeger"]
    assert jaeger["status"] == "valid" and jaeger["context"]["debug"] is True
    assert jaeger["context"]["baggage"] == [{"key": "user", "value": "a b"}]
    assert out["formats"]["b3"]["context"]["sampled"] is False
    assert out["converted"]["from"] == "jaeger"  # ids beat b3's bare sampling decision
    assert out["converted"]["headers"][0][0] == "traceparent"


def test_parse_response_headers_as_curl_prints_them() -> None:
    text = f"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\ntraceparent: {TP}\r\n\r\n"
    result = spanscope("propagation", "parse", "-", "--to", "b3", stdin=text)
    assert result.returncode == 0, result.stdout
    assert "w3c: valid" in result.stdout and "b3: 4bf92f35" in result.stdout
    nothing = spanscope("propagation", "parse", "hello")
    assert nothing.returncode == 1
    assert "unrecognised value 'hello'" in nothing.stdout


def test_unknown_format_is_a_usage_error_naming_the_option() -> None:
    result = spanscope("propagation", "parse", TP, "--to", "zipkin")
    assert result.returncode == 2
    assert "Invalid value for '--to': unknown format 'zipkin'" in result.stderr
    result = spanscope("propagation", "test", "--url", "http://127.0.0.1:9/", "--format", "w3c,x")
    assert result.returncode == 2
    assert "Invalid value for '--format': unknown format 'x'" in result.stderr
    result = spanscope("propagation", "echo", "--port", "0", "--inject", "zipkin")
    assert result.returncode == 2
    assert "Invalid value for '--inject': unknown format 'zipkin'" in result.stderr


@pytest.mark.parametrize(
    ("header", "exit_code"),
    [
        (f"traceparent: {TP}" + "f" * 20_000, 1),
        ("traceparent: " + "0" * 20_000, 1),
        ("b3: " + "a" * 10_000 + "-e457b5a2e4d86bd1-1", 1),
        ("X-B3-Sampled: " + "x" * 10_000, 1),
        ("uber-trace-id: " + "g" * 10_000 + ":1:0:1", 1),
        ("X-Amzn-Trace-Id: Root=" + "1" * 10_000, 1),
        (f"traceparent: {TP}\nbaggage: " + "k" * 10_000, 0),  # the context stands, baggage not
    ],
    ids=["traceparent-tail", "traceparent", "b3", "b3-sampled", "jaeger", "xray", "baggage"],
)
def test_an_over_long_header_gets_a_short_reason(header: str, exit_code: int) -> None:
    # A reason quoted the whole value: a 20 kB header made a 20 kB line.
    result = spanscope("propagation", "parse", header, "--json")
    assert result.returncode == exit_code, result.stderr
    assert "Traceback" not in result.stderr
    formats = json.loads(result.stdout)["formats"]
    reasons = [f["reason"] for f in formats.values() if f.get("reason")]
    reasons += [w for f in formats.values() for w in f.get("warnings", [])]
    assert reasons and all(len(reason) < 300 for reason in reasons), reasons
    assert any("characters)" in reason for reason in reasons), reasons


@pytest.fixture
def chain() -> Iterator[list[EchoServer]]:
    payments = EchoServer(EchoConfig(service="payments")).start()
    orders = EchoServer(EchoConfig(service="orders", forward=[payments.url])).start()
    gateway = EchoServer(EchoConfig(service="gateway", forward=[orders.url])).start()
    yield [gateway, orders, payments]
    for server in (gateway, orders, payments):
        server.stop()


def test_test_command_passes_and_fails(chain) -> None:
    args = ["propagation", "test", "--url", chain[0].url, "--hops", "3"]
    result = spanscope(*args, "--format", "all", "--expect-services", "gateway,orders,payments")
    assert result.returncode == 0, result.stdout
    assert "5/5 formats passed" in result.stdout and "FAIL" not in result.stdout
    as_json = json.loads(spanscope(*args, "--format", "b3", "--json").stdout)
    assert as_json["ok"] is True
    assert [h["service"] for h in as_json["formats"][0]["hops"]] == [
        "gateway",
        "orders",
        "payments",
    ]
    chain[1].service.config.propagate = False  # orders stops propagating
    broken = spanscope(*args, "--format", "w3c")
    assert broken.returncode == 1
    assert "FAIL" in broken.stdout and "hop 2 (orders) called its next hop without w3c" in (
        broken.stdout.replace("\n", " ")
    )


def test_test_command_with_a_trace_store(monkeypatch) -> None:
    monkeypatch.setenv("OTEL_BSP_SCHEDULE_DELAY", "50")  # the probes export within 50 ms
    store = TraceStore()
    payments = EchoServer(EchoConfig(service="payments", otlp_endpoint=store.url)).start()
    gateway = EchoServer(
        EchoConfig(service="gateway", forward=[payments.url], otlp_endpoint=store.url)
    ).start()
    try:
        args = ["propagation", "test", "--url", gateway.url, "--backend", store.url, "--json"]
        good = json.loads(spanscope(*args, "--expect-services", "gateway,payments").stdout)
        assert good["ok"] is True and good["formats"][0]["backend"]["spans"] == 3
        bad = spanscope(*args, "--hops", "3", "--backend-wait", "1")
        assert bad.returncode == 1
        failures = json.loads(bad.stdout)["formats"][0]["failures"]
        assert any("the trace holds 2 services" in f for f in failures), failures
    finally:
        for server in (gateway, payments):
            server.stop()
        store.stop()


def test_echo_command_serves_a_chain_member() -> None:
    process = subprocess.Popen(
        [executable(), "propagation", "echo", "--port", "0", "--service", "probe"],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = process.stderr.readline()
        match = re.search(r"listening on (http://\S+)", line)
        assert match, line
        result = spanscope("propagation", "test", "--url", match.group(1), "--format", "xray")
        assert result.returncode == 0, result.stdout
        assert "probe" in result.stdout
    finally:
        process.terminate()
        process.wait(timeout=10)
    busy = EchoServer(EchoConfig()).start()
    try:
        port = busy.url.rsplit(":", 1)[1].strip("/")
        taken = spanscope("propagation", "echo", "--port", port)
        assert taken.returncode == 1 and "cannot start the echo probe" in taken.stderr
    finally:
        busy.stop()


# -- found by trying every example of the README and of --help, each fixed and held here --


@pytest.mark.parametrize(
    ("header", "said"),
    [
        ("traceparent: [/red]", "w3c: invalid - version '[/red]'"),
        ("x[/red]: y", "no trace context header found (got unrecognised value 'x[/red]: y')"),
    ],
)
def test_propagation_parse_prints_a_hostile_header_as_it_is(header: str, said: str) -> None:
    # '[/red]' in a header is text, not rich markup: printed as given, never a traceback.
    result = spanscope("propagation", "parse", header)
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert said in result.stdout
