//! Leads end to end through the real binary: built by analysis on the small scenario, listed
//! with evidence and markings, exported as GeoJSON, and decided on, with the decision kept
//! across recomputation and written to the audit log.

use rastro_app::views::LeadV1 as Lead;
use rastro_core::Tlp;

fn tlp(m: &rastro_app::views::MarkingV1) -> Tlp {
    Tlp::parse(&m.tlp).unwrap()
}
mod common;

use common::*;
use std::process::Command;

#[test]
fn leads_carry_evidence_markings_and_decisions() {
    let dir = tempfile::tempdir().unwrap();
    let (db, _) = small_demo(dir.path());
    let leads: Vec<Lead> =
        serde_json::from_slice(&rastro(&db, &["leads", "--json"]).stdout).expect("leads JSON");
    assert!(
        !leads.is_empty(),
        "the small scenario has labs with converging signals"
    );
    for (i, l) in leads.iter().enumerate() {
        assert_eq!(l.rank as usize, i + 1);
        assert!(i == 0 || leads[i - 1].score >= l.score);
        let sum: f64 = l.evidence.iter().map(|c| c.contribution).sum();
        assert!((sum - l.evidence_mass).abs() < 1e-9, "{}", l.id);
        for c in &l.evidence {
            // Derived data is never less restricted than any of its inputs.
            assert!(tlp(&l.marking) >= tlp(&c.marking), "{}", l.id);
            assert!(l.cells.contains(&c.cell));
        }
    }
    // The scenario's tips are TLP:RED: a lead with a tip among its evidence is RED (the loop
    // above), and the best-corroborated leads have one. Leads resting on seizures and alerts
    // alone (AMBER) exist too since seizures near laboratories are simulated.
    assert!(leads.iter().any(|l| tlp(&l.marking) == Tlp::Red));
    assert!(leads
        .iter()
        .filter(|l| l.evidence.iter().any(|c| tlp(&c.marking) == Tlp::Red))
        .all(|l| tlp(&l.marking) == Tlp::Red));

    let top = &leads[0].id;
    let shown = String::from_utf8(rastro(&db, &["lead", "show", top]).stdout).unwrap();
    assert!(
        shown.contains("evidence mass") && shown.contains("contrib"),
        "{shown}"
    );

    let gj: serde_json::Value =
        serde_json::from_slice(&rastro(&db, &["leads", "--geojson"]).stdout).unwrap();
    assert_eq!(gj["type"], "FeatureCollection");
    let f = &gj["features"][0];
    assert_eq!(f["geometry"]["type"], "MultiPolygon");
    let ring = f["geometry"]["coordinates"][0][0].as_array().unwrap();
    assert_eq!(ring.len(), 7, "a hexagon, closed");
    assert_eq!(ring[0], ring[6]);

    rastro(
        &db,
        &[
            "lead",
            "status",
            top,
            "under-review",
            "--note",
            "asked the state police",
        ],
    );
    rastro(&db, &["analyze", "--full", "--now", "2026-03-15T00:00:00Z"]);
    let again: Vec<Lead> =
        serde_json::from_slice(&rastro(&db, &["leads", "--json"]).stdout).unwrap();
    let kept = again
        .iter()
        .find(|l| &l.id == top)
        .expect("the decided lead keeps its id");
    assert_eq!(kept.status, "under_review");
    assert_eq!(kept.status_note.as_deref(), Some("asked the state police"));
    let log: serde_json::Value =
        serde_json::from_slice(&rastro(&db, &["audit", "log", "--record", top, "--json"]).stdout)
            .unwrap();
    assert!(
        log.as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "lead.status"),
        "{log}"
    );

    // Unknown leads and statuses are refused with a clear message, nothing written.
    let out = Command::new(env!("CARGO_BIN_EXE_rastro"))
        .arg("--db")
        .arg(&db)
        .args(["lead", "status", "lead-nope", "closed"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no lead"));
    let out = Command::new(env!("CARGO_BIN_EXE_rastro"))
        .arg("--db")
        .arg(&db)
        .args(["lead", "status", top, "shelved"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("one of: new"));
}
