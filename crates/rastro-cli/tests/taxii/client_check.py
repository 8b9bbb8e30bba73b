"""Drives a TAXII 2.1 server with OASIS's taxii2-client (taxii2client.v21) as any partner tool
would: discovery, API root, collections, every page of objects and of the manifest, and a POST
with its status. Prints what it saw as JSON for the Rust test to check.

usage: client_check.py BASE_URL TOKEN PER_REQUEST [ENVELOPE_FILE]
"""
import json
import sys

import requests
from taxii2client.v21 import Server, as_pages


class Bearer(requests.auth.AuthBase):
    def __init__(self, token):
        self.token = token

    def __call__(self, r):
        r.headers["Authorization"] = "Bearer " + self.token
        return r


def main():
    base, token, per = sys.argv[1], sys.argv[2], int(sys.argv[3])
    envelope = json.load(open(sys.argv[4])) if len(sys.argv) > 4 else None
    auth = Bearer(token)
    server = Server(base + "/taxii2/", auth=auth)
    out = {"title": server.title, "api_roots": [r.url for r in server.api_roots], "collections": []}
    root = server.default or server.api_roots[0]
    out["versions"] = root.versions
    out["max_content_length"] = root.max_content_length
    for c in root.collections:
        seen = {"id": c.id, "alias": c.alias, "can_read": c.can_read, "can_write": c.can_write}
        if c.can_read:
            ids, pages, first_last = [], 0, []
            for env in as_pages(c.get_objects, per_request=per):
                pages += 1
                ids.extend(o["id"] for o in env.get("objects", []))
            manifest = []
            for env in as_pages(c.get_manifest, per_request=per):
                manifest.extend(m["id"] for m in env.get("objects", []))
            seen.update(objects=ids, pages=pages, manifest=manifest)
        if c.can_write and envelope is not None:
            status = c.add_objects(json.dumps(envelope), wait_for_completion=False)
            status.refresh()
            seen["post"] = {
                "status": status.status,
                "total": status.total_count,
                "success": status.success_count,
                "failure": status.failure_count,
                "failures": [f.get("message") for f in status.failures or []][:3],
            }
            ids = []
            for env in as_pages(c.get_objects, per_request=per):
                ids.extend(o["id"] for o in env.get("objects", []))
            seen["objects_after_post"] = ids
        out["collections"].append(seen)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
