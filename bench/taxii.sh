#!/usr/bin/env bash
# TAXII 2.1 GET-objects throughput (issue 16): the same 10,000 STIX objects served by Rastro
# (`rastro serve`, posted to a partner's inbox in one envelope) and by OASIS's reference server
# medallion (PyPI, memory backend), paged through in full by the same Python client with the
# same page size; RUNS passes each; prints the median objects per second of each and the ratio.
# Also times `rastro share export` of a 10,000-object publication.
# Usage: bench/taxii.sh  (PAGE=100 RUNS=5 MEDALLION_RUNS=1 by default)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q -p rastro-cli
R=$PWD/target/release/rastro
W=$(mktemp -d)
RP=${RP:-18301}
MP=${MP:-18302}
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done; rm -rf "$W"' EXIT
DB=$W/n.db
for o in "SEMAR MX navy" "DEA US foreign_liaison"; do
  set -- $o
  "$R" --db "$DB" -q org add "$1" --name "$1" --nation "$2" --kind "$3"
done
TOKEN=$("$R" --db "$DB" -q user add agente --org DEA --role analyst | grep '^rst_')
python3 bench/taxii_bench.py make "$W" 10000
"$R" --db "$DB" serve --addr "127.0.0.1:$RP" > /dev/null 2>&1 &
PIDS+=($!)
(cd "$W" && python3 -m medallion.scripts.run --host 127.0.0.1 --port "$MP" medallion.json > /dev/null 2>&1) &
PIDS+=($!)
for _ in $(seq 100); do curl -s "http://127.0.0.1:$RP/taxii2/" > /dev/null && curl -s "http://127.0.0.1:$MP/" > /dev/null && break; sleep 0.1; done
python3 bench/taxii_bench.py run "$W" "http://127.0.0.1:$RP" "$TOKEN" "http://127.0.0.1:$MP" "${PAGE:-100}" "${RUNS:-5}" "${MEDALLION_RUNS:-1}"
