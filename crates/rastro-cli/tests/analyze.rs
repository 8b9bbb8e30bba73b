//! End-to-end analysis through the real binary: the demo, idempotent re-runs, incremental
//! runs, observations of unknown subjects, and consignments without observations.

mod common;

use common::*;
use std::path::Path;
use std::process::Command;

#[test]
fn demo_prints_an_evaluation_table_for_every_typology() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join("demo");
    let out = Command::new(env!("CARGO_BIN_EXE_rastro"))
        .args(["demo", "--no-serve", "--dir"])
        .arg(&d)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let mut in_truth = 0;
    for t in rastro_core::Typology::ALL {
        let row = text
            .lines()
            .find(|l| l.starts_with(t.as_str()))
            .unwrap_or_else(|| panic!("no row for {t} in:\n{text}"));
        // Every typology has a row; those the small scenario's truth holds are detected.
        // (The simulator does not yet stage transshipments: that row reads "-".)
        let cols: Vec<&str> = row.split_whitespace().collect();
        if cols[1] == "0" {
            assert_eq!(cols[5], "-", "{row}");
            continue;
        }
        in_truth += 1;
        let recall: f64 = cols[5].parse().unwrap_or_else(|_| panic!("{row}"));
        assert!(recall >= 0.5, "{row}");
        // Precision is not asserted here: the small scenario's fleet (5 carriers) is too young
        // for the learned normal, so rests at truck stops the registry does not list raise stop
        // alerts, as they would in a new deployment (docs/benchmarks.md, issue 14).
    }
    assert!(in_truth >= 9, "{text}");
    // At most 5% of legitimate consignments alerted (the issue-14 goal), and the load on the
    // analysts stated.
    let fa = text
        .lines()
        .find(|l| l.starts_with("false alerts: "))
        .unwrap_or_else(|| panic!("no false-alerts line in:\n{text}"));
    let words: Vec<&str> = fa.split_whitespace().collect();
    let (alerted, legit): (f64, f64) = (words[2].parse().unwrap(), words[4].parse().unwrap());
    assert!(legit > 0.0 && alerted / legit <= 0.05, "{fa}");
    assert!(
        text.lines()
            .any(|l| l.starts_with("alerts per 100 consignments: ")),
        "{text}"
    );
    let leads = text
        .lines()
        .find(|l| l.starts_with("leads: "))
        .unwrap_or_else(|| panic!("no leads line in:\n{text}"));
    assert!(leads.contains("precision@5"), "{leads}");
    // An explicit --db is used, and never reused: the demo needs a fresh database.
    let db = dir.path().join("mine.db");
    let d2 = dir.path().join("demo2");
    let run = |db: &Path| {
        Command::new(env!("CARGO_BIN_EXE_rastro"))
            .arg("--db")
            .arg(db)
            .args(["-q", "demo", "--no-serve", "--dir"])
            .arg(&d2)
            .output()
            .unwrap()
    };
    assert!(run(&db).status.success());
    assert!(db.exists() && !d2.join("rastro.db").exists());
    let again = run(&db);
    assert_eq!(again.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("already exists"),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    // A second demo replaces the first one's folder.
    let again = Command::new(env!("CARGO_BIN_EXE_rastro"))
        .args(["demo", "--no-serve", "--dir"])
        .arg(&d)
        .output()
        .unwrap();
    assert!(again.status.success());
    assert_eq!(
        String::from_utf8_lossy(&again.stdout),
        text,
        "the demo is deterministic"
    );
}

