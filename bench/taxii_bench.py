"""Helper of bench/taxii.sh: `make DIR N` writes N indicators (DEA's, AMBER, releasable to MX)
as a TAXII envelope and as medallion's memory-backend data; `run DIR RASTRO TOKEN MEDALLION
PAGE RUNS` posts the envelope to Rastro, then pages through both servers' collection in full
RUNS times with one keep-alive session each and prints objects per second and the ratio."""
import json
import re
import statistics
import sys
import time
import uuid

import requests

TAXII = "application/taxii+json;version=2.1"
AMBER = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"
NS = uuid.UUID("6f1c2e0a-3b7d-5e84-9a2c-1d0e4f5a6b7c")
MCID = "5c0e5a1e-3d1c-4b6e-9f0a-7c2d9e8b1a40"


def make(d, n):
    objs = []
    for i in range(n):
        objs.append({
            "type": "indicator", "spec_version": "2.1",
            "id": f"indicator--{uuid.uuid5(NS, str(i))}",
            "created": "2026-11-01T00:00:00.000Z", "modified": "2026-11-01T00:00:00.000Z",
            "name": f"broker phone {i}", "pattern": f"[x-rastro-sighting:subject = 'SYN-TRUCK-{i}']",
            "pattern_type": "stix", "valid_from": "2026-11-01T00:00:00Z",
            "object_marking_refs": [AMBER],
        })
    json.dump({"objects": objs}, open(f"{d}/envelope.json", "w"))
    stamp = "2026-12-01T00:00:00.000000Z"
    man = [{"id": o["id"], "date_added": stamp, "version": o["modified"],
            "media_type": "application/stix+json;version=2.1"} for o in objs]
    data = {
        "/discovery": {"title": "m", "api_roots": ["http://localhost:5000/b/"]},
        "b": {"information": {"title": "b", "versions": [TAXII], "max_content_length": 10**9},
              "status": [],
              "collections": [{"id": MCID, "title": "b", "can_read": True, "can_write": False,
                               "media_types": ["application/stix+json;version=2.1"],
                               "objects": objs, "manifest": man}]},
    }
    json.dump(data, open(f"{d}/medallion-data.json", "w"))
    json.dump({"backend": {"module": "medallion.backends.memory_backend",
                           "module_class": "MemoryBackend", "filename": f"{d}/medallion-data.json"},
               "users": {"bench": "bench"}, "taxii": {"max_page_size": 100000}},
              open(f"{d}/medallion.json", "w"))


NEXT = re.compile(r'"next"\s*:\s*"([^"]+)"')
MORE = re.compile(r'"more"\s*:\s*true')


def page_through(s, url, page):
    """Every page of a collection's objects; returns the number of objects read."""
    n, nxt = 0, None
    while True:
        params = {"limit": page}
        if nxt:
            params["next"] = nxt
        r = s.get(url, params=params, headers={"Accept": TAXII})
        r.raise_for_status()
        body = r.text
        n += body.count('"type":"indicator"') + body.count('"type": "indicator"')
        if not MORE.search(body):
            return n
        nxt = NEXT.search(body).group(1)


def run(d, rastro, token, medallion, page, runs, mruns):
    page, runs, mruns = int(page), int(runs), int(mruns)
    s = requests.Session()
    s.headers["Authorization"] = "Bearer " + token
    cols = s.get(rastro + "/taxii2/api/collections/", headers={"Accept": TAXII}).json()
    inbox = next(c for c in cols["collections"] if c["can_write"])
    url = f"{rastro}/taxii2/api/collections/{inbox['id']}/objects/"
    env = json.load(open(f"{d}/envelope.json"))
    # They name no creator: posted by DEA's user, they are DEA's.
    body = json.dumps(env)
    r = s.post(url, data=body, headers={"Accept": TAXII, "Content-Type": TAXII})
    st = r.json()
    assert st.get("success_count") == len(env["objects"]), st
    m = requests.Session()
    m.auth = ("bench", "bench")
    murl = f"{medallion}/b/collections/{MCID}/objects/"
    results = {}
    # medallion takes minutes a pass (its memory backend matches every object against the
    # whole manifest), so it is timed on MEDALLION_RUNS passes (1 by default).
    for name, sess, u, k in (("rastro", s, url, runs), ("medallion", m, murl, mruns)):
        rates = []
        for _ in range(k):
            t = time.perf_counter()
            n = page_through(sess, u, page)
            dt = time.perf_counter() - t
            assert n == len(env["objects"]), (name, n)
            rates.append(n / dt)
        results[name] = statistics.median(rates)
        print(f"{name}: {results[name]:,.0f} objects/s (median of {k} full passes of {n} objects, page {page}; pass {n / results[name]:.2f} s)")
    print(f"ratio rastro/medallion: {results['rastro'] / results['medallion']:.1f}x")


if __name__ == "__main__":
    if sys.argv[1] == "make":
        make(sys.argv[2], int(sys.argv[3]))
    else:
        run(*sys.argv[2:9])
