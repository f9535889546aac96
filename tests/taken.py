"""Which way a command went: ``record_taken`` wraps a function that declines work by returning
None (``sharded.analyze_files``, ``split.analyze_split``) and records, for each call, whether it
took the work: a result, or an input error raised while doing it (``--strict`` stopping at a
bad input). Tests that an answer is the same either way use it to know the fast path ran at
all."""

from __future__ import annotations

from types import ModuleType

import pytest

from spanscope.cli.reading import InputFailure


def record_taken(monkeypatch: pytest.MonkeyPatch, module: ModuleType, name: str) -> list[bool]:
    """Replace ``module.name`` with a recorder of it for the test; the list it fills."""
    calls: list[bool] = []
    original = getattr(module, name)

    def recorded(*args, **kwargs):
        try:
            result = original(*args, **kwargs)
        except InputFailure:  # the path read the inputs, and one failed
            calls.append(True)
            raise
        calls.append(result is not None)
        return result

    monkeypatch.setattr(module, name, recorded)
    return calls
