"""``/api/v1/diff`` (and so the ``/compare`` page) answers what ``spanscope diff --db ... --json``
answers on the same store and window: names with ids folded alike on both sides, moves judged
against chance from both sides' durations (``compare.sides.compare_traces``).

A real DuckDB store holds two hours of the unchanged shop (seeds 1 and 5: checkout's p95 moves
by chance) whose product requests are named by their path (``GET /api/products/2428``) in the
first hour and, but for three, by their route in the second; the command reads it, then the
in-process server over real HTTP on loopback.
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import msgspec
import pytest
from click.testing import CliRunner

from spanscope.cli import main
from spanscope.store import open_store
from spanscope.synthetic import generate_spans

from .conftest import start_server, stop_server

HOUR_NS = 3600 * 10**9
T0 = 1_764_150_000_000_000_000  # 2025-11-26T09:40:00Z
TRACES = 300
PRODUCT = "GET /api/products/{id}"


def _named_by_path(spans: list, keep_route: int | None) -> list:
    """The shop's spans with product requests named by their path, but for the first
    ``keep_route`` (None: all named by path)."""
    named = 0
    out = []
    for span in spans:
        if span.name == PRODUCT and "url.path" in span.attributes:
            if keep_route is None or named < 3:
                span = msgspec.structs.replace(span, name=f"GET {span.attributes['url.path']}")
            named += 1
        out.append(span)
    return out


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("diff-as-cli") / "shop.duckdb"
    first = _named_by_path(list(generate_spans(TRACES, seed=1, start_ns=T0 + 10**9)), None)
    second = _named_by_path(
        list(generate_spans(TRACES, seed=5, start_ns=T0 + HOUR_NS + 10**9)), keep_route=3
    )
    with open_store(db) as opened:
        opened.write(first)
        opened.write(second)
    return db


def _without_sources(comparison: dict) -> dict:
    """The comparison without what says how each side was read: its sources, and how many
    traces its search matched and read (the command's search for a service reaches past a
    window's end, STRADDLE_NS, so it matches more, then keeps the same traces)."""
    for side in ("before", "after"):
        comparison[side].pop("sources")
        assert comparison[side].pop("read") <= comparison[side].pop("matched")
    return comparison


@pytest.mark.parametrize("service", ["frontend", "checkout"])
def test_the_api_answers_what_diff_of_the_store_answers(store: Path, service: str) -> None:
    since, until = T0 + HOUR_NS, T0 + 2 * HOUR_NS
    command = [
        "diff", "--db", str(store), "--service", service, "--top", "10", "--json",
        "--since", str(since // 10**9), "--until", str(until // 10**9),
    ]  # fmt: skip
    done = CliRunner().invoke(main, command, catch_exceptions=False)
    assert done.exit_code == 0, done.output
    said = json.loads(done.stdout)

    running, thread = start_server(store)
    try:
        params = {
            "service": service,
            "limit": "1500",
            "start": str(since // 1000),
            "end": str(until // 1000),
        }
        answer = httpx.get(f"{running.ui}/api/v1/diff", params=params, timeout=120)
    finally:
        stop_server(running, thread)
    assert answer.status_code == 200, answer.text
    answered = answer.json()
    assert answered["before"]["traces"] > 0 and answered["after"]["traces"] > 0
    assert _without_sources(answered) == _without_sources(said)
    # What the shared recipe does: the ids fold into one endpoint on both sides (not one
    # gone and three new), and chance moves make no headline.
    if service == "frontend":
        names = {e["operation"] for e in answered["endpoints"]}
        assert not any(name.startswith("GET /api/products/") and name[-1].isdigit()
                       for name in names), names  # fmt: skip
        assert not any("p95" in line for line in answered["headline"]), answered["headline"]
