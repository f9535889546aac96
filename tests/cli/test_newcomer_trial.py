"""What a newcomer trying every README and ``--help`` command ran into, each fixed and held here:
names with rich markup in ``query``'s tables, its "most recent first" list in start order,
``generate`` without ``-o`` on a terminal, a ``--fail-if`` about a misspelt endpoint, and
``info``'s counts. Real files, real DuckDB stores, the real command (click's runner or a
subprocess on a pseudo-terminal)."""

from __future__ import annotations

import json
import os
import pty
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from spanscope.cli import main
from spanscope.formats import read_spans
from spanscope.store import open_store

START = 1_795_779_600_000_000_000  # 2026-11-27T11:40:00Z
MS = 1_000_000
MARKUP_SERVICE = "db[/red]svc"
MARKUP_NAME = "SELECT [dbo].[stock] [/red]"


def _span(trace: str, span: str, parent: str, name: str, start: int, end: int) -> dict:
    return {
        "traceId": trace,
        "spanId": span,
        "parentSpanId": parent,
        "name": name,
        "kind": 2,
        "startTimeUnixNano": str(start),
        "endTimeUnixNano": str(end),
    }


def _otlp(service: str, spans: list[dict]) -> dict:
    resource = {"attributes": [{"key": "service.name", "value": {"stringValue": service}}]}
    return {"resourceSpans": [{"resource": resource, "scopeSpans": [{"spans": spans}]}]}


EARLY = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1"  # starts first, its last span latest
LATE = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb2"  # starts 100 ms later, one short span


@pytest.fixture(scope="module")
def store_path(tmp_path_factory) -> str:
    folder = tmp_path_factory.mktemp("newcomer")
    trace_file = folder / "traces.json"
    spans = [
        _span(EARLY, "00000000000000e1", "", MARKUP_NAME, START, START + 1000 * MS),
        _span(EARLY, "00000000000000e2", "00000000000000e1", "child", START + 500 * MS,
              START + 600 * MS),
        _span(LATE, "00000000000000f1", "", "GET /late", START + 100 * MS, START + 110 * MS),
    ]  # fmt: skip
    trace_file.write_text(json.dumps(_otlp(MARKUP_SERVICE, spans)))
    path = folder / "traces.duckdb"
    with open_store(path) as store:
        store.write(list(read_spans(trace_file)))
    return str(path)


def _query(*args: str):
    return CliRunner().invoke(
        main, ["query", *args], catch_exceptions=False, env={"COLUMNS": "200"}
    )


def test_query_prints_names_with_markup_as_they_are(store_path: str) -> None:
    # Each of these raised rich's MarkupError (a traceback) on "[/red]" in a name.
    table = _query("--db", store_path)
    assert table.exit_code == 0, table.output
    assert f"{MARKUP_SERVICE}: {MARKUP_NAME}" in table.output
    spans = _query("--db", store_path, "--trace-id", EARLY)
    assert spans.exit_code == 0, spans.output
    assert f"{MARKUP_SERVICE}: {MARKUP_NAME}" in spans.output
    services = _query("--db", store_path, "--metrics", "--since", "2026-11-27T11:00")
    assert services.exit_code == 0, services.output
    assert MARKUP_SERVICE in services.output
    operations = _query(
        "--db", store_path, "--metrics", "--since", "2026-11-27T11:00", "--service",
        MARKUP_SERVICE,
    )  # fmt: skip
    assert operations.exit_code == 0, operations.output
    assert f"of {MARKUP_SERVICE}" in operations.output and MARKUP_NAME in operations.output


def test_query_lists_the_most_recent_first_by_their_start(store_path: str) -> None:
    """The store picks traces by their last matching span (EARLY's child is the latest span);
    the list says "most recent first" beside each trace's start, so it is in start order."""
    rows = json.loads(_query("--db", store_path, "--json").output)
    assert [row["trace_id"] for row in rows] == [LATE, EARLY]
    table = _query("--db", store_path).output
    assert "2 traces, most recent first" in table
    assert table.index(LATE) < table.index(EARLY)


