"""``spanscope propagation``: parse context headers, test propagation through services, run
the echo probe."""

from __future__ import annotations

import json
import sys

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from spanscope.cli.common import URL
from spanscope.propagation import codecs
from spanscope.propagation.context import Context, Parsed, parsed_to_dict
from spanscope.propagation.results import TestReport

stdout = Console(highlight=False, soft_wrap=True)
stderr = Console(stderr=True, highlight=False)

EXIT_FAILED = 1


def _formats(ctx: click.Context, param: click.Parameter, value: str) -> list[str]:
    # a callback, so a bad value is reported against its option ('--format'), not anonymously
    try:
        return codecs.resolve_formats(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), ctx=ctx, param=param) from None


@click.group()
def propagation() -> None:
    """Check trace-context propagation: W3C traceparent/tracestate/baggage, B3 (single and
    multi), Jaeger uber-trace-id, AWS X-Ray.

    \b
    Examples:
      spanscope propagation parse 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01
      spanscope propagation test --url http://localhost:8000/api --format all
      spanscope propagation echo --port 8000 --forward http://localhost:8001/
    """


@propagation.command()
@click.argument("headers", nargs=-1, required=True, metavar="HEADER...")
@click.option(
    "--to",
    "to",
    default="all",
    show_default=True,
    callback=_formats,
    help="Formats to convert into.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of tables.")
def parse(headers: tuple[str, ...], to: list[str], as_json: bool) -> None:
    """Parse context headers strictly, say why one is invalid, and convert between formats.

    HEADER is 'Name: value' or a bare value (its header is guessed from its shape); '-' reads
    header lines from stdin. Exits 1 when a header is invalid or none is found.

    \b
    Examples:
      spanscope propagation parse 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01
      spanscope propagation parse 'b3: 80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1' --to w3c
      curl -sI https://example.com | spanscope propagation parse -
    """
    targets = to
    text = "\n".join(sys.stdin.read() if h == "-" else h for h in headers)
    pairs = codecs.parse_header_text(text)
    results = {n: p for n, p in codecs.extract_all(pairs).items() if p.present}
    converted = codecs.convert(pairs, targets)
    failed = not results or any(not p.ok for p in results.values())
    if as_json:
        out = {
            "headers": [list(h) for h in pairs],
            "formats": {n: parsed_to_dict(p) for n, p in results.items()},
            "disagreements": codecs.disagreements(results),
            "converted": {
                "from": converted.header or None,
                "headers": [list(h) for h in converted.value or []],
                "warnings": list(converted.warnings),
            },
            "ok": not failed,
        }
        stdout.print_json(json.dumps(out))
    else:
        _print_parse(pairs, results, converted)
    if failed:
        sys.exit(EXIT_FAILED)


def _print_parse(
    pairs: list[tuple[str, str]],
    results: dict[str, Parsed[Context]],
    converted: Parsed[list[tuple[str, str]]],
) -> None:
    if not results:
        got = ", ".join(name or f"unrecognised value {value!r}" for name, value in pairs)
        # Headers are the user's (or a hop's) text: printed as typed, never read as markup.
        stdout.print(f"[red]no trace context header found[/] (got {escape(got) or 'nothing'})")
        return
    for name, parsed in results.items():
        if parsed.value is None:
            stdout.print(f"[bold]{name}[/]: [red]invalid[/] - {escape(parsed.reason or '')}")
            continue
        stdout.print(f"[bold]{name}[/]: [green]valid[/]")
        table = Table(show_header=False, box=None, padding=(0, 2))
        for key, value in parsed.value.to_dict().items():
            if value in (None, [], False) and key not in ("sampled",):
                continue
            table.add_row(key, escape(_show(value)))
        stdout.print(table)
        for warning in parsed.warnings:
            stdout.print(f"  [yellow]warning:[/] {escape(str(warning))}")
    for note in codecs.disagreements(results):
        stdout.print(f"[yellow]formats disagree:[/] {escape(str(note))}")
    if converted.value:
        stdout.print(f"\n[bold]as other formats[/] (from {converted.header}):")
        for name, value in converted.value:
            stdout.print(f"  {escape(name)}: {escape(value)}")
        for warning in converted.warnings:
            stdout.print(f"  [yellow]warning:[/] {escape(str(warning))}")


def _show(value: object) -> str:
    if value is None:
        return "defer (no decision)"
    if isinstance(value, list):
        return ", ".join(
            f"{v['key']}={v['value']}" if isinstance(v, dict) else "=".join(v) for v in value
        )
    return str(value)


@propagation.command()
@click.option("--url", type=URL, required=True, help="The first service of the chain.")
@click.option(
    "--format",
    "format_",
    default="w3c",
    show_default=True,
    callback=_formats,
    help="w3c, b3, b3multi, jaeger, xray, a comma list, or all.",
)
@click.option("--hops", type=click.IntRange(min=1), help="How many hops the chain must have.")
@click.option("--expect-services", default="", help="Comma list of services, in chain order.")
@click.option(
    "--backend",
    type=URL,
    help="Trace store speaking the Jaeger query API, e.g. http://localhost:16686.",
)
@click.option(
    "--backend-wait",
    type=click.FloatRange(min=0),
    default=10.0,
    show_default=True,
    help="Seconds to wait for spans to land.",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=10.0,
    show_default=True,
    help="Seconds per request.",
)
@click.option("--no-baggage", is_flag=True, help="Do not send (and check) baggage.")
@click.option(
    "--unsampled",
    is_flag=True,
    help="Send a not-sampled decision and check it is kept (with --backend: that no service "
    "exports the trace).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the JSON report.")
