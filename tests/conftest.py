"""Shared test helpers: where the third-party fixtures are (see tests/fixtures/INDEX.md), and
the store whose search runs for many seconds (``tests.store.slow_store``), built once for the
tests of several packages that stop such a search."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

# Shared, noisy 2-core machines: no per-example deadline (timing is measured in benchmarks/,
# not in tests). On CI the examples are derandomized so a run is reproducible; locally each run
# explores new examples.
settings.register_profile("default", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile(
    "ci", deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)
settings.load_profile("ci" if os.environ.get("CI") else "default")

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    return FIXTURES


@pytest.fixture(scope="session")
def slow_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store whose tag search takes 15 s and more (``tests.store.slow_store``), built once
    (2 s) per test process. Read it as it is; a test that writes (a server) uses a copy
    (``tests.store.slow_store.copied``)."""
    from tests.store.slow_store import build_slow_store

    return build_slow_store(tmp_path_factory.mktemp("slow") / "slow.duckdb")
