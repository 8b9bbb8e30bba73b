//! Non-interference, the definition of "no leak": for every viewer, a database that holds
//! records the viewer may not see gives that viewer exactly the answers of a database from
//! which every such record was deleted — on every read path of the application layer (what
//! the CLI's `--as` prints) and of the HTTP API (what the web UI reads), texts, counts,
//! scores, ranks, statuses, tracks, stops, errors included. The records a viewer may see are
//! decided by an oracle written here from the TLP 2.0 rules, independently of the policy code.
//!
//! Scenarios are generated (organisations of two nations, markings on every record kind,
//! parties linked through shared identifiers, diverted trips, reports), analysed per view as a
//! deployment would, then compared. Releases are the declared exception (a declassification)
//! and have their own tests. Timings are not compared (see docs/security.md).

mod ni {
    pub mod gen;
}

use axum::body::Body;
use axum::http::Request;
use http_body_util::BodyExt;
use ni::gen::{self, Scenario, ORGS};
use proptest::prelude::*;
use rastro_app::{AlertFilter, Node, ObservationQuery, OrgKind, Role};
use rastro_core::{ConsignmentStatus, Kind, Record};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use tower::ServiceExt;

/// One database: its path, and each user's token in it.
struct Db {
    path: PathBuf,
    tokens: BTreeMap<String, String>,
}

fn user_of(org: &str) -> String {
    format!("u-{}", org.to_ascii_lowercase())
}

fn build(dir: &Path, name: &str, records: &[Record]) -> Db {
    build_with(dir, name, records, true)
}

/// [`build`], with or without SEMAR's operation.
fn build_with(dir: &Path, name: &str, records: &[Record], with_ops: bool) -> Db {
    let path = dir.join(format!("{name}.db"));
    let mut node = Node::open(&path).unwrap();
    let mut tokens = BTreeMap::new();
    for (code, nation, kind) in ORGS {
        node.admin()
            .add_org(code, code, nation, OrgKind::parse(kind).unwrap(), 0)
            .unwrap();
        let role = if code == "SEMAR" {
            Role::Commander
        } else {
            Role::Analyst
        };
        let t = node
            .admin()
            .add_user(&user_of(code), code, role, 0)
            .unwrap()
            .unwrap();
        tokens.insert(user_of(code), t);
    }
    for f in gen::write_files(&dir.join(format!("{name}-files")), records) {
        node.console()
            .ingest_path(&f, &Default::default(), &())
            .unwrap();
    }
    let now = rastro_core::parse_time_ms(gen::NOW).unwrap();
    node.system("analysis")
        .analyze(now, true, &|_, _| {})
        .unwrap();
    request(&mut node, now);
    if with_ops {
        operations(&mut node, now);
    }
    // Again, so lead scoring learns from the operation's outcome.
    node.system("analysis")
        .analyze(now, true, &|_, _| {})
        .unwrap();
    taxii(&mut node, now);
    Db { path, tokens }
}

/// SEMAR's commander publishes to the partners' TAXII collections, and DEA posts one object
/// of its own to its inbox, at fixed times.
fn taxii(node: &mut Node, now: i64) {
    let mut g = node.as_user("u-semar").unwrap();
    for to in ["DEA", "CBP"] {
        g.taxii_publish(to, now).unwrap();
    }
    drop(g);
    let mut g = node.as_user("u-dea").unwrap();
    let inbox = rastro_app::taxii::collection_id("DEA", rastro_app::taxii::CollectionKind::Inbox);
    let env = serde_json::json!({"objects": [{
        "type": "indicator", "spec_version": "2.1",
        "id": "indicator--00000000-0000-4000-8000-000000000001",
        "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z",
        "pattern": "[x-rastro-sighting:subject = 'V-0']", "pattern_type": "stix",
        "valid_from": "2026-01-01T00:00:00Z",
        "object_marking_refs": ["marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"],
    }]});
    let st = g
        .taxii_post(&inbox, env.to_string().as_bytes(), &Default::default(), now)
        .unwrap();
    assert_eq!(st.success_count, 1, "{st:?}");
}

/// DEA asks for a surveillance of an area, with content of its own, at a fixed time.
fn request(node: &mut Node, now: i64) {
    let mut g = node.as_user("u-dea").unwrap();
    let area = rastro_ops::RequestKind::Surveillance {
        of: rastro_ops::Target::Area {
            min_lat: 19.0,
            min_lon: -100.0,
            max_lat: 20.0,
            max_lon: -99.0,
        },
    };
    let _ = g.create_request(
        "req-ni",
        area,
        "aerial watch",
        "MLAT (synthetic)",
        (now, now + 86_400_000),
        now + 86_400_000,
        now,
    );
    drop(g);
}

