//! Property test of the enforcement point over generated organisations, users, markings and
//! records: no guarded read (lists, single items, counts, derived alerts and leads) returns
//! anything the viewer may not see, and a hidden item answers exactly like a missing one.

use proptest::prelude::*;
use rastro_core::{
    Alert, Contribution, Evidence, EvidenceKind, Kind, Lead, LeadStatus, Marking, Position, Record,
    Report, ReportKind, Tlp, Typology,
};
use rastro_policy::guard::{load_policy, Guard};
use rastro_store::{AlertFilter, OrgRow, Prepared, Store};
use std::collections::BTreeSet;

const ORGS: [(&str, &str); 5] = [
    ("ANAM", "MX"),
    ("SEMAR", "MX"),
    ("FGR", "MX"),
    ("DEA", "US"),
    ("RCMP", "CA"),
];
const LIST: [&str; 8] = ["MX", "US", "CA", "ANAM", "SEMAR", "FGR", "DEA", "RCMP"];

fn marking() -> impl Strategy<Value = Marking> {
    (
        0u8..5,
        proptest::collection::btree_set(0usize..LIST.len(), 0..3),
    )
        .prop_map(|(c, r)| Marking {
            tlp: Tlp::from_code(c).unwrap_or(Tlp::Red),
            releasable_to: r.into_iter().map(|i| LIST[i].to_string()).collect(),
        })
}

fn report(i: usize, originator: &str, marking: Marking) -> Report {
    Report {
        id: format!("R{i}"),
        originator: originator.into(),
        marking,
        report_kind: ReportKind::Tip,
        time_ms: 1_770_000_000_000 + i as i64,
        position: Some(Position {
            lat: 20.0 + i as f64 * 0.001,
            lon: -100.0,
        }),
        reliability: 'B',
        credibility: 2,
        subjects: vec![],
        summary: "synthetic".into(),
        quantity_kg: None,
        profile: vec![],
        valid_until_ms: None,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn no_guarded_read_returns_what_the_viewer_may_not_see(
        records in proptest::collection::vec((0usize..6, marking()), 1..25),
        derived in proptest::collection::vec(proptest::collection::btree_set(0usize..25, 1..4), 0..8),
    ) {
        let mut store = Store::open_in_memory().unwrap();
        for (code, nation) in ORGS {
            store.add_org(&OrgRow { code: code.into(), name: code.into(), nation: nation.into(), kind: "other".into() }, 0).unwrap();
            let (row, _) = rastro_policy::token::new_user(&format!("u-{code}"), code, "analyst").unwrap();
            store.add_user(&row, 0).unwrap();
        }
        // Originator 5 is an organisation the deployment does not know.
        let reports: Vec<Report> = records
            .iter()
            .enumerate()
            .map(|(i, (o, m))| report(i, ORGS.get(*o).map(|x| x.0).unwrap_or("UNKNOWN"), m.clone()))
            .collect();
        let src = store.source_id("gen", 0).unwrap();
        let items: Vec<Prepared> = reports.iter().enumerate().map(|(i, r)| Prepared::new(i as u64 + 1, Record::Report(r.clone()))).collect();
        store.write_batch(src, &items, &[]).unwrap();

        // Derived items, marked as the pipeline marks them: explicit input markings combined.
        let policy = load_policy(&store).unwrap();
        let inputs: Vec<Vec<&Report>> = derived
            .iter()
            .map(|set| set.iter().filter_map(|&i| reports.get(i)).collect::<Vec<_>>())
            .filter(|v: &Vec<&Report>| !v.is_empty())
            .collect();
        let mut alerts = Vec::new();
        let mut leads = Vec::new();
        for (k, ins) in inputs.iter().enumerate() {
            let explicit: Vec<Marking> = ins.iter().map(|r| policy.explicit(&r.originator, &r.marking)).collect();
            let combined = Marking::combine(explicit.iter());
            alerts.push(Alert {
                id: format!("A{k}"), typology: Typology::Convergence, subject: format!("cell:{k}"),
                time_ms: 0, lat: Some(20.0), lon: Some(-100.0), score: 0.9,
                evidence: ins.iter().map(|r| r.id.clone()).collect(), summary: String::new(),
                marking: combined.clone(),
            });
            leads.push(Lead {
                id: format!("L{k}"), rank: k as u32 + 1, score: 1.0, lat: 20.0, lon: -100.0,
                cells: vec![format!("c{k}")], resolution: 9, z_max: 4.0, p_min: 0.001,
                evidence_mass: 1.0, background: 0.0, kinds: 1,
                evidence: ins.iter().zip(&explicit).map(|(r, m)| Contribution {
                    evidence: Evidence { origin: r.id.clone(), kind: EvidenceKind::Tip, detail: String::new(), time_ms: 0, lat: 20.0, lon: -100.0, weight: 0.5, marking: m.clone() },
                    cell: format!("c{k}"), contribution: 0.5,
                }).collect(),
                marking: combined, status: LeadStatus::New, status_note: None, last_seen_ms: 0, summary: String::new(),
            });
        }
        store.replace_fleet_alerts(Typology::Convergence, &alerts).unwrap();
        store.replace_leads(&leads).unwrap();

        for (code, _) in ORGS {
            let name = format!("u-{code}");
            let mut g = Guard::as_user(&mut store, &name).unwrap();
            let v = g.viewer().unwrap().clone();
            let may = |r: &Report| policy.may_read(&v, &r.originator, &r.marking);
            let visible: BTreeSet<&str> = reports.iter().filter(|r| may(r)).map(|r| r.id.as_str()).collect();
            // Single items and counts.
            for r in &reports {
                let got = g.record(Kind::Report, &r.id).unwrap();
                prop_assert_eq!(got.is_some(), may(r), "{} reading {}", code, r.id);
            }
            prop_assert!(g.record(Kind::Report, "R-missing").unwrap().is_none());
            let counts = g.counts().unwrap();
            prop_assert_eq!(counts.get("report").copied().unwrap_or(0), visible.len() as u64);
            // Derived data: every input of every returned item is visible to the viewer, and
            // a limit never counts hidden items.
            let got = g.alerts(&AlertFilter::default()).unwrap();
            for a in &got {
                for e in &a.evidence {
                    prop_assert!(visible.contains(e.as_str()), "{} sees alert {} built on hidden {}", code, a.id, e);
                }
            }
            let one = g.alerts(&AlertFilter { limit: Some(1), ..Default::default() }).unwrap();
            prop_assert_eq!(one.len(), got.len().min(1));
            for l in g.leads(u32::MAX).unwrap() {
                let original = leads.iter().find(|x| x.id == l.id).unwrap();
                for c in &original.evidence {
                    prop_assert!(visible.contains(c.evidence.origin.as_str()), "{} sees lead {} built on hidden {}", code, l.id, c.evidence.origin);
                }
            }
            for l in &leads {
                let shown = g.lead(&l.id).unwrap();
                let all_visible = l.evidence.iter().all(|c| visible.contains(c.evidence.origin.as_str()));
                if shown.is_some() {
                    prop_assert!(all_visible);
                }
            }
        }
    }
}
