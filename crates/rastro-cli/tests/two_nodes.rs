//! Two sovereign nodes on loopback, each with its own database, signing key and log: the
//! host nation's (Mexico, the small demo) and a partner's (the United States' DEA). The host
//! publishes what DEA may read; the partner pulls it over TAXII 2.1; what is released arrives
//! with its markings and what is not never crosses the wire; the partner's own sightings flow
//! back to the host's inbox for DEA and are analysed there; each log records the exchange, and
//! each node checks the other's signed tree heads under its pinned key.

mod common;

use common::*;
use serde_json::Value;
use std::path::Path;

const TAXII: &str = "application/taxii+json;version=2.1";
const OPEN: [&str; 2] = [
    "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
];

fn stats(db: &Path) -> Value {
    json(&rastro(db, &["stats", "--json"]))
}

fn records_of(st: &Value, kind: &str) -> u64 {
    st["records"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r[0] == kind)
        .map(|r| r[1].as_u64().unwrap())
        .unwrap_or(0)
}

/// Whether an object's marking admits DEA: open, or releasable to DEA or the US.
fn admits_dea(o: &Value) -> bool {
    let refs: Vec<&str> = o["object_marking_refs"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let rel: Vec<&str> = o["extensions"]
        .as_object()
        .and_then(|e| e.values().find_map(|x| x.get("releasable_to")))
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    o["type"] == "marking-definition"
        || refs.iter().all(|r| OPEN.contains(r))
        || rel.iter().any(|x| *x == "DEA" || *x == "US")
}

/// A node of the United States with the host's organisations registered and a DEA analyst.
fn partner_node(pdb: &Path, hdb: &Path) {
    rastro(pdb, &["org", "host-nation", "US"]);
    for o in json(&rastro(hdb, &["org", "list", "--json"]))
        .as_array()
        .unwrap()
    {
        rastro(
            pdb,
            &[
                "org",
                "add",
                o["code"].as_str().unwrap(),
                "--name",
                o["name"].as_str().unwrap(),
                "--nation",
                o["nation"].as_str().unwrap(),
                "--kind",
                o["kind"].as_str().unwrap(),
            ],
        );
    }
    rastro(
        pdb,
        &["user", "add", "agente", "--org", "DEA", "--role", "analyst"],
    );
}

#[test]
fn two_nodes_exchange_what_is_released_and_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let (hdb, hdemo) = small_demo(dir.path());
    let dea_on_host = dir.path().join("dea-token");
    std::fs::write(&dea_on_host, token_of(&hdemo, "enlace-dea")).unwrap();
    let tf = dea_on_host.to_str().unwrap();
    rastro(
        &hdb,
        &["--as", "analista", "share", "publish", "--for", "DEA"],
    );
    let cols = json(&rastro(
        &hdb,
        &["--as", "enlace-dea", "share", "collections", "--json"],
    ));
    let id_of = |w: bool| {
        cols.as_array()
            .unwrap()
            .iter()
            .find(|c| c["can_write"] == w)
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let (shared, inbox) = (id_of(false), id_of(true));
    // The heads each node's operator hands the other at the start (keys pinned from them).
    let h1 = dir.path().join("host-head-1.json");
    std::fs::write(&h1, rastro(&hdb, &["audit", "head"]).stdout).unwrap();
    let host_key = json(&rastro(&hdb, &["audit", "head"]))["public_key"]
        .as_str()
        .unwrap()
        .to_string();
    let host_before = stats(&hdb);
    assert!(records_of(&host_before, "consignment") > 0);

    // The partner's node: of the United States, with the host's agencies registered.
    let pdb = dir.path().join("partner.db");
    partner_node(&pdb, &hdb);

    let (mut host, addr) = start_server(&hdb);
    let api = format!("http://{addr}/taxii2/api/");
    // On the wire: every object DEA is served admits DEA, and no consignment (AMBER for
    // Mexico) is among them.
    let agent = ureq::Agent::new_with_config(
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build(),
    );
    let mut r = agent
        .get(&format!("{api}collections/{shared}/objects/?limit=10000"))
        .header("Accept", TAXII)
        .header(
            "Authorization",
            format!("Bearer {}", token_of(&hdemo, "enlace-dea")),
        )
        .call()
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let wire: Value = serde_json::from_str(
        &r.body_mut()
            .with_config()
            .limit(64 << 20)
            .read_to_string()
            .unwrap(),
    )
    .unwrap();
    let served = wire["objects"].as_array().unwrap();
    assert!(served.len() > 10);
    for o in served {
        assert!(admits_dea(o), "DEA was served what it may not read: {o}");
    }
    assert!(!served.iter().any(|o| o["type"] == "x-rastro-consignment"));

    // The partner pulls (its operator), under the host's markings, as the host's agencies'.
    let o = run(
        &pdb,
        &[
            "-q",
            "federate",
            "pull",
            "--from",
            &api,
            "--collection",
            &shared,
            "--peer",
            "SEMAR",
            "--token-file",
            tf,
            "--json",
        ],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let pulled = json(&o);
    assert!(pulled["inserted"].as_u64().unwrap() > 0, "{pulled}");
    let pst = stats(&pdb);
    assert_eq!(
        records_of(&pst, "consignment"),
        0,
        "nothing unreleased arrived"
    );
    assert!(records_of(&pst, "place") > 0);

    // The partner's own sightings (new ones, of its own aircraft) flow back to the host.
    let src = std::fs::read_to_string(hdemo.join("scenario/partner-observations.csv")).unwrap();
    let mine: String = src
        .lines()
        .enumerate()
        .map(|(i, l)| {
            if i == 0 {
                format!("{l}\n")
            } else {
                format!("P-{l}\n")
            }
        })
        .collect();
    let n_mine = src.lines().count() as u64 - 1;
    assert!(n_mine > 0);
    let f = dir.path().join("dea-sightings.csv");
    std::fs::write(&f, mine).unwrap();
    rastro(&pdb, &["-q", "ingest", f.to_str().unwrap()]);
    let o = run(
        &pdb,
        &[
            "--as",
            "agente",
            "federate",
            "push",
            "--to",
            &api,
            "--collection",
            &inbox,
            "--for",
            "SEMAR",
            "--token-file",
            tf,
            "--json",
        ],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let st = json(&o);
    assert_eq!(st["failure_count"], 0, "{st}");
    assert!(st["success_count"].as_u64().unwrap() > n_mine, "{st}");
    // A second partner node pulls on a schedule, from `serve --federate FILE`: its first pull
    // runs as it starts.
    let p2 = dir.path().join("partner2.db");
    partner_node(&p2, &hdb);
    let fed = dir.path().join("federation.toml");
    std::fs::write(
        &fed,
        format!(
            "[[pull]]\nfrom = {api:?}\ncollection = {shared:?}\npeer = \"SEMAR\"\ntoken_file = {tf:?}\nevery_s = 60\n"
        ),
    )
    .unwrap();
    let mut p2srv = std::process::Command::new(env!("CARGO_BIN_EXE_rastro"))
        .arg("--db")
        .arg(&p2)
        .args([
            "serve",
            "--addr",
            "127.0.0.1:0",
            "--federate",
            fed.to_str().unwrap(),
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Bounded wait for the background pull's effect (not a timing assertion).
    let mut places = 0;
    for _ in 0..300 {
        places = records_of(&stats(&p2), "place");
        if places == records_of(&pst, "place") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert_eq!(
        places,
        records_of(&pst, "place"),
        "the scheduled pull brought what the manual one did"
    );
    p2srv.kill().unwrap();
    p2srv.wait().unwrap();
    host.kill().unwrap();
    host.wait().unwrap();
    let host_after = stats(&hdb);
    assert_eq!(
        host_after["observations"].as_u64().unwrap(),
        host_before["observations"].as_u64().unwrap() + n_mine,
        "the partner's sightings were taken, once each"
    );

    // Each log records the exchange.
    let hlog =
        String::from_utf8_lossy(&rastro(&hdb, &["audit", "log", "--json"]).stdout).into_owned();
    for a in ["taxii.publish", "taxii.post", "share.import", "\"taxii\""] {
        assert!(hlog.contains(a), "the host's log has {a}");
    }
    let plog =
        String::from_utf8_lossy(&rastro(&pdb, &["audit", "log", "--json"]).stdout).into_owned();
    for a in ["federate.pull", "share.import", "share.export"] {
        assert!(plog.contains(a), "the partner's log has {a}");
    }

    // Heads: the partner checks the host's new head under the pinned key and that the host's
    // log only grew since the first head; the host checks the partner's.
    let h2 = dir.path().join("host-head-2.json");
    std::fs::write(&h2, rastro(&hdb, &["audit", "head"]).stdout).unwrap();
    let size1 = json(&rastro(&hdb, &["audit", "head"]))["tree_size"]
        .as_u64()
        .unwrap();
    let first: Value = serde_json::from_slice(&std::fs::read(&h1).unwrap()).unwrap();
    let second: Value = serde_json::from_slice(&std::fs::read(&h2).unwrap()).unwrap();
    assert!(second["tree_size"].as_u64() > first["tree_size"].as_u64());
    assert!(size1 >= second["tree_size"].as_u64().unwrap());
    let proof = dir.path().join("proof.json");
    let from = first["tree_size"].as_u64().unwrap().to_string();
    let to = second["tree_size"].as_u64().unwrap().to_string();
    std::fs::write(
        &proof,
        rastro(
            &hdb,
            &["audit", "consistency", "--from", &from, "--to", &to],
        )
        .stdout,
    )
    .unwrap();
    let check = |db: &Path, args: &[&str]| {
        let mut a = vec!["audit", "check-head"];
        a.extend_from_slice(args);
        run(db, &a)
    };
    let ok = check(
        &pdb,
        &[
            "--head",
            h2.to_str().unwrap(),
            "--public-key",
            &host_key,
            "--earlier",
            h1.to_str().unwrap(),
            "--proof",
            proof.to_str().unwrap(),
        ],
    );
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stdout)
    );
    // A forged head (another root) fails, and so does the right head under another key.
    let mut forged = second.clone();
    forged["root_hash"] = Value::String("00".repeat(32));
    let fh = dir.path().join("forged.json");
    std::fs::write(&fh, forged.to_string()).unwrap();
    let bad = check(
        &pdb,
        &["--head", fh.to_str().unwrap(), "--public-key", &host_key],
    );
    assert_eq!(bad.status.code(), Some(1));
    let p1 = dir.path().join("partner-head.json");
    std::fs::write(&p1, rastro(&pdb, &["audit", "head"]).stdout).unwrap();
    let partner_key = json(&rastro(&pdb, &["audit", "head"]))["public_key"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(partner_key, host_key, "each node has its own key");
    let ok = check(
        &hdb,
        &["--head", p1.to_str().unwrap(), "--public-key", &partner_key],
    );
    assert!(ok.status.success());
    let bad = check(
        &hdb,
        &["--head", p1.to_str().unwrap(), "--public-key", &host_key],
    );
    assert_eq!(bad.status.code(), Some(1));
}
