"""The propagation tester: send a request carrying a generated context in one format at a time
and check, hop by hop, that the context survived.

Two ways to see the hops:
- echo answers: when the URL is an echo probe (possibly chained A -> B -> C with
  ``--forward``), the answer nests each hop's received and sent headers; every hop is checked.
  A service of your own can be such a hop by answering the fields ``service``, ``received``
  and ``calls`` of the echo answer (the headers as it received and sent them, and its next
  hop's answer) without ``parsed``: the tester reads its headers itself.
- a trace store (``backend``): the trace is fetched by id from a Jaeger-API store and must form
  one connected tree with the expected services (see ``backend``). This works for real services.
  With a not-sampled context, the store must hold none of the trace instead (a service that
  exports it ignores its caller's sampling decision).

Checks per hop: the context arrived and is valid; the trace id is unchanged; the hop sent on a
new parent (span) id, never seen before in the chain; the sampling decision (and debug, and the
W3C random flag) is kept; tracestate and baggage members are kept. Each failure is explained in
one sentence naming the hop (its service name and position) where the context broke.

Contract: ``run_test`` never raises for what services answer; it returns a ``TestReport`` whose
``ok`` is the verdict. It raises ``ValueError`` only for bad arguments (an unknown format).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from spanscope.propagation import codecs
from spanscope.propagation.backend import verify_not_exported, verify_trace
from spanscope.propagation.context import (
    BaggageEntry,
    Context,
    Parsed,
    new_context,
    parsed_to_dict,
)
from spanscope.propagation.results import Check, FormatReport, Hop, TestReport
from spanscope.units import count

PROBE_BAGGAGE = BaggageEntry("spanscope-probe", "hop check/1")


def probe_context(fmt: str, baggage: bool = True, sampled: bool = True) -> Context:
    """The context the tester sends: a fresh trace with the random flag, a tracestate member
    (W3C) and a baggage entry with a space and a slash, so encoding is exercised."""
    context = new_context(sampled=sampled)
    if fmt == "w3c":
        context = replace(context, tracestate=(("spanscope", context.span_id),))
    if baggage:
        context = replace(context, baggage=(PROBE_BAGGAGE,))
    return context


def _request(
    url: str, headers: Sequence[tuple[str, str]], timeout: float
) -> tuple[int | None, bytes, str]:
    request = urllib.request.Request(url, method="GET")
    for name, value in headers:
        request.add_header(name, value)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read(1 << 22), ""
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(1 << 22), ""
    except (OSError, ValueError) as exc:
        return None, b"", str(exc)


def _is_echo_answer(answer: object) -> bool:
    return isinstance(answer, dict) and "service" in answer and "received" in answer


def run_test(
    url: str,
    formats: Sequence[str] | str = "w3c",
    hops: int | None = None,
    expect_services: Sequence[str] = (),
    backend: str | None = None,
    backend_wait: float = 10.0,
    timeout: float = 10.0,
    baggage: bool = True,
    sampled: bool = True,
) -> TestReport:
    """Test propagation through ``url`` in each format; see the module docstring. With
    ``sampled=False`` the tester sends a not-sampled decision and checks every hop keeps it;
    with ``backend``, that the store then holds none of the trace after ``backend_wait``."""
    names = codecs.resolve_formats(formats)
    reports = [
        _run_format(
            url, fmt, hops, expect_services, backend, backend_wait, timeout, baggage, sampled
        )
        for fmt in names
    ]
    return TestReport(url=url, formats=reports)


def _run_format(
    url: str,
    fmt: str,
    hops: int | None,
    expect_services: Sequence[str],
    backend: str | None,
    backend_wait: float,
    timeout: float,
    baggage: bool,
    sampled: bool,
) -> FormatReport:
    context = probe_context(fmt, baggage, sampled)
    sent = codecs.inject(context, [fmt])
    report = FormatReport(fmt, context.trace_id, context.span_id, sent)
    status, body, error = _request(url, sent, timeout)
    report.status = status
    if error:
        report.problems.append(f"could not reach {url}: {error}")
        return report
    if status is not None and status >= 400:
        report.notes.append(f"{url} answered HTTP {status}")
    try:
        answer = json.loads(body) if body else None
    except ValueError:
        answer = None
    if isinstance(answer, dict) and _is_echo_answer(answer):
        _walk_chain(report, fmt, context, answer, url, hops, expect_services if not backend else ())
    elif backend is None:
        report.problems.append(
            f"{url} is not an echo probe (its answer has no echo JSON), so the hops cannot be "
            "seen; put 'spanscope propagation echo' in the chain or pass --backend"
        )
    if backend is not None and not sampled:
        report.backend = verify_not_exported(backend, context.trace_id, wait=backend_wait)
    elif backend is not None:
        # the hops whose echo answers show the context going on: a next service missing from
        # the store did not take it (the store alone would blame the sender)
        sent_on = {
            h.service
            for h in report.hops
            if any(c.name == "context sent on" and c.ok for c in h.checks)
        }
        report.backend = verify_trace(
            backend,
            context.trace_id,
            context.span_id,
            expect_services,
            wait=backend_wait,
            sent_on=sent_on,
        )
        found = report.backend.services
        if hops is not None and report.backend.found and len(found) < hops:
            report.problems.append(
                f"the trace holds {count(len(found), 'service')} "
                f"({', '.join(found)}), expected {hops} hops: the chain broke after "
                f"{'the last of them' if len(found) > 1 else 'it'}"
            )
    return report


def _walk_chain(
    report: FormatReport,
    fmt: str,
    context: Context,
    answer: dict[str, Any],
    url: str,
    hops: int | None,
    expect_services: Sequence[str],
) -> None:
    expected: Context | None = context
    previous: Hop | None = None
    seen_span_ids = {context.span_id}
    index = 0
    current: dict[str, Any] | None = answer
    while current is not None:
        index += 1
        hop = Hop(index, str(current.get("service", "?")), url)
        report.hops.append(hop)
        parsed = _parsed(current, fmt)
        received = _check_arrival(hop, fmt, parsed, expected, previous)
        hop.notes += [str(n) for n in current.get("notes") or []]
        hop.received = (parsed or {}).get("context")
        calls = current.get("calls") or []
        call = calls[0] if calls else None
        expected = None
        if call is not None:
            hop.sent = [list(h) for h in call.get("sent") or []]
            sent_parsed = codecs.CODECS[fmt].extract([(h[0], h[1]) for h in hop.sent])
            if received is not None:
                expected = _check_sent(hop, fmt, sent_parsed, received, seen_span_ids)
            url = str(call.get("url", ""))
        current = call.get("answer") if call is not None else None
        if call is not None and current is None and hops is not None and index < hops:
            why = call.get("error") or (
                f"{url} answered HTTP {call.get('status')} without an echo answer"
            )
            report.problems.append(f"{hop.label} could not reach its next hop: {why}")
        previous = hop
    if hops is not None and len(report.hops) != hops:
        last = report.hops[-1]
        if len(report.hops) < hops and not report.problems:
            report.problems.append(
                f"the chain ended at {last.label} after {len(report.hops)} of {hops} hops: "
                "it did not call a next hop (is --forward set?)"
            )
        elif len(report.hops) > hops:
            report.problems.append(f"the chain has {len(report.hops)} hops, expected {hops}")
    if expect_services:
        seen = [h.service for h in report.hops]
        if seen != list(expect_services):
            report.problems.append(
                f"expected services {', '.join(expect_services)}; the chain was {', '.join(seen)}"
            )


def _parsed(answer: dict[str, Any], fmt: str) -> dict[str, Any] | None:
    """A hop's reading of the ``fmt`` headers it received: an echo probe's own, or ours of the
    raw headers a service that is not an echo probe reports (``received`` without ``parsed``)."""
    if "parsed" in answer:
        readings = answer.get("parsed")
        return readings.get(fmt) if isinstance(readings, dict) else None
    received = [
        (str(h[0]), str(h[1]))
        for h in answer.get("received") or []
        if isinstance(h, list | tuple) and len(h) == 2
    ]
    return parsed_to_dict(codecs.CODECS[fmt].extract(received))


def _check_arrival(
    hop: Hop,
    fmt: str,
    parsed: dict[str, Any] | None,
    expected: Context | None,
    previous: Hop | None,
) -> Context | None:
    """Check what reached ``hop``; return the context it received, or None."""
    sender = previous.label if previous else "spanscope"
    if expected is None:
        # the hop before sent nothing usable in this format; that failure is reported there
        hop.checks.append(
            Check(
                "context received", False, f"{hop.label} got no {fmt} context: {sender} sent none"
            )
        )
        return None
    if not parsed or parsed.get("status") == "absent":
        where = (
            f"between {previous.label} and {hop.label}: something in between (a proxy, gateway "
            "or mesh) dropped the headers"
            if previous
            else f"in front of {hop.label}: a proxy, gateway or mesh dropped the headers"
        )
        hop.checks.append(
            Check(
                "context received",
                False,
                f"{hop.label} received no {fmt} headers although {sender} sent them; lost {where}",
            )
        )
        return None
    if parsed.get("status") == "invalid":
        hop.checks.append(
            Check(
                "context received",
                False,
                f"{hop.label} received an invalid {fmt} header from {sender}: "
                f"{parsed.get('reason')}",
            )
        )
        return None
    hop.checks.append(Check("context received", True))
    data = parsed.get("context") or {}
    received = _context_from_dict(data)
    _compare(hop, fmt, expected, received, sender)
    return received


def _compare(hop: Hop, fmt: str, expected: Context, got: Context, sender: str) -> None:
    if got.trace_id != expected.trace_id:
        hop.checks.append(
            Check(
                "trace id kept",
                False,
                f"{hop.label} received trace id {got.trace_id}, but {sender} sent "
                f"{expected.trace_id}: the trace was restarted on the way",
            )
        )
    else:
        hop.checks.append(Check("trace id kept", True))
    if expected.span_id and got.span_id != expected.span_id:
        hop.notes.append(
            f"parent id changed on the way from {sender} ({expected.span_id} -> {got.span_id}): "
            "an intermediary (proxy or mesh sidecar) made its own span"
        )
    if expected.sampled is not None:
        kept = got.sampled == expected.sampled and (got.debug or not expected.debug)
        hop.checks.append(
            Check(
                "sampling kept",
                kept,
                ""
                if kept
                else f"{sender} sent sampled={expected.sampled} debug={expected.debug}, "
                f"{hop.label} received sampled={got.sampled} debug={got.debug}",
            )
        )
    if got.debug and not expected.debug:
        hop.notes.append(
            f"{sender} set the debug flag, which forces sampling downstream (the OpenTelemetry "
            "Jaeger propagator sets it on every sampled span)"
        )
    if fmt == "w3c" and expected.random:
        hop.checks.append(
            Check(
                "random flag kept",
                got.random,
                "" if got.random else f"{hop.label} received the random-trace-id flag unset",
            )
        )
    if expected.tracestate:
        keep = [m for m in got.tracestate if m in expected.tracestate]
        kept = keep == list(expected.tracestate)
        hop.checks.append(
            Check(
                "tracestate kept",
                kept,
                ""
                if kept
                else f"{hop.label} received tracestate {_ts(got)}; {sender} sent {_ts(expected)}",
            )
        )
    if expected.baggage:
        have = {(e.key, e.value) for e in got.baggage}
        lost = [e.key for e in expected.baggage if (e.key, e.value) not in have]
        hop.checks.append(
            Check(
                "baggage kept",
                not lost,
                f"{hop.label} did not receive baggage {', '.join(lost)} that {sender} sent"
                if lost
                else "",
            )
        )


def _check_sent(
    hop: Hop, fmt: str, parsed: Parsed[Context], received: Context, seen_span_ids: set[str]
) -> Context | None:
    """Check what ``hop`` sent on; return that context (what the next hop should get)."""
    if not parsed.present:
        hop.checks.append(
            Check(
                "context sent on",
                False,
                f"{hop.label} called its next hop without {fmt} headers: it does not propagate "
                "(uninstrumented, or its propagators do not include this format)",
            )
        )
        return None
    if parsed.value is None:
        hop.checks.append(
            Check("context sent on", False, f"{hop.label} sent an invalid header: {parsed.reason}")
        )
        return None
    sent: Context = parsed.value
    hop.sent_span_id = sent.span_id
    hop.checks.append(Check("context sent on", True))
    fresh = sent.span_id not in seen_span_ids and sent.span_id != received.span_id
    hop.checks.append(
        Check(
            "new parent id",
            fresh,
            ""
            if fresh
            else f"{hop.label} sent on parent id {sent.span_id}, which it received or which "
            "was already used: it did not create its own span",
        )
    )
    seen_span_ids.add(sent.span_id)
    if sent.trace_id != received.trace_id:
        hop.checks.append(
            Check(
                "trace id sent on",
                False,
                f"{hop.label} received trace {received.trace_id} but sent {sent.trace_id}: "
                "it restarted the trace",
            )
        )
    return sent


def _ts(context: Context) -> str:
    return ",".join(f"{k}={v}" for k, v in context.tracestate) or "(none)"


def _context_from_dict(data: dict[str, Any]) -> Context:
    return Context(
        trace_id=data.get("trace_id") or "",
        span_id=data.get("span_id") or "",
        parent_span_id=data.get("parent_span_id") or "",
        sampled=data.get("sampled"),
        debug=bool(data.get("debug")),
        random=bool(data.get("random")),
        tracestate=tuple((k, v) for k, v in data.get("tracestate") or []),
        baggage=tuple(
            BaggageEntry(e["key"], e["value"], e.get("properties", ""))
            for e in data.get("baggage") or []
        ),
    )
