"""Anti-pattern detectors: hand-built traces with known answers (and near misses), the planted
problems of the synthetic shop, every real fixture, and random forests of spans."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spanscope.analysis import AnalysisOptions, analyze
from spanscope.analysis.detectors import detect_anti_patterns, statement_template
from spanscope.assembly import assemble
from spanscope.errors import InputError
from spanscope.formats import read_spans
from spanscope.model import Span, SpanKind
from spanscope.synthetic import generate_spans
from tests.analysis.builders import MS, build_all, sid, span

CLIENT, SERVER, INTERNAL = SpanKind.CLIENT, SpanKind.SERVER, SpanKind.INTERNAL
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def kinds(findings, kind):
    return [f for f in findings if f.kind == kind]


def select(name, parent, start, end, item, trace="1", statement=None):
    text = statement or f"SELECT price FROM items WHERE id = {item} AND name = 'x{item}'"
    return span(name, parent, start, end, service="api", operation="SELECT items", trace=trace,
                kind=CLIENT, attributes={"db.system": "postgresql", "db.statement": text})  # fmt: skip


def loop(trace: str, calls: int, gap: float = 0, **options):
    """An api handler that runs ``calls`` SELECTs of 2 ms one after another."""
    spans = [span(f"h{trace}", None, 0, 2 + calls * (2 + gap), service="api",
                  operation="GET /orders", kind=SERVER, trace=trace)]  # fmt: skip
    for index in range(calls):
        start = 1 + index * (2 + gap)
        spans.append(select(f"q{trace}.{index}", f"h{trace}", start, start + 2, index, trace))
    return spans


# --- N+1 ------------------------------------------------------------------------------------


def test_statement_template_replaces_literals_only():
    assert statement_template("SELECT * FROM t1 WHERE id = 42 AND name = 'o''brien'") == (
        "SELECT * FROM t1 WHERE id = ? AND name = ?"
    )
    assert statement_template("select a from b where id in (1, 2,3) and x = $1") == (
        "select a from b where id in (?) and x = $1"
    )
    assert statement_template("INSERT INTO t VALUES (1, 'a'), (2, 'b')") == (
        "INSERT INTO t VALUES (?)"
    )
    assert statement_template("UPDATE t SET v = -1.5e3 WHERE k = 0xFF") == (
        "UPDATE t SET v = ? WHERE k = ?"
    )


def test_n_plus_one_found_with_counts_and_critical_time():
    traces = build_all(*loop("1", 6), *loop("2", 9), *loop("3", 7))
    (found,) = detect_anti_patterns(traces)
    assert found.kind == "n_plus_one"
    assert (found.service, found.operation) == ("api", "SELECT items")
    assert (found.parent_service, found.parent_operation) == ("api", "GET /orders")
    assert (found.traces, found.occurrences) == (3, 3)
    assert (found.per_trace_p50, found.per_trace_max) == (7, 9)
    # Back to back inside the handler: every query is on the critical path.
    assert found.critical_ns == found.duration_ns == (6 + 9 + 7) * 2 * MS
    assert found.detail == "SELECT price FROM items WHERE id = ? AND name = ?"
    assert found.example_trace_id == traces[1].trace_id  # the one with most at stake
    assert found.example_span_ids == [sid(f"q2.{i}") for i in range(9)]
    assert "9 times" not in found.explanation and "7 times per request" in found.explanation
    assert "batch" in found.explanation


def test_four_calls_are_not_n_plus_one_at_threshold_five():
    assert not detect_anti_patterns(build_all(*loop("1", 4)))
    assert kinds(detect_anti_patterns(build_all(*loop("1", 5))), "n_plus_one")
    lowered = detect_anti_patterns(
        build_all(*loop("1", 4)), AnalysisOptions(n_plus_one_min_calls=4)
    )
    assert [f.per_trace_p50 for f in lowered] == [4]


def test_different_statements_are_not_n_plus_one():
    spans = [span("h", None, 0, 20, service="api", operation="GET /orders", kind=SERVER)]
    for index, column in enumerate(["price", "stock", "name", "tax", "size", "color"]):
        start = 1 + index * 2
        spans.append(select(f"q{index}", "h", start, start + 2, index,
                            statement=f"SELECT {column} FROM items WHERE id = {index}"))  # fmt: skip
    assert not detect_anti_patterns(build_all(*spans))


def test_parallel_calls_are_not_n_plus_one():
    spans = [span("h", None, 0, 10, service="api", operation="GET /orders", kind=SERVER)]
    spans += [select(f"q{i}", "h", 1 + i * 0.1, 5 + i * 0.1, i) for i in range(8)]
    assert not detect_anti_patterns(build_all(*spans))


def test_repeated_rpc_without_statement_is_n_plus_one_by_name():
    spans = [span("h", None, 0, 40, service="web", operation="GET /feed", kind=SERVER)]
    for index in range(5):
        start = 1 + index * 7
        spans.append(span(f"c{index}", "h", start, start + 6, service="web",
                          operation="GetUser", kind=CLIENT))  # fmt: skip
        spans.append(span(f"s{index}", f"c{index}", start + 1, start + 5, service="users",
                          operation="GetUser", kind=SERVER))  # fmt: skip
    (found,) = kinds(detect_anti_patterns(build_all(*spans)), "n_plus_one")
    assert (found.service, found.operation, found.detail) == ("web", "GetUser", "")
    # The critical path runs down into the servers: the calls' subtrees count.
    assert found.critical_ns == 5 * 6 * MS


# --- sequential calls -----------------------------------------------------------------------


def _call(name, parent, start, end, callee, operation, **fields):
    return [
        span(name, parent, start, end, service="shop", operation=operation, kind=CLIENT,
             attributes={"peer.service": callee}, **fields),
        span(f"{name}s", name, start + 0.5, end - 0.5, service=callee, operation=operation,
             kind=SERVER),
    ]  # fmt: skip


def test_sequential_calls_to_different_services():
    spans = [span("r", None, 0, 50, service="shop", operation="POST /order", kind=SERVER)]
    spans += _call("a", "r", 1, 11, "cart", "GetCart")
    spans += _call("b", "r", 11, 41, "quote", "GetQuote")
    (found,) = detect_anti_patterns(build_all(*spans))
    assert found.kind == "sequential_calls"
    assert (found.service, found.operation) == ("shop", "POST /order")
    assert found.detail == "shop:GetCart -> shop:GetQuote"
    assert found.per_trace_p50 == 2 and found.example_span_ids == [sid("a"), sid("b")]
    assert found.duration_ns == found.critical_ns == 10 * MS  # sum minus max
    assert "save up to 10ms" in found.explanation and "if they are independent" in found.explanation


def test_overlapping_calls_are_not_sequential():
    spans = [span("r", None, 0, 50, service="shop", operation="POST /order", kind=SERVER)]
    spans += _call("a", "r", 1, 20, "cart", "GetCart")
    spans += _call("b", "r", 10, 41, "quote", "GetQuote")
    assert not detect_anti_patterns(build_all(*spans))


def test_not_sequential_calls():
    root = span("r", None, 0, 50, service="shop", operation="POST /order", kind=SERVER)
    # The same target twice is a loop, not two independent calls.
    same = [
        root,
        *_call("a", "r", 1, 11, "cart", "GetCart"),
        *_call("b", "r", 12, 20, "cart", "GetCart"),
    ]
    assert not detect_anti_patterns(build_all(*same))
    # Two statements on one database usually depend on each other.
    db = {"db.system": "postgresql", "db.namespace": "shop"}
    statements = [
        root,
        span("s", "r", 1, 5, service="shop", operation="SELECT", kind=CLIENT,
             attributes={**db, "db.query.text": "SELECT 1"}),
        span("u", "r", 5, 9, service="shop", operation="UPDATE", kind=CLIENT,
             attributes={**db, "db.query.text": "UPDATE t SET a = 1"}),
    ]  # fmt: skip
    assert not detect_anti_patterns(build_all(*statements))
    # Local work is not a call; a fire-and-forget child does not block.
    local = [
        root,
        span("i", "r", 1, 5, service="shop", operation="validate", kind=INTERNAL),
        *_call("a", "r", 5, 11, "cart", "GetCart"),
        *_call("f", "r", 12, 20, "mail", "Send", follows_from=True),
    ]
    assert not detect_anti_patterns(build_all(*local))
    # Above the threshold only.
    two = [
        root,
        *_call("a", "r", 1, 11, "cart", "GetCart"),
        *_call("b", "r", 12, 20, "quote", "Get"),
    ]
    assert not detect_anti_patterns(build_all(*two), AnalysisOptions(sequential_min_calls=3))


# --- broken propagation ---------------------------------------------------------------------


def test_orphans_and_extra_roots():
    traces = build_all(
        span("r", None, 0, 10, service="web", operation="GET /", kind=SERVER),
        span("o", "gone", 2, 4, service="api", operation="lookup", kind=SERVER),
        span("x", None, 3, 8, service="worker", operation="job", kind=INTERNAL),
    )
    found = {f.detail: f for f in kinds(detect_anti_patterns(traces), "broken_propagation")}
    assert set(found) == {"orphan", "extra root"}
    assert (found["orphan"].service, found["orphan"].operation) == ("api", "lookup")
    assert found["orphan"].example_span_ids == [sid("o")] and found["orphan"].critical_ns == 0
    assert (found["extra root"].service, found["extra root"].duration_ns) == ("worker", 5 * MS)


def test_server_span_under_a_non_client_parent():
    traces = build_all(
        span("r", None, 0, 10, service="web", operation="GET /", kind=SERVER),
        span("s", "r", 1, 9, service="api", operation="lookup", kind=SERVER),
    )
    (found,) = detect_anti_patterns(traces)
    assert found.kind == "broken_propagation" and found.service == "api"
    assert found.detail == "server under non-client: parent web:GET / (SERVER)"
    assert found.critical_ns == 8 * MS and found.example_span_ids == [sid("r"), sid("s")]
    # A proper client/server pair, and a parent without a kind (old data), are fine.
    ok = build_all(
        span("r", None, 0, 10, service="web", operation="GET /", kind=SERVER),
        *_call("c", "r", 1, 9, "api", "lookup"),
        span("u", None, 20, 30, service="web", operation="GET /old", trace="2"),
        span("v", "u", 21, 29, service="api", operation="lookup", kind=SERVER, trace="2"),
    )
    assert not detect_anti_patterns(ok)


def test_callee_that_did_not_continue_the_trace():
    spans = [
        span("r", None, 0, 10, service="web", operation="GET /", kind=SERVER),
        span("c", "r", 1, 9, service="web", operation="lookup", kind=CLIENT,
             attributes={"server.address": "api.prod.svc:8080"}),
        # The callee's half: a new trace, started inside the call.
        span("s", None, 2, 8, service="api", operation="lookup", kind=SERVER, trace="2"),
        # A call to something nobody traces is fine.
        span("d", "r", 2, 3, service="web", operation="GET", kind=CLIENT,
             attributes={"server.address": "redis"}),
    ]  # fmt: skip
    (found,) = detect_anti_patterns(build_all(*spans))
    assert (found.kind, found.service, found.operation) == ("broken_propagation", "web", "lookup")
    assert (
        found.detail
        == "client without server: calls api; 1 new traces of api started during such calls"
    )
    assert found.critical_ns == 8 * MS
    assert "did not continue the trace" in found.explanation


# --- unclosed spans and span names ----------------------------------------------------------


def test_unclosed_spans():
    traces = build_all(
        span("r", None, 0, 10, service="web", operation="GET /", kind=SERVER),
        span("a", "r", 1, None, service="web", operation="render"),
        span("b", "r", 2, None, service="web", operation="render"),
    )
    (found,) = detect_anti_patterns(traces)
    assert (found.kind, found.service, found.operation) == ("unclosed_spans", "web", "render")
    assert (found.traces, found.occurrences, found.per_trace_max) == (1, 2, 2)
    assert found.example_span_ids == [sid("a")]


def _users(count: int) -> list[Span]:
    return [
        span(f"u{index}", None, index, index + 1, service="web",
             operation=f"GET /users/{1000 + index}", trace=f"{index + 1:x}", kind=SERVER)
        for index in range(count)
    ]  # fmt: skip


def test_high_cardinality_names():
    (found,) = detect_anti_patterns(build_all(*_users(25)))
    assert (found.kind, found.service, found.operation) == (
        "high_cardinality_name", "web", "GET /users/<num>"
    )  # fmt: skip
    assert found.occurrences == 25 and found.traces == 25
    assert found.duration_ns == found.critical_ns == 25 * MS
    assert "'GET /users/{id}'" in found.explanation
    assert not detect_anti_patterns(build_all(*_users(19)))
    assert detect_anti_patterns(
        build_all(*_users(19)), AnalysisOptions(high_cardinality_min_names=19)
    )


def test_a_trace_of_many_id_names_counts_once():
    """40 spans of one trace named GET /users/<id>: one trace, in the anti-pattern, in the
    report's operation table beside it and in lint (each name's traces were summed: 40)."""
    from spanscope.quality.linter import lint

    root = span("r", None, 0, 100, service="web", operation="GET /page", trace="7", kind=SERVER)
    calls = [
        span(f"c{index}", "r", index, index + 1, service="web",
             operation=f"GET /users/{1000 + index}", trace="7")
        for index in range(40)
    ]  # fmt: skip
    traces = build_all(root, *calls)
    (found,) = detect_anti_patterns(traces)
    assert (found.operation, found.occurrences, found.traces) == ("GET /users/<num>", 40, 1)
    report = analyze(traces)
    (in_report,) = kinds(report.anti_patterns, "high_cardinality_name")
    assert in_report.traces == 1
    (rule,) = [rule for rule in lint(traces).rules if rule.id == "high-cardinality-name"]
    assert (rule.spans, rule.traces) == (40, 1)


# --- the whole analyzer, the shop, real files, random data ---------------------------------


def test_analyzer_and_detect_agree():
    spans = [*loop("1", 6), *_users(21), span("x", "gone", 0, 1, trace="99")]
    traces = build_all(*spans)
    assert analyze(traces).anti_patterns == detect_anti_patterns(traces)


@pytest.fixture(scope="module")
def shop():
    traces = assemble(generate_spans(3000, seed=7))
    return traces, analyze(traces)


def test_shop_n_plus_one_in_inventory(shop):
    traces, report = shop
    (found,) = kinds(report.anti_patterns, "n_plus_one")
    assert (found.service, found.operation) == ("inventory", "SELECT shop.stock")
    assert found.parent_operation == "shop.inventory/ReserveItems"
    assert found.detail == "SELECT quantity FROM stock WHERE product_id = $1"
    checkouts = sum(t.root.name == "POST /api/checkout" for t in traces)
    # Carts of five items or more: about a third of the checkouts (1 + Exp(mean 3), plus 5%
    # huge ones with 25 more items).
    assert 0.2 * checkouts < found.traces < 0.45 * checkouts
    assert 5 <= found.per_trace_p50 <= 10 and found.per_trace_max >= 26
    # Back-to-back queries on the request's path: their whole time is at stake, ~1.5 ms each.
    assert found.critical_ns == found.duration_ns
    per_query = found.critical_ns / (found.traces * found.per_trace_p50)
    assert 1 * MS < per_query < 4 * MS


def test_shop_sequential_calls_in_checkout(shop):
    traces, report = shop
    (found,) = kinds(report.anti_patterns, "sequential_calls")
    assert (found.service, found.operation) == ("checkout", "shop.checkout/PlaceOrder")
    assert found.detail.startswith("checkout:shop.cart/GetCart -> checkout:shop.shipping/GetQuote")
    checkouts = sum(t.root.name == "POST /api/checkout" for t in traces)
    assert found.traces == checkouts
    saving = found.critical_ns / found.traces
    assert 8 * MS < saving < 40 * MS  # cart + quote + reserve, payment (~35 ms) the longest
    # The clean shop has no other anti-pattern, and the two come first.
    assert {f.kind for f in report.anti_patterns} == {"n_plus_one", "sequential_calls"}


def _fixture_traces():
    for path in sorted(FIXTURES.rglob("*")):
        if not path.is_file() or path.suffix == ".md":
            continue
        try:
            spans = list(read_spans(path))
        except InputError:
            continue
        if spans:
            yield path, spans


def test_real_fixtures_run():
    seen = 0
    kinds_found = set()
    for path, spans in _fixture_traces():
        traces = assemble(spans)
        found = analyze(traces, AnalysisOptions(top=5)).anti_patterns
        for finding in found:
            assert finding.traces >= 1 and finding.critical_ns >= 0, path
            assert finding.example_trace_id in {t.trace_id for t in traces}, path
            kinds_found.add(finding.kind)
        seen += 1
    assert seen >= 60
    # The third-party files hold orphans, extra roots, unclosed spans and repeated calls.
    assert {"broken_propagation", "unclosed_spans", "n_plus_one"} <= kinds_found


def _attributes(index: int) -> list[dict]:
    return [
        {},
        {"peer.service": "b"},
        {"server.address": "a.x:1"},
        {"db.system": "pg", "db.statement": f"SELECT {index}"},
        {"db.query.text": 3},
    ]


@st.composite
def forests(draw: st.DrawFn) -> list[Span]:
    spans = []
    for index in range(draw(st.integers(0, 40))):
        start = draw(st.integers(0, 100))
        spans.append(
            Span(
                trace_id=f"{draw(st.integers(1, 3)):032x}",
                span_id=f"{draw(st.integers(1, 30)):016x}",
                parent_span_id=draw(st.sampled_from(["", *(f"{n:016x}" for n in range(1, 34))])),
                name=draw(st.sampled_from(["q", "GET /u/1", f"GET /u/{index}", ""])),
                service_name=draw(st.sampled_from(["a", "b", ""])),
                kind=draw(st.sampled_from(list(SpanKind))),
                start_ns=start,
                end_ns=draw(st.sampled_from([0, start, start + draw(st.integers(-5, 50))])),
                follows_from=draw(st.booleans()),
                attributes=draw(st.sampled_from(_attributes(index))),
            )
        )
    return spans


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(forests(), st.integers(1, 6), st.integers(1, 4), st.integers(1, 3))
def test_detectors_never_raise_on_random_forests(spans, n_plus_one, sequential, names):
    traces = assemble(spans)
    options = AnalysisOptions(
        n_plus_one_min_calls=n_plus_one,
        sequential_min_calls=sequential,
        high_cardinality_min_names=names,
    )
    found = detect_anti_patterns(traces, options)
    assert found == analyze(traces, options).anti_patterns
    ids = {t.trace_id: set(t.by_id) for t in traces}
    for finding in found:
        assert finding.traces >= 1 and finding.occurrences >= 1
        assert finding.critical_ns >= 0 and finding.duration_ns >= 0
        assert finding.per_trace_p50 <= finding.per_trace_max
        assert set(finding.example_span_ids) <= ids[finding.example_trace_id]
    assert [f.critical_ns for f in found] == sorted((f.critical_ns for f in found), reverse=True)


def test_a_database_call_named_by_the_current_conventions_is_no_broken_propagation():
    # The database is also a traced service here (its own spans), as a sidecar might make it.
    for db_key in ("db.system.name", "db.system"):
        spans = [
            span("r", None, 0, 10, service="web", operation="GET /", kind=SERVER),
            span("q", "r", 1, 9, service="web", operation="SELECT", kind=CLIENT,
                 attributes={db_key: "postgresql", "server.address": "postgres"}),
            span("p", None, 20, 30, service="postgres", operation="query", kind=SERVER,
                 trace="2"),
        ]  # fmt: skip
        assert not detect_anti_patterns(build_all(*spans)), db_key
        # The same call without any database key is one.
        spans[1] = span("q", "r", 1, 9, service="web", operation="SELECT", kind=CLIENT,
                        attributes={"server.address": "postgres"})  # fmt: skip
        assert [f.kind for f in detect_anti_patterns(build_all(*spans))] == ["broken_propagation"]
