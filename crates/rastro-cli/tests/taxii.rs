//! TAXII 2.1 through the real binary and real clients: OASIS's `taxii2-client` drives the
//! server through discovery, collections, every page and a POST; what a partner's collection
//! serves is exactly what an export for it holds; 10,000 objects added in one transaction (one
//! `date_added`) page without loss or repetition however the client pages; errors are the
//! specification's (401, 403, 404, 406, 413, 415, 400) in TAXII's shape.

mod common;

use common::*;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::path::Path;

const TAXII: &str = "application/taxii+json;version=2.1";
const AMBER: &str = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421";

struct Answer {
    status: u16,
    content_type: String,
    headers: Vec<(String, String)>,
    body: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::new_with_config(
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build(),
    )
}

fn answer(r: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Answer {
    let mut r = r.expect("the server answers");
    let headers = r
        .headers()
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or_default().to_string()))
        .collect();
    let content_type = r
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    Answer {
        status: r.status().as_u16(),
        content_type,
        headers,
        body: r
            .body_mut()
            .with_config()
            .limit(256 << 20)
            .read_to_string()
            .unwrap(),
    }
}

fn get(url: &str, token: Option<&str>, accept: &str) -> Answer {
    let mut rq = agent().get(url).header("Accept", accept);
    if let Some(t) = token {
        rq = rq.header("Authorization", format!("Bearer {t}"));
    }
    answer(rq.call())
}

fn post(url: &str, token: &str, content_type: &str, body: &str) -> Answer {
    answer(
        agent()
            .post(url)
            .header("Accept", TAXII)
            .header("Content-Type", content_type)
            .header("Authorization", format!("Bearer {token}"))
            .send(body.as_bytes()),
    )
}

/// The STIX identity of an organisation (as `rastro_stix::organisation_id`).
fn org_identity(code: &str) -> String {
    rastro_stix::organisation_id(code).to_string()
}

/// An indicator created by `org`, AMBER, releasable to `rel`.
fn indicator(i: usize, org: &str, rel: &[&str]) -> Value {
    let mut o = json!({
        "type": "indicator", "spec_version": "2.1",
        "id": format!("indicator--{:08x}-0000-4000-8000-{:012x}", i, i),
        "created": "2026-11-01T00:00:00.000Z", "modified": "2026-11-01T00:00:00.000Z",
        "name": format!("broker phone {i}"),
        "pattern": format!("[x-rastro-sighting:subject = 'SYN-TRUCK-{i}']"),
        "pattern_type": "stix", "valid_from": "2026-11-01T00:00:00Z",
        "created_by_ref": org_identity(org),
        "object_marking_refs": [AMBER],
    });
    if !rel.is_empty() {
        // Rastro's releasable-to extension (docs/federation.md).
        o["extensions"] = json!({ releasable_extension(): {"extension_type": "property-extension", "releasable_to": rel} });
    }
    o
}

fn releasable_extension() -> String {
    rastro_stix::marking::releasable_extension_id().to_string()
}

