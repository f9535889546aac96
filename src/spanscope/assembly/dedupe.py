"""Making span ids unique within one trace, and reporting every clash.

Contract: ``dedupe_span_ids(trace_id, spans, problems)`` returns ``(spans, by_id)`` where every
span id is unique and ``by_id`` maps each id to its span. It changes spans in place and appends
to ``problems``; each change is also written to the changed span's ``warnings``. Spans of one id
are handled in this order:

1. Exact copies (same id, name, kind, start, end, parent and service: a span exported twice) are
   dropped and reported; the kept span notes how many copies there were.
2. Zipkin shared spans: a SERVER span (or one flagged ``shared``) that reuses its CLIENT's id
   gets a new id and the client as parent, as Jaeger's ``SpanIDDeduper`` does. Spans whose parent
   is the shared id and that belong to the server side (same service and host as the server span)
   are moved under the server span, so the tree reads client -> server -> server's children.
   Unlike Jaeger, spans of the client side (another service or host) stay under the client.
3. Any other clash keeps the first span's id (children stay with it, being ambiguous); each later
   span gets a new id and keeps its parent.

New ids are derived from the old one (the next free 64-bit value), so the result is
deterministic, and never equal to any id or parent id in the trace.
"""

from __future__ import annotations

from spanscope.assembly.hosts import Host, compare, host_of
from spanscope.model import Problem, ProblemKind, Span, SpanKind


def dedupe_span_ids(
    trace_id: str, spans: list[Span], problems: list[Problem]
) -> tuple[list[Span], dict[str, Span]]:
    by_id = {span.span_id: span for span in spans}
    if len(by_id) == len(spans):
        return spans, by_id  # the common case: one dict, nothing else
    return _Deduper(trace_id, spans, problems).run()


def _copy_signature(span: Span) -> tuple:
    return (
        span.name,
        span.kind,
        span.start_ns,
        span.end_ns,
        span.parent_span_id,
        span.service_name,
    )


