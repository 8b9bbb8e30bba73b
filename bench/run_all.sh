#!/usr/bin/env bash
# Runs every script benchmark in sequence and writes their output to bench/out/*.txt.
# (Kernel benchmarks: `cargo bench -p rastro-detect --bench kernel` and
# `cargo bench -p rastro-store --bench audit`.)
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p bench/out
cargo build --release -q -p rastro-cli
bash bench/stops.sh 1000000 > bench/out/stops.txt 2>&1
bash bench/simulate.sh > bench/out/simulate.txt 2>&1
bash bench/ingest.sh 10000000 3 > bench/out/ingest.txt 2> bench/out/ingest.err
bash bench/forensics.sh > bench/out/forensics.txt 2>&1
