"""What a newcomer meets in the first hour with the command line: mistyped options, bad input
and the examples of ``--help``, run through the real console script (subprocess) on real
fixture files. Every command must answer with one clear line and a non-zero exit code, never a
traceback."""

from __future__ import annotations

import pytest

from ..conftest import FIXTURES
from .test_info_convert import spanscope

OTLP = FIXTURES / "jaeger/internal__storage__v2__memory__fixtures__otel_traces_01.json"

# Each reading command with the arguments it needs besides its input.
READERS = {
    "info": [],
    "analyze": [],
    "lint": [],
    "convert": ["-", "--to", "otlp-json"],
    "sample": ["-p", "all"],
    "view": ["-o", "-"],
    "flamegraph": ["-o", "-"],
    "servicemap": ["-o", "-"],
    "load": ["--to", "http://127.0.0.1:9"],
}


@pytest.mark.parametrize("command", [*READERS, "diff"])
def test_an_unknown_format_is_a_usage_error_listing_the_formats(command: str) -> None:
    inputs = [str(OTLP), str(OTLP)] if command == "diff" else [str(OTLP), *READERS[command]]
    result = spanscope(command, *inputs, "--format", "otlp-protobuf")
    assert result.returncode == 2, result.stderr
    assert "'--format'" in result.stderr and "otlp-protobuf" in result.stderr
    assert "otlp-proto" in result.stderr and "zipkin-v1" in result.stderr


def test_a_known_format_alias_still_reads() -> None:
    result = spanscope("info", str(OTLP), "--format", "otlp", "--json")
    assert result.returncode == 0, result.stderr
    assert '"otlp-json"' in result.stdout
