//! The HTTP API end to end on an in-process router, on a generated scenario analysed per view:
//! every route of the OpenAPI document refuses a request without a valid token; every error is
//! JSON with a bounded message; releases are frozen snapshots to named recipients; failed
//! authentications are rate-limited per address; refused ingests are audited; a server whose
//! audit log is closed serves nothing; the files it creates are private (0600).

mod ni {
    pub mod gen;
}

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use ni::gen::{self, at_lab, Scenario, ORGS};
use rastro_app::{Node, OrgKind, Role};
use rastro_core::{Kind, Record};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use tower::ServiceExt;

struct World {
    dir: tempfile::TempDir,
    db: PathBuf,
    app: axum::Router,
    state: rastro_server::AppState,
    tokens: BTreeMap<&'static str, String>,
}

/// The dense scenario of the non-interference tests, with more reports at the laboratory that
/// SEMAR sees, so that SEMAR's own view has a lead there too.
fn scenario() -> Scenario {
    let mut s = gen::dense();
    s.reports.extend(at_lab(&[
        (1, 1, 15),
        (2, 0, 45),
        (1, 0, 80),
        (1, 1, 25),
        (2, 1, 35),
        (0, 1, 50),
        (1, 0, 70),
        (2, 0, 90),
    ]));
    s
}

fn world_with(limits: rastro_server::Limits) -> World {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("r.db");
    let mut node = Node::open(&db).unwrap();
    for (code, nation, kind) in ORGS {
        node.admin()
            .add_org(code, code, nation, OrgKind::parse(kind).unwrap(), 0)
            .unwrap();
    }
    node.admin()
        .add_org("AUD", "AUD", "MX", OrgKind::Regulator, 0)
        .unwrap();
    let mut tokens = BTreeMap::new();
    for (user, org, role) in [
        ("ana", "SEMAR", Role::Analyst),
        ("carla", "SEMAR", Role::Commander),
        ("fer", "FGR", Role::Analyst),
        ("bob", "DEA", Role::Liaison),
        ("eve", "AUD", Role::Auditor),
    ] {
        tokens.insert(
            user,
            node.admin().add_user(user, org, role, 0).unwrap().unwrap(),
        );
    }
    for f in gen::write_files(&dir.path().join("files"), &gen::records(&scenario())) {
        node.console()
            .ingest_path(&f, &Default::default(), &())
            .unwrap();
    }
    analyse(&db);
    drop(node);
    let state = rastro_server::AppState::open(&db, &limits).unwrap();
    World {
        app: rastro_server::router(state.clone(), &limits),
        state,
        dir,
        db,
        tokens,
    }
}

fn world() -> World {
    world_with(Default::default())
}

fn analyse(db: &Path) {
    let now = rastro_core::parse_time_ms(gen::NOW).unwrap();
    Node::open(db)
        .unwrap()
        .system("analysis")
        .analyze(now, false, &|_, _| {})
        .unwrap();
}

struct Call<'a> {
    method: &'a str,
    uri: &'a str,
    auth: Option<String>,
    content_type: Option<&'a str>,
    body: String,
    from: Option<SocketAddr>,
}

impl<'a> Call<'a> {
    fn get(uri: &'a str) -> Self {
        Call {
            method: "GET",
            uri,
            auth: None,
            content_type: None,
            body: String::new(),
            from: None,
        }
    }
    fn post(uri: &'a str, json: &str) -> Self {
        Call {
            method: "POST",
            uri,
            auth: None,
            content_type: Some("application/json"),
            body: json.into(),
            from: None,
        }
    }
    fn token(mut self, t: &str) -> Self {
        self.auth = Some(format!("Bearer {t}"));
        self
    }
}

