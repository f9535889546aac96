"""Jaeger's own storage integration search cases against the DuckDB store.

Jaeger's ``internal/storage/integration`` loads every trace fixture into the store under test
and runs the 25 queries of ``fixtures/queries.json``; each must return exactly the traces of the
fixtures it names. Here the OTLP JSON trace files are read with spanscope's reader, written to a
real DuckDB file, and searched. Query durations are Go ``time.Duration`` values (nanoseconds);
tag values are typed JSON that Jaeger compares as text.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from spanscope.formats import read_spans
from spanscope.store import TraceQuery, open_store

JAEGER = Path(__file__).parent.parent / "fixtures" / "jaeger"
PREFIX = "internal__storage__integration__fixtures__"
CASES = json.loads((JAEGER / f"{PREFIX}queries.json").read_text())


def _ns(text: str) -> int:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return int(moment.timestamp()) * 10**9 + moment.microsecond * 1000


def _text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _fixture(name: str):
    return list(read_spans(JAEGER / f"{PREFIX}traces__{name}.json"))


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    names = sorted({name for case in CASES for name in case["ExpectedFixtures"]})
    with open_store(tmp_path_factory.mktemp("jaeger") / "traces.duckdb") as opened:
        for name in names:
            opened.write(_fixture(name))
        yield opened


@pytest.mark.parametrize("case", CASES, ids=[case["Caption"] for case in CASES])
def test_search_returns_exactly_the_expected_traces(store, case):
    raw = case["Query"]
    query = TraceQuery(
        service=raw["ServiceName"] or None,
        operation=raw["OperationName"] or None,
        tags={key: _text(value) for key, value in (raw["Tags"] or {}).items()},
        start_time_min=_ns(raw["StartTimeMin"]),
        start_time_max=_ns(raw["StartTimeMax"]),
        duration_min=raw["DurationMin"] or None,
        duration_max=raw["DurationMax"] or None,
        num_traces=raw["NumTraces"],
    )
    expected: dict[str, list] = {}
    for name in case["ExpectedFixtures"]:
        for span in _fixture(name):
            expected.setdefault(span.trace_id, []).append(span)
    found = store.find_traces(query)
    assert sorted(spans[0].trace_id for spans in found) == sorted(expected)
    assert store.find_trace_ids(query) == [spans[0].trace_id for spans in found]
    for spans in found:
        want = sorted(expected[spans[0].trace_id], key=lambda s: (s.start_ns, s.span_id))
        assert spans == want
