#!/usr/bin/env bash
# Simulator and demo benchmarks (issue 3): observations written per second at medium scale
# (median of 3), `rastro demo --no-serve` at small scale (median of 3, warm build) and medium
# scale (one run).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=bench/out
mkdir -p "$OUT"
cargo build --release -q -p rastro-cli
R=target/release/rastro
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
times=()
for i in 1 2 3; do
    rm -rf "$OUT/sim-medium"
    t0=$(date +%s.%N); $R -q simulate --out "$OUT/sim-medium" --scale medium --json > "$OUT/sim-summary.json"; t1=$(date +%s.%N)
    times+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN {print b - a}')")
done
obs=$(python3 -c "import json; print(json.load(open('$OUT/sim-summary.json'))['observations'])")
s=$(printf '%s\n' "${times[@]}" | median)
echo "simulate medium: $obs observations, median $s s = $(awk -v n="$obs" -v s="$s" 'BEGIN {printf "%.0f", n / s}') observations/s"
dtimes=()
for i in 1 2 3; do
    t0=$(date +%s.%N); $R -q demo --no-serve --dir "$OUT/demo-small" > "$OUT/demo-small.txt"; t1=$(date +%s.%N)
    dtimes+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN {print b - a}')")
done
echo "demo --no-serve small: median $(printf '%s\n' "${dtimes[@]}" | median) s"
t0=$(date +%s.%N); $R -q demo --no-serve --scale medium --dir "$OUT/demo-medium" > "$OUT/demo-medium.txt"; t1=$(date +%s.%N)
echo "demo --no-serve medium: $(awk -v a="$t0" -v b="$t1" 'BEGIN {print b - a}') s"
cat "$OUT/demo-medium.txt"