/// SEMAR, if it has a lead, runs an operation on its best lead to a close (a laboratory confirmed), with a package, and DEA
/// makes a surveillance request, all at fixed times. What the operation teaches the owner's
/// lead scoring, and the operation itself, must reach no other organisation's answers; the
/// request, with content of its own, reads the same in both databases. Always SEMAR, never
/// whichever organisation has a lead: which organisation acts is a human choice, and a
/// harness that let the data choose would make one organisation's action depend on
/// another's records. Returns the owner.
fn operations(node: &mut Node, now: i64) -> Option<&'static str> {
    use rastro_app::ops::OpsCommand as C;
    for (name, role) in [
        ("ops-cmdr", Role::Commander),
        ("ops-c2", Role::Commander),
        ("ops-c3", Role::Commander),
        ("ops-legal", Role::Analyst),
    ] {
        node.admin()
            .add_user(&format!("{name}-semar"), "SEMAR", role, 0)
            .unwrap();
    }
    for org in ["SEMAR"] {
        let u = |n: &str| format!("{n}-{}", org.to_ascii_lowercase());
        let mut g = node.as_user(&u("ops-cmdr")).unwrap();
        let Some(lead) = g.leads(1).unwrap().into_iter().next() else {
            continue;
        };
        g.create_package(
            std::slice::from_ref(&lead.id),
            "es",
            rastro_app::package::Pap::Amber,
            now,
        )
        .unwrap();
        g.create_operation("op-ni", "verify", std::slice::from_ref(&lead.id), None, now)
            .unwrap();
        drop(g);
        let steps: Vec<(String, C)> = vec![
            (
                u("ops-cmdr"),
                C::Edit {
                    objective: None,
                    commander: Some(u("ops-cmdr")),
                    sites: Some(vec![rastro_ops::Site {
                        label: "s".into(),
                        lat: lead.lat,
                        lon: lead.lon,
                        radius_m: 250.0,
                    }]),
                    schedule: Some(rastro_ops::Schedule {
                        start_ms: now,
                        end_ms: now + 3_600_000,
                    }),
                    add_leads: vec![],
                    add_packages: vec![],
                    why: "plan".into(),
                },
            ),
            (
                u("ops-cmdr"),
                C::Join {
                    user: u("ops-legal"),
                    role: rastro_ops::OpRole::LegalReview,
                },
            ),
            (
                u("ops-legal"),
                C::Task {
                    name: "legal_review".into(),
                    note: "ok".into(),
                },
            ),
            (
                u("ops-cmdr"),
                C::Task {
                    name: "deconfliction".into(),
                    note: "ok".into(),
                },
            ),
            (u("ops-cmdr"), C::Propose { why: "p".into() }),
            (u("ops-c2"), C::Approve { reason: "a".into() }),
            (u("ops-c3"), C::Approve { reason: "a".into() }),
            (u("ops-cmdr"), C::Execute { why: "e".into() }),
            (
                u("ops-cmdr"),
                C::Task {
                    name: "after_action_report".into(),
                    note: "r".into(),
                },
            ),
            (
                u("ops-cmdr"),
                C::Close {
                    outcome: rastro_ops::Outcome {
                        laboratory: rastro_ops::LabFinding::Confirmed,
                        seized: vec![],
                        equipment: vec![],
                        arrests: 0,
                        notes: String::new(),
                    },
                    why: "c".into(),
                },
            ),
        ];
        for (user, cmd) in steps {
            let mut g = node.as_user(&user).unwrap();
            g.act_on_operation("op-ni", None, cmd, now)
                .unwrap()
                .unwrap();
        }
        return Some(org);
    }
    None
}

