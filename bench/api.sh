#!/usr/bin/env bash
# HTTP API load benchmark (issue 5): GET /api/v1/alerts (default page, 100 alerts) as a
# host-nation analyst on the medium scenario, with wrk on loopback: 64 connections, 2 threads,
# RUNS runs of SECONDS each, bounded in time. Prints requests/s and p99 per run and their
# medians. Usage: [RASTRO_BIN=path] bench/api.sh [DB]  (without DB, builds the medium scenario first: ~5 min).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }
OUT=bench/out
mkdir -p "$OUT"
# RASTRO_BIN runs another build (an A/B against an earlier commit) instead of building this one.
if [ -z "${RASTRO_BIN:-}" ]; then
  cargo build --release -q -p rastro-cli
fi
R=${RASTRO_BIN:-$PWD/target/release/rastro}
DB=${1:-$OUT/api-medium.db}
RUNS=${RUNS:-3}
SECONDS_PER_RUN=${SECONDS_PER_RUN:-10}
if [ ! -f "$DB" ]; then
  rm -rf "$OUT/api-medium"
  "$R" --db "$DB" -q demo --no-serve --scale medium --dir "$OUT/api-medium" > /dev/null
fi
export RASTRO_DB=$DB
# A host-nation analyst of an organisation the demo registered (so its view was analysed).
NAME=bench-$$
TOKEN=$("$R" user add "$NAME" --org SEMAR --role analyst 2>/dev/null)
PORT=${PORT:-18199}
"$R" serve --addr "127.0.0.1:$PORT" > "$OUT/api-serve.log" 2>&1 &
PID=$!
trap 'kill -TERM $PID 2>/dev/null; wait $PID 2>/dev/null; "$R" user revoke "$NAME" > /dev/null' EXIT
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$PORT/api/v1/openapi.json" > /dev/null && break; sleep 0.1; done
BYTES=$(curl -sf -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT/api/v1/alerts" | wc -c)
N=$(curl -sf -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT/api/v1/alerts" | grep -o '"typology"' | wc -l)
echo "reply: $BYTES bytes ($N alerts)"
[ "$N" -gt 0 ] || { echo "the benchmark user sees no alerts: nothing to measure" >&2; exit 1; }
for i in $(seq "$RUNS"); do
  wrk -t2 -c64 -d"${SECONDS_PER_RUN}s" --latency -H "Authorization: Bearer $TOKEN" \
    "http://127.0.0.1:$PORT/api/v1/alerts" > "$OUT/api-wrk-$i.txt"
  rps=$(awk '/Requests\/sec/ {print $2}' "$OUT/api-wrk-$i.txt")
  p99=$(awk '$1 == "99%" {print $2}' "$OUT/api-wrk-$i.txt")
  errs=$(awk '/Non-2xx/ {print $5}' "$OUT/api-wrk-$i.txt")
  echo "run $i: ${rps} requests/s, p99 ${p99}${errs:+, non-2xx $errs}"
done
awk '/Requests\/sec/ {print $2}' "$OUT"/api-wrk-*.txt | sort -n | awk '{a[NR]=$1} END {print "median requests/s: " a[int((NR+1)/2)]}'
awk '$1 == "99%" {v=$2; if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /us$/) {sub(/us/,"",v); v=v/1000} else if (v ~ /s$/) {sub(/s/,"",v); v=v*1000}; print v}' "$OUT"/api-wrk-*.txt | sort -n | awk '{a[NR]=$1} END {print "median p99: " a[int((NR+1)/2)] " ms"}'
