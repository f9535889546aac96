"""``spanscope lint``: check how well services are instrumented, and say what to fix; in trace
files or in the traces of a store (``--db``)."""

from __future__ import annotations

import sys
from typing import Any

import click
import msgspec

from spanscope.cli.common import error_console, input_options, output_console
from spanscope.cli.reading import ReadSession, fail_on_input_errors, print_warnings
from spanscope.cli.store_reading import read_store, store_options, take_selection
from spanscope.quality.rules import RULES, Severity

_FAIL_ON = ("error", "warning", "info", "never")
EXIT_FINDINGS = 1


def _rule_ids(values: tuple[str, ...], option: str) -> list[str]:
    ids = [part.strip() for value in values for part in value.split(",") if part.strip()]
    unknown = [rule for rule in ids if rule not in RULES]
    if unknown:
        raise click.BadParameter(
            f"unknown rule {', '.join(unknown)} (see spanscope lint --list-rules)",
            param_hint=option,
        )
    return ids


@click.command()
@click.argument("inputs", nargs=-1, metavar="[FILE...]")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option(
    "--fail-on",
    type=click.Choice(_FAIL_ON),
    default="error",
    show_default=True,
    help="Exit 1 when a finding of this severity or worse is found.",
)
@click.option("--rule", "rules", multiple=True, help="Only these rules (repeat or comma list).")
@click.option("--skip", multiple=True, help="Leave out these rules (repeat or comma list).")
@click.option(
    "--examples",
    type=click.IntRange(min=0),
    default=3,
    show_default=True,
    help="Example spans shown per rule.",
)
@click.option("--list-rules", is_flag=True, help="List every rule with why and how to fix it.")
@input_options(skew=True)
@store_options()
def lint(
    inputs: tuple[str, ...],
    as_json: bool,
    fail_on: str,
    rules: tuple[str, ...],
    skip: tuple[str, ...],
    examples: int,
    list_rules: bool,
    format_: str | None,
    strict: bool,
    no_adjust_skew: bool,
    **selection: Any,
) -> None:
    """Check how well services are instrumented, and say what to fix.

    Broken traces, errors not marked as errors, calls without a kind or target,
    ids in span names, credentials in attributes, deprecated attribute names...
    Each finding says why it matters and how to fix it; each service gets a
    score (its share of spans with no error or warning).

    Exit status: 0 clean enough, 1 a finding at --fail-on or worse (default:
    error), 2 an input could not be read or a bad option.

    \b
    Examples:
      spanscope lint traces.jsonl
      spanscope lint export.json --fail-on warning           # in CI
      spanscope lint traces.pb --skip deprecated-attribute,scope-missing
      spanscope lint traces.json --json | jq '.services[] | {service, score}'
      spanscope lint --db traces.duckdb --since 1h --service checkout
      spanscope lint --list-rules
    """
    if list_rules:
        _print_rules(as_json)
        return
    if not inputs and selection.get("db") is None:
        raise click.UsageError("give at least one FILE, or a store (--db), or --list-rules")
    chosen = take_selection(inputs, selection, "lint")
    from spanscope.analysis.filters import filter_traces
    from spanscope.cli.analyze import assembled_traces
    from spanscope.quality.linter import Linter

    # _rule_ids has checked the names: Linter's own check cannot fail here.
    linter = Linter(
        rules=_rule_ids(rules, "--rule") or None,
        skip=_rule_ids(skip, "--skip"),
        examples=examples,
    )
    session = None
    if chosen.db is not None:
        traces, stored = read_store(
            chosen.db, chosen.trace_filter, chosen.limit, not no_adjust_skew
        )
        for trace in traces:
            linter.add(trace)
        read = stored.spans
    else:
        session = ReadSession(list(inputs), format=format_, strict=strict)
        assembled = assembled_traces(session, not no_adjust_skew)
        for trace in filter_traces(assembled, chosen.trace_filter):
            linter.add(trace)
        read = session.spans_read
    report = linter.report()
    if session is not None and not report.spans:  # a store's read said why already
        from spanscope.cli.match_feedback import nothing_matched, warn

        warn(nothing_matched(session, chosen.trace_filter, not no_adjust_skew))
    if session is not None:
        print_warnings(session.diagnostics)
    if as_json:
        sys.stdout.write(msgspec.json.encode(report).decode() + "\n")
    else:
        from spanscope.report.lint import print_lint_report

        # Spans read, none in a trace that passes the filters: not "no spans to check".
        filtered = bool(read) and not chosen.trace_filter.is_empty
        print_lint_report(report, output_console(), filtered=filtered)  # 160 columns in a pipe
    if session is not None:
        fail_on_input_errors(session)
    worst = report.worst()
    if fail_on != "never" and worst is not None and worst >= Severity[fail_on.upper()]:
        if not as_json:
            error_console().print(
                f"[red]lint:[/] findings of severity {worst.label}"
                f" (--fail-on {fail_on}): exit {EXIT_FINDINGS}"
            )
        raise SystemExit(EXIT_FINDINGS)


def _print_rules(as_json: bool) -> None:
    ordered = sorted(RULES.values(), key=lambda rule: (-rule.severity, rule.id))
    if as_json:
        document = [
            {**msgspec.structs.asdict(rule), "severity": rule.severity.label} for rule in ordered
        ]
        sys.stdout.write(msgspec.json.encode(document).decode() + "\n")
        return
    from spanscope.report.lint import print_rules

    print_rules(ordered)
