"""Reference pretreatments and distances for the forensics test: numpy and scipy on the same
raw profiles the Rust side used. Reads JSON on stdin, prints JSON on stdout."""
import json
import sys

import numpy as np
from scipy.spatial import distance
from scipy.stats import pearsonr


def pretreat(name, x):
    x = np.asarray(x, dtype=float)
    s = x.sum()
    if name == "none":
        return x
    if name == "sum":
        return x / s
    if name == "sum_root4":
        return (x / s) ** 0.25
    if name == "sum_log":
        return np.log10(1.0 + 1000.0 * x / s)
    raise ValueError(name)


def raw(name, u, v):
    if name == "pearson":
        return float(pearsonr(u, v).statistic)
    if name == "cosine":
        return float(distance.cosine(u, v))
    if name == "euclidean":
        return float(distance.euclidean(u, v))
    if name == "canberra":
        return float(distance.canberra(u, v))
    if name == "manhattan":
        return float(distance.cityblock(u, v))
    raise ValueError(name)


job = json.load(sys.stdin)
out = []
for case in job:
    u = pretreat(case["pretreatment"], case["u"])
    v = pretreat(case["pretreatment"], case["v"])
    out.append({"u": u.tolist(), "v": v.tolist(), "value": raw(case["distance"], u, v)})
json.dump(out, sys.stdout)
