//! Sharing end to end through the real binary: a host-nation analyst and a partner liaison
//! read the same database with `--as`, and each gets exactly what the rules give them, with
//! denied items indistinguishable from missing ones.

mod common;

use common::*;
use rastro_app::views::{AlertV1 as Alert, LeadV1 as Lead};
use rastro_core::Tlp;

fn tlp(m: &rastro_app::views::MarkingV1) -> Tlp {
    Tlp::parse(&m.tlp).unwrap()
}

#[test]
fn host_analyst_and_partner_liaison_see_what_is_released_to_them() {
    let dir = tempfile::tempdir().unwrap();
    let (db, _) = small_demo(dir.path());
    // The demo registered the simulator's agencies (SEMAR among them) and a DEA liaison office.
    rastro(
        &db,
        &[
            "org",
            "add",
            "AUD",
            "--name",
            "AUD",
            "--nation",
            "MX",
            "--kind",
            "regulator",
        ],
    );
    rastro(
        &db,
        &["user", "add", "ana", "--org", "SEMAR", "--role", "analyst"],
    );
    let token = String::from_utf8(
        rastro(
            &db,
            &["user", "add", "bob", "--org", "DEA", "--role", "liaison"],
        )
        .stdout,
    )
    .unwrap();
    assert!(token.trim().starts_with("rst_"), "{token}");
    rastro(
        &db,
        &["user", "add", "eve", "--org", "AUD", "--role", "auditor"],
    );
    // The token is not in the database in any form.
    let raw = std::fs::read(&db).unwrap();
    let secret = token.trim().rsplit('_').next().unwrap();
    assert!(!raw.windows(secret.len()).any(|w| w == secret.as_bytes()));

    let alerts = |who: &str| -> Vec<Alert> {
        serde_json::from_slice(&rastro(&db, &["--as", who, "alerts", "--json"]).stdout).unwrap()
    };
    let leads = |who: &str| -> Vec<Lead> {
        serde_json::from_slice(&rastro(&db, &["--as", who, "leads", "--json"]).stdout).unwrap()
    };
    let all: Vec<Alert> =
        serde_json::from_slice(&rastro(&db, &["alerts", "--json"]).stdout).unwrap();
    let (ana, bob) = (alerts("ana"), alerts("bob"));
    // The host analyst sees the alerts released to the host nation; the partner sees only
    // alerts whose every input was released to the US (none in this scenario).
    assert!(!ana.is_empty() && ana.len() <= all.len());
    for a in &ana {
        assert!(
            a.marking.releasable_to.iter().any(|r| r == "MX") || tlp(&a.marking) <= Tlp::Green,
            "{a:?}"
        );
    }
    assert!(bob.iter().all(|a| a
        .marking
        .releasable_to
        .iter()
        .any(|r| r == "US" || r == "DEA")
        || tlp(&a.marking) <= Tlp::Green));
    assert!(
        !leads("ana").is_empty(),
        "tips are released to MX, so host leads are visible"
    );
    assert!(leads("bob").is_empty());

    // Counts never include what the viewer may not see.
    let counts = |who: &str| -> serde_json::Value {
        json(&rastro(&db, &["--as", who, "stats", "--json"]))["visible"].clone()
    };
    let total = json(&rastro(&db, &["stats", "--json"]));
    let (ca, cb) = (counts("ana"), counts("bob"));
    assert!(cb["observation"].as_u64().unwrap_or(0) < ca["observation"].as_u64().unwrap());
    assert!(ca["observation"].as_u64().unwrap() <= total["observations"].as_u64().unwrap());
    assert!(
        cb.get("consignment").is_none(),
        "consignments are AMBER for Mexico: {cb}"
    );

    // A hidden item is answered exactly like a missing one.
    let hidden_lead = &leads("ana")[0].id;
    let hidden = run(&db, &["--as", "bob", "lead", "show", hidden_lead]);
    let missing = run(&db, &["--as", "bob", "lead", "show", "lead-does-not-exist"]);
    assert_eq!(hidden.status.code(), missing.status.code());
    assert_eq!(
        String::from_utf8_lossy(&hidden.stderr).replace(hidden_lead.as_str(), "ID"),
        String::from_utf8_lossy(&missing.stderr).replace("lead-does-not-exist", "ID")
    );
    let c = &all
        .iter()
        .find(|a| rastro_core::Typology::parse(&a.typology).is_some_and(|t| t.per_consignment()))
        .unwrap()
        .subject;
    let hidden = run(&db, &["--as", "bob", "consignment", "show", c]);
    let missing = run(&db, &["--as", "bob", "consignment", "show", "C-NOPE"]);
    assert_eq!(hidden.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&hidden.stderr).replace(c.as_str(), "ID"),
        String::from_utf8_lossy(&missing.stderr).replace("C-NOPE", "ID")
    );
    assert!(run(&db, &["--as", "ana", "consignment", "show", c])
        .status
        .success());
    // The analyst's track and state are their view's: computed from what they may see.
    let shown = json(&rastro(
        &db,
        &["--as", "ana", "consignment", "show", c, "--json"],
    ));
    assert!(shown["state"].is_object(), "{}", shown["state"]);
    assert!(!shown["track"]["geometry"]["coordinates"]
        .as_array()
        .unwrap()
        .is_empty());

    // A partner cannot decide on a lead; the audit log is for auditors; reads are logged
    // under the reader's name.
    assert!(!run(
        &db,
        &["--as", "bob", "lead", "status", hidden_lead, "closed"]
    )
    .status
    .success());
    assert!(!run(&db, &["--as", "ana", "audit", "log"]).status.success());
    let log = json(&rastro(
        &db,
        &["--as", "eve", "audit", "log", "--who", "ana", "--json"],
    ));
    assert!(
        log.as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "read"),
        "{log}"
    );

    // A revoked user reads nothing, with the same message as an unknown one.
    rastro(&db, &["user", "revoke", "bob"]);
    let revoked = run(&db, &["--as", "bob", "alerts"]);
    let unknown = run(&db, &["--as", "mallory", "alerts"]);
    assert!(!revoked.status.success() && !unknown.status.success());
    assert_eq!(
        String::from_utf8_lossy(&revoked.stderr).replace("bob", "U"),
        String::from_utf8_lossy(&unknown.stderr).replace("mallory", "U")
    );
}