def test(
    url: str,
    format_: list[str],
    hops: int | None,
    expect_services: str,
    backend: str | None,
    backend_wait: float,
    timeout: float,
    no_baggage: bool,
    unsampled: bool,
    as_json: bool,
) -> None:
    """Send a request with a generated context and check it survives every hop.

    Hops are seen through echo probes ('spanscope propagation echo', chained with --forward)
    or, for real services, by finding the trace in a trace store (--backend) and checking the
    expected services form one connected tree. Exits 1 when a check fails.

    \b
    Examples:
      spanscope propagation test --url http://localhost:8000/api --format all --json
      spanscope propagation test --url http://gateway:8080/checkout --hops 3 \\
          --expect-services gateway,orders,payments --backend http://localhost:16686
    """
    from spanscope.propagation.tester import run_test

    services = [s.strip() for s in expect_services.split(",") if s.strip()]
    report = run_test(
        url,
        format_,
        hops=hops,
        expect_services=services,
        backend=backend,
        backend_wait=backend_wait,
        timeout=timeout,
        baggage=not no_baggage,
        sampled=not unsampled,
    )
    if as_json:
        stdout.print_json(json.dumps(report.to_dict()))
    else:
        _print_report(report)
    if not report.ok:
        sys.exit(EXIT_FAILED)


def _print_report(report: TestReport) -> None:
    for fmt in report.formats:
        verdict = "[green]PASS[/]" if fmt.ok else "[red]FAIL[/]"
        stdout.print(f"\n{verdict} [bold]{fmt.format}[/] trace {fmt.trace_id}")
        if fmt.hops:
            table = Table(box=None, padding=(0, 2))
            for column in ("hop", "service", "received parent", "sent parent", "result"):
                table.add_column(column)
            for hop in fmt.hops:
                failed = [c.name for c in hop.checks if not c.ok]
                result = (
                    f"[red]✗ {', '.join(failed)}[/]"
                    if failed
                    else f"[green]✓[/] {len(hop.checks)} checks"
                )
                received = (hop.received or {}).get("span_id") or "-"
                table.add_row(
                    str(hop.index),
                    escape(hop.service),
                    escape(str(received)),
                    escape(hop.sent_span_id or "-"),
                    result,
                )
            stdout.print(table)
        if fmt.backend is not None:
            found = f"{fmt.backend.span_count} spans" if fmt.backend.found else "not found"
            stdout.print(
                f"  trace store {fmt.backend.url}: {found}; services "
                f"{', '.join(fmt.backend.services) or '-'}"
            )
        for failure in fmt.failures():
            stdout.print(f"  [red]✗[/] {escape(str(failure))}")
        notes = [n for h in fmt.hops for n in h.notes] + fmt.notes
        notes += fmt.backend.notes if fmt.backend else []
        for note in notes:
            stdout.print(f"  [yellow]note:[/] {escape(str(note))}")
    passed = sum(f.ok for f in report.formats)
    stdout.print(f"\n{passed}/{len(report.formats)} formats passed")


@propagation.command()
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8000,
    show_default=True,
    help="Port to listen on (0: any).",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--forward", type=URL, multiple=True, help="Next hop URL to call (repeatable).")
@click.option("--service", default=None, help="Service name in answers and spans.")
@click.option(
    "--inject",
    default="w3c",
    show_default=True,
    callback=_formats,
    help="Formats to start a new trace in when a request carries no valid context.",
)
@click.option(
    "--otlp-endpoint", type=URL, help="Export spans over OTLP/HTTP, e.g. http://localhost:4318."
)
@click.option(
    "--no-propagate", is_flag=True, help="Call next hops without context (a broken service)."
)
def echo(
    port: int,
    host: str,
    forward: tuple[str, ...],
    service: str | None,
    inject: list[str],
    otlp_endpoint: str | None,
    no_propagate: bool,
) -> None:
    """Run the echo probe: answer every request with the context it received (and what it
    parsed), optionally calling the next hop with a fresh span id in the same format(s).

    It also serves as the service under test for the W3C trace-context test suite (a POST of
    [{"url": ..., "arguments": [...]}] makes it call each url with propagated headers).

    \b
    Examples:
      spanscope propagation echo --port 8000
      spanscope propagation echo --port 8000 --forward http://localhost:8001/ --service gateway
    """
    from spanscope.propagation.echo import EchoConfig, EchoServer

    config = EchoConfig(
        service=service or f"echo-{port}",
        host=host,
        port=port,
        forward=list(forward),
        inject=inject,
        propagate=not no_propagate,
        otlp_endpoint=otlp_endpoint,
    )
    try:
        server = EchoServer(config)
    except (OSError, RuntimeError) as exc:
        raise click.ClickException(f"cannot start the echo probe on {host}:{port}: {exc}") from None
    stderr.print(f"echo probe [bold]{escape(config.service)}[/] listening on {server.url}")
    for url in forward:
        stderr.print(f"  forwarding to {escape(url)}")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
