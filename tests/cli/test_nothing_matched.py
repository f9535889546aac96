"""When the filters keep no trace of the files read, every command says which filter and why,
in one line on stderr, the same way (``spanscope.cli.match_feedback``).

Real generated shop traces in an OTLP JSON-lines file and a third-party Jaeger file, through the
real CLI (click's runner, stdout and stderr apart): per command and kind of filter, the reason,
a clean stdout (``--json`` still parses), the exit code (report commands 0, drawing commands 1
and no file). Hostile names print as text. A hypothesis property holds the reason to the
filter itself: there is a reason exactly when ``filter_traces`` keeps nothing.
"""

from __future__ import annotations

import json
from itertools import pairwise
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spanscope.analysis.filters import TraceFilter, filter_traces
from spanscope.assembly import assemble
from spanscope.cli import main
from spanscope.cli.match_feedback import summarise, why_none_matched
from spanscope.formats import encode_spans
from spanscope.synthetic import generate_spans

FIXTURES = Path(__file__).parent.parent / "fixtures"
JAEGER = FIXTURES / "jaeger/internal__uimodel__converter__v1__json__fixtures__ui_01.json"
T0 = 1_764_150_000_000_000_000  # 2025-11-26T09:40:00Z
TRACES = 60
SERVICES = "cart, checkout, email, frontend, inventory, payment, product-catalog, shipping"


def run(*args: str, input: bytes | None = None) -> Result:
    return CliRunner().invoke(main, list(args), input=input, catch_exceptions=False)


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("nothing") / "shop.jsonl"
    path.write_bytes(encode_spans(generate_spans(TRACES, seed=11, start_ns=T0), "otlp-jsonl"))
    return path


@pytest.fixture(scope="module")
def traces(shop: Path) -> list:
    from spanscope.formats import read_spans

    return [trace for trace in assemble(read_spans(str(shop))) if trace.spans]


# Each kind of filter, and what the line says for it on the shop file.
KINDS = {
    "service": (["--service", "nope"], f"it has no service 'nope' (its services: {SERVICES})"),
    "operation": (["--operation", "nope"], "it has no operation 'nope' (its operations: GET,"),
    "since": (
        ["--since", "2026-01-01T00:00"],
        "match --since 2026-01-01 00:00:00 UTC: its traces start from 2025-11-26 09:40:00 to "
        "09:40:0",
    ),
    "until": (["--until", "2025-11-26T09:00"], "none before the --until time"),
    "min-duration": (["--min-duration", "1h"], "no trace lasts 1h00m or more (the longest: "),
    "trace-id": (["--trace-id", "ffff"], f"none of its {TRACES} traces has the id ffff, nor one"),
}
# Each command as run, whether it draws (exit 1, no file) and what its stdout must be.
REPORTS = {
    "analyze": (["analyze"], "text"),
    "analyze --json": (["analyze", "--json"], "json"),
    "analyze --folded -": (["analyze", "--folded", "-"], "empty"),
    "lint": (["lint"], "text"),
    "lint --json": (["lint", "--json"], "json"),
    "info": (["info"], "text"),
    "info --json": (["info", "--json"], "json"),
    "sample --json": (["sample", "-p", "errors", "--json"], "json"),
    "convert": (["convert"], "file"),
}
DRAWINGS = ("view", "flamegraph", "servicemap")


def _reason_once(result: Result, shop: Path, prefix: str, reason: str) -> None:
    lines = [line for line in result.stderr.splitlines() if "no traces in" in line]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"{prefix} no traces in {shop} match "), lines[0]
    assert reason in lines[0], lines[0]
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("command", list(REPORTS))
def test_report_commands_say_why_and_exit_0(
    shop: Path, tmp_path: Path, command: str, kind: str
) -> None:
    args, stdout = REPORTS[command]
    options, reason = KINDS[kind]
    out = tmp_path / "out.jsonl"
    given = [*args, str(shop), *options] + (["-o", str(out)] if stdout == "file" else [])
    result = run(*given)
    assert result.exit_code == 0, result.stderr
    _reason_once(result, shop, "warning:", reason)
    assert "no traces in" not in result.stdout  # the reason is on stderr only
    if stdout == "json":
        document = json.loads(result.stdout)  # a valid, empty report
        assert document.get("traces", document.get("summary", {}).get("traces")) == 0
    elif stdout == "empty":
        assert result.stdout == ""
    elif stdout == "file":
        assert out.exists() and out.stat().st_size == 0
        assert "wrote 0 spans" in result.stderr
    else:
        assert result.stdout.strip()


@pytest.mark.parametrize("kind", [kind for kind in KINDS if kind != "trace-id"])
@pytest.mark.parametrize("command", DRAWINGS)
def test_drawing_commands_fail_with_why(
    shop: Path, tmp_path: Path, command: str, kind: str
) -> None:
    options, reason = KINDS[kind]
    out = tmp_path / ("drawn.svg" if command == "flamegraph" else "drawn.html")
    result = run(command, str(shop), *options, "-o", str(out))
    assert result.exit_code == 1
    _reason_once(result, shop, "Error:", reason)
    assert result.stdout == ""
    assert not out.exists()


