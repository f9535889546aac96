"""What a newcomer meets in the first hour with the command line: mistyped options, bad input
and the examples of ``--help``, run through the real console script (subprocess; click's
runner where the exit code and the words are all that count) on real fixture files. Every
command must answer with one clear line and a non-zero exit code, never a traceback."""

from __future__ import annotations

import http.server
import json
import re
import shutil
import socket
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from spanscope.cli import main
from spanscope.formats import read_spans
from spanscope.store import open_store

from ..conftest import FIXTURES
from .markup_traces import MS, START, otlp_document, span_json
from .run import spanscope
from .terminal import progress_on_a_terminal

OTLP = FIXTURES / "jaeger/internal__storage__v2__memory__fixtures__otel_traces_01.json"

# Output to a pipe, as in a script: no COLUMNS or LINES left in the environment to give it a
# terminal's width.
A_PIPE = {"COLUMNS": None, "LINES": None}

# Each reading command with the arguments it needs besides its input.
READERS = {
    "info": [],
    "analyze": [],
    "lint": [],
    "convert": ["-", "--to", "otlp-json"],
    "sample": ["-p", "all"],
    "view": ["-o", "-"],
    "flamegraph": ["-o", "-"],
    "servicemap": ["-o", "-"],
    "load": ["--to", "http://127.0.0.1:9"],
}


@pytest.mark.parametrize("command", [*READERS, "diff"])
def test_an_unknown_format_is_a_usage_error_listing_the_formats(command: str) -> None:
    inputs = [str(OTLP), str(OTLP)] if command == "diff" else [str(OTLP), *READERS[command]]
    result = spanscope(command, *inputs, "--format", "otlp-protobuf")
    assert result.returncode == 2, result.stderr
    assert "'--format'" in result.stderr and "otlp-protobuf" in result.stderr
    assert "otlp-proto" in result.stderr and "zipkin-v1" in result.stderr


def test_a_known_format_alias_still_reads() -> None:
    result = spanscope("info", str(OTLP), "--format", "otlp", "--json")
    assert result.returncode == 0, result.stderr
    assert '"otlp-json"' in result.stdout


