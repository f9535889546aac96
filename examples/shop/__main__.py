"""``python -m examples.shop``: the live example in one command (``make example``).

Starts ``spanscope serve`` and four instrumented services (frontend -> checkout -> inventory and
payments), sends checkouts for ``--duration`` seconds, waits until every span is in the store,
then writes to ``--output-dir`` the analysis report (``report.json``, the JSON of
``/api/v1/analysis``) and the traces (``traces.otlp.jsonl``, from ``/api/v1/export``), prints
``spanscope analyze --db`` of the store, read through the running server (the way to analyse
live traces from a terminal), and the UI's address. With ``--keep-running`` everything
stays up (UI included) until Ctrl-C. Every process it started is stopped when it exits, on
Ctrl-C and on SIGTERM too. Exit status: 0, or 1 when a process did not start.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from examples.shop.loadgen import drive
from examples.shop.stack import ShopStack, StackError, get, get_json

_MAX_TRACES = 1500
_SEARCH = f"service=frontend&lookback=1h&limit={_MAX_TRACES}"


def _number(kind: type, low: float, high: float | None = None):
    """An argparse type: a ``kind`` number in ``[low, high]``, or a clear usage error."""

    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if value < low or (high is not None and value > high):
            bounds = f"at least {low}" if high is None else f"between {low} and {high}"
            raise argparse.ArgumentTypeError(f"{text} is not {bounds}")
        return value

    return parse


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m examples.shop",
        description="Run spanscope serve and four instrumented shop services, send them "
        "traffic, then print spanscope's report of the traces they sent (examples/shop/README.md).",
    )
    parser.add_argument(
        "--duration", type=_number(float, 0.1), default=20.0, help="seconds of traffic (20)"
    )
    parser.add_argument(
        "--rate", type=_number(float, 0.1), default=25.0, help="checkouts per second (25)"
    )
    parser.add_argument(
        "--workers", type=_number(int, 1, 64), default=4, help="concurrent clients (4)"
    )
    parser.add_argument(
        "--output-dir",
        type=Path,
        default=Path("demo-output/shop"),
        help="the store, logs, report.json and traces.otlp.jsonl (demo-output/shop)",
    )
    parser.add_argument(
        "--ui-port", type=_number(int, 1, 65535), default=None, help="UI and API (default: free)"
    )
    parser.add_argument(
        "--otlp-port", type=_number(int, 1, 65535), default=None, help="OTLP/HTTP (default: free)"
    )
    parser.add_argument(
        "--payment-failure-rate",
        type=_number(float, 0, 1),
        default=0.05,
        help="share of payments failing (0.05)",
    )
    parser.add_argument("--keep-running", action="store_true", help="stay up until Ctrl-C")
    parser.add_argument(
        "--top", type=_number(int, 1), default=5, help="rows per table in the report (5)"
    )
    return parser


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt  # SIGTERM cleans up like Ctrl-C


def where_spanscope_is() -> str:
    """A line to add after suggested ``spanscope`` commands when this checkout's spanscope is
    not what the user's shell runs by that name (after ``make example`` nothing put it on
    PATH, and the suggested lines failed with "command not found"); "" when it is."""
    own = Path(sys.executable).parent / "spanscope"
    found = shutil.which("spanscope")
    if found and Path(found).resolve() == own.resolve():
        return ""
    relative = os.path.relpath(own)
    shown = relative if not relative.startswith("..") else str(own)
    return f"\n  (spanscope is {shown} here: add {Path(shown).parent} to PATH, or type it whole)"


def say(text: str) -> None:
    """Progress goes to stderr; stdout carries only the report."""
    print(text, file=sys.stderr, flush=True)


def run(args: argparse.Namespace) -> int:
    out = args.output_dir
    out.mkdir(parents=True, exist_ok=True)
    stack = ShopStack(out, args.ui_port, args.otlp_port, args.payment_failure_rate)
    try:
        stack.take_workdir()  # a second run on this directory stops here, before "starting"
    except BaseException:
        stack.stop()
        raise
    say(f"starting spanscope (UI {stack.ui_url}) and the shop services ...")
    with stack:
        for name, pid in stack.pids.items():
            port = stack.ports.get(name, stack.ui_port)
            say(f"  {name:<10} pid {pid:<7} port {port}")
        say(f"UI (live while the example runs): {stack.ui_url}/")
        say(f"sending checkouts to {stack.checkout_url} for {args.duration:g}s ...")
        load = drive(stack.checkout_url, args.duration, args.rate, args.workers)
        say(f"  {load.summary()}")
        if args.keep_running:
            spans = stack.wait_for_flush()
        else:
            stack.stop_services()  # each service flushes its spans before it exits
            spans = stack.spans_accepted()
        say(f"spanscope stored {spans} spans")
        if load.requests > _MAX_TRACES:
            say(f"  (report.json covers the newest {_MAX_TRACES} traces, what one search returns)")
        report = get_json(f"{stack.ui_url}/api/v1/analysis?{_SEARCH}", timeout=120)
        (out / "report.json").write_text(json.dumps(report, indent=1))
        traces = out / "traces.otlp.jsonl"
        traces.write_bytes(get(f"{stack.ui_url}/api/v1/export?{_SEARCH}&format=otlp-jsonl", 120))
        say(f"wrote {out / 'report.json'} and {traces}; the report on the store, live:\n")
        analyze = [sys.executable, "-m", "spanscope", "analyze", "--db", str(stack.db)]
        subprocess.run([*analyze, "--top", str(args.top)], check=False)
        if args.keep_running:
            say(f"\nUI: {stack.ui_url}/   (search service frontend; service map at /services)")
            say(
                "from another terminal, while it runs:\n"
                f"  spanscope analyze --db {stack.db} --since 5m\n"
                f"  spanscope query --db {stack.db} --metrics --since 5m{where_spanscope_is()}"
            )
            say("everything keeps running; Ctrl-C to stop")
            while True:
                time.sleep(3600)
    say(
        f"\nUI: {stack.ui_url}/ was up while the example ran. To browse these traces now:\n"
        f"  spanscope serve --db {stack.db}   then open http://127.0.0.1:16686/\n"
        f"or run the example with --keep-running.{where_spanscope_is()}"
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        return run(args)
    except KeyboardInterrupt:
        print("\nstopped; every process the example started is gone", file=sys.stderr)
        return 130
    except StackError as exc:
        print(f"example failed: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
