#!/usr/bin/env bash
# UI benchmark (issue 8): time from navigation to the map's first complete render (country
# outlines, ports, every alert and lead the user may see) in headless Chromium, as the
# host-nation analyst, on the medium scenario. RUNS page loads; prints each and the median.
# Usage: bench/ui.sh [DB]  (without it, builds the medium scenario first: ~5 min).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=bench/out
mkdir -p "$OUT"
cargo build --release -q -p rastro-cli
R=$PWD/target/release/rastro
DB=${1:-$OUT/ui-medium.db}
if [ ! -f "$DB" ]; then
  rm -rf "$OUT/ui-medium"
  "$R" --db "$DB" -q demo --no-serve --scale medium --dir "$OUT/ui-medium" > /dev/null
fi
export RASTRO_DB=$DB
"$R" org list | grep -q '^BENCH ' || "$R" org add BENCH --name "Benchmark analyst's agency (synthetic)" --nation MX --kind police > /dev/null
NAME=bench-ui-$$
echo "analista $("$R" user add "$NAME" --org BENCH --role analyst 2>/dev/null)" > "$OUT/ui-token.txt"
PORT=${PORT:-18198}
"$R" --db "$DB" serve --addr "127.0.0.1:$PORT" > "$OUT/ui-serve.log" 2>&1 &
PID=$!
trap 'kill -TERM $PID 2>/dev/null; wait $PID 2>/dev/null; "$R" user revoke "$NAME" > /dev/null; rm -f "$OUT/ui-token.txt"' EXIT
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$PORT/api/v1/health" > /dev/null && break; sleep 0.1; done
TOKENS=$(realpath "$OUT/ui-token.txt")
(cd web && RUNS=${RUNS:-5} node tests/first-render.mjs "http://127.0.0.1:$PORT" "$TOKENS")
