"""Pairwise precision, recall and F1 of predicted pairs and of clusters, from the truth the ids
carry (rec-N-org / rec-N-dup-K: N names the entity). One scorer for Rastro and Splink.

usage (Rastro's files): er_score.py DATA.csv PAIRS.csv CLUSTERS.csv SECONDS
"""
import csv
import json
import re
import sys
from collections import Counter

ENTITY = re.compile(r"^rec-(\d+)-")


def entity(i):
    m = ENTITY.match(i)
    return m.group(1) if m else i


def f1(tp, pred, true):
    p = tp / pred if pred else 1.0
    r = tp / true if true else 1.0
    return {"precision": p, "recall": r, "f1": 2 * p * r / (p + r) if p + r else 0.0}


def score(ids, pairs, labels):
    per = Counter(entity(i) for i in ids)
    true = sum(n * (n - 1) // 2 for n in per.values())
    seen = set()
    tp = 0
    for a, b in pairs:
        k = (a, b) if a < b else (b, a)
        if k in seen:
            continue
        seen.add(k)
        tp += entity(a) == entity(b)
    by_cluster = {}
    for i in ids:
        by_cluster.setdefault(labels.get(i, i), []).append(entity(i))
    cpred = sum(len(m) * (len(m) - 1) // 2 for m in by_cluster.values())
    ctp = sum(n * (n - 1) // 2 for m in by_cluster.values() for n in Counter(m).values())
    return {"records": len(ids), "true_pairs": true, "pairs": len(seen),
            "pairwise": f1(tp, len(seen), true), "clusters": f1(ctp, cpred, true)}


def main():
    data, pairs_f, clusters_f, seconds = sys.argv[1:5]
    with open(data) as f:
        ids = [r["rec_id"].strip() for r in csv.DictReader(f, skipinitialspace=True)]
    with open(pairs_f) as f:
        pairs = [(r["id_l"], r["id_r"]) for r in csv.DictReader(f)]
    with open(clusters_f) as f:
        labels = {r["id"]: r["cluster_id"] for r in csv.DictReader(f)}
    out = {"tool": "rastro", "seconds": float(seconds)}
    out.update(score(ids, pairs, labels))
    print(json.dumps(out))


if __name__ == "__main__":
    main()
