#!/usr/bin/env bash
# Latency through the bus at a steady load (issue 20): the small scenario's reference files
# (parties, places, vehicles, consignments, custody, reports) published at full speed, then
# its 412,000 observations at a steady RATE records/s (default 20,000) while one worker
# applies them to the embedded store and runs incremental analysis whenever the queue drains
# (`--analyze`), and, in a second run, two workers write them to PostgreSQL. Prints each run's
# p50 and p99 from publish to stored, and (embedded run) from publish to the end of the
# analysis that included the batch.
# Usage: bench/bus_latency.sh   (RATE=20000; nats-server and PostgreSQL as for bench/bus.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q -p rastro-cli
R=$PWD/target/release/rastro
W=$(mktemp -d)
NATS_PID=""
trap '[ -n "$NATS_PID" ] && kill "$NATS_PID" 2>/dev/null; rm -rf "$W"' EXIT
RATE=${RATE:-20000}
PGURL=${RASTRO_TEST_PG:-postgres://rastro:rastro@127.0.0.1/rastro_test}
"$R" -q --db "$W/sim.db" simulate --seed 7 --out "$W/sim" > /dev/null
REF=()
for f in parties places vehicles consignments custody reports; do REF+=("$W/sim/$f.csv"); done
PORT=$(python3 -c "import socket; s=socket.socket(); s.bind(('127.0.0.1',0)); print(s.getsockname()[1])")
run() { # name, worker args...
  local name=$1; shift
  rm -rf "$W/js"
  nats-server -js -a 127.0.0.1 -p "$PORT" -sd "$W/js" > /dev/null 2>&1 &
  NATS_PID=$!
  for _ in $(seq 200); do (echo > "/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break; sleep 0.05; done
  "$R" -q publish --bus "nats://127.0.0.1:$PORT" "${REF[@]}" > /dev/null
  local pids=() i=0
  for share in "$@"; do
    # shellcheck disable=SC2086
    "$R" -q worker $share --json --bus "nats://127.0.0.1:$PORT" --until-idle 3 > "$W/$name-$i.json" &
    pids+=($!); i=$((i + 1))
  done
  "$R" -q publish --rate "$RATE" --bus "nats://127.0.0.1:$PORT" "$W/sim/observations.csv" > /dev/null
  for p in "${pids[@]}"; do wait "$p"; done
  python3 - "$name" "$W"/"$name"-*.json <<'PY'
import json, sys
name, files = sys.argv[1], sys.argv[2:]
rs = [json.load(open(f)) for f in files]
def worst(k):
    v = [r[k] for r in rs if r.get(k) is not None]
    return max(v) if v else None
print(f"{name}: {sum(r['records'] for r in rs)} records; publish->stored p50 {worst('stored_ms_p50')} ms, p99 {worst('stored_ms_p99')} ms; "
      f"publish->analysed p50 {worst('analysed_ms_p50')} ms, p99 {worst('analysed_ms_p99')} ms")
PY
  kill "$NATS_PID"; wait "$NATS_PID" 2>/dev/null || true; NATS_PID=""
}
echo "steady load: $RATE observations/s"
run embedded "--db $W/lat.db --share 0/1 --analyze"
psql "$PGURL" -qc "DROP SCHEMA IF EXISTS bench_lat CASCADE" 2>/dev/null
"$R" digest --store "$PGURL" --pg-schema bench_lat > /dev/null
run postgres "--store $PGURL --pg-schema bench_lat --share 0/2" "--store $PGURL --pg-schema bench_lat --share 1/2"
psql "$PGURL" -qc "DROP SCHEMA IF EXISTS bench_lat CASCADE" 2>/dev/null
echo "(the worst of the workers' percentiles; analysis runs only on the embedded store so far)"
