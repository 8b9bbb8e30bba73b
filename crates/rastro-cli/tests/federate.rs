//! `rastro federate pull` against real and broken peers: OASIS's reference TAXII server
//! (PyPI `medallion`, memory backend) serving a partner's objects, pulled page by page and
//! resumed; a peer that answers another media type; a peer that disconnects mid-page (the
//! page is not applied; the next pull resumes after the last page that was); a peer relaying
//! objects of an organisation it does not speak for.

mod common;

use common::*;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// DEA's own objects of the small demo's export by DEA for SEMAR: its sightings (observed-data with the
/// observable each names), the definitions, and the organisations' identities.
fn dea_objects(dir: &Path) -> Vec<Value> {
    let (db, _demo) = small_demo(dir);
    let out = dir.join("for-dea.json");
    rastro(
        &db,
        &[
            "--as",
            "enlace-dea",
            "share",
            "export",
            "--for",
            "SEMAR",
            "--out",
            out.to_str().unwrap(),
        ],
    );
    let b: Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    let dea = rastro_stix::organisation_id("DEA").to_string();
    let objects = b["objects"].as_array().unwrap();
    let mine: Vec<&Value> = objects
        .iter()
        .filter(|o| o["created_by_ref"] == dea.as_str())
        .collect();
    let refs: Vec<&str> = mine
        .iter()
        .flat_map(|o| o["object_refs"].as_array().into_iter().flatten())
        .filter_map(Value::as_str)
        .collect();
    let mut keep: Vec<Value> = objects
        .iter()
        .filter(|o| {
            o["created_by_ref"] == dea.as_str()
                || o["type"] == "marking-definition"
                || o["type"] == "extension-definition"
                || refs.contains(&o["id"].as_str().unwrap())
        })
        .cloned()
        .collect();
    keep.sort_by(|a, b| a["id"].as_str().cmp(&b["id"].as_str()));
    keep
}

/// A node with the host's agencies and DEA registered (the pulling side).
fn host_node(db: &Path) {
    for (code, nation, kind) in [
        ("SEMAR", "MX", "navy"),
        ("ANAM", "MX", "customs"),
        ("FGR", "MX", "prosecutor"),
        ("DEA", "US", "foreign_liaison"),
        ("CBP", "US", "customs"),
    ] {
        rastro(
            db,
            &[
                "org", "add", code, "--name", code, "--nation", nation, "--kind", kind,
            ],
        );
    }
}