async fn send(app: &axum::Router, c: Call<'_>) -> (StatusCode, serde_json::Value) {
    let mut req = Request::builder().method(c.method).uri(c.uri);
    if let Some(a) = &c.auth {
        req = req.header("authorization", a);
    }
    if let Some(t) = c.content_type {
        req = req.header("content-type", t);
    }
    let mut req = req.body(Body::from(c.body)).unwrap();
    if let Some(addr) = c.from {
        req.extensions_mut().insert(ConnectInfo(addr));
    }
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    let v = serde_json::from_slice(&bytes).unwrap_or_else(|_| {
        panic!(
            "{status}: the body is not JSON: {:?}",
            String::from_utf8_lossy(&bytes)
        )
    });
    (status, v)
}

#[tokio::test]
async fn every_route_of_the_openapi_document_needs_a_token() {
    let w = world();
    let doc: serde_json::Value = serde_json::from_str(&rastro_server::openapi_json()).unwrap();
    let paths = doc["paths"].as_object().unwrap();
    assert!(paths.len() >= 20, "{}", paths.len());
    let known_id =
        "rst_0123456789abcdef_0000000000000000000000000000000000000000000000000000000000000000";
    let mut checked = 0;
    for (path, item) in paths {
        for (method, op) in item.as_object().unwrap() {
            let uri = path.replace("{id}", "1");
            // Query parameters are declared as such, never as path parameters.
            for p in op["parameters"].as_array().into_iter().flatten() {
                if p["in"] == "path" {
                    assert!(
                        path.contains(&format!("{{{}}}", p["name"].as_str().unwrap())),
                        "{path}: {p}"
                    );
                }
            }
            for auth in [
                None,
                Some("rst_nonsense".to_string()),
                Some(known_id.to_string()),
                Some(format!("Basic {}", w.tokens["ana"])),
            ] {
                let mut c = if method == "get" {
                    Call::get(&uri)
                } else {
                    Call::post(&uri, "{}")
                };
                c.method = if method == "get" { "GET" } else { "POST" };
                c.auth = auth.map(|a| {
                    if a.starts_with("Basic") {
                        a
                    } else {
                        format!("Bearer {a}")
                    }
                });
                let (s, v) = send(&w.app, c).await;
                assert_eq!(s, StatusCode::UNAUTHORIZED, "{method} {path}: {v}");
                assert_eq!(v["error"], "unauthenticated", "{v}");
                assert!(v["message"].as_str().unwrap().contains("Bearer"));
            }
            checked += 1;
            // Every operation documents its errors and its security.
            for code in ["400", "401", "403", "404", "413", "415", "422", "503"] {
                assert!(
                    op["responses"].get(code).is_some(),
                    "{method} {path} lacks {code}"
                );
            }
        }
    }
    assert!(checked >= 21, "{checked}");
    // The scheme is case-insensitive (RFC 7235).
    let mut c = Call::get("/api/v1/me");
    c.auth = Some(format!("bEaReR {}", w.tokens["bob"]));
    let (s, me) = send(&w.app, c).await;
    assert_eq!(s, StatusCode::OK, "{me}");
    assert_eq!(me["org"], "DEA");
    w.state.finish();
}

