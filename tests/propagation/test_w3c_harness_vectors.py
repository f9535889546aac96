"""Every scenario of the W3C trace-context test suite (statically extracted from its
``test/test.py``), run against the echo probe over real HTTP on loopback the way the official
harness does: POST a JSON list of callback URLs with the scenario's headers (repeated headers
as separate header lines), then apply the suite's own assertions to the traceparent/tracestate
the probe sent on its callbacks. The assertion source is executed as written; the objects it
inspects are built here from the recorded callback headers."""

from __future__ import annotations

import http.client
import json
import re
import unittest
import uuid
from collections import OrderedDict
from collections.abc import Iterator
from types import SimpleNamespace
from urllib.parse import urlsplit

import pytest

from spanscope.propagation.echo import EchoConfig, EchoServer

from .conftest import CallbackServer, load_json

VECTORS = load_json("trace-context/test__test.py.vectors.extracted.json")
CASES = [
    pytest.param(suite, test, id=f"{suite}.{test['name']}")
    for suite, data in VECTORS["suites"].items()
    for test in data["tests"]
]
TRACEPARENT_RE = re.compile(r"^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")
MEMBER_RE = re.compile(
    r"^([0-9a-z][_0-9a-z\-*/@]{0,255})=([\x20-\x2b\x2d-\x3c\x3e-\x7e]{0,255}"
    r"[\x21-\x2b\x2d-\x3c\x3e-\x7e])$"
)


class Tracestate(OrderedDict):
    """What the harness's assertions need of an outgoing tracestate: mapping and str()."""

    def __str__(self) -> str:
        return ",".join(f"{k}={v}" for k, v in self.items())


class Driver(unittest.TestCase):
    """Plays the harness: the methods the extracted assertions call on ``self``."""

    __test__ = False  # a helper, not a test case for pytest to collect

    def __init__(self, endpoint: str, callbacks: CallbackServer) -> None:
        super().__init__()
        self.endpoint = endpoint
        self.callbacks = callbacks

    def runTest(self) -> None:  # unittest wants one; the scenarios run through exec
        pass

    def make_request(self, headers: list[list[str]], count: int = 1) -> list[dict]:
        scope = uuid.uuid4().hex
        body = json.dumps(
            [{"url": self.callbacks.url(f"{scope}/{i}"), "arguments": []} for i in range(count)]
        ).encode()
        target = urlsplit(self.endpoint)
        connection = http.client.HTTPConnection(target.hostname, target.port, timeout=10)
        connection.putrequest("POST", target.path or "/")
        for name, value in headers:  # one line per pair: repeated headers stay repeated
            connection.putheader(name, value)
        connection.putheader("Content-Type", "application/json")
        connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body)
        response = connection.getresponse()
        response.read()
        connection.close()
        self.assertEqual(response.status, 200)
        out = []
        for i in range(count):
            recorded = self.callbacks.calls.get(f"{scope}/{i}")
            self.assertIsNotNone(recorded, f"the service made no callback {i}")
            out.append({"headers": recorded})
        return out

    def get_traceparent(self, headers: list[tuple[str, str]]) -> SimpleNamespace:
        values = [v for k, v in headers if k.lower() == "traceparent"]
        self.assertEqual(len(values), 1, f"expected one traceparent, got {values!r}")
        match = TRACEPARENT_RE.match(values[0])
        self.assertIsNotNone(match, f"service sent an invalid traceparent {values[0]!r}")
        version, trace_id, parent_id, flags = match.groups()
        return SimpleNamespace(
            version=int(version, 16),
            trace_id=bytes.fromhex(trace_id),
            parent_id=bytes.fromhex(parent_id),
            trace_flags=int(flags, 16),
        )

    def get_tracestate(self, headers: list[tuple[str, str]]) -> Tracestate:
        state = Tracestate()
        for key, value in headers:
            if key.lower() != "tracestate":
                continue
            for member in re.split(r"[ \t]*,[ \t]*", value):
                if member:
                    match = MEMBER_RE.match(member)
                    self.assertIsNotNone(match, f"service sent an invalid member {member!r}")
                    state.setdefault(match.group(1), match.group(2))
        return state

    def make_single_request_and_get_tracecontext(self, headers: list[list[str]]):
        sent = self.make_request(headers)[0]["headers"]
        return self.get_traceparent(sent), self.get_tracestate(sent)

    def assert_bit_set(self, value: int, n: int, message: str | None = None) -> None:
        mask = 1 << (n - 1)
        self.assertEqual(value & mask, mask, message)


@pytest.fixture(scope="module")
def driver() -> Iterator[Driver]:
    probe = EchoServer(EchoConfig(service="w3c-under-test")).start()
    callbacks = CallbackServer()
    yield Driver(probe.url + "test", callbacks)
    callbacks.stop()
    probe.stop()


@pytest.mark.parametrize(("suite", "test"), CASES)
def test_w3c_scenario(suite: str, test: dict, driver: Driver) -> None:
    namespace: dict[str, object] = {"self": driver}
    for statement in test.get("preamble", []):
        exec(statement.replace("\t", " "), namespace)
    for step in test["steps"]:
        headers = step["headers"] if "headers" in step else eval(step["headers_source"], namespace)
        traceparent, tracestate = driver.make_single_request_and_get_tracecontext(headers)
        first, second = (name.strip() for name in step["target"].split(","))
        namespace[first], namespace[second] = traceparent, tracestate
        for assertion in step["assertions"]:
            exec(assertion, namespace)


def test_every_scenario_is_covered() -> None:
    # 37 Level 1, 3 advanced, 1 Level 2 scenario, per the fixture index
    assert len(CASES) == 41
    assert sum(len(t["steps"]) for _, d in VECTORS["suites"].items() for t in d["tests"]) == 80
