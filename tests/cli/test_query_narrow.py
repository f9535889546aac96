"""``query`` in an 80-column terminal (a real pty): the trace list keeps every column and the
spans of a trace are a tree of whole ids. Then stores the first layout missed: 64-bit ids
(Zipkin, Jaeger) showed as '000000000000…', which names no trace, and traces of several days
cut the errors column off."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest

from spanscope.store import open_store
from spanscope.synthetic import generate_spans

from .markup_traces import EARLY, LATE, MARKUP_SERVICE
from .terminal import shown_on_terminal
from .test_query import run

T0 = 1_764_150_000_000_000_000  # 2025-11-26T09:40:00Z
DAY = 86_400 * 10**9
SHORT = "0" * 16 + "00f067aa0ba902b7"  # a 64-bit id, padded


# -- found by trying every example of the README and of --help, each fixed and held here --


def test_query_in_an_80_column_terminal_keeps_every_column(markup_store: str) -> None:
    """At 80 columns the trace list cut the start to "2026…" and dropped the errors column."""
    shown = shown_on_terminal(["query", "--db", markup_store], 80)
    assert max(len(line) for line in shown.splitlines()) <= 80, shown
    assert "started on 2026-11-27 (UTC)" in shown and "errors" in shown
    assert f"{LATE[:12]}…" in shown and "11:40:00.100" in shown
    # The id as shown is one --trace-id takes.
    found = run("--db", markup_store, "--trace-id", f"{LATE[:12]}…")
    assert found.exit_code == 0 and LATE in found.output
    wide = shown_on_terminal(["query", "--db", markup_store], 120)
    assert LATE in wide and EARLY in wide


def test_a_trace_in_an_80_column_terminal_is_a_tree_of_whole_ids(markup_store: str) -> None:
    """At 80 columns the spans table cut span ids to "dd22c0b056c…" and times to "2026-11…"."""
    shown = shown_on_terminal(["query", "--db", markup_store, "--trace-id", EARLY], 80)
    assert max(len(line) for line in shown.splitlines()) <= 80, shown
    root = next(line for line in shown.splitlines() if "00000000000000e1" in line)
    child = next(line for line in shown.splitlines() if "00000000000000e2" in line)
    assert "+0ns" in root and "+500ms" in child and "100ms" in child
    assert child.index("child") > root.index(MARKUP_SERVICE)  # indented under its parent


# -- stores the first layout missed --


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
    shown = shown_on_terminal(["query", "--db", store_path], 80)
    assert "000000000000…" not in shown
    assert "f067aa0ba902…" in shown  # its own digits, cut at 12 as the others
    found = run("--db", store_path, "--trace-id", "f067aa0ba902…")
    assert found.exit_code == 0 and SHORT in found.output


def test_several_days_keep_the_errors_column(store_path: str) -> None:
    shown = shown_on_terminal(["query", "--db", store_path], 80)
    assert max(len(line) for line in shown.splitlines()) <= 80, shown
    header = next(line for line in shown.splitlines() if "trace id" in line)
    assert "errors" in header, shown
    assert "11-26 09:40:00" in shown and "11-28 09:40:00" in shown, shown