def partial_json_lines(tmp_path: Path) -> Path:
    """Three good OTLP JSON lines from a real fixture, then the fourth cut short."""
    line = json.dumps(json.loads(OTLP.read_text()), separators=(",", ":"))
    path = tmp_path / "partial.jsonl"
    path.write_text(f"{line}\n" * 3 + line[: len(line) // 2])
    return path


@pytest.mark.parametrize("target", ["zipkin", "jaeger", "otlp-json", "otlp-proto"])
def test_convert_stopped_by_strict_leaves_no_half_document(tmp_path: Path, target: str) -> None:
    partial = partial_json_lines(tmp_path)
    output = tmp_path / "out.data"
    output.write_bytes(b"an earlier output")
    result = spanscope("convert", "--strict", str(partial), str(output), "--to", target)
    assert result.returncode == 2, result.stderr
    assert "partial.jsonl: line 4" in result.stderr
    assert output.read_bytes() == b"an earlier output"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.data", "partial.jsonl"]


def test_convert_without_strict_writes_what_was_read_whole(tmp_path: Path) -> None:
    partial = partial_json_lines(tmp_path)
    output = tmp_path / "out.json"
    result = spanscope("convert", str(partial), str(output), "--to", "zipkin")
    assert result.returncode == 2 and "partial.jsonl: line 4" in result.stderr
    spans = json.loads(output.read_text())  # a whole document
    one = json.loads(spanscope("convert", str(OTLP), "-", "--to", "zipkin").stdout)
    assert len(spans) == 3 * len(one)


@pytest.mark.parametrize(
    ("command", "option", "value"),
    [
        ("load", "--to", "localhost:4318"),
        ("load", "--to", "http://localhost:port/"),
        ("propagation test", "--url", "notaurl"),
        ("propagation test", "--backend", "localhost:16686"),
        ("propagation echo", "--forward", "ftp://localhost:8001/"),
    ],
)
def test_a_url_without_http_is_a_usage_error(command: str, option: str, value: str) -> None:
    args = [*command.split(), option, value]
    if command == "load":
        args.insert(1, str(OTLP))
    if command == "propagation test" and option != "--url":
        args += ["--url", "http://127.0.0.1:9/"]
    result = spanscope(*args)
    assert result.returncode == 2, result.stderr
    assert f"Invalid value for '{option}'" in result.stderr and value in result.stderr


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_load_stops_when_the_receiver_cannot_be_reached() -> None:
    spans = len(json.loads(spanscope("convert", str(OTLP), "-", "--to", "zipkin").stdout))
    assert spans >= 3
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    result = spanscope("load", str(OTLP), "--to", url, "--batch-size", "1", "--retries", "1")
    assert result.returncode == 1
    assert "sent 0 spans" in result.stderr and ", 1 failed; stopped" in result.stderr
    assert "cannot reach" in result.stderr and result.stdout == ""


class _Receiver(http.server.BaseHTTPRequestHandler):
    """An OTLP/HTTP receiver that answers 503 to every other request and counts the spans of
    the requests it accepts."""

    requests = 0
    spans = 0

    def do_POST(self) -> None:  # the name http.server calls
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).requests += 1
        if type(self).requests % 2:
            self.send_response(503)
            self.send_header("Retry-After", "0")
        else:
            request = ExportTraceServiceRequest.FromString(body)
            type(self).spans += sum(
                len(scope.spans) for rs in request.resource_spans for scope in rs.scope_spans
            )
            self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def test_load_delivers_every_span_through_refusals_and_keeps_stdout_clean() -> None:
    spans = len(json.loads(spanscope("convert", str(OTLP), "-", "--to", "zipkin").stdout))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        result = spanscope("load", str(OTLP), "--to", url, "--batch-size", "2")
    finally:
        server.shutdown()
    assert result.returncode == 0, result.stderr
    assert _Receiver.spans == spans
    assert f"sent {spans:,} spans" in result.stderr and result.stdout == ""


@pytest.fixture(scope="module")
def store_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("store") / "traces.duckdb"
    with open_store(path) as store:
        store.write(list(read_spans(OTLP)))
    return path


def test_query_table_in_a_pipe_keeps_every_column_whole(store_file: Path) -> None:
    result = spanscope("query", "--db", str(store_file), env=A_PIPE)
    assert result.returncode == 0, result.stderr
    header = next(line for line in result.stdout.splitlines() if "trace id" in line)
    for column in ("root", "start (UTC)", "duration", "spans", "errors"):
        assert column in header
    trace_ids = {span.trace_id for span in read_spans(OTLP)}
    rows = [line for line in result.stdout.splitlines() if line[2:34] in trace_ids]
    assert len(rows) == len(trace_ids)
    assert all(re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}", row) for row in rows)


def test_query_on_a_trace_file_says_what_to_run_instead() -> None:
    result = spanscope("query", "--db", str(OTLP))
    assert result.returncode == 2
    assert f"{OTLP}: a trace file (otlp-json), not a store" in result.stderr
    assert "spanscope analyze" in result.stderr


def test_info_with_nothing_read_does_not_report_a_clean_data_set(tmp_path: Path) -> None:
    result = spanscope("info", str(tmp_path / "missing.json"))
    assert result.returncode == 2
    assert "missing.json: no such file" in result.stderr
    assert "no problems found" not in result.stdout
    assert "no spans read" in result.stdout


def test_info_in_a_pipe_names_the_file_whole(tmp_path: Path) -> None:
    name = "exports/an-export-with-a-rather-long-name-from-the-collector-on-the-night.json"
    (tmp_path / "exports").mkdir()
    shutil.copy(OTLP, tmp_path / name)
    result = spanscope("info", name, cwd=tmp_path, env=A_PIPE)
    assert result.returncode == 0, result.stderr
    assert name in result.stdout and "…" not in result.stdout


def test_view_says_when_it_kept_only_the_slowest_traces(tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    result = spanscope("view", str(OTLP), "--max-traces", "1", "-o", str(page))
    assert result.returncode == 0, result.stderr
    assert "showing the 1 slowest of 2 traces (--max-traces 0: all)" in result.stderr
    one = spanscope("view", str(OTLP), "--max-traces", "0", "-o", str(page))
    assert "(2 traces," in one.stderr


def test_convert_says_what_it_wrote_on_stderr(tmp_path: Path) -> None:
    output = tmp_path / "out.pb"
    result = spanscope("convert", str(OTLP), str(output))
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == f"wrote 4 spans to {output} (otlp-proto)"
    assert result.stdout == ""
    assert json.loads(spanscope("info", "--json", str(output)).stdout)["spans"] == 4


@pytest.mark.parametrize("as_json", [False, True])
def test_a_fail_if_about_nothing_in_the_data_is_flagged_not_passed(as_json: bool) -> None:
    condition = "p99(GET /no/such/endpoint) > 1ms"
    result = spanscope("analyze", str(OTLP), "--fail-if", condition, *["--json"] * as_json)
    # Not 0: a CI gate with a misspelt endpoint would pass every run (diff's gates exit 2 too).
    assert result.returncode == 2, result.stderr
    assert f"error: --fail-if '{condition}' cannot be checked" in result.stderr
    if not as_json:
        assert f"no data {condition}" in result.stdout
        assert f"ok {condition}" not in result.stdout


def test_a_fail_if_that_holds_decides_the_exit_code_over_one_that_cannot_be_checked() -> None:
    result = spanscope(
        "analyze", str(OTLP), "--fail-if", "p99(GET /no/such/endpoint) > 1ms",
        "--fail-if", "error_rate >= 0%",
    )  # fmt: skip
    assert result.returncode == 1, result.stderr
    assert "cannot be checked" in result.stderr


def test_servicemap_refuses_an_extension_it_cannot_write(tmp_path: Path) -> None:
    result = spanscope("servicemap", str(OTLP), "-o", str(tmp_path / "map.png"))
    assert result.returncode == 2
    assert "not .png" in result.stderr and "--as" in result.stderr
    assert not (tmp_path / "map.png").exists()
    forced = spanscope("servicemap", str(OTLP), "-o", str(tmp_path / "map.png"), "--as", "svg")
    assert forced.returncode == 0, forced.stderr
    assert (tmp_path / "map.png").read_text().lstrip().startswith(("<svg", "<?xml"))


def test_progress_on_an_80_column_terminal_keeps_the_count_and_time(tmp_path: Path) -> None:
    deep = tmp_path / "exports" / "from-the-collector" / "on-the-night-of-the-incident"
    deep.mkdir(parents=True)
    shutil.copy(OTLP, deep / "traces.json")
    drawn = progress_on_a_terminal("info", str(deep / "traces.json"))
    line = next(line for line in drawn.splitlines() if "reading" in line)
    assert "traces.json" in line and "spans" in line
    assert re.search(r"\d:\d\d:\d\d", line), line


def test_analyze_json_and_folded_to_stdout_together_is_a_usage_error(tmp_path: Path) -> None:
    result = spanscope("analyze", str(OTLP), "--json", "--folded", "-")
    assert result.returncode == 2 and result.stdout == ""
    assert "--json and --folded - both print to standard output" in result.stderr
    stacks = tmp_path / "stacks.txt"
    both = spanscope("analyze", str(OTLP), "--json", "--folded", str(stacks))
    assert both.returncode == 0, both.stderr
    assert json.loads(both.stdout)["summary"] and stacks.read_text().strip()


def test_serve_on_a_trace_file_says_what_to_run_instead() -> None:
    ports = ["--otlp-grpc-port", "0", "--otlp-http-port", "0", "--zipkin-port", "0"]
    result = spanscope("serve", "--db", str(OTLP), *ports, "--ui-port", str(free_port()))
    assert result.returncode == 1
    assert f"{OTLP}: a trace file (otlp-json), not a store" in result.stderr


ZIPKIN = FIXTURES / "zipkin/zipkin-lens__testdata__messaging-kafka.json"


@pytest.mark.parametrize(("value", "words"), [("-5", ">= 0"), ("9" * 23, "past 2^64-1")])
def test_an_otlp_time_out_of_range_is_an_input_error_at_its_path(
    tmp_path: Path, value: str, words: str
) -> None:
    document = json.loads(OTLP.read_text())
    document["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["startTimeUnixNano"] = value
    path = tmp_path / "times.json"
    path.write_text(json.dumps(document))
    for command in ("info", "analyze", "view"):
        result = spanscope(command, str(path), *(["-o", "-"] if command == "view" else []))
        assert result.returncode == 2, result.stderr
        assert "spans[0].startTimeUnixNano" in result.stderr and words in result.stderr


def test_a_zipkin_timestamp_out_of_range_is_ignored_with_a_warning(tmp_path: Path) -> None:
    spans = json.loads(ZIPKIN.read_text())
    spans[0]["timestamp"] = 10**22
    path = tmp_path / "times.json"
    path.write_text(json.dumps(spans))
    for command in ("info", "analyze", "view"):
        result = spanscope(command, str(path), *(["-o", "-"] if command == "view" else []))
        assert result.returncode == 0, result.stderr
        assert f"timestamp {10**22} is not a positive number of µs in range" in result.stderr


def test_an_input_error_reads_the_same_with_and_without_strict(tmp_path: Path) -> None:
    partial = partial_json_lines(tmp_path)
    lines = {
        tuple(spanscope("info", *strict, str(partial)).stderr.splitlines())
        for strict in ([], ["--strict"])
    }
    assert len(lines) == 1, lines
    [(line,)] = lines
    assert line.startswith(f"error: {partial}: line 4")


@pytest.mark.parametrize("content", [b"42\n", b'"ok"', b"null"])
def test_a_json_scalar_is_called_json(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "reply.json"
    path.write_bytes(content)
    result = spanscope("info", str(path))
    assert result.returncode == 2
    assert f"error: {path}: start of file: not a trace file: JSON, but a single value" in (
        result.stderr
    )


@pytest.mark.parametrize("command", ["convert", "sample"])
def test_an_output_without_a_format_lists_the_choices(tmp_path: Path, command: str) -> None:
    output = str(tmp_path / "out.json")
    args = [str(OTLP), output] if command == "convert" else [str(OTLP), "-p", "all", "-o", output]
    result = spanscope(command, *args)
    assert result.returncode == 2
    assert f"say which format to write to {output} with --to: jaeger" in result.stderr
    assert "zipkin-v2" in result.stderr


@pytest.mark.parametrize("suffix", ["/x.json", "/", "/" + "x" * 300])
def test_a_path_through_a_file_or_too_long_is_an_input_error(suffix: str) -> None:
    source = f"{OTLP}{suffix}"
    for command in ("info", "analyze"):
        result = spanscope(command, source)
        assert result.returncode == 2
        assert result.stderr.startswith(f"error: {source}: ")
        assert "not a directory" in result.stderr or "too long" in result.stderr


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["load", str(OTLP), "--retries", "-1"], "--retries"),
        (["load", str(OTLP), "--batch-size", "0"], "--batch-size"),
        (["view", str(OTLP), "--max-traces", "-5", "-o", "-"], "--max-traces"),
        (["propagation", "echo", "--port", "99999"], "--port"),
        (["propagation", "test", "--url", "http://127.0.0.1:9/", "--timeout", "-1"], "--timeout"),
        (["propagation", "test", "--url", "http://a:1/", "--backend-wait", "-5"], "--backend-wait"),
    ],
)
def test_a_number_out_of_range_is_a_usage_error(args: list[str], option: str) -> None:
    result = spanscope(*args)
    assert result.returncode == 2, result.stderr
    assert f"Invalid value for '{option}'" in result.stderr


def test_flamegraph_refuses_an_extension_other_than_svg(tmp_path: Path) -> None:
    result = spanscope("flamegraph", str(OTLP), "-o", str(tmp_path / "flame.png"))
    assert result.returncode == 2
    assert "flamegraph writes SVG, not .png" in result.stderr
    assert not (tmp_path / "flame.png").exists()


# -- found by trying every example of the README and of --help, each fixed and held here --


def test_an_input_error_quoting_markup_is_a_message_not_a_traceback(tmp_path: Path) -> None:
    """Bad input gets one clear message: a bad trace id '[/red]' gave rich's MarkupError."""
    bad = tmp_path / "bad.json"
    span = span_json("[/red]", "00f067aa0ba902b7", "", "x", START, START + MS)
    bad.write_text(json.dumps(otlp_document("checkout", [span])))
    for command in ("analyze", "info", "lint"):
        result = spanscope(command, str(bad))
        assert result.returncode == 2, (command, result.stderr)
        assert "Traceback" not in result.stderr
        assert "traceId: invalid trace id '[/red]'" in result.stderr, result.stderr


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
    small_shop: str, tmp_path: Path, command: list[str]
) -> None:
    """'convert shop.jsonl traces/' said "say which format to write to traces/"; a missing
    directory was found only after the whole input was read (minutes for a big one). The
    input here cannot be read: had it been, its error would come first (and exit 2)."""
    name = {"flamegraph": "x.svg", "servicemap": "x.svg", "view": "x.html"}.get(
        command[0], "x.jsonl"
    )
    unreadable = tmp_path / "bad.json"
    unreadable.write_text("not json\n")
    missing = tmp_path / "no" / name
    for out, said in (
        (tmp_path, f"cannot write {tmp_path}: Is a directory"),
        (missing, f"cannot write {missing}: No such file or directory"),
    ):
        words = [w.format(shop=unreadable, out=out) for w in command]
        result = CliRunner().invoke(main, words)
        assert result.exit_code == 1, result.output
        assert said in result.output
        assert "bad.json" not in result.output.replace(str(tmp_path), "")  # never read
    readable = [w.format(shop=small_shop, out=missing) for w in command]
    assert CliRunner().invoke(main, readable).exit_code == 1  # the same with a real input
