#!/usr/bin/env bash
# Stop detection benchmark (issue 4): `rastro stops` against MovingPandas'
# TrajectoryStopDetector on the same POINTS-point input, in one run; prints both times, the
# ratio and the number of stops each found.   Usage: bench/stops.sh [POINTS]  (default 1000000)
set -euo pipefail
cd "$(dirname "$0")/.."
POINTS=${1:-1000000}
OUT=bench/out
mkdir -p "$OUT"
cargo build --release -q -p rastro-cli
python3 bench/gen_tracks.py "$OUT/tracks-$POINTS.csv" "$POINTS"
t0=$(date +%s.%N)
target/release/rastro stops --input "$OUT/tracks-$POINTS.csv" --x-col x --y-col y --max-diameter 50 --min-duration 300 --json > "$OUT/rastro-stops.json"
t1=$(date +%s.%N)
python3 tests/oracles/movingpandas_stops.py "$OUT/tracks-$POINTS.csv" 50 300 > "$OUT/mp-stops.json"
t2=$(date +%s.%N)
python3 - "$OUT" "$t0" "$t1" "$t2" "$POINTS" <<'PY'
import json, sys
out, t0, t1, t2, n = sys.argv[1], *map(float, sys.argv[2:5]), sys.argv[5]
r = json.load(open(f"{out}/rastro-stops.json")); m = json.load(open(f"{out}/mp-stops.json"))
print(f"points: {n}")
print(f"rastro stops: {t1 - t0:.2f} s, {len(r)} stops")
print(f"movingpandas: {t2 - t1:.2f} s, {len(m)} stops")
print(f"ratio: {(t2 - t1) / (t1 - t0):.0f}x; identical stops: {sorted((s['id'], s['start']) for s in r) == sorted((s['id'], __import__('datetime').datetime.fromtimestamp(s['start_s'], __import__('datetime').timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')) for s in m)}")
PY
