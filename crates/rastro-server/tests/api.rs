//! The HTTP API end to end on an in-process router: a host-nation analyst, a host-nation
//! commander and a partner liaison against the same data, every endpoint, and the attacks
//! the access issue lists (bad tokens, foreign originators, weak markings, oversized bodies,
//! path traversal, SQL metacharacters), each refused with nothing partly applied.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use rastro_core::{Marking, Tlp};
use rastro_server::{router, AppState, Limits};
use rastro_store::{OrgRow, Store};
use tower::ServiceExt;

struct World {
    _dir: tempfile::TempDir,
    db: std::path::PathBuf,
    app: axum::Router,
    ana: String,
    carla: String,
    bob: String,
    eve: String,
}

fn add_user(store: &mut Store, name: &str, org: &str, role: &str) -> String {
    let (row, token) = rastro_policy::token::new_user(name, org, role).unwrap();
    store.add_user(&row, 0).unwrap();
    token
}

fn world(max_body_bytes: usize) -> World {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("r.db");
    let mut store = Store::open(&db).unwrap();
    for (code, nation) in [
        ("ANAM", "MX"),
        ("SEMAR", "MX"),
        ("FGR", "MX"),
        ("DEA", "US"),
        ("AUD", "MX"),
    ] {
        store
            .add_org(
                &OrgRow {
                    code: code.into(),
                    name: code.into(),
                    nation: nation.into(),
                    kind: "other".into(),
                },
                0,
            )
            .unwrap();
    }
    let ana = add_user(&mut store, "ana", "SEMAR", "analyst");
    let carla = add_user(&mut store, "carla", "SEMAR", "commander");
    let bob = add_user(&mut store, "bob", "DEA", "liaison");
    let eve = add_user(&mut store, "eve", "AUD", "auditor");
    // The example files: consignments, custody, observations, reports, ...
    let examples =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/examples");
    let mut files: Vec<_> = std::fs::read_dir(&examples)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    for f in files
        .iter()
        .filter(|f| f.extension().is_some_and(|e| e == "csv"))
    {
        rastro_pipeline::ingest_path(&mut store, f, &Default::default(), &()).unwrap();
    }
    // Two place alerts as analysis marks them: one for Mexico only, one also released to the US.
    let alert = |id: &str, rel: &[&str]| rastro_core::Alert {
        id: id.into(),
        typology: rastro_core::Typology::Convergence,
        subject: format!("cell:{id}"),
        time_ms: 0,
        lat: Some(20.6),
        lon: Some(-103.3),
        score: 0.9,
        evidence: vec![],
        summary: String::new(),
        marking: Marking {
            tlp: Tlp::Amber,
            releasable_to: rel.iter().map(|r| r.to_string()).collect(),
        },
    };
    store
        .replace_fleet_alerts(
            rastro_core::Typology::Convergence,
            &[alert("A-MX", &["MX"]), alert("A-MX-US", &["MX", "US"])],
        )
        .unwrap();
    drop(store);
    let limits = Limits {
        max_body_bytes,
        ..Default::default()
    };
    let state = AppState::open(&db, &limits, Default::default()).unwrap();
    World {
        app: router(state, &limits),
        _dir: dir,
        db,
        ana,
        carla,
        bob,
        eve,
    }
}

async fn call(
    app: &axum::Router,
    method: &str,
    uri: &str,
    token: Option<&str>,
    body: &str,
) -> (StatusCode, serde_json::Value) {
    let mut req = Request::builder().method(method).uri(uri);
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    if !body.is_empty() && body.starts_with('{') {
        req = req.header("content-type", "application/json");
    }
    let resp = app
        .clone()
        .oneshot(req.body(Body::from(body.to_string())).unwrap())
        .await
        .unwrap();
    let status = resp.status();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    let v = serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null);
    (status, v)
}

fn report_csv(originator: &str, tlp: &str, rel: &str, id: &str) -> String {
    // One tip, in the example file's own columns.
    let header = rastro_ingest::columns(rastro_core::Kind::Report).join(",");
    let mut rec = std::collections::BTreeMap::new();
    rec.insert("id", id.to_string());
    rec.insert("originator", originator.to_string());
    rec.insert("tlp", tlp.to_string());
    rec.insert("releasable_to", rel.to_string());
    rec.insert("report_kind", "tip".to_string());
    rec.insert("time", "2026-02-01T10:00:00Z".to_string());
    rec.insert("lat", "20.6".to_string());
    rec.insert("lon", "-103.3".to_string());
    rec.insert("reliability", "B".to_string());
    rec.insert("credibility", "2".to_string());
    rec.insert("summary", "synthetic tip".to_string());
    let row: Vec<String> = rastro_ingest::columns(rastro_core::Kind::Report)
        .iter()
        .map(|c| rec.get(c).cloned().unwrap_or_default())
        .collect();
    format!("{header}\n{}\n", row.join(","))
}

