"""The echo probe's own behaviour over real HTTP: what it answers, what it sends on."""

from __future__ import annotations

import http.client
import json
import urllib.request
from urllib.parse import urlsplit

from spanscope.propagation import codecs

TP = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def ask(url: str, headers: list[tuple[str, str]], body: bytes | None = None) -> dict:
    request = urllib.request.Request(url, data=body, method="POST" if body else "GET")
    for name, value in headers:
        request.add_header(name, value)
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def test_answer_names_what_arrived_and_what_went_on(echo_chain) -> None:
    first, _ = echo_chain(["a", "b"])
    answer = ask(first.url, [("traceparent", TP), ("b3", "1"), ("X-Request-Id", "r1")])
    assert answer["service"] == "a" and answer["used"] == "w3c"
    assert answer["received"] == [["Traceparent", TP], ["B3", "1"]]
    assert answer["parsed"]["b3"]["context"]["sampled"] is True
    assert answer["span"]["trace_id"] == TP[3:35]
    assert answer["span"]["parent_span_id"] == TP[36:52]
    sent = dict(answer["calls"][0]["sent"])
    assert set(sent) == {"traceparent", "b3"}  # the same formats it received
    downstream = answer["downstream"]
    assert downstream["service"] == "b"
    assert downstream["parsed"]["w3c"]["context"]["span_id"] == sent["traceparent"][36:52]
    assert downstream["calls"] == [] and downstream["downstream"] is None


def test_new_trace_keeps_loose_baggage_and_uses_inject_formats(echo_factory) -> None:
    last = echo_factory(service="last")
    probe = echo_factory(service="first", forward=[last.url], inject=["b3multi", "xray"])
    answer = ask(probe.url, [("baggage", "k=v%201"), ("traceparent", "garbage")])
    assert answer["used"] is None and "started a new trace" in answer["notes"][0]
    sent = codecs.extract_all([tuple(h) for h in answer["calls"][0]["sent"]])
    # it received (invalid) w3c, so it answers in w3c, with the baggage kept
    assert sent["w3c"].ok and sent["w3c"].value.baggage[0].value == "v 1"
    fresh = ask(probe.url, [])
    names = {name for name, _ in fresh["calls"][0]["sent"]}
    assert names == {
        "x-b3-traceid",
        "x-b3-spanid",
        "x-b3-parentspanid",
        "x-b3-sampled",
        "X-Amzn-Trace-Id",
    }
    assert fresh["downstream"]["parsed"]["xray"]["status"] == "valid"


def test_xray_root_without_parent_and_disagreeing_formats(echo_factory) -> None:
    probe = echo_factory(service="edge")
    root = "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1"
    answer = ask(probe.url, [("X-Amzn-Trace-Id", root)])
    assert answer["span"]["trace_id"] == "5759e988bd862e3fe1be46a994272793"
    assert answer["span"]["parent_span_id"] is None
    assert "this hop is the root" in answer["notes"][0]
    both = ask(probe.url, [("traceparent", TP), ("b3", "80f198ee56343ba8-e457b5a2e4d86bd1-1")])
    assert "b3 trace id" in both["notes"][0]


def test_harness_instructions_nest_across_probes(echo_factory, callback_server) -> None:
    inner = echo_factory(service="inner")
    outer = echo_factory(service="outer")
    body = [{"url": inner.url, "arguments": [{"url": callback_server.url("s/0"), "arguments": []}]}]
    answer = ask(outer.url, [("traceparent", TP)], json.dumps(body).encode())
    assert answer["calls"][0]["status"] == 200
    callback = dict((k.lower(), v) for k, v in callback_server.calls["s/0"])
    assert callback["traceparent"][3:35] == TP[3:35]  # two hops on, same trace
    assert answer["downstream"]["service"] == "inner"


def test_bad_request_still_gets_an_answer(echo_factory) -> None:
    probe = echo_factory(service="sturdy")
    target = urlsplit(probe.url)
    connection = http.client.HTTPConnection(target.hostname, target.port, timeout=10)
    connection.putrequest("POST", "/")
    connection.putheader("Content-Length", "nonsense")
    connection.putheader("traceparent", TP)
    connection.endheaders()
    response = connection.getresponse()
    assert response.status == 200
    assert json.loads(response.read())["parsed"]["w3c"]["status"] == "valid"
    connection.close()


def test_harness_instructions_call_only_http_urls(echo_factory, tmp_path) -> None:
    # urllib opens file:// too: a POSTed list made the probe read a local file and, when the
    # file looked like an echo answer, hand its content back to whoever asked.
    secret = tmp_path / "answer.json"
    secret.write_text(json.dumps({"service": "x", "received": [], "token": "s3cr3t"}))
    probe = echo_factory(service="guarded")
    body = [{"url": secret.as_uri(), "arguments": []}, {"url": "ftp://127.0.0.1:9/x"}]
    answer = ask(probe.url, [("traceparent", TP)], json.dumps(body).encode())
    assert [call["error"] for call in answer["calls"]] == [
        f"not called: {secret.as_uri()!r} is not an http:// or https:// URL",
        "not called: 'ftp://127.0.0.1:9/x' is not an http:// or https:// URL",
    ]
    assert answer["downstream"] is None and "s3cr3t" not in json.dumps(answer)
