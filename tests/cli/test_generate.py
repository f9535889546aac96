"""``spanscope generate``: where its traces go (a file, in the format its name says; a pipe; never
a terminal)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from spanscope.cli import main

from .run import executable, spanscope
from .terminal import on_terminal

# -- found by trying every example of the README and of --help, each fixed and held here --


def test_generate_without_output_on_a_terminal_asks_for_a_file(tmp_path: Path) -> None:
    """A bare 'spanscope generate' printed megabytes of JSON lines into the terminal."""
    shown = on_terminal([executable(), "generate", "--traces", "50"], stream="stdout", cwd=tmp_path)
    assert shown.returncode == 2, shown.other
    assert "-o FILE" in shown.other and "-o -" in shown.other
    assert "resourceSpans" not in shown.text
    # A pipe still gets the traces, as 'spanscope generate | spanscope analyze -' wants.
    piped = spanscope("generate", "--traces", "5")
    assert piped.returncode == 0, piped.stderr
    assert piped.stdout.startswith('{"resourceSpans"')


def test_generate_writes_protobuf_to_a_pb_file(tmp_path: Path) -> None:
    """As convert reads an output's name: 'generate -o shop.pb' wrote JSON lines into it."""
    output = tmp_path / "shop.pb"
    made = CliRunner().invoke(main, ["generate", "--traces", "5", "-o", str(output)])
    assert made.exit_code == 0, made.output
    assert "(otlp-proto)" in made.output
    info = json.loads(CliRunner().invoke(main, ["info", "--json", str(output)]).output)
    assert info["inputs"][0]["format"] == "otlp-proto"
    named = tmp_path / "shop.json"
    CliRunner().invoke(main, ["generate", "--traces", "5", "-o", str(named)])
    assert json.loads(named.read_text().splitlines()[0])["resourceSpans"]  # JSON lines
