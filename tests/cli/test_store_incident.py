"""What an SRE meets reading a live store mid-incident: Ctrl-C in a long store read, an empty
store or window, a store file that is not one, two servers, ids copied from a report.

Real DuckDB files, real ``spanscope serve`` child processes and real CLI runs (subprocesses
where signals or a second process are the point, CliRunner otherwise).
"""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from benchmarks.loadgen import free_port
from benchmarks.serving import serve_command
from click.testing import CliRunner

from spanscope.cli import main
from spanscope.formats import encode_spans
from spanscope.store import TraceQuery, open_store
from spanscope.synthetic import generate_spans
from tests.cli.run import spanscope
from tests.cli.terminal import progress_on_a_terminal
from tests.server.conftest import serve_process

T0 = 1_764_150_000_000_000_000  # 2025-11-26T09:40:00Z


@pytest.fixture(scope="module")
def small_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("store") / "shop.duckdb"
    with open_store(db) as store:
        store.write(list(generate_spans(40, seed=3, start_ns=T0)))
    return db


def test_ctrl_c_in_a_store_query_is_an_interrupt_not_a_traceback(small_store: Path) -> None:
    """DuckDB answers SIGINT during a query with RuntimeError("Query interrupted"); the
    commands' store reading gives it back as the KeyboardInterrupt click reports as
    "Aborted!". The query here runs for minutes, so the signal lands inside DuckDB; it is sent
    again until the child ends (a signal that lands between DuckDB's checks can be missed)."""
    script = textwrap.dedent(
        f"""
        import signal, sys
        from spanscope.cli.store_reading import reading
        # as in a shell (a test runner's worker may pass SIGINT on ignored or blocked)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {{signal.SIGINT}})
        try:
            with reading({str(small_store)!r}) as store:
                # DuckDB looks for Ctrl-C between the tasks the calling thread runs: one
                # thread, so that this query of one endless scan has such points
                store._con.execute("SET threads TO 1")
                print("querying", flush=True)
                store._con.execute("SELECT sum(range) FROM range(10000000000000)").fetchall()
        except BaseException as exc:
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            print(type(exc).__name__, flush=True)
        """
    )
    with subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as child:
        try:
            assert child.stdout is not None
            assert child.stdout.readline() == "querying\n"
            deadline = time.monotonic() + 60
            while child.poll() is None and time.monotonic() < deadline:
                time.sleep(0.5)
                child.send_signal(signal.SIGINT)
            answer, errors = child.communicate(timeout=10)
        finally:
            # A child that never took the signal would scan for hours after the test failed.
            if child.poll() is None:
                child.kill()
    assert answer.strip() == "KeyboardInterrupt", answer + errors


def test_a_duckdb_file_that_is_not_a_store_is_named_in_the_error(tmp_path: Path) -> None:
    import duckdb

    db = tmp_path / "metrics.duckdb"
    with duckdb.connect(str(db)) as connection:
        connection.execute("CREATE TABLE samples (t BIGINT)")
    for command in (["analyze"], ["query"], ["info"], ["convert", "-o", str(tmp_path / "x.jsonl")]):
        done = CliRunner().invoke(main, [*command, "--db", str(db)])
        assert done.exit_code == 2, done.output
        assert f"{db}: not a spanscope store" in done.stderr
        assert "Traceback" not in done.stderr


