#!/usr/bin/env bash
# Operations board benchmark (issue 15): time from the click on the Operations tab to the
# board drawn with every operation the user may see, in headless Chromium, as the demo's host
# commander, on a demo database (medium scenario: `rastro demo --scale medium` runs 15
# operations). RUNS page loads; prints each and the median.
# Usage: bench/ops-ui.sh DB DEMO_DIR  (DEMO_DIR holds the demo's tokens.txt)
set -euo pipefail
cd "$(dirname "$0")/.."
DB=${1:?usage: bench/ops-ui.sh DB DEMO_DIR}
DIR=${2:?usage: bench/ops-ui.sh DB DEMO_DIR}
cargo build --release -q -p rastro-cli
R=$PWD/target/release/rastro
PORT=${PORT:-18199}
"$R" --db "$DB" serve --addr "127.0.0.1:$PORT" > /dev/null 2>&1 &
PID=$!
trap 'kill -TERM $PID 2>/dev/null; wait $PID 2>/dev/null' EXIT
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$PORT/api/v1/health" > /dev/null && break; sleep 0.1; done
TOKENS=$(realpath "$DIR/tokens.txt")
(cd web && VIEW=operations USER_NAME=comandante RUNS=${RUNS:-5} node tests/first-render.mjs "http://127.0.0.1:$PORT" "$TOKENS")