#[tokio::test]
async fn every_endpoint_answers_each_viewer_with_what_it_may_see() {
    let w = world(1 << 20);
    let app = &w.app;
    // Health needs no token; everything else does.
    assert_eq!(
        call(app, "GET", "/api/v1/health", None, "").await.0,
        StatusCode::OK
    );
    for bad in [
        None,
        Some("rst_nonsense"),
        Some(
            "rst_0123456789abcdef_0000000000000000000000000000000000000000000000000000000000000000",
        ),
    ] {
        for path in [
            "/api/v1/me",
            "/api/v1/alerts",
            "/api/v1/leads",
            "/api/v1/stats",
            "/api/v1/audit",
        ] {
            let (s, v) = call(app, "GET", path, bad, "").await;
            assert_eq!(s, StatusCode::UNAUTHORIZED, "{path} {bad:?}");
            assert!(v["error"].as_str().unwrap().contains("Bearer"));
        }
    }
    let (s, me) = call(app, "GET", "/api/v1/me", Some(&w.bob), "").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(me["org"], "DEA");
    assert_eq!(me["nation"], "US");

    // Alerts: the partner sees only those whose every input was released to it.
    let (_, aa) = call(app, "GET", "/api/v1/alerts?limit=1000", Some(&w.ana), "").await;
    let (_, ab) = call(app, "GET", "/api/v1/alerts?limit=1000", Some(&w.bob), "").await;
    let (aa, ab) = (aa.as_array().unwrap(), ab.as_array().unwrap());
    assert!(
        !aa.is_empty() && aa.len() >= ab.len(),
        "{} {}",
        aa.len(),
        ab.len()
    );
    for a in ab {
        let rel = a["marking"]["releasable_to"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let tlp = a["marking"]["tlp"].as_str().unwrap();
        assert!(
            tlp == "CLEAR" || tlp == "GREEN" || rel.iter().any(|r| r == "US" || r == "DEA"),
            "{a}"
        );
    }
    let (s, _) = call(
        app,
        "GET",
        "/api/v1/alerts?since=yesterday",
        Some(&w.ana),
        "",
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);

    // Triage: malformed requests are 400 with the reason, hidden alerts 404, partners 403.
    let triage = |id: &str| format!("/api/v1/alerts/{id}/triage");
    let (s, v) = call(
        app,
        "POST",
        &triage("A-MX"),
        Some(&w.ana),
        r#"{"state": "shelved"}"#,
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    assert!(v["error"].as_str().unwrap().contains("acknowledged"));
    let (s, v) = call(
        app,
        "POST",
        &triage("A-MX"),
        Some(&w.ana),
        r#"{"state": "dismissed"}"#,
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    assert!(v["error"].as_str().unwrap().contains("reason"));
    let (s, _) = call(
        app,
        "POST",
        &triage("A-MX"),
        Some(&w.bob),
        r#"{"state": "acknowledged"}"#,
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = call(
        app,
        "POST",
        &triage("A-MX-US"),
        Some(&w.bob),
        r#"{"state": "acknowledged"}"#,
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = call(
        app,
        "POST",
        &triage("A-MX"),
        Some(&w.ana),
        r#"{"state": "escalated"}"#,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let (_, q) = call(app, "GET", "/api/v1/alert-queue", Some(&w.ana), "").await;
    assert_eq!(q["triage"]["A-MX"]["state"], "escalated");

    // Counts: the partner's never exceed the host analyst's, and never include AMBER host data.
    let (_, sa) = call(app, "GET", "/api/v1/stats", Some(&w.ana), "").await;
    let (_, sb) = call(app, "GET", "/api/v1/stats", Some(&w.bob), "").await;
    assert!(sa["visible"]["consignment"].as_u64().unwrap() > 0, "{sa}");
    assert!(sb["visible"].get("consignment").is_none(), "{sb}");

    // A consignment: visible to the host analyst, answered like a missing one for the partner.
    let store = Store::open(&w.db).unwrap();
    let c = store.records(rastro_core::Kind::Consignment, 0, 1).unwrap()[0]
        .record
        .id()
        .to_string();
    drop(store);
    let (s, v) = call(
        app,
        "GET",
        &format!("/api/v1/consignments/{c}"),
        Some(&w.ana),
        "",
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["consignment"]["id"], c.as_str());
    let (s1, v1) = call(
        app,
        "GET",
        &format!("/api/v1/consignments/{c}"),
        Some(&w.bob),
        "",
    )
    .await;
    let (s2, v2) = call(app, "GET", "/api/v1/consignments/NOPE", Some(&w.bob), "").await;
    assert_eq!((s1, s2), (StatusCode::NOT_FOUND, StatusCode::NOT_FOUND));
    assert_eq!(
        v1["error"].as_str().unwrap().replace(&c, "X"),
        v2["error"].as_str().unwrap().replace("NOPE", "X")
    );

    // The audit log is for auditors; the partner's reads are in it under their name.
    assert_eq!(
        call(app, "GET", "/api/v1/audit", Some(&w.ana), "").await.0,
        StatusCode::FORBIDDEN
    );
    let (s, log) = call(
        app,
        "GET",
        "/api/v1/audit?who=ana&limit=1000",
        Some(&w.eve),
        "",
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        log.as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "read"),
        "{log}"
    );

    // Ingest: the host analyst posts a SEMAR tip at RED for Mexico; it is stored and quarantine
    // works as for files; the same body twice is a duplicate, not a second record.
    let body = report_csv("SEMAR", "RED", "MX", "API-TIP-1");
    let (s, r) = call(app, "POST", "/api/v1/ingest", Some(&w.ana), &body).await;
    assert_eq!(s, StatusCode::OK, "{r}");
    assert_eq!(r["inserted"], 1);
    let (_, r2) = call(app, "POST", "/api/v1/ingest", Some(&w.ana), &body).await;
    assert_eq!(r2["inserted"], 0);
    assert_eq!(r2["duplicates"], 1);
    let bad_cas = body.replace("API-TIP-1", "API-TIP-2").replace(",2,", ",9,");
    let (s, r3) = call(app, "POST", "/api/v1/ingest", Some(&w.ana), &bad_cas).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        r3["quarantined"], 1,
        "credibility 9 is quarantined with a reason: {r3}"
    );

    // Attacks, each refused with nothing written.
    let before = Store::open(&w.db)
        .unwrap()
        .stats()
        .unwrap()
        .records
        .iter()
        .map(|r| r.1)
        .sum::<u64>();
    let forged = report_csv("ANAM", "RED", "MX", "API-TIP-3");
    let (s, v) = call(app, "POST", "/api/v1/ingest", Some(&w.ana), &forged).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert!(
        v["error"]
            .as_str()
            .unwrap()
            .contains("not your organisation"),
        "{v}"
    );
    let weak = report_csv("DEA", "GREEN", "", "API-TIP-4");
    let (s, v) = call(app, "POST", "/api/v1/ingest", Some(&w.bob), &weak).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert!(v["error"].as_str().unwrap().contains("AMBER"), "{v}");
    let (s, _) = call(
        app,
        "POST",
        "/api/v1/ingest",
        Some(&w.eve),
        &report_csv("AUD", "RED", "", "API-TIP-5"),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let huge = "x".repeat(2 << 20);
    let (s, _) = call(app, "POST", "/api/v1/ingest", Some(&w.ana), &huge).await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE);
    for path in [
        "/api/v1/leads/..%2F..%2Fetc%2Fpasswd",
        "/api/v1/consignments/..%2Fr.db",
        "/api/v1/consignments/x'%3B%20DROP%20TABLE%20record%3B%20--",
        "/api/v1/leads/%22%20OR%201%3D1%20--",
    ] {
        let (s, _) = call(app, "GET", path, Some(&w.ana), "").await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{path}");
    }
    let (s, _) = call(
        app,
        "GET",
        "/api/v1/alerts?typology=x'%20OR%20'1'%3D'1",
        Some(&w.ana),
        "",
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let after = Store::open(&w.db)
        .unwrap()
        .stats()
        .unwrap()
        .records
        .iter()
        .map(|r| r.1)
        .sum::<u64>();
    assert_eq!(before, after, "no refused request wrote anything");

    // Revocation takes effect at the next request, even with a cached token.
    let mut store = Store::open(&w.db).unwrap();
    store.revoke_user("bob", 1).unwrap();
    drop(store);
    assert_eq!(
        call(app, "GET", "/api/v1/me", Some(&w.bob), "").await.0,
        StatusCode::UNAUTHORIZED
    );
    let _ = &w.carla;
}

#[tokio::test]
async fn leads_are_released_to_partners_only_by_host_commanders() {
    let w = world(1 << 20);
    let app = &w.app;
    // A lead built from host data, stored directly: RED for Mexico.
    let mut store = Store::open(&w.db).unwrap();
    let mut m = Marking::new(Tlp::Red);
    m.releasable_to.insert("MX".into());
    let lead = rastro_core::Lead {
        id: "lead-test".into(),
        rank: 1,
        score: 3.0,
        lat: 20.6,
        lon: -103.3,
        cells: vec!["8949ab59a3bffff".into()],
        resolution: 9,
        z_max: 5.0,
        p_min: 1e-6,
        evidence_mass: 3.0,
        background: 0.0,
        kinds: 1,
        evidence: vec![rastro_core::Contribution {
            evidence: rastro_core::Evidence {
                origin: "TIP-X".into(),
                kind: rastro_core::EvidenceKind::Tip,
                detail: "B2".into(),
                time_ms: 0,
                lat: 20.6,
                lon: -103.3,
                weight: 0.5,
                marking: m.clone(),
            },
            cell: "8949ab59a3bffff".into(),
            contribution: 0.5,
        }],
        marking: m,
        status: rastro_core::LeadStatus::New,
        status_note: None,
        last_seen_ms: 0,
        summary: "test".into(),
    };
    store.replace_leads(&[lead]).unwrap();
    drop(store);
    let (_, l) = call(app, "GET", "/api/v1/leads", Some(&w.ana), "").await;
    assert_eq!(l.as_array().unwrap().len(), 1);
    let (_, l) = call(app, "GET", "/api/v1/leads", Some(&w.bob), "").await;
    assert!(l.as_array().unwrap().is_empty());
    // The partner cannot release or decide; the analyst cannot release; the commander can.
    let (s, v) = call(
        app,
        "POST",
        "/api/v1/leads/lead-test/release",
        Some(&w.carla),
        r#"{"to": ["x y"]}"#,
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    let rel = r#"{"to": ["US"]}"#;
    assert_eq!(
        call(
            app,
            "POST",
            "/api/v1/leads/lead-test/release",
            Some(&w.bob),
            rel
        )
        .await
        .0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        call(
            app,
            "POST",
            "/api/v1/leads/lead-test/release",
            Some(&w.ana),
            rel
        )
        .await
        .0,
        StatusCode::FORBIDDEN
    );
    let (s, v) = call(
        app,
        "POST",
        "/api/v1/leads/lead-test/release",
        Some(&w.carla),
        rel,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    // Now the partner sees the lead, but not the RED tip behind it.
    let (s, v) = call(app, "GET", "/api/v1/leads/lead-test", Some(&w.bob), "").await;
    assert_eq!(s, StatusCode::OK);
    assert!(v["evidence"].as_array().unwrap().is_empty(), "{v}");
    let (s, v) = call(
        app,
        "POST",
        "/api/v1/leads/lead-test/status",
        Some(&w.ana),
        r#"{"status": "under_review", "note": "checking"}"#,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["status"], "under_review");
    assert_eq!(
        call(
            app,
            "POST",
            "/api/v1/leads/lead-test/status",
            Some(&w.bob),
            r#"{"status": "closed"}"#
        )
        .await
        .0,
        StatusCode::FORBIDDEN
    );
    // The release is on the audit log.
    let (_, log) = call(
        app,
        "GET",
        "/api/v1/audit?record=lead-test",
        Some(&w.eve),
        "",
    )
    .await;
    assert!(
        log.as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "lead.release"),
        "{log}"
    );
}

#[tokio::test]
async fn the_openapi_document_lists_every_route() {
    let w = world(1 << 20);
    let (s, doc) = call(&w.app, "GET", "/api/v1/openapi.json", None, "").await;
    assert_eq!(s, StatusCode::OK);
    let paths: Vec<&str> = doc["paths"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    for p in [
        "/api/v1/alerts",
        "/api/v1/leads",
        "/api/v1/leads/{id}",
        "/api/v1/leads/{id}/status",
        "/api/v1/leads/{id}/release",
        "/api/v1/consignments/{id}",
        "/api/v1/stats",
        "/api/v1/audit",
        "/api/v1/ingest",
        "/api/v1/me",
        "/api/v1/health",
    ] {
        assert!(paths.contains(&p), "{p} missing from {paths:?}");
    }
    assert!(doc["components"]["securitySchemes"]["token"].is_object());
    let (s, _) = call(&w.app, "GET", "/api/v1/nothing-here", None, "").await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

#[tokio::test(start_paused = true)]
async fn a_client_that_never_finishes_its_body_is_cut_off() {
    // The clock is paused and advances only when every task waits, so the request timeout
    // fires without the test waiting for it in real time.
    let w = world(1 << 20);
    let stalled = futures_util::stream::pending::<Result<axum::body::Bytes, std::io::Error>>();
    let req = Request::builder()
        .method("POST")
        .uri("/api/v1/ingest")
        .header("authorization", format!("Bearer {}", w.ana))
        .body(Body::from_stream(stalled))
        .unwrap();
    let resp = w.app.clone().oneshot(req).await.unwrap();
    assert_eq!(resp.status(), StatusCode::REQUEST_TIMEOUT);
}
