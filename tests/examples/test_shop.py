"""The live example end to end: real services, real OTel SDK exporters, real ``spanscope serve``.

Each test runs the whole example for a few seconds on free ports and checks what arrived in the
store through the server's own APIs (Jaeger's and spanscope's), and that no process outlives it.
The payment failure rate is raised to 20% so a few seconds of traffic surely contain failures.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from examples.shop.loadgen import drive
from examples.shop.stack import REPO, ShopStack, get, get_json

from tests.cli.run import executable, spanscope

SERVICES = {"frontend", "checkout", "inventory", "payments"}
SEARCH = "service=frontend&lookback=1h&limit=1500"


def _gone(pid: int) -> bool:
    """No such process, or only a zombie nobody of ours will reap (not ours: we wait)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return True
    return state == "Z"


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _assert_all_gone(pids: list[int], within_s: float = 15) -> None:
    """Each of ``pids`` exits within ``within_s`` (a service may still be flushing spans)."""
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline and not all(map(_gone, pids)):
        time.sleep(0.1)
    assert {pid: _cmdline(pid) for pid in pids if not _gone(pid)} == {}


@pytest.fixture(scope="module")
def shop(tmp_path_factory):
    """Five seconds of traffic through the running example; services stopped (spans flushed),
    spanscope still answering."""
    stack = ShopStack(tmp_path_factory.mktemp("shop"), payment_failure_rate=0.2)
    with stack:
        load = drive(stack.checkout_url, seconds=5, rate=20, seed=7)
        stack.stop_services()
        yield stack, load
    _assert_all_gone(list(stack.pids.values()))


def test_every_service_sent_its_spans(shop):
    stack, load = shop
    assert load.requests >= 50 and load.ok > 0
    assert set(get_json(f"{stack.ui_url}/api/services")["data"]) == SERVICES
    report = get_json(f"{stack.ui_url}/api/v1/analysis?{SEARCH}")
    # Every request the load generator sent is one complete trace in the store.
    assert report["summary"]["traces"] == load.requests
    assert set(report["summary"]["services"]) == SERVICES
    assert report["problems"] == []  # no orphans, no extra roots: propagation worked


def test_one_trace_is_connected_across_all_services(shop):
    stack, _ = shop
    found = get_json(f"{stack.ui_url}/api/traces?service=payments&limit=1")["data"]
    trace_id = found[0]["traceID"]
    trace = get_json(f"{stack.ui_url}/api/traces/{trace_id}")["data"][0]
    service_of_process = {key: p["serviceName"] for key, p in trace["processes"].items()}
    spans = {span["spanID"]: span for span in trace["spans"]}
    service = {sid: service_of_process[span["processID"]] for sid, span in spans.items()}
    assert set(service.values()) == SERVICES
    parents = {}
    for sid, span in spans.items():
        refs = [ref for ref in span["references"] if ref["refType"] == "CHILD_OF"]
        if refs:
            assert refs[0]["traceID"] == trace_id and refs[0]["spanID"] in spans
            parents[sid] = refs[0]["spanID"]
    roots = [sid for sid in spans if sid not in parents]
    assert len(roots) == 1 and service[roots[0]] == "frontend"
    crossings = {(service[parent], service[child]) for child, parent in parents.items()}
    crossings = {pair for pair in crossings if pair[0] != pair[1]}
    assert crossings == {
        ("frontend", "checkout"),
        ("checkout", "inventory"),
        ("checkout", "payments"),
    }
    # The UI's waterfall page of that trace is there too.
    assert trace_id in get(f"{stack.ui_url}/trace/{trace_id}").decode()


def test_analysis_finds_the_planted_problems(shop):
    stack, load = shop
    report = get_json(f"{stack.ui_url}/api/v1/analysis?{SEARCH}")
    found = {(a["kind"], a["service"]): a for a in report["anti_patterns"]}
    n_plus_one = found[("n_plus_one", "inventory")]
    assert n_plus_one["operation"] == "SELECT items"
    assert n_plus_one["parent_operation"] == "POST /reserve"
    assert "SELECT stock FROM items WHERE sku = ?" in n_plus_one["detail"]
    sequential = found[("sequential_calls", "checkout")]
    assert sequential["operation"] == "POST /checkout"
    assert sequential["traces"] == load.requests  # every checkout does it
    failed = sum(load.failed.values())
    assert failed > 0 and set(load.failed) == {502}
    origins = report["errors"]["origins"]
    assert len(origins) == 1  # the frontend and checkout errors are consequences, not origins
    assert origins[0]["service"] == "payments"
    assert origins[0]["operation"] == "POST /authorize"
    assert origins[0]["exception_type"].endswith("CardNetworkTimeout")
    assert origins[0]["traces"] == failed == report["errors"]["failed_traces"]


def test_the_example_is_instrumented_as_lint_asks(shop):
    stack, _ = shop
    report = get_json(f"{stack.ui_url}/api/v1/lint?{SEARCH}")
    found = {rule["id"]: rule for rule in report["rules"]}
    # every service says its version and environment (the resource said neither, by the
    # current name: 'resource without version or environment' on every span)
    assert "resource-incomplete" not in found
    assert {r["severity"] for r in report["rules"]} <= {"info"}  # no error or warning
    assert report["score"] == 1.0