SPANSCOPE = str(Path(sys.executable).parent / "spanscope")


def test_generate_without_output_on_a_terminal_asks_for_a_file(tmp_path: Path) -> None:
    """A bare 'spanscope generate' printed megabytes of JSON lines into the terminal."""
    leader, follower = pty.openpty()
    try:
        result = subprocess.run(
            [SPANSCOPE, "generate", "--traces", "50"],
            stdout=follower,
            stderr=subprocess.PIPE,
            text=True,
            cwd=tmp_path,
            timeout=60,
        )
        os.set_blocking(leader, False)
        try:
            printed = os.read(leader, 1 << 16)
        except BlockingIOError:
            printed = b""
    finally:
        os.close(follower)
        os.close(leader)
    assert result.returncode == 2, result.stderr
    assert "-o FILE" in result.stderr and "-o -" in result.stderr
    assert b"resourceSpans" not in printed
    # A pipe still gets the traces, as 'spanscope generate | spanscope analyze -' wants.
    piped = subprocess.run(
        [SPANSCOPE, "generate", "--traces", "5"], capture_output=True, timeout=60, check=True
    )
    assert piped.stdout.startswith(b'{"resourceSpans"')


def test_generate_writes_protobuf_to_a_pb_file(tmp_path: Path) -> None:
    """As convert reads an output's name: 'generate -o shop.pb' wrote JSON lines into it."""
    output = tmp_path / "shop.pb"
    made = CliRunner().invoke(main, ["generate", "--traces", "5", "-o", str(output)])
    assert made.exit_code == 0, made.output
    assert "(otlp-proto)" in made.output
    info = json.loads(CliRunner().invoke(main, ["info", "--json", str(output)]).output)
    assert info["inputs"][0]["format"] == "otlp-proto"
    named = tmp_path / "shop.json"
    CliRunner().invoke(main, ["generate", "--traces", "5", "-o", str(named)])
    assert json.loads(named.read_text().splitlines()[0])["resourceSpans"]  # JSON lines


@pytest.fixture(scope="module")
def shop(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("shop") / "shop.jsonl"
    made = CliRunner().invoke(main, ["generate", "--traces", "300", "-o", str(path)])
    assert made.exit_code == 0, made.output
    return str(path)


@pytest.mark.parametrize(
    ("condition", "first"),
    [
        ("p99(POST /api/chekout) > 800ms", "POST /api/checkout"),
        ("p99(frontend:GET /api/kart) > 1s", "frontend:GET /api/cart"),
    ],
)
def test_a_fail_if_about_a_misspelt_endpoint_names_the_closest(
    shop: str, condition: str, first: str
) -> None:
    result = CliRunner().invoke(main, ["analyze", shop, "--json", "--fail-if", condition])
    assert result.exit_code == 2, result.output
    assert f"--fail-if '{condition}' cannot be checked" in result.stderr
    assert f"(its endpoints: {first}, " in result.stderr


def test_a_fail_if_with_markup_in_it_is_printed_as_typed(shop: str) -> None:
    """With --json the conditions go to stderr through rich: '[/red]' raised a MarkupError."""
    missing = CliRunner().invoke(
        main, ["analyze", shop, "--json", "--fail-if", "p99(x[/red]) > 1ms"]
    )
    assert missing.exit_code == 2, missing.output
    assert "--fail-if 'p99(x[/red]) > 1ms' cannot be checked: no data for x[/red]" in (
        missing.stderr
    )


def test_info_aligns_spans_as_numbers(tmp_path: Path) -> None:
    """Spans stood left in the inputs table and right in the services table."""
    one = tmp_path / "one.json"
    spans = [_span(LATE, "00000000000000f1", "", "GET /late", START, START + MS)]
    one.write_text(json.dumps(_otlp("checkout", spans)))
    result = CliRunner().invoke(main, ["info", str(one)], env={"COLUMNS": "120"})
    assert result.exit_code == 0, result.output
    inputs = next(line for line in result.output.splitlines() if "one.json" in line)
    assert inputs.split("│")[3].endswith("     1 "), inputs  # right-aligned under "spans"


def _on_terminal(args: list[str], columns: int) -> str:
    """What ``spanscope ARGS`` shows in a terminal ``columns`` wide (a pseudo-terminal)."""
    leader, follower = pty.openpty()
    env = {**os.environ, "COLUMNS": str(columns), "LINES": "50", "NO_COLOR": "1"}
    try:
        process = subprocess.Popen(
            [SPANSCOPE, *args], stdout=follower, stderr=subprocess.DEVNULL, env=env
        )
        os.close(follower)
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 1 << 16)
            except OSError:  # the terminal closed: the command is done
                break
            if not chunk:
                break
            chunks.append(chunk)
        assert process.wait(timeout=60) == 0
    finally:
        os.close(leader)
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", b"".join(chunks).decode())
    return "\n".join(line.rstrip() for line in text.replace("\r\n", "\n").splitlines())


