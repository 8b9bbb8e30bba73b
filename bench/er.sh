#!/usr/bin/env bash
# Entity resolution (issue 17): Rastro's `rastro resolve` and Splink 5 (DuckDB backend) with
# equivalent settings (bench/er.toml; bench/er_splink.py) on the same N-record data set
# (bench/er_data.py, Febrl-shaped, default 100,000). Prints each tool's pairwise and cluster F1
# and seconds (whole job: read, train, score, cluster), and the time ratio. RUNS runs of Rastro
# (median). With --million, instead: Rastro alone on 1,000,000 records (bench/er_1m.toml), wall
# time and peak memory.
# Usage: bench/er.sh [--million]   (N=100000 RUNS=3 by default)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q -p rastro-cli
R=$PWD/target/release/rastro
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
if [ "${1:-}" = "--million" ]; then
  python3 bench/er_data.py 1000000 "$W/data.csv"
  /usr/bin/time -f "rastro 1,000,000 records: %e s wall, %M KiB peak" \
    "$R" -q resolve --settings bench/er_1m.toml --input "$W/data.csv" --out "$W/pairs.csv" --clusters "$W/clusters.csv"
  exit 0
fi
N=${N:-100000}
python3 bench/er_data.py "$N" "$W/data.csv"
TIMES=()
for _ in $(seq "${RUNS:-3}"); do
  S=$(date +%s.%N)
  "$R" -q resolve --settings bench/er.toml --input "$W/data.csv" --out "$W/pairs.csv" --clusters "$W/clusters.csv" > /dev/null
  E=$(date +%s.%N)
  TIMES+=("$(echo "$E - $S" | bc -l)")
done
MED=$(printf '%s\n' "${TIMES[@]}" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
RJ=$(python3 bench/er_score.py "$W/data.csv" "$W/pairs.csv" "$W/clusters.csv" "$MED")
SJ=$(cd bench && python3 er_splink.py "$W/data.csv")
python3 - "$RJ" "$SJ" <<'PY'
import json, sys
r, s = json.loads(sys.argv[1]), json.loads(sys.argv[2])
for t in (r, s):
    print(f"{t['tool']:7} {t['records']} records: pairwise P {t['pairwise']['precision']:.4f} "
          f"R {t['pairwise']['recall']:.4f} F1 {t['pairwise']['f1']:.4f}; clusters F1 "
          f"{t['clusters']['f1']:.4f}; {t['seconds']:.2f} s")
print(f"ratio: Rastro is {s['seconds'] / r['seconds']:.1f}x faster than Splink")
PY