def _run_cli(tmp_path: Path, *args: str) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.Popen(
        [sys.executable, "-m", "examples.shop", "--output-dir", str(tmp_path), *args],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _read_until(cli: subprocess.Popen, text: str) -> str:
    """The runner's stderr up to the line containing ``text``."""
    assert cli.stderr is not None
    err = ""
    while text not in err:
        line = cli.stderr.readline()  # the test's timeout bounds this
        assert line, f"the example exited before saying {text!r}:\n{err}"
        err += line
    return err


def _pids(log: str) -> list[int]:
    pids = [int(pid) for pid in re.findall(r"^\s+\S+\s+pid (\d+)", log, re.MULTILINE)]
    assert len(pids) == 5, log
    return pids


def test_one_command_prints_the_report_and_leaves_nothing_behind(tmp_path):
    cli = _run_cli(tmp_path, "--duration", "3", "--payment-failure-rate", "0.2")
    out, err = cli.communicate(timeout=60)
    assert cli.returncode == 0, err
    assert "N+1 calls" in out and "sequential calls" in out
    assert "payments:POST /authorize" in out  # where the failures started
    # the report was made from the store while the server held it
    assert "held by a running 'spanscope serve': reading it through" in err
    assert re.search(r"^input \S+spanscope\.duckdb: spanscope server, [\d,]+ spans$", out, re.M)
    assert re.search(r"^UI: http://127\.0\.0\.1:\d+/", err, re.MULTILINE)
    report = json.loads((tmp_path / "report.json").read_text())
    assert set(report["summary"]["services"]) == SERVICES
    assert (tmp_path / "traces.otlp.jsonl").stat().st_size > 0
    _assert_all_gone(_pids(err))


def test_ctrl_c_while_kept_running_stops_everything(tmp_path):
    cli = _run_cli(tmp_path, "--duration", "1", "--keep-running")
    try:
        err = _read_until(cli, "Ctrl-C to stop")
        ui = re.search(r"^UI: (http://\S+)", err, re.MULTILINE).group(1)
        assert set(get_json(f"{ui}api/services")["data"]) == SERVICES  # still up and answering
        # the hint's command works from another process while everything runs
        hint = re.search(r"^  (spanscope query --db \S+ --metrics --since 5m)$", err, re.M).group(1)
        metrics = spanscope(*hint.split()[1:], "--json")
        assert metrics.returncode == 0, metrics.stderr
        assert {row["service"] for row in json.loads(metrics.stdout)} == SERVICES
        report = json.loads((tmp_path / "report.json").read_text())  # after waiting for the flush
        assert set(report["summary"]["services"]) == SERVICES and report["problems"] == []
    except BaseException:
        # Failing before Ctrl-C left the example and its services running: stop them too.
        cli.send_signal(signal.SIGINT)
        cli.communicate(timeout=60)
        raise
    cli.send_signal(signal.SIGINT)
    # Each process gets a 10 s grace to exit (services, then the server): 20 s at worst.
    _, rest = cli.communicate(timeout=60)
    assert cli.returncode == 130, rest
    _assert_all_gone(_pids(err))


def test_killed_runner_leaves_no_orphans(tmp_path):
    cli = _run_cli(tmp_path, "--duration", "5", "--keep-running")
    err = _read_until(cli, "sending checkouts")
    cli.kill()  # no chance to clean up: the children must notice on their own
    cli.communicate(timeout=30)
    _assert_all_gone(_pids(err))


def test_bad_options_and_a_busy_port_are_clear_errors(tmp_path):
    cli = _run_cli(tmp_path, "--rate", "0")
    _, err = cli.communicate(timeout=30)
    assert cli.returncode == 2 and "argument --rate: 0 is not at least 0.1" in err
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        cli = _run_cli(tmp_path, "--ui-port", str(port), "--duration", "1")
        _, err = cli.communicate(timeout=60)
    assert cli.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}: Address already in use" in err
    assert "Traceback" not in err


def test_a_second_run_on_the_same_directory_says_which_run_holds_it(tmp_path):
    first = _run_cli(tmp_path, "--duration", "1", "--keep-running")
    try:
        err = _read_until(first, "Ctrl-C to stop")
        ui = re.search(r"^UI: (http://\S+)", err, re.MULTILINE).group(1)
        stored = get_json(f"{ui}api/traces?service=frontend&limit=1500")["data"]
        second = _run_cli(tmp_path, "--duration", "1")
        _, second_err = second.communicate(timeout=60)
        assert second.returncode == 1, second_err
        holder = f"(pid {first.pid}, UI {ui})"
        assert f"{tmp_path} is in use by another run of the example {holder}" in second_err
        assert "Traceback" not in second_err
        # the first run's store and server are untouched: it still serves every trace it had
        again = get_json(f"{ui}api/traces?service=frontend&limit=1500")["data"]
        assert len(again) == len(stored) > 0
    finally:
        first.send_signal(signal.SIGINT)
        first.communicate(timeout=60)
    assert first.returncode == 130
    _assert_all_gone(_pids(err))


# -- found by trying every example of the README and of --help, each fixed and held here --


def test_a_second_example_run_says_in_use_before_announcing_a_start(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """It printed "starting spanscope (UI http://...)" and then that the directory was in use."""
    from examples.shop.__main__ import main as example

    first = ShopStack(tmp_path, None, None, 0.05)
    first.take_workdir()
    try:
        assert example(["--output-dir", str(tmp_path), "--duration", "0.1"]) == 1
    finally:
        first.stop()
    said = capsys.readouterr().err
    assert "is in use by another run of the example" in said
    assert "starting spanscope" not in said


def test_the_example_says_where_spanscope_is_when_not_on_path(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """After 'make example' nothing puts spanscope on PATH: the lines the example suggested
    ('spanscope serve --db ...') failed with 'command not found', and nothing said why."""
    from examples.shop.__main__ import where_spanscope_is

    own = Path(executable())
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    monkeypatch.chdir(tmp_path)
    said = where_spanscope_is()
    assert f"spanscope is {own} here: add {own.parent} to PATH" in said
    monkeypatch.setenv("PATH", f"{own.parent}{os.pathsep}/usr/bin:/bin")
    assert where_spanscope_is() == ""
