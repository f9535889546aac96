"""Every example a user is shown parses: those under "Examples:" in each command's ``--help``
and the ``spanscope`` lines of the README's code blocks. Each is given to the real click
command (``make_context``: options exist, values convert, arguments are in place), without
running it, so an option renamed or removed fails here before a user copies the example."""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from pathlib import Path

import click
import pytest

from spanscope.cli import main

from .run import spanscope

README = Path(__file__).resolve().parents[2] / "README.md"


def commands(group: click.Group = main, path: tuple[str, ...] = ()) -> Iterator[tuple]:
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        assert command is not None, name
        if isinstance(command, click.Group):
            yield from commands(command, (*path, name))
        else:
            yield (*path, name), command


def help_examples(command: click.Command) -> list[str]:
    """The example command lines of a command's help, continuation lines joined."""
    _, found, rest = (command.help or "").partition("Examples:")
    assert found, "every command's help has examples"
    lines: list[str] = []
    for line in rest.splitlines():
        text = line.strip()
        if not text or text == "\b":
            if lines:
                break
            continue
        if lines and lines[-1].endswith("\\"):
            lines[-1] = lines[-1][:-1] + " " + text
        else:
            lines.append(text)
    return lines


def invocations(line: str) -> Iterator[list[str]]:
    """The ``spanscope`` commands of a shell line (between ``&&`` and pipes, up to a
    redirection), without the word ``spanscope``."""
    words = shlex.split(line, comments=True)
    segment: list[str] = []
    for word in [*words, "|"]:
        if word not in ("|", "&&"):
            segment.append(word)
            continue
        if ">" in segment:
            segment = segment[: segment.index(">")]
        if segment[:1] == ["spanscope"]:
            yield segment[1:]
        segment = []


def parse(words: list[str]) -> None:
    command: click.Command | None = main
    names = []
    while isinstance(command, click.Group) and words:
        names.append(words[0])
        command = command.get_command(click.Context(main), words.pop(0))
    assert command is not None and not isinstance(command, click.Group), names
    command.make_context(" ".join(names), list(words))


HELP_EXAMPLES = [
    pytest.param(line, id=f"{' '.join(path)}: {line}")
    for path, command in commands()
    for line in help_examples(command)
]


@pytest.mark.parametrize("line", HELP_EXAMPLES)
def test_help_example_parses(line: str) -> None:
    assert list(invocations(line)), line
    for words in invocations(line):
        parse(words)


def readme_lines() -> list[str]:
    blocks = re.findall(r"^```\n(.*?)^```", README.read_text(encoding="utf-8"), re.S | re.M)
    return [line for block in blocks for line in block.splitlines() if "spanscope " in line]


@pytest.mark.parametrize("line", readme_lines())
def test_readme_command_parses(line: str) -> None:
    assert list(invocations(line)), line  # a spanscope line with no command in it: say why
    for words in invocations(line):
        parse(words)


def test_examples_are_found():
    assert len(HELP_EXAMPLES) > 40 and len(readme_lines()) > 30


def test_readme_diff_output_is_what_its_commands_print(tmp_path):
    """The README's "what changed" sample is what the tour's shop and the diff section's
    commands print, run as written."""
    commands = [words for line in readme_lines() for words in invocations(line)]
    run = [
        next(words for words in commands if words[:1] == ["generate"] and words[-1] == output)
        for output in ("shop.jsonl", "next.jsonl")
    ]
    run.append(next(words for words in commands if words == ["diff", "shop.jsonl", "next.jsonl"]))
    for words in run:
        result = spanscope(*words, cwd=tmp_path, timeout=300)
        assert result.returncode == 0, (words, result.stderr)
    printed = result.stdout.split("what changed\n")[1].split("\n\n")[0]
    text = README.read_text(encoding="utf-8")
    shown = text.split("```\nwhat changed\n")[1].split("```")[0]
    assert " ".join(printed.split()) == " ".join(shown.split())
