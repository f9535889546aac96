#!/usr/bin/env bash
# Three echo probes chained gateway -> orders -> payments, tested in every format; then the
# same chain with orders not propagating, to show how a broken hop is reported.
set -uo pipefail
# From a checkout without the virtualenv on PATH, the repository's own spanscope.
if ! command -v spanscope >/dev/null; then
  PATH="$(cd "$(dirname "$0")/../.." && pwd)/.venv/bin:$PATH"
fi
# Each probe answers before the test starts (a fixed sleep lost the race on a busy machine).
ready() {
  for _ in $(seq 100); do
    python3 -c "import socket,sys; socket.create_connection(('127.0.0.1', int(sys.argv[1])), 0.2)" \
      "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "port $1: no probe answered in 10 s" >&2
  return 1
}
spanscope propagation echo --port 8003 --service payments &
p3=$!
spanscope propagation echo --port 8002 --service orders --forward http://127.0.0.1:8003/pay &
p2=$!
spanscope propagation echo --port 8001 --service gateway --forward http://127.0.0.1:8002/orders &
p1=$!
trap 'kill $p1 $p2 $p3 2>/dev/null' EXIT
ready 8003 && ready 8002 && ready 8001 || exit 1
spanscope propagation test --url http://127.0.0.1:8001/checkout --format all --hops 3 \
  --expect-services gateway,orders,payments
kill $p2 && wait $p2 2>/dev/null
spanscope propagation echo --port 8002 --service orders --forward http://127.0.0.1:8003/pay \
  --no-propagate &
p2=$!
ready 8002 || exit 1
spanscope propagation test --url http://127.0.0.1:8001/checkout --format w3c --hops 3
echo "exit code $? (1: a hop broke the context)"