/// Every answer the application layer gives `user`, by read path.
fn app_answers(db: &Db, user: &str, ids: &Ids) -> BTreeMap<String, serde_json::Value> {
    let mut node = Node::open(&db.path).unwrap();
    let mut g = node.as_user(user).unwrap();
    let mut out = BTreeMap::new();
    let mut put = |k: String, v: serde_json::Value| {
        out.insert(k, v);
    };
    let j = |x: &dyn erased::Ser| x.value();
    put("me".into(), j(&g.me().unwrap()));
    put(
        "alerts".into(),
        j(&g.alerts(&AlertFilter::default()).unwrap()),
    );
    put(
        "alerts?typology=route_deviation&limit=3".into(),
        j(&g.alerts(&AlertFilter {
            typology: Some(rastro_core::Typology::RouteDeviation),
            limit: Some(3),
            ..Default::default()
        })
        .unwrap()),
    );
    put(
        "alert-queue".into(),
        j(&g.alert_queue(&AlertFilter::default()).unwrap()),
    );
    put("leads".into(), j(&g.leads(1000).unwrap()));
    put("leads?limit=1".into(), j(&g.leads(1).unwrap()));
    put("leads.geojson".into(), j(&g.leads_geojson(1000).unwrap()));
    for id in &ids.leads {
        put(format!("lead/{id}"), j(&g.lead(id).unwrap()));
    }
    put("releases".into(), j(&g.releases().unwrap()));
    put("operations".into(), j(&g.operations().unwrap()));
    put("operation/op-ni".into(), j(&g.operation("op-ni").unwrap()));
    put("requests".into(), j(&g.requests(0).unwrap()));
    put("feedback".into(), j(&g.hit_rates().unwrap()));
    put("collection".into(), j(&g.collection(false, 1000).unwrap()));
    // A STIX bundle for a partner and for a host agency: what both may read, nothing else.
    let now = rastro_core::parse_time_ms(gen::NOW).unwrap();
    for to in ["DEA", "FGR"] {
        put(
            format!("share/export?for={to}"),
            g.export_bundle(to, None, now).unwrap().0,
        );
    }
    // TAXII: the collections, and every page of each (two objects a page, so `more`, `next`
    // and the date headers are compared too).
    let cols = g.taxii_collections();
    put("taxii/collections".into(), j(&cols));
    for c in &cols {
        if !c.can_write {
            // A shared collection is a publication: records exactly as an export for the
            // partner holds them, and the publisher's alerts and leads, declassified by the
            // act of publishing (as a release is; the declared exception). The records are
            // compared; the alerts and leads are not.
            let q = rastro_app::taxii::TaxiiQuery {
                limit: 10_000,
                ..Default::default()
            };
            let p = g.taxii_objects(&c.id, None, &q).unwrap();
            let records: BTreeSet<&String> = p
                .entries
                .iter()
                .map(|e| &e.body)
                .filter(|b| {
                    !(b.contains("\"kind\":\"alert\"")
                        || b.contains("\"kind\":\"lead\"")
                        || b.contains("\"name\":\"site of lead "))
                })
                .collect();
            put(format!("taxii/{}/records", c.id), j(&records));
            continue;
        }
        let mut q = rastro_app::taxii::TaxiiQuery {
            limit: 2,
            ..Default::default()
        };
        let mut pages = Vec::new();
        loop {
            let p = g.taxii_objects(&c.id, None, &q).unwrap();
            pages.push(serde_json::json!({
                "ids": p.entries.iter().map(|e| (&e.id, &e.version, &e.date_added)).collect::<Vec<_>>(),
                "bodies": p.entries.iter().map(|e| &e.body).collect::<Vec<_>>(),
                "more": p.more, "next": p.next,
            }));
            match p.next {
                Some(n) if p.more => q.next = Some(n),
                _ => break,
            }
        }
        put(
            format!("taxii/{}/objects", c.id),
            serde_json::Value::Array(pages),
        );
    }
    put(
        "collection?flagged&limit=2".into(),
        j(&g.collection(true, 2).unwrap()),
    );
    // Building a package is a write, but what it hands back is a read of the leads and the
    // records behind them: the same content gives the same stored package, so it runs here.
    for id in &ids.leads {
        let p = g.create_package(
            std::slice::from_ref(id),
            "en",
            rastro_app::package::Pap::Amber,
            0,
        );
        put(
            format!("package/{id}"),
            match p {
                Ok(p) => j(&p),
                Err(e) => serde_json::Value::String(e.to_string()),
            },
        );
    }
    put(
        "consignments".into(),
        j(&g.consignments(None, 1000).unwrap()),
    );
    put(
        "consignments?status=delivered".into(),
        j(&g.consignments(Some(ConsignmentStatus::Delivered), 1000)
            .unwrap()),
    );
    for id in &ids.consignments {
        put(format!("consignment/{id}"), j(&g.consignment(id).unwrap()));
        put(format!("track/{id}"), j(&g.track(id).unwrap()));
        put(
            format!("custody/{id}"),
            j(&g.records_by_ref(Kind::Custody, id).unwrap()),
        );
    }
    for v in &ids.vehicles {
        put(
            format!("observations?subject={v}"),
            j(&g.observations(
                &ObservationQuery::Subject(v.clone()),
                i64::MIN,
                i64::MAX,
                10_000,
            )
            .unwrap()),
        );
    }
    let cell = rastro_core::grid::cell(gen::LAB.0, gen::LAB.1, 7).unwrap();
    put(
        "observations?cell".into(),
        j(
            &g.observations(&ObservationQuery::Cell(cell), i64::MIN, i64::MAX, 10_000)
                .unwrap(),
        ),
    );
    put("stats".into(), j(&g.counts().unwrap()));
    put("quarantine".into(), j(&g.quarantine(1000).unwrap()));
    for (k, id) in &ids.records {
        put(format!("record/{k}/{id}"), j(&g.record(*k, id).unwrap()));
    }
    // Entities and the link graph: a link resting on a hidden record must not exist.
    let parties: Vec<&String> = ids
        .records
        .iter()
        .filter(|(k, _)| *k == Kind::Party)
        .map(|(_, id)| id)
        .collect();
    for id in &parties {
        put(format!("entity/{id}"), j(&g.entity(id).unwrap()));
        put(format!("links/{id}?hops=3"), j(&g.links(id, 3).unwrap()));
    }
    for w in parties.windows(2) {
        put(
            format!("path/{}/{}", w[0], w[1]),
            j(&g.path(w[0], w[1]).unwrap()),
        );
    }
    // Forensic linkage: a hidden reference sample must not move a threshold, a hidden sample
    // or seizure must not change a link, a group, a count or a refusal.
    put("forensics".into(), j(&g.forensics_job().unwrap().view));
    put(
        "forensics/plot/roc".into(),
        j(&g.forensics_plot("roc", "es").unwrap()),
    );
    put(
        "audit".into(),
        serde_json::Value::String(format!(
            "{:?}",
            g.audit_log(&Default::default())
                .map(|_| ())
                .map_err(|e| e.to_string())
        )),
    );
    // The chain's size and root cover everyone's entries: refused alike to all but the host
    // nation's auditors (whose answer differs by design, as the log does).
    put(
        "audit/verify".into(),
        serde_json::Value::String(format!(
            "{:?}",
            g.audit_verify().map(|_| ()).map_err(|e| e.to_string())
        )),
    );
    out
}

