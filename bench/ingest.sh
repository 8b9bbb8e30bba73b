#!/usr/bin/env bash
# Ingest benchmark (issue 2): ROWS observation rows from CSV into Rastro's store, against the
# physical baseline, Debian's sqlite3 `.import` of the same CSV into an equivalent table with
# the same indexes, in the same run. Prints medians of RUNS runs, the ratio and peak memory.
# Usage: bench/ingest.sh [ROWS] [RUNS] [SQLITE_RUNS]     (defaults: 10000000 3 RUNS)
# sqlite3 takes minutes per run on 10 M rows; SQLITE_RUNS=1 keeps the whole bench short.
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS=${1:-10000000}
RUNS=${2:-3}
SQLITE_RUNS=${3:-$RUNS}
OUT=bench/out
mkdir -p "$OUT"
cargo build --release -q -p rastro-cli
R=target/release/rastro
command -v sqlite3 >/dev/null || { echo "sqlite3 missing: apt-get install sqlite3" >&2; exit 1; }

# Data: the simulator's medium scenario has about 12.4 million observations; take ROWS of them.
if [ ! -f "$OUT/obs-$ROWS.csv" ]; then
    [ -f "$OUT/medium/observations.csv" ] || $R -q simulate --out "$OUT/medium" --scale medium >/dev/null
    head -n $((ROWS + 1)) "$OUT/medium/observations.csv" > "$OUT/obs-$ROWS.csv"
fi
N=$(($(wc -l < "$OUT/obs-$ROWS.csv") - 1))

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

rastro_s=(); rastro_kb=()
for i in $(seq "$RUNS"); do
    rm -f "$OUT/r.db" "$OUT/r.db-wal" "$OUT/r.db-shm"
    /usr/bin/time -f "%e %M" -o "$OUT/time.txt" $R --db "$OUT/r.db" -q ingest "$OUT/obs-$ROWS.csv" >/dev/null
    read -r s kb < "$OUT/time.txt"; rastro_s+=("$s"); rastro_kb+=("$kb")
    echo "rastro run $i: $s s, peak $((kb / 1024)) MiB" >&2
done

sqlite_s=()
for i in $(seq "$SQLITE_RUNS"); do
    rm -f "$OUT/s.db" "$OUT/s.db-wal" "$OUT/s.db-shm"
    # The same columns, the same keyed uniqueness on id, the same subject/time index; the CSV
    # has no H3 column, so the spatial index is on (lat, lon).
    sqlite3 "$OUT/s.db" "PRAGMA journal_mode=WAL; PRAGMA page_size=16384;
        CREATE TABLE observation(id TEXT NOT NULL UNIQUE, originator TEXT, tlp TEXT, releasable_to TEXT, source TEXT, subject_kind TEXT, subject TEXT, time TEXT, lat REAL, lon REAL, accuracy_m REAL, confidence REAL);
        CREATE INDEX observation_subject_time ON observation(subject, time);
        CREATE INDEX observation_ll ON observation(lat, lon);" >/dev/null
    /usr/bin/time -f "%e %M" -o "$OUT/time.txt" sqlite3 "$OUT/s.db" ".import --csv --skip 1 $OUT/obs-$ROWS.csv observation"
    read -r s kb < "$OUT/time.txt"; sqlite_s+=("$s")
    echo "sqlite3 run $i: $s s" >&2
done

rs=$(printf '%s\n' "${rastro_s[@]}" | median)
ss=$(printf '%s\n' "${sqlite_s[@]}" | median)
kb=$(printf '%s\n' "${rastro_kb[@]}" | sort -g | tail -1)
echo "rows: $N"
echo "rastro ingest: median $rs s = $(awk -v n="$N" -v s="$rs" 'BEGIN {printf "%.0f", n / s}') rows/s, peak RSS $((kb / 1024)) MiB"
echo "sqlite3 .import: median $ss s = $(awk -v n="$N" -v s="$ss" 'BEGIN {printf "%.0f", n / s}') rows/s"
echo "ratio rastro/sqlite3 throughput: $(awk -v a="$rs" -v b="$ss" 'BEGIN {printf "%.2f", b / a}')"