#[tokio::test]
async fn every_error_is_json_with_a_bounded_message() {
    let w = world_with(rastro_server::Limits {
        max_body_bytes: 64 << 10,
        ..Default::default()
    });
    let ana = &w.tokens["ana"];
    let long = "x".repeat(5000);
    let cases: Vec<(Call<'_>, StatusCode)> = vec![
        (
            Call::get("/api/v1/alerts?since=yesterday").token(ana),
            StatusCode::BAD_REQUEST,
        ),
        (
            Call::get("/api/v1/alerts?limit=lots").token(ana),
            StatusCode::BAD_REQUEST,
        ),
        (
            Call::get("/api/v1/nothing-here").token(ana),
            StatusCode::NOT_FOUND,
        ),
        (
            Call {
                method: "DELETE",
                ..Call::get("/api/v1/me").token(ana)
            },
            StatusCode::METHOD_NOT_ALLOWED,
        ),
        (
            Call {
                content_type: Some("text/plain"),
                ..Call::post("/api/v1/leads/x/status", "{}").token(ana)
            },
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ),
        (
            Call::post("/api/v1/leads/x/status", r#"{"nope": 1}"#).token(ana),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            Call::post("/api/v1/leads/x/status", "{not json").token(ana),
            StatusCode::BAD_REQUEST,
        ),
        (
            Call {
                content_type: Some("text/csv"),
                ..Call::post("/api/v1/ingest", &"y".repeat(100 << 10)).token(ana)
            },
            StatusCode::PAYLOAD_TOO_LARGE,
        ),
    ];
    for (c, want) in cases {
        let what = format!("{} {}", c.method, c.uri);
        let (s, v) = send(&w.app, c).await;
        assert_eq!(s, want, "{what}: {v}");
        assert!(
            v["error"].is_string() && v["message"].is_string(),
            "{what}: {v}"
        );
    }
    let uri = format!("/api/v1/alerts?typology={long}");
    let (s, v) = send(&w.app, Call::get(&uri).token(ana)).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(v["message"].as_str().unwrap().len() < 700, "{v}");
    let uri = format!("/api/v1/consignments/{long}");
    let (s, v) = send(&w.app, Call::get(&uri).token(ana)).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert!(v["message"].as_str().unwrap().len() < 700, "{v}");
    w.state.finish();
}

/// Issue 13, case 2: a release names the recipients chosen and freezes the lead as approved;
/// the live lead moving on does not move the release; RED goes to organisations only.
#[tokio::test]
async fn case_2_a_release_is_a_frozen_snapshot_to_named_recipients() {
    let w = world();
    let (carla, bob, ana) = (&w.tokens["carla"], &w.tokens["bob"], &w.tokens["ana"]);
    let (_, leads) = send(&w.app, Call::get("/api/v1/leads").token(carla)).await;
    let lead = leads
        .as_array()
        .unwrap()
        .first()
        .cloned()
        .expect("SEMAR has a lead at the laboratory");
    let id = lead["id"].as_str().unwrap().to_string();
    assert_eq!(lead["marking"]["tlp"], "RED", "{lead}");
    let release_uri = format!("/api/v1/leads/{id}/release");
    let (bob_leads_before_s, bob_leads_before) =
        send(&w.app, Call::get("/api/v1/leads").token(bob)).await;
    assert_eq!(bob_leads_before_s, StatusCode::OK);

    // RED never goes to a whole nation, nor to an organisation that is not registered; only a
    // host-nation commander releases.
    for (to, want) in [
        (r#"{"to": ["US"]}"#, StatusCode::BAD_REQUEST),
        (r#"{"to": ["NOPE"]}"#, StatusCode::BAD_REQUEST),
        (r#"{"to": []}"#, StatusCode::BAD_REQUEST),
    ] {
        let (s, v) = send(&w.app, Call::post(&release_uri, to).token(carla)).await;
        assert_eq!(s, want, "{to}: {v}");
    }
    let (s, _) = send(
        &w.app,
        Call::post(&release_uri, r#"{"to": ["DEA"]}"#).token(ana),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = send(
        &w.app,
        Call::post(&release_uri, r#"{"to": ["DEA"]}"#).token(bob),
    )
    .await;
    assert!(
        s == StatusCode::FORBIDDEN || s == StatusCode::NOT_FOUND,
        "{s}"
    );
    let (_, releases) = send(&w.app, Call::get("/api/v1/releases").token(bob)).await;
    assert_eq!(
        releases,
        serde_json::json!([]),
        "no refused release left anything"
    );

    let (s, rel) = send(
        &w.app,
        Call::post(&release_uri, r#"{"to": ["DEA"]}"#).token(carla),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{rel}");
    assert_eq!(
        rel["recipients"],
        serde_json::json!(["DEA"]),
        "the recipient chosen, not the lead's list"
    );
    assert_eq!(rel["lead"]["evidence"], lead["evidence"]);
    assert_eq!(rel["lead"]["summary"], lead["summary"]);
    assert_eq!(rel["lead"]["score"], lead["score"]);
    let sha = rel["sha256"].as_str().unwrap().to_string();
    assert_eq!(sha.len(), 64);
    let rid = rel["release"].as_i64().unwrap();

    // The recipient sees the snapshot; its own leads are not changed by it.
    let (_, theirs) = send(&w.app, Call::get("/api/v1/releases").token(bob)).await;
    assert_eq!(theirs.as_array().unwrap().len(), 1, "{theirs}");
    assert_eq!(theirs[0]["sha256"], sha.as_str());
    let snapshot = theirs[0]["lead"].clone();
    let (_, bob_leads) = send(&w.app, Call::get("/api/v1/leads").token(bob)).await;
    assert_eq!(bob_leads, bob_leads_before, "no lead inherits a release");
    // Other host agencies do not see SEMAR's release.
    let (_, fers) = send(
        &w.app,
        Call::get("/api/v1/releases").token(&w.tokens["fer"]),
    )
    .await;
    assert_eq!(fers, serde_json::json!([]));

    // New evidence in the lead's cells: an FGR AMBER+STRICT tip (SEMAR cannot see it), and an
    // ANAM AMBER tip (SEMAR can). Analysis re-runs.
    let tip = |org: &str, tlp: rastro_core::Tlp, id: &str| -> Vec<u8> {
        let r = Record::Report(rastro_core::Report {
            id: id.into(),
            originator: org.into(),
            marking: rastro_core::Marking::new(tlp),
            report_kind: rastro_core::ReportKind::Tip,
            time_ms: rastro_core::parse_time_ms("2026-02-10T10:00:00Z").unwrap(),
            position: Some(rastro_core::Position {
                lat: gen::LAB.0,
                lon: gen::LAB.1,
            }),
            reliability: 'A',
            credibility: 1,
            subjects: vec![],
            summary: "synthetic tip".into(),
            quantity_kg: None,
            profile: vec![],
            valid_until_ms: None,
            precision_m: None,
        });
        let mut wtr = rastro_ingest::CsvWriter::new(Vec::new(), Kind::Report).unwrap();
        wtr.write(&r).unwrap();
        wtr.into_inner()
    };
    {
        let mut node = Node::open(&w.db).unwrap();
        let body = tip("FGR", rastro_core::Tlp::AmberStrict, "NEW-FGR-1");
        node.as_user("fer")
            .unwrap()
            .ingest(&body, None, &Default::default(), 0)
            .unwrap();
    }
    analyse(&w.db);
    let (_, live) = send(
        &w.app,
        Call::get(&format!("/api/v1/leads/{id}")).token(carla),
    )
    .await;
    assert_eq!(
        live["summary"], lead["summary"],
        "SEMAR's lead does not see FGR's strict tip"
    );
    assert_eq!(
        live["releases"][0]["changed_since_release"], false,
        "{live}"
    );
    {
        let mut node = Node::open(&w.db).unwrap();
        let body = tip("ANAM", rastro_core::Tlp::Amber, "NEW-ANAM-1");
        let mut anam = node.admin();
        anam.add_user("ali", "ANAM", Role::Analyst, 0).unwrap();
        drop(anam);
        node.as_user("ali")
            .unwrap()
            .ingest(&body, None, &Default::default(), 0)
            .unwrap();
    }
    analyse(&w.db);
    let (s, live) = send(
        &w.app,
        Call::get(&format!("/api/v1/leads/{id}")).token(carla),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "the lead keeps its id: {live}");
    assert_ne!(
        live["summary"], lead["summary"],
        "SEMAR's live lead now counts the ANAM tip"
    );
    assert_eq!(live["releases"][0]["changed_since_release"], true, "{live}");
    assert_eq!(live["releases"][0]["sha256"], sha.as_str());
    let (_, theirs) = send(
        &w.app,
        Call::get(&format!("/api/v1/releases/{rid}")).token(bob),
    )
    .await;
    assert_eq!(
        theirs["lead"], snapshot,
        "the release does not follow the live lead"
    );
    assert_eq!(theirs["sha256"], sha.as_str());

    // Every release is audited with its content hash.
    let (_, log) = send(
        &w.app,
        Call::get("/api/v1/audit?limit=1000").token(&w.tokens["eve"]),
    )
    .await;
    assert!(
        log.as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "lead.release" && e.to_string().contains(&sha)),
        "{log}"
    );

    // The host nation's auditor can have the whole chain recomputed; nobody else can.
    let (st, v) = send(
        &w.app,
        Call::get("/api/v1/audit/verify").token(&w.tokens["eve"]),
    )
    .await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["ok"], true, "{v}");
    assert!(v["entries"].as_u64().unwrap() > 0);
    for u in ["ana", "bob"] {
        let (st, _) = send(
            &w.app,
            Call::get("/api/v1/audit/verify").token(&w.tokens[u]),
        )
        .await;
        assert_eq!(st, 403, "{u} may not verify the whole chain");
    }

    // Release recipients come from the registry, for the host nation's commanders only.
    let (st, orgs) = send(&w.app, Call::get("/api/v1/orgs").token(&w.tokens["carla"])).await;
    assert_eq!(st, 200, "{orgs}");
    assert!(
        orgs.as_array()
            .unwrap()
            .iter()
            .any(|o| o["code"] == "DEA" && o["nation"] == "US"),
        "{orgs}"
    );
    for u in ["ana", "bob", "eve"] {
        let (st, _) = send(&w.app, Call::get("/api/v1/orgs").token(&w.tokens[u])).await;
        assert_eq!(
            st, 403,
            "{u} does not release, so does not list the registry"
        );
    }

    // Revoked: the recipient no longer sees it, exactly as if it had never been.
    let (s, _) = send(
        &w.app,
        Call::post(&format!("/api/v1/releases/{rid}/revoke"), "").token(carla),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let (_, theirs) = send(&w.app, Call::get("/api/v1/releases").token(bob)).await;
    assert_eq!(theirs, serde_json::json!([]));
    let (s, _) = send(
        &w.app,
        Call::get(&format!("/api/v1/releases/{rid}")).token(bob),
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    w.state.finish();
}

/// Issue 13, case 8: triage reasons are the host's; failed authentications are bounded per
/// address; refused ingests are audited and bounded.
#[tokio::test]
async fn case_8_triage_reasons_auth_failures_and_refused_ingests() {
    let w = world_with(rastro_server::Limits {
        ingest: rastro_app::ingest::IngestLimits {
            attempts_per_hour: 3,
            ..Default::default()
        },
        ..Default::default()
    });
    let (ana, bob) = (&w.tokens["ana"], &w.tokens["bob"]);
    // An alert both see (ANAM AMBER REL US inputs only), dismissed by SEMAR with a reason.
    let (_, theirs) = send(&w.app, Call::get("/api/v1/alerts").token(bob)).await;
    let (_, ours) = send(&w.app, Call::get("/api/v1/alerts").token(ana)).await;
    let shared = theirs
        .as_array()
        .unwrap()
        .iter()
        .find(|a| ours.as_array().unwrap().iter().any(|b| b["id"] == a["id"]))
        .cloned()
        .expect("an alert both nations see");
    let id = shared["id"].as_str().unwrap();
    let (s, v) = send(
        &w.app,
        Call::post(
            &format!("/api/v1/alerts/{id}/triage"),
            r#"{"state": "dismissed", "reason": "informant says routine"}"#,
        )
        .token(ana),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (_, q) = send(&w.app, Call::get("/api/v1/alert-queue").token(ana)).await;
    assert_eq!(q["triage"][id]["state"], "dismissed", "{q}");
    let (_, q) = send(&w.app, Call::get("/api/v1/alert-queue").token(bob)).await;
    assert!(!q.to_string().contains("informant"), "{q}");
    assert!(q["triage"].get(id).is_none(), "{q}");

    // Twenty failed authentications from one address, then that address is refused even with
    // a good token; another address is not.
    let here: SocketAddr = "192.0.2.7:5000".parse().unwrap();
    for _ in 0..rastro_server::MAX_FAILURES {
        let c = Call { from: Some(here), ..Call::get("/api/v1/me").token("rst_0123456789abcdef_00000000000000000000000000000000000000000000000000000000000000ff") };
        assert_eq!(send(&w.app, c).await.0, StatusCode::UNAUTHORIZED);
    }
    let c = Call {
        from: Some(here),
        ..Call::get("/api/v1/me").token(bob)
    };
    let (s, v) = send(&w.app, c).await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS, "{v}");
    let c = Call {
        from: Some("192.0.2.8:5000".parse().unwrap()),
        ..Call::get("/api/v1/me").token(bob)
    };
    assert_eq!(send(&w.app, c).await.0, StatusCode::OK);

    // A partner posting a record as a host agency is refused, audited, and counted: after
    // three attempts in the hour, the fourth is refused unread.
    let forged = "id,originator,tlp,releasable_to,report_kind,time,lat,lon,reliability,credibility,subjects,summary,quantity_kg,profile\nX-1,SEMAR,RED,,tip,2026-02-01T10:00:00Z,20.6,-103.3,B,2,,synthetic,,\n";
    for _ in 0..3 {
        let c = Call {
            content_type: Some("text/csv"),
            ..Call::post("/api/v1/ingest", forged).token(bob)
        };
        let (s, v) = send(&w.app, c).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
        assert!(
            v["message"]
                .as_str()
                .unwrap()
                .contains("nothing was ingested"),
            "{v}"
        );
    }
    let c = Call {
        content_type: Some("text/csv"),
        ..Call::post("/api/v1/ingest", forged).token(bob)
    };
    assert_eq!(send(&w.app, c).await.0, StatusCode::TOO_MANY_REQUESTS);
    let (_, log) = send(
        &w.app,
        Call::get("/api/v1/audit?limit=1000").token(&w.tokens["eve"]),
    )
    .await;
    let refused = log
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "ingest.refused")
        .count();
    assert_eq!(refused, 4, "{log}");
    w.state.finish();
}

#[tokio::test]
async fn a_server_whose_audit_log_is_closed_serves_nothing() {
    let w = world();
    let bob = &w.tokens["bob"];
    let (s, _) = send(&w.app, Call::get("/api/v1/alerts").token(bob)).await;
    assert_eq!(s, StatusCode::OK);
    w.state.finish();
    for uri in [
        "/api/v1/alerts",
        "/api/v1/leads",
        "/api/v1/consignments",
        "/api/v1/releases",
    ] {
        let (s, v) = send(&w.app, Call::get(uri).token(bob)).await;
        assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE, "{uri}: {v}");
        assert!(v.get("alerts").is_none() && !v.is_array(), "{v}");
    }
}

#[cfg(unix)]
#[tokio::test]
async fn the_files_the_node_creates_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let w = world();
    let (s, _) = send(&w.app, Call::get("/api/v1/alerts").token(&w.tokens["bob"])).await;
    assert_eq!(s, StatusCode::OK);
    let key = w.dir.path().join("head.key");
    Node::open(&w.db)
        .unwrap()
        .console()
        .sign_head(Some(&key), 0)
        .unwrap();
    let mut seen = 0;
    for name in ["r.db", "r.db-wal", "r.db-shm", "head.key"] {
        let p = w.dir.path().join(name);
        if let Ok(m) = std::fs::metadata(&p) {
            assert_eq!(m.permissions().mode() & 0o777, 0o600, "{name}");
            seen += 1;
        }
    }
    assert!(seen >= 3, "the database, its WAL and the key exist");
    w.state.finish();
}

#[tokio::test(start_paused = true)]
async fn a_client_that_never_finishes_its_body_is_cut_off() {
    // The clock is paused and advances only when every task waits, so the request timeout
    // fires without the test waiting for it in real time.
    let w = world();
    let stalled = futures_util::stream::pending::<Result<axum::body::Bytes, std::io::Error>>();
    let req = Request::builder()
        .method("POST")
        .uri("/api/v1/ingest")
        .header("authorization", format!("Bearer {}", w.tokens["ana"]))
        .body(Body::from_stream(stalled))
        .unwrap();
    let resp = w.app.clone().oneshot(req).await.unwrap();
    assert_eq!(resp.status(), StatusCode::REQUEST_TIMEOUT);
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    assert!(v["message"].is_string(), "{v}");
}

#[tokio::test]
async fn operations_over_the_api_follow_the_law_and_refuse_stale_versions() {
    let w = world();
    let (carla, bob, ana, fer) = (
        &w.tokens["carla"],
        &w.tokens["bob"],
        &w.tokens["ana"],
        &w.tokens["fer"],
    );
    let (_, leads) = send(&w.app, Call::get("/api/v1/leads").token(carla)).await;
    let lead = leads[0]["id"]
        .as_str()
        .expect("SEMAR has a lead")
        .to_string();
    let body = format!(r#"{{"id": "op-a", "objective": "verify", "leads": ["{lead}"]}}"#);
    // A partner does not plan operations on national territory; the rule is quoted.
    let (s, v) = send(&w.app, Call::post("/api/v1/operations", &body).token(bob)).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .contains("[rule territory.host_nation (line"),
        "{v}"
    );
    let (s, op) = send(&w.app, Call::post("/api/v1/operations", &body).token(ana)).await;
    assert_eq!(s, StatusCode::OK, "{op}");
    assert_eq!(
        (op["state"].as_str(), op["view"].as_str()),
        (Some("draft"), Some("full"))
    );
    let v0 = op["version"].as_u64().unwrap();
    let act = |json: String| {
        Call::post(
            "/api/v1/operations/op-a/actions",
            Box::leak(json.into_boxed_str()),
        )
    };
    let (s, v) = send(&w.app, act(format!(r#"{{"action": "edit", "version": {v0}, "commander": "carla", "sites": [{{"label": "s", "lat": 24.8, "lon": -107.4, "radius_m": 250}}], "start": "2026-05-01T00:00:00Z", "end": "2026-05-02T00:00:00Z"}}"#)).token(ana)).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    // The same version again is a conflict, not a merge; the API always names a version.
    let (s, v) = send(
        &w.app,
        act(format!(r#"{{"action": "propose", "version": {v0}}}"#)).token(ana),
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    let (s, v) = send(&w.app, act(r#"{"action": "propose"}"#.into()).token(ana)).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    // A foreign adviser joins; the partner then sees the operation, as the law allows.
    let (s, _) = send(&w.app, Call::get("/api/v1/operations/op-a").token(bob)).await;
    assert_eq!(
        s,
        StatusCode::NOT_FOUND,
        "not a participant: as if it did not exist"
    );
    let (s, v) = send(
        &w.app,
        act(format!(
            r#"{{"action": "join", "version": {}, "user": "bob", "role": "ground"}}"#,
            v0 + 1
        ))
        .token(ana),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    let (s, v) = send(
        &w.app,
        act(format!(
            r#"{{"action": "join", "version": {}, "user": "bob", "role": "advisory"}}"#,
            v0 + 1
        ))
        .token(ana),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (s, p) = send(&w.app, Call::get("/api/v1/operations/op-a").token(bob)).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(p["view"], "partner");
    assert!(
        p["sites"].is_null() && p["start"].is_null() && p["version"].is_null(),
        "{p}"
    );
    assert!(p["leads"].as_array().unwrap().is_empty(), "{p}");
    // FGR has no part in it.
    let (_, list) = send(&w.app, Call::get("/api/v1/operations").token(fer)).await;
    assert_eq!(list, serde_json::json!([]));
    // A package over the API, and its printable page.
    let (s, pkg) = send(
        &w.app,
        Call::post(
            "/api/v1/packages",
            &format!(r#"{{"leads": ["{lead}"], "lang": "en", "pap": "PAP:AMBER"}}"#),
        )
        .token(carla),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{pkg}");
    let id = pkg["id"].as_str().unwrap();
    assert_eq!(pkg["marking"]["tlp"], "RED");
    let req = Request::builder()
        .uri(format!("/api/v1/packages/{id}/html"))
        .header("authorization", format!("Bearer {carla}"))
        .body(Body::empty())
        .unwrap();
    let resp = w.app.clone().oneshot(req).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(resp.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let html = resp.into_body().collect().await.unwrap().to_bytes();
    assert!(String::from_utf8_lossy(&html).contains("Intelligence package"));
    let (s, _) = send(
        &w.app,
        Call::get(&format!("/api/v1/packages/{id}")).token(bob),
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "another organisation's package");
}

#[tokio::test]
async fn stix_bundles_over_the_api_hold_what_both_may_read_and_speak_for_the_caller() {
    let w = world();
    let (carla, bob) = (&w.tokens["carla"], &w.tokens["bob"]);
    let (s, b) = send(
        &w.app,
        Call::get("/api/v1/share/export?for=DEA").token(carla),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["type"], "bundle");
    // For FGR (a Mexican agency) the bundle holds at least as much as for DEA.
    let (_, f) = send(
        &w.app,
        Call::get("/api/v1/share/export?for=FGR").token(carla),
    )
    .await;
    let n = |v: &serde_json::Value| v["objects"].as_array().unwrap().len();
    assert!(n(&f) >= n(&b), "{} for FGR, {} for DEA", n(&f), n(&b));
    let (s, v) = send(
        &w.app,
        Call::get("/api/v1/share/export?for=NOBODY").token(carla),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    // The liaison may not post SEMAR's bundle as DEA's.
    let text = f.to_string();
    let (s, v) = send(&w.app, Call::post("/api/v1/share/import", &text).token(bob)).await;
    assert!(
        f["objects"]
            .as_array()
            .unwrap()
            .iter()
            .any(|o| o["type"] == "location"),
        "the bundle holds the host's records"
    );
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .contains("a partner imports only what its organisation created"),
        "{v}"
    );
    // Its own object, no creator named, AMBER for Mexico: kept as it came.
    let own = r#"{"type": "bundle", "id": "bundle--5d0f3a52-1c1e-4a8e-9d55-2f1c9b8f7a10", "objects": [
        {"type": "indicator", "spec_version": "2.1", "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
         "created": "2026-01-10T00:00:00.000Z", "modified": "2026-01-10T00:00:00.000Z",
         "name": "n", "pattern": "[ipv4-addr:value = '198.51.100.1']", "pattern_type": "stix",
         "valid_from": "2026-01-10T00:00:00Z",
         "object_marking_refs": ["marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"]}]}"#;
    let (s, v) = send(&w.app, Call::post("/api/v1/share/import", own).token(bob)).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["stored"], 1, "{v}");
    // The sender reads its own; a Mexican analyst does not (DEA's AMBER is for the US).
    let (s, seen) = send(&w.app, Call::get("/api/v1/share/objects").token(bob)).await;
    assert_eq!(s, StatusCode::OK, "{seen}");
    assert_eq!(
        seen.as_array().unwrap().len(),
        1,
        "the sender reads its own"
    );
    let (_, ana_sees) = send(
        &w.app,
        Call::get("/api/v1/share/objects").token(&w.tokens["ana"]),
    )
    .await;
    assert!(
        ana_sees.as_array().unwrap().is_empty(),
        "DEA's AMBER is for the US: {ana_sees}"
    );
    let (s, v) = send(
        &w.app,
        Call::post("/api/v1/share/import", "{not json").token(bob),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
}
