#!/usr/bin/env bash
# Run the official W3C trace-context test suite against spanscope's echo probe, Level 1 and 2.
# Needs git, python3 and network access to GitHub and PyPI; everything goes to a temp dir.
set -euo pipefail
work=$(mktemp -d)
port=${PORT:-5000}
git clone --quiet --depth 1 https://github.com/w3c/trace-context "$work/trace-context"
python3 -m venv "$work/venv" && "$work/venv/bin/pip" install --quiet aiohttp
spanscope propagation echo --port "$port" --service w3c-under-test &
probe=$!
trap 'kill $probe' EXIT
sleep 1
cd "$work/trace-context/test"
for level in 1 2; do
  echo "== Trace Context Level $level"
  SPEC_LEVEL=$level STRICT_LEVEL=2 "$work/venv/bin/python" test.py "http://127.0.0.1:$port/test"
done
