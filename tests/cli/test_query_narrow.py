"""``query``'s trace list in an 80-column terminal, for stores the first layout missed: 64-bit
ids (Zipkin, Jaeger) showed as '000000000000…', which names no trace, and traces of several
days cut the errors column off."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest

from spanscope.store import open_store
from spanscope.synthetic import generate_spans

from .test_newcomer_trial import _on_terminal, _query

T0 = 1_764_150_000_000_000_000  # 2025-11-26T09:40:00Z
DAY = 86_400 * 10**9
SHORT = "0" * 16 + "00f067aa0ba902b7"  # a 64-bit id, padded


@pytest.fixture(scope="module")
def store_path(tmp_path_factory: pytest.TempPathFactory) -> str:
    first = list(generate_spans(2, seed=4, start_ns=T0))
    renamed = min(span.trace_id for span in first)
    first = [
        msgspec.structs.replace(span, trace_id=SHORT) if span.trace_id == renamed else span
        for span in first
    ]
    later = list(generate_spans(2, seed=5, start_ns=T0 + 2 * DAY))
    path = Path(tmp_path_factory.mktemp("narrow")) / "traces.duckdb"
    with open_store(path) as store:
        store.write(first + later)
    return str(path)


def test_a_64_bit_id_shows_without_its_padding_and_finds_its_trace(store_path: str) -> None:
    shown = _on_terminal(["query", "--db", store_path], 80)
    assert "000000000000…" not in shown
    assert "f067aa0ba902…" in shown  # its own digits, cut at 12 as the others
    found = _query("--db", store_path, "--trace-id", "f067aa0ba902…")
    assert found.exit_code == 0 and SHORT in found.output


def test_several_days_keep_the_errors_column(store_path: str) -> None:
    shown = _on_terminal(["query", "--db", store_path], 80)
    assert max(len(line) for line in shown.splitlines()) <= 80, shown
    header = next(line for line in shown.splitlines() if "trace id" in line)
    assert "errors" in header, shown
    assert "11-26 09:40:00" in shown and "11-28 09:40:00" in shown, shown