/// Minimal type erasure so one closure serialises every answer type.
mod erased {
    pub trait Ser {
        fn value(&self) -> serde_json::Value;
    }
    impl<T: serde::Serialize> Ser for T {
        fn value(&self) -> serde_json::Value {
            serde_json::to_value(self).unwrap()
        }
    }
}

/// Every answer the HTTP API gives `user`: status and body, by path.
async fn http_answers(
    db: &Db,
    user: &str,
    ids: &Ids,
) -> BTreeMap<String, (u16, serde_json::Value)> {
    let limits = rastro_server::Limits::default();
    let state = rastro_server::AppState::open(&db.path, &limits).unwrap();
    let app = rastro_server::router(state.clone(), &limits);
    let token = &db.tokens[user];
    let mut paths: Vec<String> = [
        "/api/v1/me",
        "/api/v1/health",
        "/api/v1/alerts?limit=1000",
        "/api/v1/alerts?typology=unscheduled_stop",
        "/api/v1/alerts?since=2026-01-06T00:00:00Z",
        "/api/v1/alert-queue",
        "/api/v1/leads",
        "/api/v1/leads.geojson",
        "/api/v1/releases",
        "/api/v1/releases/1",
        "/api/v1/consignments",
        "/api/v1/consignments?status=delivered",
        "/api/v1/stats",
        "/api/v1/quarantine",
        "/api/v1/ports",
        "/api/v1/audit",
        "/api/v1/audit/verify",
        "/api/v1/orgs",
        "/api/v1/observations?subject=V-0",
        "/api/v1/observations?cell=8749a9a8affffff",
        "/api/v1/operations",
        "/api/v1/operations/op-ni",
        "/api/v1/requests",
        "/api/v1/requests/req-ni",
        "/api/v1/feedback",
        "/api/v1/collection",
        "/api/v1/collection?flagged=true&limit=2",
        "/api/v1/share/export?for=DEA",
        "/api/v1/share/objects",
        "/api/v1/packages/pkg-0000000000000000",
        "/api/v1/forensics",
        "/api/v1/forensics?sample=R-0-S0",
        "/api/v1/forensics/plot/distributions?lang=es",
        "/api/v1/forensics/plot/roc",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    // TAXII: the collections, and the inboxes page by page (shared collections are
    // publications; see app_answers).
    paths.push("/taxii2/api/collections/".into());
    for org in ["DEA", "CBP"] {
        let inbox = rastro_app::taxii::collection_id(org, rastro_app::taxii::CollectionKind::Inbox);
        for q in ["limit=1", "limit=1000", "match[type]=indicator"] {
            paths.push(format!("/taxii2/api/collections/{inbox}/objects/?{q}"));
            paths.push(format!("/taxii2/api/collections/{inbox}/manifest/?{q}"));
        }
    }
    paths.extend(ids.leads.iter().map(|l| format!("/api/v1/leads/{l}")));
    paths.extend(
        ids.consignments
            .iter()
            .map(|c| format!("/api/v1/consignments/{c}")),
    );
    let mut out = BTreeMap::new();
    for p in paths {
        let req = Request::builder()
            .uri(&p)
            .header("authorization", format!("Bearer {token}"))
            .body(Body::empty())
            .unwrap();
        let resp = app.clone().oneshot(req).await.unwrap();
        let status = resp.status().as_u16();
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        let v: serde_json::Value =
            serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null);
        out.insert(p, (status, v));
    }
    state.finish();
    out
}

/// Ids every viewer is asked about: whatever exists in the full database, plus missing ones.
struct Ids {
    leads: BTreeSet<String>,
    consignments: BTreeSet<String>,
    vehicles: BTreeSet<String>,
    records: Vec<(Kind, String)>,
}

