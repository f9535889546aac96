"""Data sets that the command tests of several modules read, each made once per test process."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from spanscope.cli import main

from .markup_traces import write_markup_store


@pytest.fixture(scope="session")
def markup_store(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A store of two traces whose service and names rich would take for markup
    (``tests.cli.markup_traces``)."""
    return str(write_markup_store(tmp_path_factory.mktemp("markup")))


@pytest.fixture(scope="session")
def small_shop(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The generated shop, 300 requests of the default seed, as OTLP JSON lines:
    ``spanscope generate --traces 300 -o shop.jsonl``."""
    path = tmp_path_factory.mktemp("shop") / "shop.jsonl"
    made = CliRunner().invoke(main, ["generate", "--traces", "300", "-o", str(path)])
    assert made.exit_code == 0, made.output
    return str(path)
