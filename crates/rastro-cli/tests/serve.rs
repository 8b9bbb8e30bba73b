//! `rastro serve` as a real process: it prints where it listens, answers over TCP with the
//! demo's tokens, ingests a posted record, and on SIGTERM shuts down cleanly with the write
//! kept and the audit log whole.

mod common;

use common::*;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;

fn http(addr: &str, method: &str, path: &str, token: &str, body: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).expect("connect");
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nContent-Type: text/csv\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let status = out
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = out.split("\r\n\r\n").nth(1).unwrap_or("").to_string();
    (status, body)
}

#[test]
fn serve_answers_ingests_and_stops_gracefully_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let (db, d) = small_demo(dir.path());
    let tokens = std::fs::read_to_string(d.join("tokens.txt")).unwrap();
    let token = |name: &str| {
        tokens
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{name} ")))
            .unwrap()
            .to_string()
    };
    let reports = |db: &std::path::Path| -> u64 {
        json(&rastro(db, &["stats", "--json"]))["records"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r[0] == "report")
            .and_then(|r| r[1].as_u64())
            .unwrap()
    };
    let before = reports(&db);
    let (mut child, addr) = start_server(&db);

    let (s, me) = http(&addr, "GET", "/api/v1/me", &token("analista"), "");
    assert_eq!(s, 200, "{me}");
    assert!(me.contains("SEMAR"));
    let (s, leads) = http(&addr, "GET", "/api/v1/leads", &token("analista"), "");
    assert_eq!(s, 200);
    assert!(
        leads.starts_with("[{"),
        "the host analyst sees the demo's leads: {leads}"
    );
    let (s, leads) = http(&addr, "GET", "/api/v1/leads", &token("enlace-dea"), "");
    assert_eq!((s, leads.as_str()), (200, "[]"));
    // A tip where the top lead is: once analysed, it is part of that lead's evidence.
    let top = &json(&rastro(&db, &["leads", "--json"]))[0];
    let csv = format!(
        "id,originator,tlp,releasable_to,report_kind,time,lat,lon,reliability,credibility,subjects,summary,quantity_kg,profile\nSERVE-TIP-1,SEMAR,AMBER,,tip,2026-02-20T10:00:00Z,{},{},B,2,,synthetic tip,,\n",
        top["lat"], top["lon"]
    );
    let csv = csv.as_str();
    let (s, r) = http(&addr, "POST", "/api/v1/ingest", &token("analista"), csv);
    assert_eq!(s, 200, "{r}");
    assert!(r.contains("\"inserted\":1"), "{r}");

    let st = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(st.success());
    let code = child.wait().unwrap();
    assert!(code.success(), "exit on SIGTERM: {code:?}");
    assert_eq!(
        reports(&db),
        before + 1,
        "the accepted write survived the shutdown"
    );
    // The server analysed what it ingested, as `rastro analyze` would have.
    let leads = String::from_utf8(rastro(&db, &["leads", "--json"]).stdout).unwrap();
    assert!(
        leads.contains("SERVE-TIP-1"),
        "the posted tip is lead evidence"
    );
    let verify = rastro(&db, &["audit", "verify", "--json"]);
    assert_eq!(json(&verify)["ok"], true);
}

/// Audit durability: a server killed with SIGKILL under a load of reads has, after restart, a
/// read entry for every response a client received with restricted data in it (a reply leaves
/// only once its entry is durable).
#[test]
fn every_read_a_client_received_survives_sigkill_in_the_audit_log() {
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    use std::sync::Arc;
    let dir = tempfile::tempdir().unwrap();
    let (db, d) = small_demo(dir.path());
    let tokens = std::fs::read_to_string(d.join("tokens.txt")).unwrap();
    let token = tokens
        .lines()
        .find_map(|l| l.strip_prefix("analista "))
        .unwrap()
        .to_string();
    let reads_before = |db: &std::path::Path| -> usize {
        json(&rastro(
            db,
            &["audit", "log", "--who", "analista", "--json"],
        ))
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "read")
        .count()
    };
    let before = reads_before(&db);
    let (mut child, addr) = start_server(&db);
    let received = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = (0..6)
        .map(|i| {
            let (addr, token, received, stop) = (addr.clone(), token.clone(), received.clone(), stop.clone());
            std::thread::spawn(move || {
                let paths = ["/api/v1/alerts", "/api/v1/leads", "/api/v1/consignments?limit=5"];
                let mut k = i;
                while !stop.load(Ordering::SeqCst) {
                    let Ok(mut s) = TcpStream::connect(&addr) else { break };
                    let req = format!(
                        "GET {} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n",
                        paths[k % paths.len()]
                    );
                    k += 1;
                    if s.write_all(req.as_bytes()).is_err() {
                        break;
                    }
                    let mut out = String::new();
                    if s.read_to_string(&mut out).is_err() {
                        break;
                    }
                    // A whole reply with items in it: the client has restricted data.
                    if out.starts_with("HTTP/1.1 200") && out.contains("\r\n\r\n[{") && out.trim_end().ends_with(']') {
                        received.fetch_add(1, Ordering::SeqCst);
                    }
                }
            })
        })
        .collect();
    while received.load(Ordering::SeqCst) < 150 {
        std::thread::yield_now();
    }
    // Killed while clients are still reading.
    child.kill().unwrap();
    let _ = child.wait();
    stop.store(true, Ordering::SeqCst);
    for c in clients {
        c.join().unwrap();
    }
    let got = received.load(Ordering::SeqCst) as usize;
    let logged = reads_before(&db) - before;
    assert!(got >= 150);
    assert!(
        logged >= got,
        "{got} replies with data were received, only {logged} reads logged"
    );
    let verify = rastro(&db, &["audit", "verify", "--json"]);
    assert_eq!(json(&verify)["ok"], true);
}
