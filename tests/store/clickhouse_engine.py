"""One embedded ClickHouse (chDB) per test process, a fresh database per store.

chDB runs one data folder per process, so every ClickHouse store of a test process lives in the
same folder, each in its own database. Tests are skipped, saying why, where chDB is missing.
"""

from __future__ import annotations

import itertools
import os
import tempfile

import pytest

chdb = pytest.importorskip("chdb", reason="chdb (embedded ClickHouse) is not installed")

_FOLDER = tempfile.mkdtemp(prefix=f"spanscope-chdb-{os.getpid()}-")
_numbers = itertools.count()


def clickhouse_url(database: str | None = None) -> str:
    return f"chdb:{_FOLDER}?database={database or f'test_{next(_numbers)}'}"