def test_report_lines_no_longer_point_elsewhere(shop: Path) -> None:
    """The report says nothing passed, and no more the time range hint for a service filter;
    info says spans were read (it said 'no spans read')."""
    analysed = run("analyze", str(shop), "--service", "nope")
    assert "shows the time range" not in analysed.stdout
    assert "passes the filters (the warning on standard error says which" in analysed.stdout
    described = run("info", str(shop), "--service", "nope")
    assert "no spans read" not in described.stdout
    assert "passes the filters: nothing to describe" in described.stdout
    linted = run("lint", str(shop), "--service", "nope")
    assert "no trace read passes the filters" in linted.stdout


def test_a_typo_lists_the_name_meant_first(shop: Path) -> None:
    result = run("analyze", str(shop), "--json", "--service", "chekout")
    assert "it has no service 'chekout' (its services: checkout, cart, email," in result.stderr
    operation = run("lint", str(shop), "--operation", "GET /api/kart")
    assert "it has no operation 'GET /api/kart' (its operations: GET /api/cart," in (
        operation.stderr
    )


def test_service_operation_of_another_service(shop: Path) -> None:
    result = run("analyze", str(shop), "--json", "--operation", "frontend:GET /api/kart")
    assert (
        "it has no operation 'frontend:GET /api/kart' (the operations of frontend: GET /api/cart,"
    ) in result.stderr


def test_each_filter_alone_matches_but_not_together(shop: Path, traces: list) -> None:
    email = [t for t in traces if "email" in t.services]
    cart = [t for t in traces if any(span.name == "GET /api/cart" for span in t.spans)]
    assert email and cart  # an order sends an email, looking at the cart does not
    result = run(
        "analyze", str(shop), "--json", "--service", "email", "--operation", "GET /api/cart"
    )
    assert result.exit_code == 0
    assert (
        f"each filter alone matches some of its {TRACES} traces, but no trace passes them all "
        f"(--service email: {len(email)}, --operation 'GET /api/cart': {len(cart)})"
    ) in result.stderr


def test_an_id_that_starts_no_trace_says_so(shop: Path, traces: list) -> None:
    absent = "f" * 10
    assert not any(t.trace_id.startswith(absent) for t in traces)
    result = run("analyze", str(shop), "--json", "--trace-id", absent)
    assert (
        f"none of its {TRACES} traces has the id {absent}, nor one whose id starts with {absent}"
    ) in result.stderr


def test_a_since_within_the_last_second_shows_milliseconds(shop: Path, traces: list) -> None:
    from datetime import UTC, datetime

    last = max(t.start_ns for t in traces)
    since = last + 1_000_000  # a millisecond after the last trace starts: the same second
    typed = datetime.fromtimestamp(since / 1e9, tz=UTC).isoformat(timespec="milliseconds")
    result = run("analyze", str(shop), "--json", "--since", typed)
    shown = datetime.fromtimestamp(last / 1e9, tz=UTC).strftime("%H:%M:%S.%f")[:12]
    assert f"to {shown}, all before the --since time" in result.stderr
    assert f"--since 2025-11-26 {typed[11:23]} UTC" in result.stderr


def test_a_window_in_a_gap_names_the_nearest_starts(shop: Path, traces: list) -> None:
    from datetime import UTC, datetime

    starts = sorted(t.start_ns for t in traces)
    # Two traces that start at least 4 ms apart: a window between them holds none.
    before, after = next((a, b) for a, b in pairwise(starts) if b - a >= 4_000_000)

    def typed(ns: int) -> str:
        return datetime.fromtimestamp(ns / 1e9, tz=UTC).isoformat(timespec="milliseconds")

    def shown(ns: int) -> str:
        return datetime.fromtimestamp(ns / 1e9, tz=UTC).strftime("%H:%M:%S.%f")[:12]

    since, until = before + 1_000_000, after - 1_000_000
    result = run("info", str(shop), "--since", typed(since), "--until", typed(until))
    assert result.exit_code == 0
    assert (
        f"none in the window asked (the last before it at {shown(before)}, the next at "
        f"{shown(after)})"
    ) in result.stderr


def test_a_filter_that_matches_says_nothing(shop: Path) -> None:
    for command in (["analyze", "--json"], ["lint", "--json"], ["info", "--json"]):
        result = run(*command, str(shop), "--service", "email")
        assert result.exit_code == 0 and "no traces in" not in result.stderr


