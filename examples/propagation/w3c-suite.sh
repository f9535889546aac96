#!/usr/bin/env bash
# Run the official W3C trace-context test suite against spanscope's echo probe, Level 1 and 2.
# Needs git, python3 and network access to GitHub and PyPI; everything goes to a temp dir.
set -euo pipefail
# From a checkout without the virtualenv on PATH, the repository's own spanscope.
if ! command -v spanscope >/dev/null; then
  PATH="$(cd "$(dirname "$0")/../.." && pwd)/.venv/bin:$PATH"
fi
work=$(mktemp -d)
port=${PORT:-5000}
git clone --quiet --depth 1 https://github.com/w3c/trace-context "$work/trace-context"
python3 -m venv "$work/venv" && "$work/venv/bin/pip" install --quiet aiohttp
spanscope propagation echo --port "$port" --service w3c-under-test &
probe=$!
trap 'kill $probe' EXIT
# The probe answers before the suite starts (a fixed second lost the race on a busy machine).
for _ in $(seq 100); do
  python3 -c "import socket,sys; socket.create_connection(('127.0.0.1', int(sys.argv[1])), 0.2)" \
    "$port" 2>/dev/null && break
  sleep 0.1
done
cd "$work/trace-context/test"
for level in 1 2; do
  echo "== Trace Context Level $level"
  SPEC_LEVEL=$level STRICT_LEVEL=2 "$work/venv/bin/python" test.py "http://127.0.0.1:$port/test"
done