/// A child process killed when the test ends, however it ends (a failed assertion included).
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts medallion (memory backend) serving `objects` in one collection, all added at one
/// time, 100 a page; returns the process and the collection URL once it answers.
fn start_medallion(dir: &Path, objects: &[Value]) -> (Killed, String) {
    let stamp = "2026-12-01T00:00:00.000000Z";
    let manifest: Vec<Value> = objects
        .iter()
        .map(|o| {
            json!({"id": o["id"], "date_added": stamp,
                "version": o.get("modified").or(o.get("created")).cloned().unwrap_or(json!(stamp)),
                "media_type": "application/stix+json;version=2.1"})
        })
        .collect();
    // The memory backend dates an object without `modified` or `created` (an observable) by
    // a hidden `_date_added` of its own, which it strips when serving.
    let objects: Vec<Value> = objects
        .iter()
        .map(|o| {
            let mut o = o.clone();
            o["_date_added"] = json!(stamp);
            o
        })
        .collect();
    let cid = "5c0e5a1e-3d1c-4b6e-9f0a-7c2d9e8b1a40";
    let data = json!({
        "/discovery": {"title": "peer", "api_roots": ["http://localhost:5000/dea/"], "default": "http://localhost:5000/dea/"},
        "dea": {
            "information": {"title": "DEA", "versions": ["application/taxii+json;version=2.1"], "max_content_length": 100000000},
            "status": [],
            "collections": [{
                "id": cid, "title": "DEA for Mexico", "can_read": true, "can_write": false,
                "media_types": ["application/stix+json;version=2.1"],
                "objects": objects, "manifest": manifest,
            }]
        }
    });
    let data_file = dir.join("medallion-data.json");
    std::fs::write(&data_file, data.to_string()).unwrap();
    let config = dir.join("medallion.json");
    std::fs::write(
        &config,
        json!({
            "backend": {"module": "medallion.backends.memory_backend", "module_class": "MemoryBackend", "filename": data_file},
            "users": {"rastro": "s3cret"},
            "taxii": {"max_page_size": 100},
        })
        .to_string(),
    )
    .unwrap();
    let port = free_port();
    let child = Killed(
        Command::new("python3")
            .args([
                "-m",
                "medallion.scripts.run",
                "--host",
                "127.0.0.1",
                "--port",
                &port.to_string(),
                config.to_str().unwrap(),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("medallion runs (bench/requirements.txt installs it)"),
    );
    let url = format!("http://127.0.0.1:{port}/dea/collections/{cid}/");
    // Ready once it accepts a connection (bounded: 600 tries of a blocking connect).
    let mut ready = false;
    for _ in 0..600 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            ready = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(ready, "medallion did not start on port {port}");
    (child, url)
}

fn pull(db: &Path, args: &[&str]) -> std::process::Output {
    let mut a = vec!["-q", "federate", "pull", "--peer", "DEA", "--json"];
    a.extend_from_slice(args);
    run(db, &a)
}

fn observations(v: &[Value]) -> usize {
    v.iter().filter(|o| o["type"] == "observed-data").count()
}

#[test]
fn a_pull_from_medallion_imports_the_partners_objects_and_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let mut objects = dea_objects(dir.path());
    let n_obs = observations(&objects);
    assert!(n_obs > 0, "the demo has DEA sightings");
    // medallion 3.0.0 reads an object's `version` property as a timestamp, and an extension
    // definition has one ("1.0.0"): its memory backend then fails every request. It serves
    // the rest.
    objects.retain(|o| o["type"] != "extension-definition");
    // And DEA's indicators, enough for several pages.
    let amber = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421";
    for i in 0..250 {
        objects.push(json!({"type": "indicator", "spec_version": "2.1",
            "id": format!("indicator--{i:08x}-0000-4000-8000-000000000000"),
            "created": "2026-11-20T00:00:00.000Z", "modified": "2026-11-20T00:00:00.000Z",
            "pattern": format!("[x-rastro-sighting:subject = 'SYN-TRUCK-{i}']"), "pattern_type": "stix",
            "valid_from": "2026-11-20T00:00:00Z", "created_by_ref": rastro_stix::organisation_id("DEA").to_string(),
            "object_marking_refs": [amber]}));
    }
    // An object of another tool, naming no creator and no marking: the peer's, at TLP:RED.
    objects.push(json!({"type": "indicator", "spec_version": "2.1",
        "id": "indicator--3f1c2b9a-6d7e-4f80-9a1b-2c3d4e5f6a7b",
        "created": "2026-11-20T00:00:00.000Z", "modified": "2026-11-20T00:00:00.000Z",
        "pattern": "[ipv4-addr:value = '198.51.100.7']", "pattern_type": "stix",
        "valid_from": "2026-11-20T00:00:00Z"}));
    let (med, url) = start_medallion(dir.path(), &objects);
    let creds = dir.path().join("creds");
    std::fs::write(&creds, "rastro:s3cret").unwrap();
    let db = dir.path().join("host.db");
    host_node(&db);
    let c = creds.to_str().unwrap();

    // One page only: applied, and the cursor kept.
    let o = pull(
        &db,
        &["--from", &url, "--basic-auth-file", c, "--max-pages", "1"],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let first = json(&o);
    assert_eq!(first["pages"], 1);
    assert_eq!(first["objects"], 100);
    assert!(first["resume_after"].as_str().unwrap() < "2026-12-01T00:00:00.000Z");
    // The rest: resumed from the cursor (objects sharing the last date are fetched again, and
    // are duplicates), through medallion's `next`, 100 a page.
    let o = pull(&db, &["--from", &url, "--basic-auth-file", c]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let rest = json(&o);
    assert_eq!(
        rest["pages"].as_u64().unwrap() as usize,
        objects.len().div_ceil(100)
    );
    let inserted = first["inserted"].as_u64().unwrap() + rest["inserted"].as_u64().unwrap();
    assert_eq!(
        inserted as usize, n_obs,
        "every sighting once: {first} {rest}"
    );
    for r in [&first, &rest] {
        let new = r["inserted"].as_u64().unwrap() > 0;
        assert_eq!(r["analysed"], new, "what arrives is analysed: {r}");
    }
    // Again: nothing new.
    let again = json(&pull(&db, &["--from", &url, "--basic-auth-file", c]));
    assert_eq!(again["inserted"], 0, "{again}");
    // The sightings are DEA's, under DEA's markings; the other tool's object is DEA's, RED.
    let stats = json(&rastro(&db, &["stats", "--json"]));
    assert!(stats.to_string().contains("observation"), "{stats}");
    let objs = json(&rastro(&db, &["share", "objects", "--json"]));
    let ind = objs
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["id"] == "indicator--3f1c2b9a-6d7e-4f80-9a1b-2c3d4e5f6a7b")
        .expect("the indicator is kept as it came");
    assert_eq!(
        (ind["originator"].as_str(), ind["tlp"].as_str()),
        (Some("DEA"), Some("RED"))
    );
    // Wrong credentials: the peer's 401 is reported, nothing changes.
    std::fs::write(&creds, "rastro:wrong").unwrap();
    let o = pull(&db, &["--from", &url, "--basic-auth-file", c]);
    assert!(!o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("401"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    drop(med);
    let log =
        String::from_utf8_lossy(&rastro(&db, &["audit", "log", "--json"]).stdout).into_owned();
    assert!(log.contains("federate.pull"), "pulls are audited");
}

/// A one-shot HTTP peer: answers the k-th connection with `answer(k)` (raw bytes), then
/// closes it.
fn fake_peer(answer: impl Fn(usize) -> Vec<u8> + Send + 'static) -> String {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    std::thread::spawn(move || {
        for (k, s) in l.incoming().enumerate() {
            let Ok(mut s) = s else { break };
            let mut r = BufReader::new(s.try_clone().unwrap());
            let mut line = String::new();
            while r.read_line(&mut line).is_ok_and(|n| n > 2) {
                line.clear();
            }
            let _ = s.write_all(&answer(k));
            let _ = s.flush();
        }
    });
    format!("http://{addr}/api/collections/c/")
}

fn page(objects: &[Value], more: bool, next: Option<&str>, stamp: &str) -> Vec<u8> {
    let mut env = json!({"more": more, "objects": objects});
    if let Some(n) = next {
        env["next"] = json!(n);
    }
    let body = env.to_string();
    format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/taxii+json;version=2.1\r\nX-TAXII-Date-Added-First: {stamp}\r\nX-TAXII-Date-Added-Last: {stamp}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

#[test]
fn broken_peers_change_nothing_and_a_cut_pull_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let objects = dea_objects(dir.path());
    let n_obs = observations(&objects);
    let db = dir.path().join("host.db");
    host_node(&db);

    // Another media type: refused before anything is read as TAXII.
    let html = fake_peer(|_| {
        b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello".to_vec()
    });
    let o = pull(&db, &["--from", &html]);
    assert!(!o.status.success());
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(e.contains("not TAXII 2.1"), "{e}");

    // A relay of objects by a creator registered nowhere here: refused whole, with why.
    let mut stranger = objects
        .iter()
        .find(|o| o["type"] == "observed-data")
        .unwrap()
        .clone();
    stranger["created_by_ref"] = json!("identity--00000000-0000-5000-8000-00000000beef");
    let body = vec![stranger];
    let relay = fake_peer(move |_| page(&body, false, None, "2026-12-01T00:00:00.000Z"));
    let o = pull(&db, &["--from", &relay]);
    assert!(!o.status.success());
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(e.contains("no organisation registered here"), "{e}");

    // Cut mid-page: the first page is applied, the second is not; the next pull resumes.
    let half = objects.len() / 2;
    let (p1, p2) = (objects[..half].to_vec(), objects[half..].to_vec());
    let all = objects.clone();
    let cut = fake_peer(move |k| match k {
        0 => page(&p1, true, Some("p2"), "2026-12-01T00:00:00.000Z"),
        1 => {
            let full = page(&p2, false, None, "2026-12-01T00:00:05.000Z");
            let head_end = full.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
            full[..head_end + (full.len() - head_end) / 2].to_vec()
        }
        _ => page(&all, false, None, "2026-12-01T00:00:05.000Z"),
    });
    let o = pull(&db, &["--from", &cut]);
    assert!(!o.status.success(), "a cut page is an error");
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(e.contains("could not be read whole"), "{e}");
    assert!(e.contains("run the pull again to resume"), "{e}");
    let taken_first = observations(&objects[..half]);
    let st = json(&rastro(&db, &["stats", "--json"]));
    assert_eq!(
        st["observations"].as_u64().unwrap_or_default() as usize,
        taken_first,
        "only the first page was applied: {st}"
    );
    let o = pull(&db, &["--from", &cut]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let r = json(&o);
    assert_eq!(
        r["inserted"].as_u64().unwrap() as usize,
        n_obs - taken_first,
        "{r}"
    );
    assert_eq!(r["duplicates"].as_u64().unwrap() as usize, taken_first);
}

#[test]
fn a_pull_over_https_trusts_the_ca_it_is_given_and_no_other() {
    let dir = tempfile::tempdir().unwrap();
    // A node of a private PKI: a certificate authority of its own and a server certificate
    // for 127.0.0.1 signed by it (openssl, as an operator would make them).
    let p = |n: &str| dir.path().join(n);
    let (ca, ca_key, cert, key, csr, ext) = (
        p("ca.pem"),
        p("ca.key"),
        p("cert.pem"),
        p("key.pem"),
        p("leaf.csr"),
        p("ext.cnf"),
    );
    std::fs::write(
        &ext,
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    for args in [
        [
            &["req", "-x509"][..],
            &ec,
            &[
                "-days",
                "2",
                "-subj",
                "/CN=rastro-test-ca",
                "-keyout",
                ca_key.to_str().unwrap(),
                "-out",
                ca.to_str().unwrap(),
            ],
        ]
        .concat(),
        [
            &["req"][..],
            &ec,
            &[
                "-subj",
                "/CN=127.0.0.1",
                "-keyout",
                key.to_str().unwrap(),
                "-out",
                csr.to_str().unwrap(),
            ],
        ]
        .concat(),
        vec![
            "x509",
            "-req",
            "-in",
            csr.to_str().unwrap(),
            "-CA",
            ca.to_str().unwrap(),
            "-CAkey",
            ca_key.to_str().unwrap(),
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            ext.to_str().unwrap(),
            "-out",
            cert.to_str().unwrap(),
        ],
    ] {
        let o = Command::new("openssl")
            .args(&args)
            .output()
            .expect("openssl runs");
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    let a = dir.path().join("a.db");
    host_node(&a);
    let out = rastro(
        &a,
        &["user", "add", "agente", "--org", "DEA", "--role", "analyst"],
    );
    let token = String::from_utf8_lossy(&out.stdout)
        .lines()
        .find(|l| l.starts_with("rst_"))
        .unwrap()
        .trim()
        .to_string();
    let tf = dir.path().join("token");
    std::fs::write(&tf, token).unwrap();
    let (child, addr) = start_server_with(
        &a,
        &[
            "--tls-cert",
            cert.to_str().unwrap(),
            "--tls-key",
            key.to_str().unwrap(),
        ],
    );
    let server = Killed(child);
    let shared = "95f45cd5-c375-5401-8723-60abc02776f1"; // shared-dea on every node
    let b = dir.path().join("b.db");
    host_node(&b);
    let api = format!("https://{addr}/taxii2/api/");
    let base = [
        "-q",
        "federate",
        "pull",
        "--from",
        &api,
        "--collection",
        shared,
        "--peer",
        "SEMAR",
        "--token-file",
        tf.to_str().unwrap(),
        "--json",
    ];
    let o = run(&b, &base);
    assert!(
        !o.status.success(),
        "a certificate of no public authority is refused"
    );
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(e.contains("cannot reach the server"), "{e}");
    let mut with_ca = base.to_vec();
    with_ca.extend(["--ca-file", ca.to_str().unwrap()]);
    let o = run(&b, &with_ca);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(json(&o)["pages"], 1);
    drop(server);
}
