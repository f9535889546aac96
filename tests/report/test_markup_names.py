"""Names from the data print as they are in the text reports: rich reads cells and titles as
markup, so SQL Server's ``SELECT [dbo].[stock]`` printed as ``SELECT .`` and a service named
with ``[/red]`` in it stopped ``analyze`` and ``lint`` with a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from spanscope.cli import main
from spanscope.formats import write_spans
from spanscope.synthetic import generate_spans

QUERY = "SELECT [dbo].[stock] WHERE [sku]=@p0"
SERVICE = "[/red]front[bold]end"
ERROR_TYPE = "Db[/]Timeout"


@pytest.fixture(scope="module")
def hostile_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    spans = list(generate_spans(300, seed=4))
    for span in spans:
        if span.name == "SELECT shop.stock":
            span.name = QUERY
        if span.service_name == "frontend":
            span.service_name = SERVICE
        for event in span.events:
            if "exception.type" in event.attributes:
                event.attributes = {**event.attributes, "exception.type": ERROR_TYPE}
    path = tmp_path_factory.mktemp("markup") / "hostile.jsonl"
    with open(path, "wb") as out:
        write_spans(spans, out, "otlp-jsonl")
    return path


def _run(*args: str) -> str:
    result = CliRunner().invoke(main, list(args), terminal_width=250)
    assert result.exit_code == 0, result.output
    assert result.exception is None
    return result.output


def test_analyze_prints_bracketed_names_whole(hostile_file: Path) -> None:
    text = _run("analyze", str(hostile_file), "--slow-threshold", "1ms")
    assert f"inventory:{QUERY}" in text  # fix first, operations, slow spans, the profile
    assert f"{SERVICE}:POST /api/checkout" in text  # endpoints, titles, the headline
    assert f" {SERVICE} │ checkout " in text  # the dependencies' caller, in its row
    assert "SELECT ." not in text


def test_the_error_type_and_the_filters_line_print_whole(hostile_file: Path) -> None:
    text = _run("analyze", str(hostile_file), "--service", SERVICE)
    assert f"filters services={SERVICE}" in text
    errors = _run("analyze", str(hostile_file))
    assert f"│ {ERROR_TYPE} " in errors  # where failures started: the exception's type


def test_lint_prints_bracketed_names_whole(hostile_file: Path) -> None:
    text = _run("lint", str(hostile_file))
    assert SERVICE in text


def test_info_prints_bracketed_names_whole(hostile_file: Path) -> None:
    text = _run("info", str(hostile_file))
    assert SERVICE in text


def test_a_fail_if_condition_with_brackets_prints_as_written(hostile_file: Path) -> None:
    # Its expression went through rich as markup: '[/red]' ended the report in a traceback.
    condition = f"p99({SERVICE}:POST /api/checkout) > 1h"
    text = _run("analyze", str(hostile_file), "--fail-if", condition)
    assert f"ok {condition}" in text
