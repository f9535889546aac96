"""What the propagation tester found: per-format reports of per-hop checks, with one-sentence
explanations of each failure. Plain data with ``to_dict`` for ``--json``; the verdict of a
report is its ``ok``."""

from __future__ import annotations

from dataclasses import dataclass, field

from spanscope.propagation.backend import BackendResult


@dataclass
class Check:
    name: str
    ok: bool
    detail: str = ""

    def to_dict(self) -> dict[str, object]:
        return {"name": self.name, "ok": self.ok, "detail": self.detail}


@dataclass
class Hop:
    index: int
    service: str
    url: str
    received: dict[str, object] | None = None
    sent: list[list[str]] = field(default_factory=list)
    sent_span_id: str = ""
    checks: list[Check] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    @property
    def label(self) -> str:
        return f"hop {self.index} ({self.service})"

    def to_dict(self) -> dict[str, object]:
        return {
            "index": self.index,
            "service": self.service,
            "url": self.url,
            "ok": self.ok,
            "received": self.received,
            "sent": self.sent,
            "sent_span_id": self.sent_span_id or None,
            "checks": [c.to_dict() for c in self.checks],
            "notes": self.notes,
        }


@dataclass
class FormatReport:
    format: str
    trace_id: str
    span_id: str
    sent: list[tuple[str, str]]
    status: int | None = None
    hops: list[Hop] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    backend: BackendResult | None = None

    @property
    def ok(self) -> bool:
        backend_ok = self.backend is None or self.backend.ok
        return not self.problems and all(h.ok for h in self.hops) and backend_ok

    def failures(self) -> list[str]:
        """Every failure explained, in chain order: hop checks, then chain and store problems."""
        out = [c.detail for h in self.hops for c in h.checks if not c.ok]
        out += self.problems
        if self.backend is not None:
            out += [f"trace store: {p}" for p in self.backend.problems]
        return out

    def to_dict(self) -> dict[str, object]:
        return {
            "format": self.format,
            "ok": self.ok,
            "failures": self.failures(),
            "trace_id": self.trace_id,
            "span_id": self.span_id,
            "sent": [list(h) for h in self.sent],
            "status": self.status,
            "hops": [h.to_dict() for h in self.hops],
            "problems": self.problems,
            "notes": self.notes,
            "backend": self.backend.to_dict() if self.backend else None,
        }


@dataclass
class TestReport:
    url: str
    formats: list[FormatReport]

    __test__ = False  # not a pytest test class despite the name

    @property
    def ok(self) -> bool:
        return all(f.ok for f in self.formats)

    def to_dict(self) -> dict[str, object]:
        return {"url": self.url, "ok": self.ok, "formats": [f.to_dict() for f in self.formats]}