def test_hostile_names_print_as_text(shop: Path, tmp_path: Path) -> None:
    markup = "[red]cart[/red]"
    result = run("analyze", str(shop), "--json", "--service", markup)
    assert f"match --service '{markup}': it has no service '{markup}'" in result.stderr
    long_name = "[bold]" + "x" * 10_000
    drawn = run("view", str(shop), "--service", long_name, "-o", str(tmp_path / "v.html"))
    assert drawn.exit_code == 1
    line = drawn.stderr.strip()
    assert "\n" not in line and len(line) < 600, line
    assert f"it has no service '{long_name[:80]}…' (10,006 characters)" in line
    broken = run("lint", str(shop), "--service", "a\nb")
    assert "it has no service 'a\\nb'" in broken.stderr
    # Names from the input are text too: a service named with markup is listed as it is.
    spans = list(generate_spans(5, seed=2, start_ns=T0))
    for span in spans:
        if span.service_name == "cart":
            span.service_name = markup
    odd = tmp_path / "odd.jsonl"
    odd.write_bytes(encode_spans(spans, "otlp-jsonl"))
    listed = run("info", str(odd), "--json", "--service", "cart")
    assert f"it has no service 'cart' (its services: {markup}, checkout, email," in listed.stderr
    json.loads(listed.stdout)


def test_standard_input_is_not_read_twice(shop: Path) -> None:
    result = run("analyze", "-", "--folded", "-", "--service", "nope", input=shop.read_bytes())
    assert result.exit_code == 0 and result.stdout == ""
    assert "warning: no traces in standard input match --service nope among the " in (result.stderr)
    assert "standard input is read once" in result.stderr


def test_several_inputs_are_named_by_their_number(shop: Path) -> None:
    result = run("analyze", str(shop), str(JAEGER), "--json", "--service", "nope")
    assert "warning: no traces in the 2 inputs match --service nope: it has no service" in (
        result.stderr
    )
    assert "service-x" in result.stderr and "checkout" in result.stderr


def test_a_jaeger_file_through_the_profile_projection() -> None:
    """``--folded -`` reads Jaeger JSON through a projection; it is read again the same way."""
    result = run("analyze", str(JAEGER), "--folded", "-", "--service", "nope")
    assert result.exit_code == 0 and result.stdout == ""
    assert (
        f"warning: no traces in {JAEGER} match --service nope: it has no service 'nope' "
        "(its services: service-x, service-y)"
    ) in result.stderr


# The property: a reason exactly when the filter keeps nothing, and then one line.
_names = st.sampled_from(["cart", "checkout", "email", "nope", "[x]", "GET /api/cart", "GET"])


# The shop file's trace ids, and the starts of some (a prefix is no whole id).
_IDS = sorted({span.trace_id for span in generate_spans(TRACES, seed=11, start_ns=T0)})[:5]
_IDS += [trace_id[:8] for trace_id in _IDS]


@st.composite
def _filters(draw: st.DrawFn) -> TraceFilter:
    span = 2_000_000_000  # the shop's 60 traces start within about 1.2 s of T0
    since = draw(st.none() | st.integers(T0 - span, T0 + span))
    until = draw(st.none() | st.integers(T0 - span, T0 + span))
    ids = st.sampled_from(_IDS) | st.text("0123456789abcdef", min_size=1, max_size=32).filter(
        lambda value: value.strip("0")
    )
    return TraceFilter(
        trace_ids=tuple(draw(st.lists(ids, max_size=2))),
        services=tuple(draw(st.lists(_names, max_size=2))),
        operations=tuple(draw(st.lists(_names, max_size=2))),
        since_ns=since,
        until_ns=until,
        min_duration_ns=draw(st.none() | st.integers(1, 3_000_000_000)),
    )


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(trace_filter=_filters())
def test_a_reason_exactly_when_nothing_passes(traces: list, trace_filter: TraceFilter) -> None:
    kept = list(filter_traces(traces, trace_filter))
    said = why_none_matched(summarise(traces, trace_filter), "shop.jsonl")
    if kept:
        assert said is None
    else:
        assert said is not None and "\n" not in said
        assert said.startswith("no traces in shop.jsonl")


def test_traces_of_zero_length_spans_are_a_match_not_a_reason_to_read_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A trace whose spans all last 0 ns passes the filter and gives no stack: ``--folded -``
    prints nothing, and must not read the inputs a second time looking for why (found in
    review: it decided from 'no stacks written')."""
    from spanscope.cli import match_feedback

    spans = list(generate_spans(60, seed=9))
    for span in spans:
        span.end_ns = span.start_ns
    path = tmp_path / "instant.jsonl"
    path.write_bytes(encode_spans(spans, "otlp-jsonl"))
    read_again: list[object] = []
    real = match_feedback.summarise_again
    monkeypatch.setattr(
        match_feedback, "summarise_again", lambda *a, **k: read_again.append(a) or real(*a, **k)
    )
    result = CliRunner().invoke(
        main, ["analyze", str(path), "--service", "frontend", "--folded", "-"]
    )
    assert result.exit_code == 0, result.output
    assert read_again == []
    assert "match" not in result.output
