"""``spanscope serve``: receive live traces into a DuckDB store and answer Jaeger's query API."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import signal
import threading
from collections.abc import Iterator

import click

from spanscope.cli.common import DURATION, SIZE, check_store_file, stderr
from spanscope.cli.store_reading import serving_path
from spanscope.store import StoreError, StoreLockedError, open_store
from spanscope.units import format_duration

_RETENTION_EVERY_SECONDS = 60


@click.command()
@click.option(
    "--db",
    default="spanscope.duckdb",
    show_default=True,
    help="Store: a DuckDB file, clickhouse://[user:password@]host:8123/database (a ClickHouse "
    "server; the OTel Collector's otel_traces table), or chdb:FOLDER (ClickHouse in process).",
)
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on (0.0.0.0 to accept other machines).",
)
@click.option("--otlp-grpc-port", default=4317, show_default=True, help="OTLP/gRPC (0 = off).")
@click.option("--otlp-http-port", default=4318, show_default=True, help="OTLP/HTTP (0 = off).")
@click.option("--zipkin-port", default=9411, show_default=True, help="Zipkin (0 = off).")
@click.option("--ui-port", default=16686, show_default=True, help="UI and query API.")
@click.option("--retention", type=DURATION, help="Delete traces older than this, e.g. 7d.")
@click.option("--max-db-size", type=SIZE, help="Delete the oldest traces past this, e.g. 5GB.")
@click.option(
    "--queue-spans",
    default=200_000,
    show_default=True,
    help="Spans that may wait for the writer before receivers answer 429/RESOURCE_EXHAUSTED.",
)
@click.option(
    "--max-body", type=SIZE, default="32MB", show_default=True, help="Largest request body."
)
@click.option(
    "--tail-sample",
    "tail_policies",
    multiple=True,
    help="Keep only whole traces a policy keeps (repeat: any keeps, drop:... vetoes): errors, "
    "latency>=500ms, probability=10%, service=NAME, attribute:KEY[=V1|V2], spans>=N, "
    "rate=N/s, all. Try policies first with 'spanscope sample'.",
)
@click.option(
    "--decision-wait",
    type=DURATION,
    default="10s",
    show_default=True,
    help="With --tail-sample: how long a trace's spans wait for the rest before the decision.",
)
@click.option("-v", "--verbose", is_flag=True, help="Log each write and problem.")
def serve(
    db: str,
    host: str,
    otlp_grpc_port: int,
    otlp_http_port: int,
    zipkin_port: int,
    ui_port: int,
    retention: int | None,
    max_db_size: int | None,
    queue_spans: int,
    max_body: int,
    tail_policies: tuple[str, ...],
    decision_wait: int,
    verbose: bool,
) -> None:
    """Receive traces (OTLP gRPC and HTTP, Zipkin) into a DuckDB store and serve the Jaeger
    query API and the web UI.

    Point your services' OTLP exporter at http://localhost:4318 (or localhost:4317 for gRPC),
    or Zipkin reporters at http://localhost:9411/api/v2/spans. A span that got a success
    answer is in the store; when the writer falls behind, receivers answer 429 /
    RESOURCE_EXHAUSTED so exporters retry, instead of dropping spans.

    \b
    Examples:
      spanscope serve
      spanscope serve --db traces.duckdb --retention 7d --max-db-size 5GB
      spanscope serve --host 0.0.0.0 --ui-port 8080
      spanscope serve --tail-sample errors --tail-sample 'latency>=1s' \\
          --tail-sample probability=5%
      spanscope serve --db clickhouse://default:secret@clickhouse:8123/otel

    With --tail-sample, spans wait in memory for their trace's decision (a crash loses
    the waiting ones) and only kept traces reach the store.
    """
    from spanscope.server.app import (
        Server,
        ServerConfig,
        run_serving,
        tune_process_for_serving,
    )
    from spanscope.server.jaeger_api import JaegerApi
    from spanscope.server.native_api import NativeApi
    from spanscope.server.pages import Pages

    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING)
    config = ServerConfig(
        host=host,
        otlp_grpc_port=otlp_grpc_port or None,
        otlp_http_port=otlp_http_port or None,
        zipkin_port=zipkin_port or None,
        ui_port=ui_port or None,
        max_body_bytes=max_body,
        queue_spans=queue_spans,
    )
    try:
        config.validate()
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    sampler = None
    if tail_policies:
        from spanscope.sampling import PolicySet, TailSampler

        try:
            policies = PolicySet.parse(tail_policies)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--tail-sample") from None
        sampler = TailSampler(policies, decision_wait_ns=decision_wait)
    if db.startswith(("http://", "https://")):
        raise click.BadParameter(
            "that is a server's address, whose store is read-only from here: serve into a "
            "DuckDB file or a ClickHouse store (clickhouse://..., chdb:FOLDER)",
            param_hint="--db",
        )
    from spanscope.store.new_files import NewFiles

    new_files = NewFiles(db)  # what opening it creates, removed again if serve cannot start
    try:
        check_store_file(db)
        store = open_store(db)
    except StoreLockedError as exc:
        from spanscope.store.server_store import serving_url

        noted = serving_path(db)
        url = None if noted is None else serving_url(noted)
        if url is None:
            raise click.ClickException(str(exc)) from None
        raise click.ClickException(
            f"{db} is already served by a running 'spanscope serve' at {url}: send spans to "
            f"its receivers, read it with --db {db} (through that server), or stop it first"
        ) from None
    except StoreError as exc:
        raise click.ClickException(str(exc)) from None
    new_files.opened()
    listening = threading.Event()
    try:
        server = Server(
            config,
            store,
            extra_routes=[
                *JaegerApi(store).routes(),
                *NativeApi(store).routes(),
                *Pages(store).routes(),
            ],
            sampler=sampler,
        )
        tune_process_for_serving()
        run_serving(_run(server, store, retention, max_db_size, listening, serving_path(db)))
    except OSError as exc:
        options = {
            otlp_grpc_port: "--otlp-grpc-port",
            otlp_http_port: "--otlp-http-port",
            zipkin_port: "--zipkin-port",
            ui_port: "--ui-port",
        }
        raise click.ClickException(_listen_hint(str(exc), options)) from None
    finally:
        store.close()
        if not listening.is_set():  # nothing was received: leave no empty store behind
            new_files.remove()  # (only if still this serve's: see store.new_files)


def _listen_hint(message: str, options: dict[int, str]) -> str:
    """``message`` ("cannot listen on 127.0.0.1:4318: Address already in use") with the option
    that chose the port and what to do: most often another server, a first spanscope serve
    still running, holds it."""
    match = re.search(r":(\d+): Address already in use", message)
    option = options.get(int(match.group(1))) if match else None
    if option is None:
        return message
    off = "" if option == "--ui-port" else "; 0 turns that listener off"
    return (
        f"{message} (another server, perhaps a 'spanscope serve' still running, listens there: "
        f"stop it, or choose another port with {option}{off})"
    )


async def _run(
    server,
    store,
    max_age_ns: int | None,
    max_bytes: int | None,
    listening: threading.Event,
    noted: str | None,
) -> None:
    loop = asyncio.get_running_loop()
    serving = asyncio.create_task(server.serve())
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, server.stop)
    started = asyncio.create_task(server.wait_started())
    await asyncio.wait({serving, started}, return_when=asyncio.FIRST_COMPLETED)
    if serving.done():
        await serving  # raises what stopped it (e.g. a port in use)
        return
    listening.set()
    _announce(server, store, max_age_ns, max_bytes)
    retention = None
    if max_age_ns or max_bytes:
        retention = asyncio.create_task(_retention_loop(store, max_age_ns, max_bytes))
    try:
        with _serving_file(server, store, noted), _stopping_reads(store):
            await serving
    finally:
        if retention is not None:
            retention.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await retention
    _say_stopped(server, store)


def _say_stopped(server, store) -> None:
    """After Ctrl-C or SIGTERM (the queue drained): what this run wrote, so that a stop is not
    silent and nobody wonders whether the last spans made it."""
    metrics = server.metrics
    where = getattr(store, "path", None) or store.location
    sampler = getattr(server, "sampler", None)
    if sampler is None:
        line = f"stopped: {metrics.spans_accepted:,} spans written to {where} since the start"
    else:  # what came in is not what the store holds: say both
        stats = sampler.stats
        decided = stats.traces_kept + stats.traces_dropped
        line = (
            f"stopped: {metrics.spans_accepted:,} spans received since the start; the tail "
            f"sampler kept {stats.traces_kept:,} of {decided:,} traces ({stats.spans_kept:,} "
            f"spans), written to {where}"
        )
    refused, bad = metrics.spans_refused, sum(metrics.bad_requests.values())
    if refused or bad or metrics.write_failures:
        line += (
            f" ({refused:,} spans refused as overloaded, {bad:,} bad requests, "
            f"{metrics.write_failures:,} failed writes)"
        )
    stderr.print(line, soft_wrap=True)


@contextlib.contextmanager
def _stopping_reads(store) -> Iterator[None]:
    """Ctrl-C or SIGTERM stops the store's running searches at once: the server stops only
    once its requests are answered, and a search of millions of spans runs for many seconds
    (the writes still drain, and the summary follows). Wraps the handlers in place, the
    server's own while it serves (uvicorn's: it puts its own back when it ends)."""
    stop_reads = getattr(store, "stop_reads", None)
    if stop_reads is None:
        yield
        return
    # A stopped search fails its request (500); the server's log would print its traceback.
    quiet = _StoppedSearches()
    logging.getLogger("uvicorn.error").addFilter(quiet)
    wrapped = {}
    for signum in (signal.SIGINT, signal.SIGTERM):
        previous = signal.getsignal(signum)
        if not callable(previous):
            continue

        def on_signal(number, frame, previous=previous) -> None:
            # On another thread: the handler runs on the main thread between two bytecodes,
            # perhaps inside the store's lock that stop_reads takes.
            threading.Thread(target=stop_reads, name="spanscope-stop-reads").start()
            previous(number, frame)

        signal.signal(signum, on_signal)
        wrapped[signum] = (on_signal, previous)
    try:
        yield
    finally:
        for signum, (on_signal, previous) in wrapped.items():
            if signal.getsignal(signum) is on_signal:
                signal.signal(signum, previous)
        logging.getLogger("uvicorn.error").removeFilter(quiet)


class _StoppedSearches(logging.Filter):
    """Leaves out the errors of requests whose search ``stop_reads`` stopped."""

    def filter(self, record: logging.LogRecord) -> bool:
        from spanscope.store.read_group import ReadsStoppedError

        error = record.exc_info[1] if record.exc_info else None
        while isinstance(error, BaseExceptionGroup) and len(error.exceptions) == 1:
            error = error.exceptions[0]  # (a task group's, around the request's own)
        return not isinstance(error, ReadsStoppedError)


def _serving_file(server, store, noted: str | None) -> contextlib.AbstractContextManager:
    """Tell 'spanscope query' and 'analyze --db' on this machine that the store (a DuckDB file,
    a chDB folder: ``noted``, see ``store_reading.serving_path``) is read through this server
    while it runs (DuckDB and chDB let no other process open it)."""
    path = getattr(store, "path", None) or noted  # (DuckDB's own name for its file, as ever)
    if path is None or "ui" not in server.ports:
        return contextlib.nullcontext()
    from spanscope.store.server_store import announce_serving

    return announce_serving(path, f"http://{_reachable(server.config.host)}:{server.ports['ui']}")


_WILDCARDS = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}


def _reachable(host: str) -> str:
    """An address of ``host`` to connect to, as a URL spells it: this machine's loopback for
    a wildcard (a browser cannot open http://0.0.0.0/ everywhere), IPv6 in brackets."""
    host = _WILDCARDS.get(host, host)
    return f"[{host}]" if ":" in host else host


async def _retention_loop(store, max_age_ns: int | None, max_bytes: int | None) -> None:
    log = logging.getLogger("spanscope.retention")
    while True:
        deleted = await asyncio.to_thread(store.enforce_retention, max_age_ns, max_bytes)
        if deleted:
            log.info("retention deleted %d spans", deleted)
        await asyncio.sleep(_RETENTION_EVERY_SECONDS)


def _announce(server, store, max_age_ns: int | None, max_bytes: int | None) -> None:
    host = _reachable(server.config.host)
    ports = server.ports
    where = getattr(store, "path", None) or store.location
    lines = [f"[bold]spanscope[/] is receiving traces into [bold]{where}[/]"]
    if server.config.host in _WILDCARDS:
        lines[0] += f" on every interface ({server.config.host or '0.0.0.0'}); from here:"
    if "otlp_grpc" in ports:
        lines.append(f"  OTLP/gRPC   {host}:{ports['otlp_grpc']}")
    if "otlp_http" in ports:
        lines.append(f"  OTLP/HTTP   http://{host}:{ports['otlp_http']}/v1/traces")
    if "zipkin" in ports:
        lines.append(f"  Zipkin      http://{host}:{ports['zipkin']}/api/v2/spans")
    if "ui" in ports:
        lines.append(f"  UI and API  http://{host}:{ports['ui']}/")
    if max_age_ns:
        lines.append(f"  retention   {format_duration(max_age_ns)}")
    if max_bytes:
        lines.append(f"  size limit  {max_bytes / 1e9:.3g} GB")
    sampler = server.sampler
    if sampler is not None:
        lines.append(
            f"  tail sampling  {', '.join(sampler.policies.names)} "
            f"(decision after {format_duration(sampler.decision_wait_ns)})"
        )
    lines.append("Ctrl-C to stop (accepted spans are written first).")
    stderr.print("\n".join(lines), soft_wrap=True)  # a long store path stays whole, to copy