def test_query_in_an_80_column_terminal_keeps_every_column(store_path: str) -> None:
    """At 80 columns the trace list cut the start to "2026…" and dropped the errors column."""
    shown = _on_terminal(["query", "--db", store_path], 80)
    assert max(len(line) for line in shown.splitlines()) <= 80, shown
    assert "started on 2026-11-27 (UTC)" in shown and "errors" in shown
    assert f"{LATE[:12]}…" in shown and "11:40:00.100" in shown
    # The id as shown is one --trace-id takes.
    found = _query("--db", store_path, "--trace-id", f"{LATE[:12]}…")
    assert found.exit_code == 0 and LATE in found.output
    wide = _on_terminal(["query", "--db", store_path], 120)
    assert LATE in wide and EARLY in wide


def test_a_trace_in_an_80_column_terminal_is_a_tree_of_whole_ids(store_path: str) -> None:
    """At 80 columns the spans table cut span ids to "dd22c0b056c…" and times to "2026-11…"."""
    shown = _on_terminal(["query", "--db", store_path, "--trace-id", EARLY], 80)
    assert max(len(line) for line in shown.splitlines()) <= 80, shown
    root = next(line for line in shown.splitlines() if "00000000000000e1" in line)
    child = next(line for line in shown.splitlines() if "00000000000000e2" in line)
    assert "+0ns" in root and "+500ms" in child and "100ms" in child
    assert child.index("child") > root.index(MARKUP_SERVICE)  # indented under its parent


def test_folded_slow_without_folded_is_a_usage_error(shop: str) -> None:
    """--folded-slow alone was dropped without a word: the report and no stacks anywhere."""
    alone = CliRunner().invoke(main, ["analyze", shop, "--folded-slow"])
    assert alone.exit_code == 2
    assert "add --folded FILE" in alone.output
    stacks = CliRunner().invoke(main, ["analyze", shop, "--folded-slow", "--folded", "-"])
    assert stacks.exit_code == 0, stacks.output
    assert stacks.stdout.startswith("frontend:POST /api/checkout;")


