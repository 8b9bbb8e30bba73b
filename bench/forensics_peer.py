"""scipy peer for bench/forensics.sh: every pair of casework profiles with the method and
threshold Rastro's calibration chose, counted with scipy.spatial.distance.cdist in blocks of
rows (pdist of 100,000 profiles would need 40 GB). Prints JSON: profiles, links, seconds.
Usage: python3 forensics_peer.py SAMPLES.csv PRETREATMENT DISTANCE THRESHOLD MIN_COMPOUNDS
"""

import csv
import json
import sys
import time

import numpy as np
from scipy.spatial.distance import cdist

METRIC = {"pearson": "correlation", "cosine": "cosine", "euclidean": "euclidean",
          "canberra": "canberra", "manhattan": "cityblock"}
BLOCK = 256


def main():
    path, pre, dist, thr, min_c = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4]), int(sys.argv[5])
    rows = []
    with open(path) as f:
        for r in csv.DictReader(f):
            if not r["seizure"]:
                continue
            v = np.zeros(30)
            for kv in r["areas"].split(";"):
                k, a = kv.split("=")
                v[int(k[1:])] = float(a)
            if np.count_nonzero(v) >= min_c:
                rows.append(v)
    x = np.array(rows)
    t0 = time.perf_counter()
    s = x.sum(axis=1, keepdims=True)
    x = {"none": x, "sum": x / s, "sum_root4": (x / s) ** 0.25,
         "sum_log": np.log10(1.0 + 1000.0 * x / s)}[pre]
    n, links = len(x), 0
    for i0 in range(0, n, BLOCK):
        d = cdist(x[i0:i0 + BLOCK], x[i0:], METRIC[dist])
        # Only pairs (i, j) with j > i: the block's own lower triangle and diagonal are masked.
        d[np.tril_indices(d.shape[0], 0, d.shape[1])] = np.nan
        if dist == "pearson":
            links += int(np.count_nonzero(1.0 - d > thr))
        else:
            links += int(np.count_nonzero(d < thr))
    print(json.dumps({"tool": "scipy", "profiles": n, "links": links,
                      "seconds": time.perf_counter() - t0}))


if __name__ == "__main__":
    main()