def test_an_empty_answer_says_what_the_store_holds(small_store: Path, tmp_path: Path) -> None:
    """An empty window, an unknown service and an empty store each say why nothing was found,
    on stderr (stdout stays the report), in every command that reads a store."""
    runner = CliRunner()
    before = str(T0 // 10**9 - 86_400)  # a day before the first span
    done = runner.invoke(main, ["analyze", "--db", str(small_store), "--until", before, "--json"])
    assert done.exit_code == 0, done.output
    json.loads(done.stdout)  # clean
    assert "no traces in" in done.stderr and "--until 2025-11-25T09:40:00.000" in done.stderr
    assert "it holds spans that start from 2025-11-26T09:40:00" in done.stderr

    for command in (["lint"], ["query"], ["query", "--json"]):
        done = runner.invoke(main, [*command, "--db", str(small_store), "--service", "chekout"])
        assert "it has no service 'chekout' (its services: checkout, cart," in done.stderr
    assert json.loads(done.stdout) == []
    done = runner.invoke(
        main, ["query", "--db", str(small_store), "--tag", "a=b", "--kind", "server"]
    )
    assert (
        "no traces in" in done.stderr and "match --kind server --tag a=b: it holds" in done.stderr
    )

    empty = tmp_path / "empty.duckdb"
    open_store(empty).close()
    for command in (["info"], ["sample", "-p", "errors"], ["diff"]):
        done = runner.invoke(main, [*command, "--db", str(empty), "--since", "2h"])
        assert done.exit_code == 0, done.output
        assert "it holds none yet" in done.stderr, (command, done.stderr)
    # diff names each window once
    assert done.stderr.count("warning:") == 2


def test_query_finds_a_trace_by_the_start_of_its_id(small_store: Path) -> None:
    """Reports and pages show ids cut short ("8e8bdfe2a873…"): query --trace-id takes what was
    copied, as view does, and says when a prefix is not enough."""
    with open_store(small_store, read_only=True) as store:
        ids = store.find_trace_ids(TraceQuery(num_traces=100))
    whole = ids[0]
    prefix = next(whole[:n] for n in range(4, 32) if sum(i.startswith(whole[:n]) for i in ids) == 1)
    runner = CliRunner()
    for given in (prefix, f"{whole[:26]}…", whole.upper()):
        done = runner.invoke(
            main, ["query", "--db", str(small_store), "--trace-id", given, "--json"]
        )
        assert done.exit_code == 0, (given, done.output)
        assert {span["trace_id"] for span in json.loads(done.stdout)} == {whole}
    shared = next(whole[:n] for n in range(1, 4) if sum(i.startswith(whole[:n]) for i in ids) > 1)
    done = runner.invoke(main, ["query", "--db", str(small_store), "--trace-id", shared])
    assert done.exit_code == 1
    assert f"traces have ids starting with {shared}: give more digits" in done.stderr
    done = runner.invoke(main, ["query", "--db", str(small_store), "--trace-id", "f" * 31])
    assert done.exit_code == 1
    assert f"nor one whose id starts with {'f' * 31} among the 40 most recent" in done.stderr


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Path, int, subprocess.Popen[bytes], int]]:
    """A store a real ``spanscope serve`` holds, with 40 traces sent to its receiver."""
    db = tmp_path / "live.duckdb"
    process, http_port, ui_port = serve_process(str(db))
    try:
        answer = httpx.post(
            f"http://127.0.0.1:{http_port}/v1/traces",
            content=encode_spans(generate_spans(40, seed=3, start_ns=T0), "otlp-proto"),
            headers={"Content-Type": "application/x-protobuf"},
            timeout=60,
        )
        assert answer.status_code == 200, answer.text
        yield db, ui_port, process, http_port
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            process.wait(60)


def test_reading_through_the_server_is_said_once_a_command(
    served: tuple[Path, int, subprocess.Popen[bytes], int],
) -> None:
    db, ui_port, _, _ = served
    window = ("--since", "2025-11-26T09:40:01", "--until", "2025-11-26T09:40:02")
    done = spanscope("diff", "--db", str(db), *window)
    assert done.returncode == 0, done.stderr
    assert done.stderr.count(f"reading it through http://127.0.0.1:{ui_port}") == 1, done.stderr


