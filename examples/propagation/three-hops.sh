#!/usr/bin/env bash
# Three echo probes chained gateway -> orders -> payments, tested in every format; then the
# same chain with orders not propagating, to show how a broken hop is reported.
set -uo pipefail
spanscope propagation echo --port 8003 --service payments &
p3=$!
spanscope propagation echo --port 8002 --service orders --forward http://127.0.0.1:8003/pay &
p2=$!
spanscope propagation echo --port 8001 --service gateway --forward http://127.0.0.1:8002/orders &
p1=$!
trap 'kill $p1 $p2 $p3 2>/dev/null' EXIT
sleep 1
spanscope propagation test --url http://127.0.0.1:8001/checkout --format all --hops 3 \
  --expect-services gateway,orders,payments
kill $p2 && wait $p2 2>/dev/null
spanscope propagation echo --port 8002 --service orders --forward http://127.0.0.1:8003/pay \
  --no-propagate &
p2=$!
sleep 1
spanscope propagation test --url http://127.0.0.1:8001/checkout --format w3c --hops 3
echo "exit code $? (1: a hop broke the context)"
