#!/usr/bin/env bash
# Gi* benchmark (issue 7): `rastro hotspots` against esda G_Local + libpysal DistanceBand on the
# same POINTS points (default 100,000) in one run, and rastro alone on 1,000,000 points.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=bench/out
mkdir -p "$OUT"
cargo build --release -q -p rastro-cli
R=target/release/rastro
gen() { python3 -c "
import random, sys
r = random.Random(5); n = int(sys.argv[1]); side = (n / 10) ** 0.5 * 10
print('x,y,value')
for _ in range(n):
    x, y = r.random() * side, r.random() * side
    print(f'{x:.3f},{y:.3f},{r.random() * 5 + (8 if x < side / 4 and y < side / 4 else 0):.3f}')
" "$1" > "$2"; }
N=${1:-100000}
gen "$N" "$OUT/hot-$N.csv"
gen 1000000 "$OUT/hot-1m.csv"
t0=$(date +%s.%N); $R hotspots --input "$OUT/hot-$N.csv" --distance-band 18 --star --transform R --json > "$OUT/hot-rastro.json"; t1=$(date +%s.%N)
python3 tests/oracles/esda_glocal.py "$OUT/hot-$N.csv" 18 1 R > "$OUT/hot-esda.json"; t2=$(date +%s.%N)
t3=$(date +%s.%N); $R hotspots --input "$OUT/hot-1m.csv" --distance-band 18 --star --transform R --json > /dev/null; t4=$(date +%s.%N)
awk -v a="$t0" -v b="$t1" -v c="$t2" -v d="$t3" -v e="$t4" -v n="$N" 'BEGIN {
  printf "points: %d\nrastro hotspots: %.2f s\nesda (DistanceBand + G_Local, incl. Python start-up): %.2f s\nratio: %.0fx\nrastro hotspots, 1,000,000 points: %.2f s\n", n, b - a, c - b, (c - b) / (b - a), e - d }'