def test_a_second_server_on_a_served_store_names_the_first(
    served: tuple[Path, int, subprocess.Popen[bytes], int],
) -> None:
    db, ui_port, _, _ = served
    second = subprocess.run(
        serve_command(str(db), http_port=free_port(), ui_port=free_port()),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert second.returncode == 1
    assert f"already served by a running 'spanscope serve' at http://127.0.0.1:{ui_port}" in (
        second.stderr
    )
    assert "Traceback" not in second.stderr
    assert Path(f"{db}.server.json").exists()  # the first server's, left alone


def test_a_long_store_read_shows_traces_and_spans_read(tmp_path: Path) -> None:
    """On a terminal, the traces of a search are read a page at a time under a bar that counts
    them; piped, stderr stays quiet."""
    db = tmp_path / "big.duckdb"
    with open_store(db) as store:
        store.write(list(generate_spans(2_500, seed=4, start_ns=T0)))
    drawn = progress_on_a_terminal("analyze", "--db", str(db), columns=100)
    assert "reading" in drawn and "/2,500 traces" in drawn, drawn[-2000:]
    assert "1,000/2,500 traces" in drawn or "2,000/2,500 traces" in drawn, drawn[-2000:]
    piped = spanscope("analyze", "--db", str(db), "--json")
    assert piped.returncode == 0 and piped.stderr == "", piped.stderr
    assert json.loads(piped.stdout)["summary"]["traces"] == 2_500


def test_a_stopped_server_says_what_it_wrote(
    served: tuple[Path, int, subprocess.Popen[bytes], int],
) -> None:
    db, _, process, _ = served
    process.send_signal(signal.SIGTERM)
    assert process.wait(60) == 0
    assert process.stderr is not None
    said = process.stderr.read().decode()
    sent = len(list(generate_spans(40, seed=3, start_ns=T0)))
    assert f"stopped: {sent:,} spans written to {db} since the start" in said, said
    assert not Path(f"{db}.server.json").exists()
    with open_store(db, read_only=True) as store:  # and the file reads as the server said
        assert store.stats().spans == sent


def test_a_read_cut_at_the_limit_says_it_is_a_sample(small_store: Path) -> None:
    """More traces match than --limit: those read are a sample spread over the window, and
    the note says of how many."""
    with open_store(small_store, read_only=True) as store:
        matching = len(store.find_trace_ids(TraceQuery(num_traces=10_000)))
    done = CliRunner().invoke(main, ["analyze", "--db", str(small_store), "--limit", "5"])
    assert done.exit_code == 0, done.output
    # no --since/--until: the whole store is the window
    said = f"a sample of 5 of {matching} traces with a matching span in the store was read"
    assert said in done.stderr


def test_convert_of_a_store_without_an_output_asks_for_one(small_store: Path) -> None:
    done = CliRunner().invoke(main, ["convert", "--db", str(small_store)])
    assert done.exit_code == 2
    assert "say where to write the store's spans: OUT or -o OUT" in done.stderr


@pytest.mark.parametrize("taken", ["ui", "http"])
def test_a_port_in_use_names_the_option_that_chose_it(tmp_path: Path, taken: str) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        ports = {"http_port": free_port(), "ui_port": free_port(), f"{taken}_port": port}
        done = subprocess.run(
            serve_command(str(tmp_path / "t.duckdb"), **ports),
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 1
    option = "--ui-port" if taken == "ui" else "--otlp-http-port"
    assert f"cannot listen on 127.0.0.1:{port}: Address already in use" in done.stderr
    assert f"choose another port with {option}" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr


def test_load_counts_one_span_as_one(
    served: tuple[Path, int, subprocess.Popen[bytes], int], tmp_path: Path
) -> None:
    _, _, _, http_port = served
    one = tmp_path / "one.jsonl"
    one.write_bytes(encode_spans(list(generate_spans(1, seed=9, start_ns=T0))[:1], "otlp-jsonl"))
    done = spanscope("load", str(one), "--to", f"http://127.0.0.1:{http_port}")
    assert done.returncode == 0, done.stderr
    assert f"sent 1 span to http://127.0.0.1:{http_port}/v1/traces" in done.stderr
