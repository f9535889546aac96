"""Run the benchmarks: `python -m benchmarks` runs all, `python -m benchmarks formats` one."""

from __future__ import annotations

import importlib
import sys

SUITES = ("formats", "analyze", "crisp", "ingest", "query", "waterfall")


def main(argv: list[str]) -> None:
    for name in argv or SUITES:
        print(f"== {name}", flush=True)
        importlib.import_module(f"benchmarks.bench_{name}").main()


if __name__ == "__main__":
    main(sys.argv[1:])
