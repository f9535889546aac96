"""Shared test helpers: where the third-party fixtures are (see tests/fixtures/INDEX.md)."""

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