def test_the_example_says_where_spanscope_is_when_not_on_path(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """After 'make example' nothing puts spanscope on PATH: the lines the example suggested
    ('spanscope serve --db ...') failed with 'command not found', and nothing said why."""
    from examples.shop.__main__ import where_spanscope_is

    own = Path(sys.executable).parent / "spanscope"
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    monkeypatch.chdir(tmp_path)
    said = where_spanscope_is()
    assert f"spanscope is {own} here: add {own.parent} to PATH" in said
    monkeypatch.setenv("PATH", f"{own.parent}{os.pathsep}/usr/bin:/bin")
    assert where_spanscope_is() == ""


def test_flamegraph_of_a_misspelt_endpoint_names_the_endpoints(shop: str, tmp_path: Path) -> None:
    output = tmp_path / "f.svg"
    result = CliRunner().invoke(
        main,
        [
            "flamegraph",
            shop,
            "--aggregate",
            "--endpoint",
            "frontend:GET /api/kart",
            "-o",
            str(output),
        ],
    )
    assert result.exit_code == 1 and not output.exists()
    assert "no trace has the root frontend:GET /api/kart" in result.output
    assert "(its endpoints: frontend:GET /api/cart, " in result.output


def test_query_with_min_duration_above_max_duration_is_a_usage_error(tmp_path: Path) -> None:
    """It searched the store and said each condition matched some traces, none all of them."""
    absent = tmp_path / "none.duckdb"
    result = CliRunner().invoke(
        main, ["query", "--db", str(absent), "--min-duration", "2s", "--max-duration", "1s"]
    )
    assert result.exit_code == 2
    assert "--min-duration 2s is longer than --max-duration 1s: no trace can match" in (
        result.output
    )
    assert not absent.exists()


def test_sample_prints_policies_with_markup_as_typed(tmp_path: Path) -> None:
    """'-p service=db[/red]svc' (a service named so) stopped the report with a traceback."""
    traces = tmp_path / "traces.json"
    spans = [_span(LATE, "00000000000000f1", "", "GET /x", START, START + MS)]
    traces.write_text(json.dumps(_otlp(MARKUP_SERVICE, spans)))
    result = CliRunner().invoke(main, ["sample", str(traces), "-p", f"service={MARKUP_SERVICE}"])
    assert result.exit_code == 0, result.output
    assert f"policies service={MARKUP_SERVICE}\n" in result.output
    assert "kept 1 of 1 traces" in result.output
    rows = [line.split() for line in result.output.splitlines()]
    assert [f"service={MARKUP_SERVICE}", "1"] in rows  # the "kept by" table


def test_an_input_error_quoting_markup_is_a_message_not_a_traceback(tmp_path: Path) -> None:
    """Bad input gets one clear message: a bad trace id '[/red]' gave rich's MarkupError."""
    bad = tmp_path / "bad.json"
    span = _span("[/red]", "00f067aa0ba902b7", "", "x", START, START + MS)
    bad.write_text(json.dumps(_otlp("checkout", [span])))
    for command in ("analyze", "info", "lint"):
        result = subprocess.run(
            [SPANSCOPE, command, str(bad)], capture_output=True, text=True, timeout=60
        )
        assert result.returncode == 2, (command, result.stderr)
        assert "Traceback" not in result.stderr
        assert "traceId: invalid trace id '[/red]'" in result.stderr, result.stderr


@pytest.mark.parametrize(
    ("header", "said"),
    [
        ("traceparent: [/red]", "w3c: invalid - version '[/red]'"),
        ("x[/red]: y", "no trace context header found (got unrecognised value 'x[/red]: y')"),
    ],
)
def test_propagation_parse_prints_a_hostile_header_as_it_is(header: str, said: str) -> None:
    result = subprocess.run(
        [SPANSCOPE, "propagation", "parse", header], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert said in result.stdout


@pytest.mark.parametrize(
    ("words", "said"),
    [
        (["analyse", "shop.jsonl"], "No such command 'analyse'. Did you mean 'analyze'?"),
        (["servce"], "No such command 'servce'. Did you mean 'serve' or 'servicemap'?"),
        (["help"], "No such command 'help': try 'spanscope COMMAND --help'."),
        (["help", "diff"], "No such command 'help': try 'spanscope diff --help'."),
        (["frobnicate"], "No such command 'frobnicate'."),
    ],
)
def test_a_mistyped_command_says_what_was_meant(words: list[str], said: str) -> None:
    """'spanscope analyse' (the README's own spelling in prose) said only "No such command"."""
    result = CliRunner().invoke(main, words)
    assert result.exit_code == 2
    assert said in result.output


def test_query_metrics_reads_requests_a_second_without_exponents(store_path: str) -> None:
    """A quiet service over hours read "3e-05" requests a second."""

    def rate(since: str, until: str) -> str:
        result = _query("--db", store_path, "--metrics", "--since", since, "--until", until)
        assert result.exit_code == 0, result.output
        row = next(line for line in result.output.splitlines() if MARKUP_SERVICE in line)
        return row.split("│")[3].strip()

    assert rate("2026-11-27T06:00", "2026-11-27T12:00") == "<0.01"
    assert rate("2026-11-27T11:40", "2026-11-27T11:40:01") == "3.00"


@pytest.mark.parametrize(
    "command",
    [
        ["convert", "{shop}", "{out}"],
        ["sample", "{shop}", "-p", "errors", "-o", "{out}"],
        ["view", "{shop}", "-o", "{out}"],
        ["flamegraph", "{shop}", "-o", "{out}"],
        ["servicemap", "{shop}", "-o", "{out}"],
    ],
    ids=lambda command: command[0],
)
def test_an_output_that_cannot_be_written_stops_before_reading(
    shop: str, tmp_path: Path, command: list[str]
) -> None:
    """'convert shop.jsonl traces/' said "say which format to write to traces/"; a missing
    directory was found only after the whole input was read (minutes for a big one)."""
    name = {"flamegraph": "x.svg", "servicemap": "x.svg", "view": "x.html"}.get(
        command[0], "x.jsonl"
    )
    missing = tmp_path / "no" / name
    for out, said in (
        (tmp_path, f"cannot write {tmp_path}: Is a directory"),
        (missing, f"cannot write {missing}: No such file or directory"),
    ):
        words = [w.format(shop=shop, out=out) for w in command]
        result = CliRunner().invoke(main, words)
        assert result.exit_code == 1, result.output
        assert said in result.output
        assert "spans" not in result.output  # nothing was read


def test_a_second_example_run_says_in_use_before_announcing_a_start(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """It printed "starting spanscope (UI http://...)" and then that the directory was in use."""
    from examples.shop.__main__ import main as example
    from examples.shop.stack import ShopStack

    first = ShopStack(tmp_path, None, None, 0.05)
    first.take_workdir()
    try:
        assert example(["--output-dir", str(tmp_path), "--duration", "0.1"]) == 1
    finally:
        first.stop()
    said = capsys.readouterr().err
    assert "is in use by another run of the example" in said
    assert "starting spanscope" not in said


def test_the_readmes_in_short_example_is_what_the_tour_prints(tmp_path: Path) -> None:
    """The README quoted an In short line of another data set (246 checkouts): it is now the
    tour's first lines, run as written, and stays so."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme.split("- **In short**", 1)[1].split("- **What to fix first**", 1)[0]
    quoted = " ".join(re.search(r'\("(frontend:POST /api/checkout .*?)"', section, re.S)[1].split())
    shop = tmp_path / "shop.jsonl"
    made = CliRunner().invoke(main, ["generate", "--traces", "3000", "-o", str(shop)])
    assert made.exit_code == 0, made.output
    report = json.loads(CliRunner().invoke(main, ["analyze", str(shop), "--json"]).stdout)
    assert quoted in [line["text"] for line in report["headline"]]


def test_a_json_lines_file_given_as_a_store_is_named_json_lines(shop: str) -> None:
    """The shop's lines are ~300 KB (one request of many spans each): from 4 KB of the first,
    'query --db shop.jsonl' called it "a trace file (otlp-json)"."""
    result = CliRunner().invoke(main, ["query", "--db", shop])
    assert result.exit_code == 2
    assert f"{shop}: a trace file (otlp-jsonl), not a store" in result.output