fn ids_of(full: &Db, records: &[Record]) -> Ids {
    let mut node = Node::open(&full.path).unwrap();
    let mut leads: BTreeSet<String> = node
        .operator()
        .unwrap()
        .leads(1000)
        .unwrap()
        .into_iter()
        .map(|l| l.id)
        .collect();
    leads.insert("lead-8948a9a8a2fffff".into());
    let mut consignments: BTreeSet<String> = records
        .iter()
        .filter(|r| r.kind() == Kind::Consignment)
        .map(|r| r.id().to_string())
        .collect();
    consignments.insert("C-nope".into());
    let vehicles = records
        .iter()
        .filter(|r| r.kind() == Kind::Vehicle)
        .map(|r| r.id().to_string())
        .collect();
    let mut recs: Vec<(Kind, String)> = records
        .iter()
        .filter(|r| {
            matches!(
                r.kind(),
                Kind::Party | Kind::Vehicle | Kind::Report | Kind::Custody
            )
        })
        .map(|r| (r.kind(), r.id().to_string()))
        .collect();
    recs.dedup();
    Ids {
        leads,
        consignments,
        vehicles,
        records: recs,
    }
}

/// Posts, as `org`'s user, a record under the same id as every record `org` may not see, and
/// returns the answers: they must be those of a database without the hidden records.
fn ingest_probes(db: &Db, org: &str, hidden: &[Record]) -> Vec<serde_json::Value> {
    let mut node = Node::open(&db.path).unwrap();
    let mut out = Vec::new();
    for r in hidden
        .iter()
        .filter(|r| r.kind() != Kind::Observation)
        .take(4)
    {
        let mut mine = r.clone();
        // The viewer's own record, at a marking a partner may post.
        let originator = org.to_string();
        let marking = rastro_core::Marking::new(rastro_core::Tlp::Amber);
        match &mut mine {
            Record::Party(x) => (x.originator, x.marking) = (originator, marking),
            Record::Place(x) => (x.originator, x.marking) = (originator, marking),
            Record::Consignment(x) => (x.originator, x.marking) = (originator, marking),
            Record::Vehicle(x) => (x.originator, x.marking) = (originator, marking),
            Record::Custody(x) => (x.originator, x.marking) = (originator, marking),
            Record::Observation(x) => (x.originator, x.marking) = (originator, marking),
            Record::Report(x) => (x.originator, x.marking) = (originator, marking),
            Record::Sample(x) => (x.originator, x.marking) = (originator, marking),
        }
        let mut w = rastro_ingest::CsvWriter::new(Vec::new(), mine.kind()).unwrap();
        w.write(&mine).unwrap();
        let body = w.into_inner();
        let mut g = node.as_user(&user_of(org)).unwrap();
        let r = g.ingest(&body, None, &Default::default(), 0);
        out.push(serde_json::to_value(r.map_err(|e| e.to_string())).unwrap());
    }
    out
}

fn first_difference<V: PartialEq + std::fmt::Debug>(
    a: &BTreeMap<String, V>,
    b: &BTreeMap<String, V>,
) -> Option<String> {
    for (k, va) in a {
        match b.get(k) {
            Some(vb) if vb == va => {}
            other => {
                return Some(format!(
                    "{k}:\n  with hidden records: {va:?}\n  without them:       {other:?}"
                ))
            }
        }
    }
    None
}

fn check(s: &Scenario) -> Result<(), TestCaseError> {
    let dir = tempfile::tempdir().unwrap();
    let records = gen::records(s);
    let full = build(dir.path(), "full", &records);
    let ids = ids_of(&full, &records);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut onlies = Vec::new();
    for (org, _, _) in ORGS {
        let visible: Vec<Record> = records
            .iter()
            .filter(|r| gen::visible_to(org, r))
            .cloned()
            .collect();
        let hidden: Vec<Record> = records
            .iter()
            .filter(|r| !gen::visible_to(org, r))
            .cloned()
            .collect();
        if hidden.is_empty() {
            continue;
        }
        let only = build(dir.path(), &format!("only-{org}"), &visible);
        let user = user_of(org);
        let a = app_answers(&full, &user, &ids);
        let b = app_answers(&only, &user, &ids);
        if let Some(d) = first_difference(&a, &b) {
            return Err(TestCaseError::fail(format!(
                "{org} learns about records it may not see through the application layer at {d}"
            )));
        }
        let a = rt.block_on(http_answers(&full, &user, &ids));
        let b = rt.block_on(http_answers(&only, &user, &ids));
        if let Some(d) = first_difference(&a, &b) {
            return Err(TestCaseError::fail(format!(
                "{org} learns about records it may not see through the HTTP API at {d}"
            )));
        }
        onlies.push((org, only, hidden));
    }
    // Ingest probes write, so they run last, on a fresh copy of the full database: one
    // organisation's probes only add records under its own originator, which no other
    // organisation's probe answer depends on.
    let probe = build(dir.path(), "full-probes", &records);
    for (org, only, hidden) in &onlies {
        let a = ingest_probes(&probe, org, hidden);
        let b = ingest_probes(only, org, hidden);
        prop_assert_eq!(
            a,
            b,
            "{} learns about hidden ids by ingesting colliding ones",
            org
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("RASTRO_NI_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(12),
        max_shrink_iters: 200,
        ..ProptestConfig::default()
    })]

    /// For every organisation, every read path, generated data: the presence of records the
    /// organisation may not see changes nothing it is told.
    #[test]
    fn hidden_records_change_nothing_a_viewer_is_told(s in gen::scenario()) {
        check(&s)?;
    }
}

