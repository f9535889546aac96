"""Verifying a propagated trace in a trace store that speaks Jaeger's HTTP query API
(``GET {base}/api/traces/{trace_id}``): Jaeger itself, or spanscope's own server.

Contract: ``verify_trace`` polls the store until the trace passes or ``wait`` seconds pass (the
services' exporters batch spans) and returns a ``BackendResult``; it never raises for what the
store answers, only reports. The chain passes when the trace holds spans of every expected
service, all spans form ONE tree whose root is the child of the tester's span (``root_parent``),
and each expected service sits below the one before it. When an expected service is missing,
its caller is blamed, unless the caller's echo answer shows it sent the context on
(``sent_on``): then the service itself did not continue it. Expected services after the first
missing one are reported as past the break.

``verify_not_exported`` is the check for a not-sampled context: after ``wait`` seconds the store
must hold none of the trace; services whose spans are there export traces their caller decided
not to sample (their sampler is not ``ParentBased``).
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field

from spanscope.units import count


@dataclass(frozen=True, slots=True)
class BackendSpan:
    span_id: str
    parent_span_id: str
    service: str
    name: str


@dataclass
class BackendResult:
    url: str
    trace_id: str
    found: bool = False
    services: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    span_count: int = 0
    expect_absent: bool = False  # a not-sampled trace: passing means the store has none of it

    @property
    def ok(self) -> bool:
        return (not self.found if self.expect_absent else self.found) and not self.problems

    def to_dict(self) -> dict[str, object]:
        return {
            "url": self.url,
            "trace_id": self.trace_id,
            "ok": self.ok,
            "found": self.found,
            "spans": self.span_count,
            "services": self.services,
            "expected": "absent" if self.expect_absent else "present",
            "problems": self.problems,
            "notes": self.notes,
        }


class BackendError(Exception):
    """The store could not be asked (connection refused, not JSON)."""


def _norm_id(text: str, width: int) -> str:
    return text.lower().rjust(width, "0") if text else ""


def parse_jaeger_trace(document: object) -> list[BackendSpan]:
    """The spans of the first trace in a Jaeger API answer (``{"data": [trace]}``)."""
    if not isinstance(document, dict):
        raise BackendError("answer is not a JSON object")
    data = document.get("data") or []
    if not isinstance(data, list) or not data:
        return []
    spans: list[BackendSpan] = []
    for trace in data:
        processes = trace.get("processes") or {}
        for span in trace.get("spans") or []:
            process = span.get("process") or processes.get(span.get("processID"), {})
            parent = ""
            for ref in span.get("references") or []:
                if ref.get("refType", "CHILD_OF") in ("CHILD_OF", "FOLLOWS_FROM"):
                    parent = ref.get("spanID", "")
                    break
            parent = parent or span.get("parentSpanID", "")
            spans.append(
                BackendSpan(
                    span_id=_norm_id(span.get("spanID", ""), 16),
                    parent_span_id=_norm_id(parent, 16),
                    service=str(process.get("serviceName", "")),
                    name=str(span.get("operationName", "")),
                )
            )
    return spans


def fetch_trace(base_url: str, trace_id: str, timeout: float = 5.0) -> list[BackendSpan]:
    """Ask the store for a trace; ``[]`` when it does not have it (yet)."""
    url = f"{base_url.rstrip('/')}/api/traces/{trace_id}"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            payload = response.read()
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            return []
        raise BackendError(f"{url} answered HTTP {exc.code}") from None
    except (OSError, ValueError) as exc:
        raise BackendError(f"cannot reach {url}: {exc}") from None
    try:
        return parse_jaeger_trace(json.loads(payload))
    except ValueError:
        raise BackendError(f"{url} did not answer JSON") from None


def check_tree(
    result: BackendResult,
    spans: Sequence[BackendSpan],
    root_parent: str,
    expect_services: Sequence[str],
    sent_on: Collection[str] = (),
) -> None:
    """Fill ``result`` with what is wrong with the trace's tree (see module contract).
    ``sent_on``: services seen sending the context to their next hop (in echo answers), so a
    missing next service is blamed on itself, not on them."""
    result.found = bool(spans)
    result.span_count = len(spans)
    result.problems.clear()
    result.notes.clear()
    if not spans:
        result.problems.append(
            f"trace {result.trace_id} is not in the store: the first hop did not keep the "
            "trace id it received, or did not export its spans"
        )
        return
    by_id = {s.span_id: s for s in spans}
    services = []
    for span in spans:
        if span.service not in services:
            services.append(span.service)
    result.services = services
    children: dict[str, list[BackendSpan]] = {}
    for span in spans:
        children.setdefault(span.parent_span_id, []).append(span)
    roots = [s for s in spans if s.parent_span_id not in by_id]
    entry = [s for s in roots if s.parent_span_id == root_parent]
    if not entry:
        result.problems.append(
            f"no span has spanscope's span id {root_parent} as parent: the first hop did not "
            "continue the context it was sent (it re-parented or started its own root)"
        )
    for root in roots:
        if root.parent_span_id == root_parent:
            continue
        members = _subtree(root, children)
        names = ", ".join(sorted({s.service for s in members}))
        where = (
            f"parent id {root.parent_span_id}, which is not in the trace"
            if root.parent_span_id
            else "no parent (a new root)"
        )
        result.problems.append(
            f"spans of {names} (from {root.service} '{root.name}') hang from {where}: the "
            f"trace is not one connected tree; the hop that called {root.service} sent a "
            "parent id it never reported"
        )
    previous = ""
    missing = ""  # the first expected service not in the trace
    for service in expect_services:
        mine = [s for s in spans if s.service == service]
        if not mine and missing:
            # its caller is not in the trace either: nothing more can be said of this call
            result.problems.append(
                f"service {service} has no spans in trace {result.trace_id}: the trace broke "
                f"before it, at {missing}"
            )
        elif not mine:
            missing = service
            if previous in sent_on:
                cause = (
                    f"{previous} sent the context on (its echo answer shows the headers), so "
                    f"{service} did not continue it (its propagators do not read this format, "
                    "or are off)"
                )
            elif previous:
                cause = f"{previous} did not pass the context on to {service}"
            else:
                cause = f"{service} did not take the context spanscope sent"
            result.problems.append(
                f"service {service} has no spans in trace {result.trace_id}: {cause}, or "
                f"{service} did not export its spans"
            )
        elif previous and not any(_has_ancestor(s, previous, by_id) for s in mine):
            result.problems.append(
                f"{service} is in the trace but not below {previous}: the call "
                f"{previous} -> {service} was not linked by propagated context"
            )
        previous = service if mine else previous
    extra = [s for s in services if expect_services and s not in expect_services]
    if extra:
        result.notes.append(f"also in the trace: {', '.join(extra)}")


def _subtree(root: BackendSpan, children: dict[str, list[BackendSpan]]) -> list[BackendSpan]:
    out, stack = [], [root]
    while stack:
        span = stack.pop()
        out.append(span)
        stack.extend(children.get(span.span_id, []))
    return out


def _has_ancestor(span: BackendSpan, service: str, by_id: dict[str, BackendSpan]) -> bool:
    seen: set[str] = set()
    current = by_id.get(span.parent_span_id)
    while current is not None and current.span_id not in seen:
        if current.service == service:
            return True
        seen.add(current.span_id)
        current = by_id.get(current.parent_span_id)
    return False


def verify_trace(
    base_url: str,
    trace_id: str,
    root_parent: str,
    expect_services: Sequence[str] = (),
    wait: float = 10.0,
    interval: float = 0.5,
    sent_on: Collection[str] = (),
) -> BackendResult:
    """Poll the store until the trace passes ``check_tree`` or ``wait`` seconds pass."""
    result = BackendResult(url=base_url, trace_id=trace_id)
    deadline = time.monotonic() + wait
    while True:
        try:
            spans = fetch_trace(base_url, trace_id)
        except BackendError as exc:
            result.problems = [str(exc)]
            return result
        check_tree(result, spans, root_parent, expect_services, sent_on)
        if result.ok or time.monotonic() >= deadline:
            return result
        time.sleep(interval)


def verify_not_exported(base_url: str, trace_id: str, wait: float = 10.0) -> BackendResult:
    """Wait ``wait`` seconds (exporters batch), then check the store holds none of the trace."""
    result = BackendResult(url=base_url, trace_id=trace_id, expect_absent=True)
    time.sleep(wait)
    try:
        spans = fetch_trace(base_url, trace_id)
    except BackendError as exc:
        result.problems = [str(exc)]
        return result
    result.found = bool(spans)
    result.span_count = len(spans)
    result.services = sorted({span.service for span in spans})
    if spans:
        # The services whose spans hang from a span not in the store were first to ignore the
        # decision; the ones below them only followed what those sent on.
        ids = {span.span_id for span in spans}
        first = sorted({span.service for span in spans if span.parent_span_id not in ids})
        result.problems.append(
            f"{', '.join(first)} exported a trace its caller marked not sampled: it does not "
            "follow the parent's decision (use a ParentBased sampler), so head sampling does not "
            f"cut what it should ({count(len(spans), 'span')} of "
            f"{', '.join(result.services)} stored)"
        )
    else:
        result.notes.append(
            f"no span of the trace in the store after {wait:g}s, as for a not-sampled trace"
        )
    return result