class _Deduper:
    def __init__(self, trace_id: str, spans: list[Span], problems: list[Problem]) -> None:
        self.trace_id = trace_id
        self.spans = spans
        self.problems = problems
        # span id -> positions in ``spans``: positions, not objects, because the very same
        # object may be given twice
        self.groups: dict[str, list[int]] = {}
        for position, span in enumerate(spans):
            group = self.groups.get(span.span_id)
            if group is None:
                self.groups[span.span_id] = [position]
            else:
                group.append(position)
        self.taken = set(self.groups)
        self.taken.update(span.parent_span_id for span in spans)
        self.cursor: dict[str, int] = {}
        self.dropped: set[int] = set()  # positions of exact copies to leave out
        # shared id -> (client span, server spans that shared the id)
        self.shared: dict[str, tuple[Span, list[Span]]] = {}

    def run(self) -> tuple[list[Span], dict[str, Span]]:
        for span_id, group in self.groups.items():
            if len(group) > 1:
                self._resolve(span_id, self._drop_copies(span_id, group))
        if self.shared:
            self._reparent_server_children()
        dropped = self.dropped
        kept = [span for position, span in enumerate(self.spans) if position not in dropped]
        return kept, {span.span_id: span for span in kept}

    def _report(self, span_id: str, message: str, cause: str) -> None:
        self.problems.append(
            Problem(ProblemKind.DUPLICATE_SPAN_ID, self.trace_id, span_id, message, cause)
        )

    def _new_span_id(self, old_id: str) -> str:
        value = self.cursor.get(old_id)
        if value is None:
            try:
                value = int(old_id, 16)
            except ValueError:  # not hex: readers normalise ids, but assembly takes any input
                value = 0
        while True:
            value = (value + 1) % (1 << 64) or 1
            candidate = f"{value:016x}"
            if candidate not in self.taken:
                self.taken.add(candidate)
                self.cursor[old_id] = value
                return candidate

    def _drop_copies(self, span_id: str, group: list[int]) -> list[Span]:
        unique: list[Span] = []
        first_of: dict[tuple, Span] = {}
        copies: dict[int, int] = {}  # id() of the kept span -> copies dropped
        for position in group:
            span = self.spans[position]
            signature = _copy_signature(span)
            original = first_of.get(signature)
            if original is None:
                first_of[signature] = span
                unique.append(span)
            else:
                self.dropped.add(position)
                copies[id(original)] = copies.get(id(original), 0) + 1
        for span in unique:
            count = copies.get(id(span))
            if count:
                message = (
                    f"span {span_id} ({span.name!r}) appears {count + 1} times; "
                    f"{count} exact cop{'y' if count == 1 else 'ies'} dropped"
                )
                span.warnings.append(message)
                self._report(span_id, message, "copy")
        return unique

    def _resolve(self, span_id: str, group: list[Span]) -> None:
        if len(group) < 2:
            return
        keeper = next((s for s in group if s.kind == SpanKind.CLIENT), None)
        if keeper is None:
            keeper = next(
                (s for s in group if s.kind != SpanKind.SERVER and not s.shared), group[0]
            )
        keeper_is_server = keeper.kind == SpanKind.SERVER or keeper.shared
        for span in group:
            if span is keeper:
                continue
            new_id = self._new_span_id(span_id)
            is_server = span.kind == SpanKind.SERVER or span.shared
            if is_server and (
                keeper.kind == SpanKind.CLIENT or (span.shared and not keeper_is_server)
            ):
                span.span_id = new_id
                span.parent_span_id = span_id
                message = (
                    f"span id {span_id} shared by {keeper.kind.name.lower()} span "
                    f"{keeper.name!r} ({keeper.service_name or 'unknown service'}) and server span "
                    f"{span.name!r} ({span.service_name or 'unknown service'}); the server span "
                    f"is given id {new_id} and the client as its parent"
                )
                cause = "shared"
                entry = self.shared.get(span_id)
                if entry is None:
                    self.shared[span_id] = (keeper, [span])
                else:
                    entry[1].append(span)
            else:
                span.span_id = new_id
                cause = "clash"
                message = (
                    f"span id {span_id} used by both {keeper.name!r} and {span.name!r}; the later "
                    f"span is given id {new_id} (children of {span_id} stay with {keeper.name!r})"
                )
            span.warnings.append(message)
            self._report(new_id, message, cause)

    def _reparent_server_children(self) -> None:
        hosts: dict[int, Host] = {}

        def host(span: Span) -> Host:
            found = hosts.get(id(span))
            if found is None:
                found = hosts[id(span)] = host_of(span)
            return found

        moved: dict[int, int] = {}
        for position, span in enumerate(self.spans):
            entry = self.shared.get(span.parent_span_id)
            if entry is None or position in self.dropped:
                continue
            client, servers = entry
            if span is client or any(span is server for server in servers):
                continue
            candidates = [
                server
                for server in servers
                if server.service_name == span.service_name and compare(host(server), host(span))[0]
            ]
            if not candidates:
                continue  # client side: it stays under the client span
            server = next(
                (s for s in candidates if s.start_ns <= span.start_ns <= s.end_ns), candidates[0]
            )
            old_parent = span.parent_span_id
            span.parent_span_id = server.span_id
            span.warnings.append(
                f"parent {old_parent} is an id shared by a client and a server span; this span "
                f"belongs to the server side and is moved under server span {server.span_id}"
            )
            moved[id(server)] = moved.get(id(server), 0) + 1
        for old_id, (client, servers) in self.shared.items():
            for server in servers:
                count = moved.get(id(server))
                if count:
                    self._report(
                        server.span_id,
                        f"{count} span{'s' if count > 1 else ''} of {server.service_name!r} with "
                        f"parent {old_id} (shared by client {client.name!r} and server "
                        f"{server.name!r}) moved under the server span {server.span_id}",
                        "shared",
                    )