#[test]
fn observations_by_subject_and_by_cell_hold_only_what_the_reader_may_see() {
    let dir = tempfile::tempdir().unwrap();
    let (db, demo) = small_demo(dir.path());
    rastro(
        &db,
        &["user", "add", "ana", "--org", "SEMAR", "--role", "analyst"],
    );
    rastro(
        &db,
        &["user", "add", "bob", "--org", "DEA", "--role", "liaison"],
    );
    // A vehicle tracked by customs (AMBER, Mexico) and a vessel on AIS (GREEN).
    let csv = std::fs::read_to_string(demo.join("scenario/observations.csv")).unwrap();
    let field = |line: &str, i: usize| line.split(',').nth(i).unwrap_or("").to_string();
    let vehicle = csv
        .lines()
        .find(|l| l.starts_with("SYN-O") && l.contains(",ANAM,AMBER,"))
        .unwrap();
    let vessel = csv.lines().find(|l| l.contains(",GREEN,,ais,")).unwrap();
    let fixes = |who: Option<&str>, args: &[&str]| -> Vec<rastro_core::Observation> {
        let mut all = vec![];
        if let Some(w) = who {
            all.extend(["--as", w]);
        }
        all.extend(["observations", "--json"]);
        all.extend(args);
        let views: Vec<rastro_app::views::ObservationV1> =
            serde_json::from_slice(&rastro(&db, &all).stdout).unwrap();
        views
            .into_iter()
            .map(|v| match v.observation {
                rastro_core::Record::Observation(o) => o,
                other => panic!("not an observation: {other:?}"),
            })
            .collect()
    };
    let subject = field(vehicle, 6);
    let mine = fixes(None, &["--subject", &subject]);
    assert!(mine.len() > 10, "{}", mine.len());
    assert!(mine.windows(2).all(|w| w[0].time_ms <= w[1].time_ms));
    assert_eq!(fixes(Some("ana"), &["--subject", &subject]), mine);
    // The liaison sees none of Mexico's fixes; only its own flights' sightings, if any.
    let bobs = fixes(Some("bob"), &["--subject", &subject]);
    assert!(bobs.len() < mine.len() && bobs.iter().all(|o| o.originator == "DEA"));
    let ship = field(vessel, 6);
    assert_eq!(
        fixes(Some("bob"), &["--subject", &ship]),
        fixes(None, &["--subject", &ship])
    );
    // A time window keeps the fixes inside it.
    let (t0, t1) = (
        rastro_core::format_time_ms(mine[3].time_ms),
        rastro_core::format_time_ms(mine[8].time_ms),
    );
    let window = fixes(None, &["--subject", &subject, "--from", &t0, "--to", &t1]);
    assert_eq!(window, mine[3..=8].to_vec());

    // By cell: the fix's own cell holds it; the partner gets only what was released to them.
    let (lat, lon): (f64, f64) = (
        field(vehicle, 8).parse().unwrap(),
        field(vehicle, 9).parse().unwrap(),
    );
    let cell = rastro_core::grid::to_string(rastro_core::grid::cell(lat, lon, 8).unwrap());
    let here = fixes(None, &["--cell", &cell]);
    assert!(here.iter().any(|o| o.id == field(vehicle, 0)));
    assert!(here.iter().all(|o| rastro_core::grid::to_string(
        rastro_core::grid::cell(o.lat, o.lon, 8).unwrap()
    ) == cell));
    for o in fixes(Some("bob"), &["--cell", &cell]) {
        assert!(
            o.marking.tlp <= Tlp::Green || o.marking.releasable_to.contains("US"),
            "{o:?}"
        );
    }
    // A cell too coarse to scan, or not a cell at all, is refused with the reason.
    let coarse = rastro_core::grid::to_string(rastro_core::grid::cell(lat, lon, 1).unwrap());
    let out = run(&db, &["observations", "--cell", &coarse]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("resolution 3 or finer"));
    let out = run(&db, &["observations", "--cell", "not-a-cell"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not an H3 cell index"));
}
