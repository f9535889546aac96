"""Run one shop service: ``python -m examples.shop.service NAME --port P --otlp URL [--peer ...]``.

``NAME`` is ``frontend``, ``checkout``, ``inventory`` or ``payments``; ``--peer name=url`` tells
it where the services it calls listen. It serves on a ``ThreadingHTTPServer`` (``GET /healthz``
answers when it is ready) until SIGTERM or SIGINT, then stops taking requests and flushes its
queued spans (``TracerProvider.shutdown``, at most 5 s) before exiting 0 (1: spans dropped).
With ``--parent-pid`` it also stops when that process is gone, so a killed runner leaves no
service behind.
"""

from __future__ import annotations

import argparse
import importlib
import os
import signal
import sys
import threading
from http.server import ThreadingHTTPServer

from examples.shop.telemetry import setup_tracing

SERVICES = ("frontend", "checkout", "inventory", "payments")
_FLUSH_S = 5.0


def _watch_parent(pid: int, stop: threading.Event, server: ThreadingHTTPServer) -> None:
    while not stop.wait(0.5):
        if os.getppid() != pid:  # reparented: whoever started us is gone
            server.shutdown()
            return


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m examples.shop.service")
    parser.add_argument("name", choices=SERVICES)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--otlp", required=True, help="spanscope's OTLP/HTTP base URL")
    parser.add_argument("--peer", action="append", default=[], help="name=url of a callee")
    parser.add_argument("--parent-pid", type=int, default=0)
    args = parser.parse_args(argv)
    peers = dict(peer.split("=", 1) for peer in args.peer)

    provider = setup_tracing(args.name, args.otlp)
    module = importlib.import_module(f"examples.shop.{args.name}")
    handler = module.build(provider.get_tracer(f"examples.shop.{args.name}"), peers)
    server = ThreadingHTTPServer((args.host, args.port), handler)
    server.daemon_threads = True
    stop = threading.Event()

    def on_signal(signum, frame) -> None:
        # shutdown() waits for serve_forever() to return: it must run on another thread.
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    if args.parent_pid:
        threading.Thread(
            target=_watch_parent, args=(args.parent_pid, stop, server), daemon=True
        ).start()
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        stop.set()
        server.server_close()
    # Export every span still queued, but not for long: when the runner died, spanscope may be
    # gone too, and the exporter would retry for its whole timeout.
    flusher = threading.Thread(target=provider.shutdown, daemon=True)
    flusher.start()
    flusher.join(_FLUSH_S)
    if flusher.is_alive():
        print(f"{args.name}: spans not exported within {_FLUSH_S}s, dropped", file=sys.stderr)
        sys.stderr.flush()
        os._exit(1)  # the exporter's thread would keep the interpreter from exiting


if __name__ == "__main__":
    main()