/// Runs taxii2-client (tests/taxii/client_check.py) against the server.
fn taxii2_client(base: &str, token: &str, per_request: usize, envelope: Option<&Path>) -> Value {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/taxii/client_check.py");
    let mut args = vec![
        script.to_string(),
        base.to_string(),
        token.to_string(),
        per_request.to_string(),
    ];
    if let Some(e) = envelope {
        args.push(e.display().to_string());
    }
    let o = std::process::Command::new("python3")
        .args(&args)
        .output()
        .expect("python3 runs (bench/requirements.txt installs taxii2-client)");
    assert!(
        o.status.success(),
        "taxii2-client failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    serde_json::from_slice(&o.stdout).unwrap()
}

fn ids(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap_or(&Vec::new())
        .iter()
        .map(|x| x.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn taxii2_client_reads_what_an_export_holds_and_posts_as_its_organisation() {
    let dir = tempfile::tempdir().unwrap();
    let (db, demo) = small_demo(dir.path());
    let p = json(&rastro(
        &db,
        &[
            "--as", "analista", "share", "publish", "--for", "DEA", "--json",
        ],
    ));
    let shared = p["collection"].as_str().unwrap().to_string();
    assert!(p["added"].as_u64().unwrap() > 10, "{p}");
    // Publishing again adds nothing: the same objects, the same versions.
    let again = json(&rastro(
        &db,
        &[
            "--as", "analista", "share", "publish", "--for", "DEA", "--json",
        ],
    ));
    assert_eq!(
        (again["added"].as_u64(), again["withdrawn"].as_u64()),
        (Some(0), Some(0))
    );
    let bundle_file = dir.path().join("for-dea.json");
    rastro(
        &db,
        &[
            "--as",
            "analista",
            "share",
            "export",
            "--for",
            "DEA",
            "--out",
            bundle_file.to_str().unwrap(),
        ],
    );
    let bundle: Value = serde_json::from_slice(&std::fs::read(&bundle_file).unwrap()).unwrap();
    let exported: BTreeSet<String> = bundle["objects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_str().unwrap().to_string())
        .collect();

    let (mut server, addr) = start_server(&db);
    let base = format!("http://{addr}");
    let dea = token_of(&demo, "enlace-dea");
    let envelope = dir.path().join("envelope.json");
    std::fs::write(
        &envelope,
        json!({"objects": [indicator(1, "DEA", &["MX"])]}).to_string(),
    )
    .unwrap();
    let seen = taxii2_client(&base, &dea, 50, Some(&envelope));
    assert_eq!(seen["api_roots"][0], format!("{base}/taxii2/api/"));
    assert_eq!(seen["versions"][0], TAXII);
    let cols = seen["collections"].as_array().unwrap();
    assert_eq!(cols.len(), 2, "DEA sees its two collections only: {seen}");
    let s = cols.iter().find(|c| c["id"] == shared.as_str()).unwrap();
    let got = ids(&s["objects"]);
    let unique: BTreeSet<String> = got.iter().cloned().collect();
    assert_eq!(got.len(), unique.len(), "no object twice");
    assert_eq!(unique, exported, "the collection serves exactly the export");
    assert_eq!(ids(&s["manifest"]).len(), got.len());
    assert_eq!(
        s["pages"].as_u64().unwrap() as usize,
        got.len().div_ceil(50)
    );
    assert_eq!(s["can_write"], false);
    let inbox = cols.iter().find(|c| c["can_write"] == true).unwrap();
    assert_eq!(inbox["post"]["status"], "complete");
    assert_eq!(
        (
            inbox["post"]["success"].as_u64(),
            inbox["post"]["failure"].as_u64()
        ),
        (Some(1), Some(0)),
        "{inbox}"
    );
    assert_eq!(
        ids(&inbox["objects_after_post"]),
        vec![indicator(1, "DEA", &[])["id"].as_str().unwrap()]
    );
    let inbox_id = inbox["id"].as_str().unwrap();

    // A spoofed creator is refused whole, with the reason in the status.
    let spoof = json!({"objects": [indicator(2, "DEA", &["MX"]), indicator(3, "SEMAR", &["MX"])]});
    let url = format!("{base}/taxii2/api/collections/{inbox_id}/objects/");
    let a = post(&url, &dea, TAXII, &spoof.to_string());
    assert_eq!(a.status, 202, "{}", a.body);
    let st = a.json();
    assert_eq!(
        (st["success_count"].as_u64(), st["failure_count"].as_u64()),
        (Some(0), Some(2))
    );
    assert!(st["failures"][0]["message"]
        .as_str()
        .unwrap()
        .contains("a partner imports only what its organisation created"));
    let st2 = get(
        &format!("{base}/taxii2/api/status/{}/", st["id"].as_str().unwrap()),
        Some(&dea),
        TAXII,
    );
    assert_eq!(st2.status, 200);
    assert_eq!(st2.json()["failure_count"], 2);
    // Another organisation's user does not see that status (the same answer as none).
    let analista = token_of(&demo, "analista");
    let st3 = get(
        &format!("{base}/taxii2/api/status/{}/", st["id"].as_str().unwrap()),
        Some(&analista),
        TAXII,
    );
    assert_eq!(st3.status, 404);

    // The host's analyst reads DEA's contribution (releasable to MX), not the refused ones.
    let host = get(&url, Some(&analista), TAXII);
    assert_eq!(host.status, 200);
    let hv = host.json();
    let hids: Vec<&str> = hv["objects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_str().unwrap())
        .collect();
    assert_eq!(hids, vec![indicator(1, "DEA", &[])["id"].as_str().unwrap()]);
    // ... and DEA's objects are imported as DEA's.
    let objs = json(&rastro(
        &db,
        &["--as", "analista", "share", "objects", "--json"],
    ));
    assert!(
        objs.as_array()
            .unwrap()
            .iter()
            .any(|o| o["originator"] == "DEA" && o["type"] == "indicator"),
        "{objs}"
    );

    server.kill().unwrap();
    server.wait().unwrap();
    let log =
        String::from_utf8_lossy(&rastro(&db, &["audit", "log", "--json"]).stdout).into_owned();
    for action in ["taxii.publish", "taxii.post", "share.import"] {
        assert!(log.contains(action), "{action} is audited");
    }
    assert!(
        log.contains("\"taxii\""),
        "reads of the collection are audited"
    );
}

/// A node with the host's agencies, DEA, and a DEA user; returns the user's token.
fn partner_node(db: &Path) -> String {
    for (code, nation, kind) in [
        ("SEMAR", "MX", "navy"),
        ("FGR", "MX", "prosecutor"),
        ("DEA", "US", "foreign_liaison"),
    ] {
        rastro(
            db,
            &[
                "org", "add", code, "--name", code, "--nation", nation, "--kind", kind,
            ],
        );
    }
    rastro(
        db,
        &["user", "add", "ana", "--org", "SEMAR", "--role", "analyst"],
    );
    let out = rastro(
        db,
        &["user", "add", "agente", "--org", "DEA", "--role", "analyst"],
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find(|l| l.starts_with("rst_"))
        .unwrap()
        .trim()
        .to_string()
}

#[test]
fn ten_thousand_objects_sharing_one_date_added_page_without_loss_or_repetition() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("n.db");
    let dea = partner_node(&db);
    let (mut server, addr) = start_server(&db);
    let base = format!("http://{addr}/taxii2/api");
    let cols = get(&format!("{base}/collections/"), Some(&dea), TAXII).json();
    let inbox = cols["collections"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["can_write"] == true)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let url = format!("{base}/collections/{inbox}/objects/");
    const N: usize = 10_000;
    let all: Vec<Value> = (0..N).map(|i| indicator(i, "DEA", &["MX"])).collect();
    let a = post(&url, &dea, TAXII, &json!({ "objects": all }).to_string());
    assert_eq!(a.status, 202, "{}", a.body);
    assert_eq!(a.json()["success_count"], N as u64);
    let want: BTreeSet<String> = all
        .iter()
        .map(|o| o["id"].as_str().unwrap().to_string())
        .collect();

    // One transaction, one date_added.
    let first = get(&format!("{url}?limit=10000"), Some(&dea), TAXII);
    assert_eq!(
        first.header("X-TAXII-Date-Added-First"),
        first.header("X-TAXII-Date-Added-Last")
    );
    assert_eq!(first.json()["objects"].as_array().unwrap().len(), N);
    let stamp = first
        .header("X-TAXII-Date-Added-First")
        .unwrap()
        .to_string();

    // Following `next`, with and without the first request's `added_after` sent again.
    let before = "2000-01-01T00:00:00.000Z";
    for (limit, with_added_after) in [(999, false), (999, true), (1, false), (4_999, true)] {
        if limit == 1 {
            // One object a page: 10,000 requests would test the clock, not the cursor; take
            // the first 300 pages and check they hold 300 distinct objects in order.
            let mut next: Option<String> = None;
            let mut got = Vec::new();
            for _ in 0..300 {
                let mut u = format!("{url}?limit=1");
                if let Some(n) = &next {
                    u.push_str(&format!("&next={n}"));
                }
                let p = get(&u, Some(&dea), TAXII).json();
                got.push(p["objects"][0]["id"].as_str().unwrap().to_string());
                next = p["next"].as_str().map(str::to_string);
            }
            let unique: BTreeSet<&String> = got.iter().collect();
            assert_eq!(unique.len(), 300);
            continue;
        }
        let mut got: Vec<String> = Vec::new();
        let mut next: Option<String> = None;
        let mut pages = 0;
        loop {
            let mut u = format!("{url}?limit={limit}");
            if with_added_after || next.is_none() {
                u.push_str(&format!("&added_after={before}"));
            }
            if let Some(n) = &next {
                u.push_str(&format!("&next={n}"));
            }
            let a = get(&u, Some(&dea), TAXII);
            assert_eq!(a.status, 200, "{}", a.body);
            assert_eq!(a.header("X-TAXII-Date-Added-Last"), Some(stamp.as_str()));
            let p = a.json();
            pages += 1;
            got.extend(
                p["objects"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|o| o["id"].as_str().unwrap().to_string()),
            );
            if p["more"] != true {
                assert!(p.get("next").is_none());
                break;
            }
            next = Some(p["next"].as_str().unwrap().to_string());
        }
        assert_eq!(pages, N.div_ceil(limit), "limit {limit}");
        assert_eq!(got.len(), N, "none repeated (limit {limit})");
        assert_eq!(
            got.iter().cloned().collect::<BTreeSet<_>>(),
            want,
            "none lost (limit {limit})"
        );
    }
    // added_after the shared stamp: nothing (strictly after); just before it: everything.
    let after = get(&format!("{url}?added_after={stamp}"), Some(&dea), TAXII).json();
    assert_eq!(after["more"], false);
    assert!(
        after.get("objects").is_none(),
        "an empty page has no objects list"
    );
    // The manifest pages the same way, and so does taxii2-client.
    let seen = taxii2_client(&format!("http://{addr}"), &dea, 1000, None);
    let inbox_seen = seen["collections"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == inbox.as_str())
        .unwrap();
    assert_eq!(
        ids(&inbox_seen["objects"])
            .into_iter()
            .collect::<BTreeSet<_>>(),
        want
    );
    assert_eq!(ids(&inbox_seen["objects"]).len(), N);
    assert_eq!(ids(&inbox_seen["manifest"]).len(), N);
    assert_eq!(inbox_seen["pages"], 10);

    // A newer version supersedes by `modified`; versions lists both; match[version] picks.
    let mut v2 = indicator(7, "DEA", &["MX"]);
    v2["modified"] = json!("2026-11-02T00:00:00.000Z");
    v2["name"] = json!("broker phone 7, confirmed");
    assert_eq!(
        post(&url, &dea, TAXII, &json!({"objects": [v2]}).to_string()).status,
        202
    );
    let oid = v2["id"].as_str().unwrap();
    let one = get(&format!("{url}{oid}/"), Some(&dea), TAXII).json();
    assert_eq!(one["objects"].as_array().unwrap().len(), 1);
    assert_eq!(one["objects"][0]["modified"], "2026-11-02T00:00:00.000Z");
    let vs = get(&format!("{url}{oid}/versions/"), Some(&dea), TAXII).json();
    assert_eq!(
        vs["versions"],
        json!(["2026-11-01T00:00:00.000Z", "2026-11-02T00:00:00.000Z"])
    );
    let first_v = get(
        &format!("{url}{oid}/?match[version]=first"),
        Some(&dea),
        TAXII,
    )
    .json();
    assert_eq!(
        first_v["objects"][0]["modified"],
        "2026-11-01T00:00:00.000Z"
    );
    let both = get(
        &format!("{url}?match[id]={oid}&match[version]=all"),
        Some(&dea),
        TAXII,
    )
    .json();
    assert_eq!(both["objects"].as_array().unwrap().len(), 2);
    let at = get(
        &format!("{url}?match[id]={oid}&match[version]=2026-11-01T00:00:00.000Z"),
        Some(&dea),
        TAXII,
    )
    .json();
    assert_eq!(at["objects"][0]["name"], "broker phone 7");
    let typed = get(&format!("{url}?match[type]=malware"), Some(&dea), TAXII).json();
    assert!(typed.get("objects").is_none());
    let spec20 = get(&format!("{url}?match[spec_version]=2.0"), Some(&dea), TAXII).json();
    assert!(spec20.get("objects").is_none());
    // The default (latest) still holds N objects, one per id.
    let latest = get(&format!("{url}?limit=10000"), Some(&dea), TAXII).json();
    assert_eq!(latest["objects"].as_array().unwrap().len(), N);
    assert_eq!(latest["more"], false);

    // DELETE from one's own inbox removes every version.
    let d = answer(
        agent()
            .delete(&format!("{url}{oid}/"))
            .header("Accept", TAXII)
            .header("Authorization", format!("Bearer {dea}"))
            .call(),
    );
    assert_eq!(d.status, 200, "{}", d.body);
    assert_eq!(get(&format!("{url}{oid}/"), Some(&dea), TAXII).status, 404);
    server.kill().unwrap();
    server.wait().unwrap();
}

#[test]
fn errors_are_the_specifications_in_taxii_shape() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("n.db");
    let dea = partner_node(&db);
    let (mut child, addr) = start_server_with(&db, &["--max-body-mib", "1"]);
    let base = format!("http://{addr}/taxii2/api");
    let cols = get(&format!("{base}/collections/"), Some(&dea), TAXII).json();
    let find = |w: bool| {
        cols["collections"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["can_write"] == w)
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let (shared, inbox) = (find(false), find(true));
    let check = |a: &Answer, status: u16, words: &str| {
        assert_eq!(a.status, status, "{}", a.body);
        assert!(
            a.content_type.starts_with("application/taxii+json"),
            "{}",
            a.content_type
        );
        let e = a.json();
        assert_eq!(e["http_status"], status.to_string());
        assert!(e["title"].is_string());
        assert!(
            e["description"]
                .as_str()
                .unwrap_or_default()
                .contains(words),
            "{status}: {}",
            a.body
        );
    };
    check(&get(&format!("{base}/"), None, TAXII), 401, "token");
    check(
        &get(&format!("{base}/"), Some("rst_nope"), TAXII),
        401,
        "token",
    );
    check(
        &get(&format!("{base}/"), Some(&dea), "application/json"),
        406,
        "answers application/taxii+json",
    );
    check(
        &get(
            &format!("{base}/collections/{inbox}/objects/"),
            Some(&dea),
            "application/taxii+json;version=2.0",
        ),
        406,
        "",
    );
    assert_eq!(get(&format!("{base}/"), Some(&dea), "*/*").status, 200);
    check(
        &get(
            &format!("{base}/collections/00000000-0000-0000-0000-000000000000/"),
            Some(&dea),
            TAXII,
        ),
        404,
        "no collection",
    );
    check(&get(&format!("{base}/collections/{inbox}/objects/indicator--00000000-0000-4000-8000-000000000000/"), Some(&dea), TAXII), 404, "no object");
    check(
        &get(&format!("{base}/status/nope/"), Some(&dea), TAXII),
        404,
        "no status",
    );
    check(
        &get(&format!("{base}/nowhere/"), Some(&dea), TAXII),
        404,
        "",
    );
    check(
        &get(
            &format!("{base}/collections/{inbox}/objects/?next=abc"),
            Some(&dea),
            TAXII,
        ),
        400,
        "not a cursor",
    );
    check(
        &get(
            &format!("{base}/collections/{inbox}/objects/?limit=0"),
            Some(&dea),
            TAXII,
        ),
        400,
        "limit",
    );
    check(
        &get(
            &format!("{base}/collections/{inbox}/objects/?added_after=yesterday"),
            Some(&dea),
            TAXII,
        ),
        400,
        "added_after",
    );
    let env = json!({"objects": [indicator(1, "DEA", &["MX"])]}).to_string();
    let url = format!("{base}/collections/{inbox}/objects/");
    check(
        &post(&url, &dea, "application/json", &env),
        415,
        "post objects as application/taxii+json",
    );
    check(
        &post(
            &format!("{base}/collections/{shared}/objects/"),
            &dea,
            TAXII,
            &env,
        ),
        403,
        "not writable",
    );
    check(&post(&url, &dea, TAXII, "{not json"), 400, "not JSON");
    check(
        &post(&url, &dea, TAXII, "{\"more\": false}"),
        400,
        "no \"objects\" list",
    );
    // A body over the 1 MiB bound: the server answers on its declared length, before reading
    // it (sent by hand, so the client reads that answer instead of failing on a closed pipe).
    let a = {
        use std::io::{Read, Write};
        let mut t = std::net::TcpStream::connect(&addr).unwrap();
        t.set_read_timeout(Some(std::time::Duration::from_secs(30)))
            .unwrap();
        let path = format!("/taxii2/api/collections/{inbox}/objects/");
        write!(
            t,
            "POST {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {dea}\r\nAccept: {TAXII}\r\nContent-Type: {TAXII}\r\nContent-Length: {}\r\n\r\n",
            2 << 20
        )
        .unwrap();
        let mut raw = Vec::new();
        let mut buf = [0u8; 4096];
        // Until the whole answer is in: its headers, then as many bytes as it declares.
        loop {
            let n = t.read(&mut buf).unwrap_or(0);
            if n == 0 {
                break;
            }
            raw.extend_from_slice(&buf[..n]);
            let text = String::from_utf8_lossy(&raw).into_owned();
            if let Some(h) = text.find("\r\n\r\n") {
                let len = text[..h].lines().find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().parse::<usize>().unwrap())
                });
                if len.is_some_and(|l| raw.len() >= h + 4 + l) {
                    break;
                }
            }
        }
        let text = String::from_utf8_lossy(&raw).into_owned();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        let status: u16 = head.split(' ').nth(1).unwrap().parse().unwrap();
        let content_type = head
            .lines()
            .find_map(|l| {
                l.to_ascii_lowercase()
                    .strip_prefix("content-type:")
                    .map(|v| v.trim().to_string())
            })
            .unwrap_or_default();
        Answer {
            status,
            content_type,
            headers: Vec::new(),
            body: body.to_string(),
        }
    };
    check(&a, 413, "larger than");
    // Malformed objects, a marking weaker than a partner may use, circular references and
    // unknown markings: 202 with every object failed and the reason; nothing applied.
    let mut bad_id = indicator(1, "DEA", &["MX"]);
    bad_id["id"] = json!("indicator--not-a-uuid");
    let mut bad_time = indicator(2, "DEA", &["MX"]);
    bad_time["modified"] = json!("last tuesday");
    let mut green = indicator(3, "DEA", &[]);
    green["object_marking_refs"] =
        json!(["marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"]);
    let mut odd = indicator(4, "DEA", &[]);
    odd["object_marking_refs"] =
        json!(["marking-definition--00000000-0000-4000-8000-000000000001"]);
    let mut c1 = json!({"type": "grouping", "spec_version": "2.1", "id": "grouping--00000000-0000-4000-8000-0000000000c1", "created": "2026-11-01T00:00:00.000Z", "modified": "2026-11-01T00:00:00.000Z", "context": "x", "created_by_ref": org_identity("DEA"), "object_marking_refs": [AMBER]});
    let mut c2 = c1.clone();
    c2["id"] = json!("grouping--00000000-0000-4000-8000-0000000000c2");
    c1["object_refs"] = json!([c2["id"]]);
    c2["object_refs"] = json!([c1["id"]]);
    for (objs, words) in [
        (vec![bad_id], "id"),
        (vec![bad_time], "modified"),
        (vec![green], "weaker than a partner may use"),
        (vec![odd], "not a TLP 2.0 marking definition"),
        (vec![c1, c2], "go round in a circle"),
        (
            vec![
                json!({"type": "x-unknown-thing", "id": "x-unknown-thing--00000000-0000-4000-8000-000000000009"}),
            ],
            "",
        ),
    ] {
        let a = post(&url, &dea, TAXII, &json!({ "objects": objs }).to_string());
        assert_eq!(a.status, 202, "{}", a.body);
        let st = a.json();
        assert_eq!(st["success_count"], 0, "{st}");
        assert_eq!(st["failure_count"].as_u64().unwrap() as usize, objs.len());
        assert!(
            st["failures"][0]["message"]
                .as_str()
                .unwrap()
                .contains(words),
            "{words}: {st}"
        );
    }
    let empty = get(&url, Some(&dea), TAXII).json();
    assert!(
        empty.get("objects").is_none(),
        "nothing was applied: {empty}"
    );
    // DELETE in a published collection is refused; in one's own inbox, of what is not there, 404.
    let del = |u: String| {
        answer(
            agent()
                .delete(&u)
                .header("Accept", TAXII)
                .header("Authorization", format!("Bearer {dea}"))
                .call(),
        )
    };
    check(
        &del(format!(
            "{url}indicator--00000000-0000-4000-8000-000000000000/"
        )),
        404,
        "no object",
    );
    child.kill().unwrap();
    child.wait().unwrap();
}
