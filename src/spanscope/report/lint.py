"""The human rendering of ``spanscope lint``'s ``LintReport`` (rich, on standard output).

First the verdict (score, counts by severity), then one block per rule that found something,
worst first: what, how many, where, the commonest details, example spans (ids a user can paste
into ``spanscope view --trace-id``), why it matters and how to fix it; last, the services,
worst score first. With no span read there is no score: one line says there was nothing to
check.
"""

from __future__ import annotations

from collections.abc import Iterable

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from spanscope.quality.linter import LintReport, RuleResult
from spanscope.quality.rules import Rule
from spanscope.units import count

_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}
_MARK = {"error": "✖", "warning": "▲", "info": "●"}
_DETAILS_SHOWN = 4
_SERVICES_SHOWN = 4


def _score(score: float) -> str:
    """A share as a percentage that reads 100.0% only when nothing was found: 4 spans with
    errors among 100,000 are 99.996%, which one decimal would round up to 100.0%."""
    text = f"{score:.1%}"
    return "99.9%" if text == "100.0%" and score < 1 else text


def _score_style(score: float) -> str:
    return "green" if score >= 0.99 else "yellow" if score >= 0.9 else "red"


def _top(counts: dict[str, int], shown: int) -> str:
    items = list(counts.items())
    text = ", ".join(f"{name or '(no service)'} ×{number:,}" for name, number in items[:shown])
    if len(items) > shown:
        text += f", and {len(items) - shown:,} more"
    return escape(text)  # names from the data: printed as they are, brackets and all


def _rule_block(console: Console, result: RuleResult) -> None:
    style = _STYLE[result.severity]
    head = Text()
    head.append(f"{_MARK[result.severity]} {result.severity:<8}", style=style)
    head.append(f"{result.id}", style="bold")
    head.append(f"  {result.title}: ")
    traces = f" in {count(result.traces, 'trace')}" if result.traces else ""
    head.append(f"{count(result.spans, 'span')}{traces}")
    console.print(head)
    # Labels in a column of their own so that wrapped lines stay indented under the text.
    grid = Table.grid(padding=(0, 1))
    grid.add_column(width=3)
    grid.add_column(style="dim", width=5)
    grid.add_column(overflow="fold")
    grid.add_row("", "where", _top(result.services, _SERVICES_SHOWN))
    grid.add_row("", "what", _top(result.details, _DETAILS_SHOWN))
    for example in result.examples:
        place = (
            f"trace {example.trace_id} span {example.span_id} " if example.trace_id else "service "
        )
        label = f"{example.service}: {example.name}" if example.name else example.service
        grid.add_row("", "e.g.", Text.assemble(f"{place}{label} ", (f"({example.detail})", "dim")))
    grid.add_row("", "why", result.why)
    grid.add_row("", "fix", result.fix)
    console.print(grid)
    console.print()


def print_lint_report(
    report: LintReport, console: Console | None = None, filtered: bool = False
) -> None:
    """Print ``report``; ``filtered``: spans were read but the filters (--service, --since...)
    kept none of their traces."""
    console = console or Console(highlight=False)
    if not report.spans:  # no score to give (why, whether input errors or filters: on stderr)
        if filtered:
            console.print(
                "[bold]instrumentation quality[/]: no trace read passes the filters: "
                "no spans to check"
            )
            return
        console.print("[bold]instrumentation quality[/]: no spans to check")
        return
    style = _score_style(report.score)
    console.print(
        f"[bold]instrumentation quality[/]: {count(report.traces, 'trace')}, "
        f"{count(report.spans, 'span')}, {count(len(report.services), 'service')}; "
        f"[{style}]{_score(report.score)}[/] of spans with no error or warning"
    )
    counts = report.counts
    console.print(
        f"[bold red]{count(counts['error'], 'error rule')}[/], "
        f"[yellow]{count(counts['warning'], 'warning rule')}[/], "
        f"[cyan]{count(counts['info'], 'info rule')}[/] with findings"
    )
    console.print()
    if not report.rules:
        console.print("[green]nothing found[/]")
    for result in report.rules:
        _rule_block(console, result)
    if not report.services:
        return
    table = Table(
        "service", "spans", "score", "errors", "warnings", "rules", title="services, worst first"
    )
    for service in report.services:
        shown = ", ".join(service.rules[:3]) + (" ..." if len(service.rules) > 3 else "")
        table.add_row(
            escape(service.service or "(no service)"),
            f"{service.spans:,}",
            f"[{_score_style(service.score)}]{_score(service.score)}[/]",
            f"{service.spans_with_errors:,}",
            f"{service.spans_with_warnings:,}",
            shown,
        )
    console.print(table)


def print_rules(rules: Iterable[Rule], console: Console | None = None) -> None:
    console = console or Console(highlight=False)
    for rule in rules:
        label = rule.severity.label
        console.print(
            f"[{_STYLE[label]}]{_MARK[label]} {label:<8}[/][bold]{rule.id}[/]  {rule.title}"
        )
        grid = Table.grid(padding=(0, 1))
        grid.add_column(width=3)
        grid.add_column(style="dim", width=3)
        grid.add_column(overflow="fold")
        grid.add_row("", "why", rule.why)
        grid.add_row("", "fix", rule.fix)
        console.print(grid)
