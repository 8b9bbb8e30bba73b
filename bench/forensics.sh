#!/usr/bin/env bash
# Forensic linkage (issue 18): all pairs of N impurity profiles × 30 compounds (default
# 100,000: 5·10⁹ pairs), Rastro's `rastro forensics link` against scipy's cdist on the same
# pretreated profiles with the method and threshold Rastro's calibration chose. Data from
# bench/forensics_data.py (a model of its own, not the simulator's); configuration
# bench/forensics.toml. Prints both link counts (they must agree), each tool's seconds
# (Rastro: the whole command, read + calibrate + link + group, median of RUNS; scipy: the
# comparison alone, one run) and the ratio.
# Usage: bench/forensics.sh   (N=100000 RUNS=3 by default)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q -p rastro-cli
R=$PWD/target/release/rastro
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
N=${N:-100000}
python3 bench/forensics_data.py "$N" "$W/samples.csv"
"$R" -q forensics calibrate --profiles "$W/samples.csv" --config bench/forensics.toml --json > "$W/cal.json"
TIMES=()
for _ in $(seq "${RUNS:-3}"); do
  S=$(date +%s.%N)
  "$R" forensics link --profiles "$W/samples.csv" --config bench/forensics.toml --out "$W/links.csv" --limit 0 2> "$W/err.txt" > /dev/null
  E=$(date +%s.%N)
  TIMES+=("$(echo "$E - $S" | bc -l)")
done
grep "samples compared" "$W/err.txt" >&2 || cat "$W/err.txt" >&2
MED=$(printf '%s\n' "${TIMES[@]}" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
RL=$(($(wc -l < "$W/links.csv") - 1))
read -r PRE DIST THR < <(python3 -c "import json; c = json.load(open('$W/cal.json')); print(c['pretreatment'], c['distance'], repr(c['threshold']))")
SJ=$(python3 bench/forensics_peer.py "$W/samples.csv" "$PRE" "$DIST" "$THR" 5)
python3 - "$N" "$PRE" "$DIST" "$THR" "$RL" "$MED" "$SJ" <<'PY'
import json, sys
n, pre, dist, thr, rl, med, s = sys.argv[1:8]
s = json.loads(s)
print(f"{n} profiles x 30 compounds, method {pre} + {dist}, threshold {float(thr):.6g}")
print(f"rastro {int(rl)} links, {float(med):.2f} s (whole command, median)")
print(f"scipy  {s['links']} links, {s['seconds']:.2f} s (cdist in blocks, comparison only)")
print(f"links agree: {int(rl) == s['links']}; ratio: Rastro is {s['seconds'] / float(med):.1f}x faster than scipy")
PY