/// A scenario that is not generated: every kind of hidden input at once (the eight cases of
/// the issue, in one), so that the property is exercised on data known to produce alerts and
/// leads whatever the generator draws.
#[test]
fn a_dense_scenario_changes_nothing_either() {
    let s = gen::dense();
    // The scenario must be meaningful: the operator has alerts and a lead to compare.
    let dir = tempfile::tempdir().unwrap();
    let keep = std::env::var_os("RASTRO_NI_KEEP").map(std::path::PathBuf::from);
    let full = build(
        keep.as_deref().unwrap_or(dir.path()),
        "dense",
        &gen::records(&s),
    );
    let mut node = Node::open(&full.path).unwrap();
    let mut op = node.operator().unwrap();
    let alerts = op.alerts(&AlertFilter::default()).unwrap();
    let typologies: BTreeSet<String> = alerts.iter().map(|a| a.typology.clone()).collect();
    assert!(typologies.len() >= 3, "{typologies:?}");
    assert!(
        !op.leads(10).unwrap().is_empty(),
        "no lead in the dense scenario"
    );
    drop(op);
    drop(node);
    check(&s).unwrap();
}

/// An operation is the owning organisation's document: run to a close, it teaches that
/// organisation's lead scoring and nobody else's, and no other organisation learns it exists.
#[test]
fn one_organisations_operation_changes_nothing_another_is_told() {
    // Evidence at a laboratory that SEMAR sees (its own RED reports, ANAM's AMBER ones).
    let mut reports = at_lab(&[
        (1, 0, 0),
        (1, 1, 3),
        (1, 1, 25),
        (3, 0, 9),
        (3, 1, 12),
        (3, 1, 50),
        (1, 0, 70),
    ]);
    reports.extend(background(|k| (k % 5) as usize));
    let s = Scenario {
        marks: marks(),
        parties: vec![party(0, 0, 0)],
        vehicles: vec![VehicleSpec {
            mark: 0,
            carrier: 0,
        }],
        trips: vec![TripSpec {
            to_lab: true,
            ..trip(0, [0, 0, 0, 0], 0, 0)
        }],
        reports,
    };
    let dir = tempfile::tempdir().unwrap();
    let records = gen::records(&s);
    let with = build_with(dir.path(), "with-ops", &records, true);
    let without = build_with(dir.path(), "without-ops", &records, false);
    let ids = ids_of(&with, &records);
    // Meaningful: the owner's own answers do change (the operation, its feedback).
    let owner = ["SEMAR"]
        .into_iter()
        .find(|o| {
            app_answers(&with, &user_of(o), &ids)["operations"]
                .as_array()
                .is_some_and(|x| x.len() == 1)
        })
        .expect("SEMAR has a lead in the scenario");
    let a = app_answers(&with, &user_of(owner), &ids);
    let b = app_answers(&without, &user_of(owner), &ids);
    assert!(
        a["feedback"].as_array().is_some_and(|f| !f.is_empty()),
        "{}",
        a["feedback"]
    );
    assert_ne!(
        a["leads"], b["leads"],
        "the owner's lead scoring learns from its operation"
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    for (org, _, _) in ORGS.iter().filter(|o| o.0 != owner) {
        let user = user_of(org);
        let a = app_answers(&with, &user, &ids);
        let b = app_answers(&without, &user, &ids);
        assert_eq!(
            first_difference(&a, &b),
            None,
            "{org} learns of {owner}'s operation through the application layer"
        );
        let a = rt.block_on(http_answers(&with, &user, &ids));
        let b = rt.block_on(http_answers(&without, &user, &ids));
        assert_eq!(
            first_difference(&a, &b),
            None,
            "{org} learns of {owner}'s operation through the HTTP API"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// The cases of issue 13, each a named regression test: a crafted scenario that produced the
// leak, an assertion that the scenario is meaningful (the operator does see the derived item
// the leak came through), and the non-interference check for every organisation.
// ---------------------------------------------------------------------------------------------

use gen::{at_lab, background, marking, party, trip, Mark, TripSpec, VehicleSpec};

/// Marks used by the cases: 0 ANAM AMBER REL US, 1 SEMAR RED, 2 FGR AMBER+STRICT, 3 ANAM
/// AMBER, 4 DEA AMBER.
fn marks() -> Vec<Mark> {
    vec![
        marking(0, 2, &[1]),
        marking(1, 4, &[]),
        marking(2, 3, &[]),
        marking(0, 2, &[]),
        marking(3, 2, &[]),
    ]
}

/// Builds the scenario's full database and hands the operator's and DEA's guards to `probe`.
fn with_full(
    s: &Scenario,
    probe: impl FnOnce(&mut rastro_app::Guard<'_>, &mut rastro_app::Guard<'_>),
) {
    let dir = tempfile::tempdir().unwrap();
    let full = build(dir.path(), "full", &gen::records(s));
    let mut a = Node::open(&full.path).unwrap();
    let mut b = Node::open(&full.path).unwrap();
    let mut op = a.operator().unwrap();
    let mut dea = b.as_user("u-dea").unwrap();
    probe(&mut op, &mut dea);
}

#[test]
fn case_1_ingest_is_no_existence_oracle() {
    let s = Scenario {
        marks: marks(),
        parties: vec![party(0, 0, 0)],
        vehicles: vec![VehicleSpec {
            mark: 0,
            carrier: 0,
        }],
        trips: vec![trip(0, [0, 0, 0, 0], 0, 0)],
        // R-0 is SEMAR RED, R-1 is FGR AMBER+STRICT: DEA may see neither.
        reports: at_lab(&[(1, 0, 0), (2, 0, 5)]),
    };
    let dir = tempfile::tempdir().unwrap();
    let records = gen::records(&s);
    let full = build(dir.path(), "full", &records);
    let hidden: Vec<Record> = records
        .iter()
        .filter(|r| !gen::visible_to("DEA", r))
        .cloned()
        .collect();
    assert!(hidden.iter().any(|r| r.id() == "R-0"));
    let answers = ingest_probes(&full, "DEA", &hidden);
    for a in &answers {
        let text = a.to_string();
        assert_eq!(a["Ok"]["conflicts"], 0, "{text}");
        assert_eq!(a["Ok"]["inserted"], 1, "{text}");
        assert!(
            !text.contains("full-files") && !text.contains("u-semar"),
            "names another source: {text}"
        );
    }
    check(&s).unwrap();
}

#[test]
fn case_3_a_visible_lead_does_not_describe_hidden_evidence() {
    let mut reports = at_lab(&[
        // Hidden from DEA: RED and AMBER+STRICT evidence at the laboratory.
        (1, 0, 0),
        (1, 1, 3),
        (2, 0, 6),
        (1, 1, 25),
        (2, 1, 35),
        (1, 0, 70),
        (2, 0, 90),
        // Visible to DEA.
        (0, 0, 9),
        (0, 1, 12),
        (0, 1, 50),
        (0, 0, 60),
    ]);
    reports.extend(background(|k| (k % 5) as usize));
    let s = Scenario {
        marks: marks(),
        parties: vec![party(0, 0, 0)],
        vehicles: vec![VehicleSpec {
            mark: 0,
            carrier: 0,
        }],
        trips: vec![TripSpec {
            to_lab: true,
            ..trip(0, [0, 0, 0, 0], 0, 0)
        }],
        reports,
    };
    with_full(&s, |op, dea| {
        let all = op.leads(100).unwrap();
        assert!(!all.is_empty(), "the operator has a lead at the laboratory");
        let seen = dea.leads(100).unwrap();
        for l in &seen {
            assert!(l.evidence.iter().all(|e| e.marking.tlp != "RED"), "{l:?}");
            // Every count in the summary is a count of evidence DEA may see.
            assert!(!l.summary.contains("3 × tip"), "{}", l.summary);
        }
    });
    check(&s).unwrap();
}

#[test]
fn case_4_status_track_and_alerts_follow_restricted_custody_and_vehicle() {
    // The consignment is AMBER REL US; its loaded, delivered and received events and its
    // vehicle are SEMAR RED; its fixes are ANAM AMBER REL US.
    let s = Scenario {
        marks: marks(),
        parties: vec![party(0, 0, 0)],
        vehicles: vec![VehicleSpec {
            mark: 1,
            carrier: 0,
        }],
        trips: vec![TripSpec {
            to_lab: true,
            ..trip(0, [0, 1, 1, 1], 0, 0)
        }],
        reports: vec![],
    };
    with_full(&s, |op, dea| {
        let full = op.consignment("C-0").unwrap().unwrap();
        assert!(full.track.geometry["coordinates"]
            .as_array()
            .is_some_and(|c| c.len() > 10));
        assert!(
            !full.alerts.is_empty(),
            "the operator sees the trip's alerts"
        );
        let seen = dea
            .consignment("C-0")
            .unwrap()
            .expect("DEA may see the consignment");
        assert!(
            !matches!(seen.status, Some(rastro_app::views::StatusV1::Delivered)),
            "{:?}",
            seen.status
        );
        assert!(
            seen.track.geometry["coordinates"]
                .as_array()
                .is_none_or(|c| c.is_empty()),
            "the track is linked only by the RED loading event"
        );
        assert!(seen
            .custody
            .iter()
            .all(|r| r.marking().tlp != rastro_core::Tlp::Red));
    });
    check(&s).unwrap();
}

#[test]
fn case_5_structuring_does_not_reveal_a_hidden_party_link() {
    // P-1 is SEMAR RED: it shares a phone with P-0 and an address with P-2, the consignees.
    let s = Scenario {
        marks: marks(),
        parties: vec![party(0, 0, 0), party(1, 0, 1), party(0, 1, 1)],
        vehicles: vec![
            VehicleSpec {
                mark: 0,
                carrier: 0,
            },
            VehicleSpec {
                mark: 0,
                carrier: 1,
            },
        ],
        trips: vec![
            TripSpec {
                qty_kg: 45,
                ..trip(0, [0, 0, 0, 0], 0, 0)
            },
            TripSpec {
                qty_kg: 45,
                dest: 1,
                ..trip(0, [0, 0, 0, 0], 2, 1)
            },
            TripSpec {
                qty_kg: 45,
                ..trip(0, [0, 0, 0, 0], 0, 0)
            },
        ],
        reports: vec![],
    };
    with_full(&s, |op, dea| {
        let f = AlertFilter {
            typology: Some(rastro_core::Typology::Structuring),
            ..Default::default()
        };
        let mine = op.alerts(&f).unwrap();
        let theirs = dea.alerts(&f).unwrap();
        // Whatever the operator sees, DEA's structuring alerts never cite the RED party.
        for a in &theirs {
            assert!(!a.evidence.iter().any(|e| e.contains("P-1")), "{a:?}");
            assert!(!a.summary.contains("P-1"), "{a:?}");
        }
        assert!(
            !mine.is_empty(),
            "the operator sees the structuring through the RED link"
        );
        let linked = |a: &rastro_app::views::AlertV1| {
            a.evidence.iter().filter(|e| e.starts_with("C-")).count()
        };
        let most_theirs = theirs.iter().map(linked).max().unwrap_or(0);
        assert!(
            mine.iter().map(linked).max().unwrap_or(0) > most_theirs,
            "{mine:?}\n{theirs:?}"
        );
    });
    check(&s).unwrap();
}

#[test]
fn case_6_alert_text_counts_only_fixes_the_reader_may_see() {
    // The detour leg's fixes are FGR AMBER+STRICT; the rest ANAM AMBER REL US.
    let s = Scenario {
        marks: marks(),
        parties: vec![party(0, 0, 0)],
        vehicles: vec![VehicleSpec {
            mark: 0,
            carrier: 0,
        }],
        trips: vec![TripSpec {
            to_lab: true,
            fix_marks: vec![2, 0],
            ..trip(0, [0, 0, 0, 0], 0, 0)
        }],
        reports: vec![],
    };
    with_full(&s, |op, dea| {
        let all = op.alerts(&AlertFilter::default()).unwrap();
        assert!(!all.is_empty(), "the operator sees the detour");
        let seen = dea.alerts(&AlertFilter::default()).unwrap();
        for a in &seen {
            if let Some(op_a) = all.iter().find(|x| x.id == a.id) {
                // An alert both see that used the strict fixes would differ in its counts.
                assert!(a.marking.tlp != "AMBER+STRICT", "{a:?}");
                let _ = op_a;
            }
        }
    });
    check(&s).unwrap();
}

#[test]
fn case_7_a_stop_seen_only_in_red_fixes_is_no_evidence_for_the_partner() {
    // The leg to the laboratory and the stop there are SEMAR RED fixes.
    let reports = background(|_| 0);
    let s = Scenario {
        marks: marks(),
        parties: vec![party(0, 0, 0)],
        vehicles: vec![VehicleSpec {
            mark: 0,
            carrier: 0,
        }],
        trips: vec![TripSpec {
            to_lab: true,
            fix_marks: vec![1, 0],
            ..trip(0, [0, 0, 0, 0], 0, 0)
        }],
        reports,
    };
    with_full(&s, |op, dea| {
        let stops: Vec<_> = op
            .alerts(&AlertFilter::default())
            .unwrap()
            .into_iter()
            .filter(|a| a.marking.tlp == "RED")
            .collect();
        assert!(
            !stops.is_empty(),
            "the operator's alerts from the RED fixes"
        );
        for l in dea.leads(100).unwrap() {
            assert!(l.evidence.iter().all(|e| e.marking.tlp != "RED"), "{l:?}");
        }
        for a in dea.alerts(&AlertFilter::default()).unwrap() {
            assert!(a.marking.tlp != "RED", "{a:?}");
        }
    });
    check(&s).unwrap();
}
