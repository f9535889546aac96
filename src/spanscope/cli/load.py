"""``spanscope load``: replay trace files into a running server over OTLP/HTTP or Zipkin."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterable, Iterator

import click
import httpx
from rich.markup import escape
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from spanscope.cli.common import URL, input_files, input_options, stderr
from spanscope.cli.reading import ReadSession, fail_on_input_errors, print_warnings
from spanscope.formats import encode_spans
from spanscope.model import Span

_PROTOCOLS = {
    # protocol -> (path, format, content type)
    "otlp-http": ("/v1/traces", "otlp-proto", "application/x-protobuf"),
    "otlp-http-json": ("/v1/traces", "otlp-json", "application/json"),
    "zipkin": ("/api/v2/spans", "zipkin-v2", "application/json"),
}


def _batches(spans: Iterable[Span], size: int) -> Iterator[list[Span]]:
    iterator = iter(spans)
    while batch := list(itertools.islice(iterator, size)):
        yield batch


def _send(
    client: httpx.Client, url: str, body: bytes, content_type: str, retries: int
) -> tuple[str, bool]:
    """POST one batch; retry what the receiver says is retryable. Returns "" or an error, and
    whether the receiver could not be reached at all (no answer to any attempt)."""
    delay = 0.2
    unreachable = True
    for attempt in range(retries + 1):
        try:
            response = client.post(url, content=body, headers={"Content-Type": content_type})
        except httpx.TransportError as exc:
            error = f"cannot reach {url}: {exc}"
        else:
            unreachable = False
            if response.status_code < 300:
                return "", False
            error = f"{url} answered {response.status_code}: {response.text[:300]}"
            if response.status_code not in (429, 502, 503, 504):
                return error, False  # permanent: retrying the same payload fails again
            retry_after = response.headers.get("Retry-After", "")
            if retry_after.isdecimal():
                delay = max(delay, float(retry_after))
        if attempt < retries:
            time.sleep(delay)
            delay = min(delay * 2, 10.0)
    return error, unreachable


@click.command()
@input_files
@click.option(
    "--to",
    "url",
    type=URL,
    default="http://localhost:4318",
    show_default=True,
    help="Base URL of the receiver (spanscope, a Collector, Jaeger, Zipkin).",
)
@click.option(
    "--protocol",
    type=click.Choice(sorted(_PROTOCOLS)),
    default="otlp-http",
    show_default=True,
    help="Wire protocol: OTLP/HTTP protobuf or JSON, or Zipkin v2 JSON.",
)
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    default=512,
    show_default=True,
    help="Spans per request.",
)
@click.option(
    "--retries",
    type=click.IntRange(min=0),
    default=5,
    show_default=True,
    help="Retries of a refused batch.",
)
@input_options(skew=False)
def load(
    inputs: tuple[str, ...],
    url: str,
    protocol: str,
    batch_size: int,
    retries: int,
    format_: str | None,
    strict: bool,
) -> None:
    """Replay trace files into a running server.

    Spans are sent in batches; a batch the server refuses as overloaded (429/503) is retried
    with back-off, honouring Retry-After. A receiver that cannot be reached at all (not
    running, wrong port) stops the replay after the first batch's retries. Exit code 1 if any
    batch could not be delivered.

    \b
    Examples:
      spanscope load traces.json
      spanscope load export.jsonl.gz --to http://collector:4318
      spanscope load zipkin.json --to http://localhost:9411 --protocol zipkin
    """
    path, format_name, content_type = _PROTOCOLS[protocol]
    target = url.rstrip("/") + path
    session = ReadSession(list(inputs), format=format_, strict=strict)
    sent = failed = 0
    stopped = False
    errors: list[str] = []
    with (
        httpx.Client(timeout=30.0) as client,
        Progress(
            SpinnerColumn(),
            TextColumn("sending to {task.description}"),
            TextColumn("{task.completed:,} spans"),
            TimeElapsedColumn(),
            console=stderr,
            transient=True,
            disable=not stderr.is_terminal,
        ) as progress,
    ):
        task = progress.add_task(target)
        for batch in _batches(session.spans(), batch_size):
            body = encode_spans(batch, format_name)
            error, unreachable = _send(client, target, body, content_type, retries)
            if error:
                failed += len(batch)
                if len(errors) < 5:
                    errors.append(error)
            else:
                sent += len(batch)
            progress.update(task, completed=sent + failed)
            if unreachable:
                # Every later batch would wait out the same retries (minutes for a big file)
                # to fail the same way.
                stopped = True
                break
    print_warnings(session.diagnostics)
    spans = "span" if sent == 1 else "spans"
    summary = f"sent {sent:,} {spans} to {target}" + (f", {failed:,} failed" if failed else "")
    click.echo(summary + ("; stopped: the receiver cannot be reached" if stopped else ""), err=True)
    for error in errors:
        stderr.print(f"[red]error:[/] {escape(str(error))}", soft_wrap=True)  # may quote a reply
    fail_on_input_errors(session)
    if failed:
        raise SystemExit(1)