#[test]
fn analysis_is_idempotent_incremental_and_accounts_for_odd_input() {
    let dir = tempfile::tempdir().unwrap();
    let sim = dir.path().join("sim");
    let cfg = dir.path().join("sim.toml");
    std::fs::write(
        &cfg,
        rastro_sim::DEFAULT_CONFIG.replace("consignments = 300", "consignments = 80"),
    )
    .unwrap();
    let db = dir.path().join("t.db");
    rastro(
        &db,
        &[
            "simulate",
            "--out",
            sim.to_str().unwrap(),
            "--config",
            cfg.to_str().unwrap(),
        ],
    );
    let files: Vec<String> = [
        "places",
        "parties",
        "vehicles",
        "consignments",
        "custody",
        "observations",
        "reports",
    ]
    .iter()
    .map(|k| sim.join(format!("{k}.csv")).display().to_string())
    .collect();
    let mut args = vec!["ingest"];
    args.extend(files.iter().map(String::as_str));
    rastro(&db, &args);
    let now = ["--now", "2026-06-01T00:00:00Z"];
    let first = json(&rastro(&db, &["analyze", "--json", now[0], now[1]]));
    assert_eq!(first["consignments_analysed"], 80);
    let alerts1 = rastro(&db, &["alerts", "--json"]).stdout;
    assert!(
        json(&rastro(&db, &["alerts", "--json"]))
            .as_array()
            .unwrap()
            .len()
            > 3
    );

    // Nothing new: nothing re-analysed, the same alerts.
    let second = json(&rastro(&db, &["analyze", "--json", now[0], now[1]]));
    assert_eq!(second["consignments_analysed"], 0);
    assert_eq!(rastro(&db, &["alerts", "--json"]).stdout, alerts1);
    // A full re-run gives the same alerts too: ids are deterministic, nothing is duplicated.
    let full = json(&rastro(
        &db,
        &["analyze", "--full", "--json", now[0], now[1]],
    ));
    assert_eq!(full["consignments_analysed"], 80);
    assert_eq!(rastro(&db, &["alerts", "--json"]).stdout, alerts1);

    // New data: a consignment with no observations, and observations of an unknown subject.
    let extra_c = dir.path().join("extra_consignments.csv");
    let text = std::fs::read_to_string(sim.join("consignments.csv")).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    let row = lines
        .next()
        .unwrap()
        .replacen("SYN-C-000001", "EXTRA-C-1", 1);
    std::fs::write(&extra_c, format!("{header}\n{row}\n")).unwrap();
    let extra_o = dir.path().join("extra_obs.csv");
    std::fs::write(&extra_o, "id,originator,tlp,releasable_to,source,subject_kind,subject,time,lat,lon,accuracy_m,confidence\nX-1,ANAM,AMBER,,gps,vehicle,NO-SUCH-TRUCK,2026-02-01T00:00:00Z,19.1,-104.3,8,1\n").unwrap();
    let extra_e = dir.path().join("extra_custody.csv");
    std::fs::write(&extra_e, "id,originator,tlp,releasable_to,consignment,event,time,place,lat,lon,vehicle,party,quantity,unit,cas_found\nGHOST-E1,ANAM,AMBER,,GHOST-C1,released,2026-02-01T00:00:00Z,,,,,,,,\n").unwrap();
    rastro(
        &db,
        &[
            "ingest",
            extra_c.to_str().unwrap(),
            extra_o.to_str().unwrap(),
            extra_e.to_str().unwrap(),
        ],
    );
    let third = json(&rastro(&db, &["analyze", "--json", now[0], now[1]]));
    assert_eq!(third["consignments_analysed"], 1, "{third}");
    assert_eq!(third["consignments_without_observations"], 1, "{third}");
    assert_eq!(third["unlinked_subjects"], 1, "{third}");
    assert_eq!(third["undeclared_consignment_ids"], 1, "{third}");
    let show = json(&rastro(
        &db,
        &["consignment", "show", "EXTRA-C-1", "--json"],
    ));
    assert_eq!(show["status"], "at_port");
    let show = json(&rastro(
        &db,
        &["consignment", "show", "SYN-C-000002", "--json"],
    ));
    assert_eq!(show["track"]["type"], "Feature");
    assert!(
        show["track"]["geometry"]["coordinates"]
            .as_array()
            .unwrap()
            .len()
            > 10
    );
}
