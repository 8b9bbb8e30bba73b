//! Observation blocks, key runs and the sparse cell index, checked against plain answers: what
//! was written comes back field for field, duplicates and conflicts are decided the same
//! whichever path (run or key row) holds the stored id, and a query by cell returns exactly
//! the fixes a scan of everything would.

use proptest::prelude::*;
use rastro_core::{grid, Marking, Observation, ObservationSource, Record, SubjectKind, Tlp};
use rastro_store::{Prepared, Store};

fn obs(id: &str, subject: &str, t_s: i64, lat: f64, lon: f64) -> Observation {
    Observation {
        id: id.into(),
        originator: "ANAM".into(),
        marking: Marking::new(Tlp::Amber),
        source: ObservationSource::Gps,
        subject_kind: SubjectKind::Vehicle,
        subject: subject.into(),
        time_ms: t_s * 1000,
        lat,
        lon,
        accuracy_m: Some(8.0),
        confidence: 1.0,
        speed_kmh: None,
        heading_deg: None,
        ignition: None,
        power: None,
        request: None,
    }
}

fn prepared(list: &[Observation]) -> Vec<Prepared> {
    list.iter()
        .enumerate()
        .map(|(i, o)| Prepared::new(i as u64 + 2, Record::Observation(o.clone())))
        .collect()
}

/// Writes `list` as one batch from `source`; returns (inserted, duplicates, conflicts).
fn check(store: &mut Store, source: &str, list: &[Observation]) -> (u64, u64, u64) {
    let src = store.source_id(source, None, 0).unwrap();
    let s = store
        .write_batch(&rastro_store::Actor::new("test"), src, &prepared(list), &[])
        .unwrap();
    (s.inserted, s.duplicates, s.conflicts)
}

/// A drive north from Manzanillo with one fix a minute, ids in order.
fn track(prefix: &str, subject: &str, n: usize) -> Vec<Observation> {
    (0..n)
        .map(|i| {
            obs(
                &format!("{prefix}{i:06}"),
                subject,
                1_767_225_600 + 60 * i as i64,
                19.05 + 0.008 * i as f64,
                -104.31 + 0.003 * i as f64,
            )
        })
        .collect()
}

#[test]
fn what_is_written_comes_back_field_for_field_in_time_order() {
    let mut store = Store::open_in_memory().unwrap();
    let mut list = track("O-", "SYN-V-1", 2500);
    // Awkward values: no accuracy, a changed confidence, a long id, a time going back.
    list[7].accuracy_m = None;
    list[8].confidence = 0.25;
    list[9].id = format!("O-{}", "x".repeat(300));
    list[10].time_ms -= 3_600_000;
    assert_eq!(check(&mut store, "a.csv", &list), (2500, 0, 0));
    let back = store
        .observations_of("SYN-V-1", i64::MIN, i64::MAX, &|_| true)
        .unwrap();
    let mut want = list.clone();
    want.sort_by_key(|o| o.time_ms);
    assert_eq!(back.into_iter().map(|o| o.obs).collect::<Vec<_>>(), want);
    assert_eq!(store.count_observations().unwrap(), 2500);
    assert_eq!(store.max_observation_seq().unwrap(), 2500);
}

#[test]
fn duplicates_and_conflicts_are_found_in_runs_and_in_key_rows() {
    let mut store = Store::open_in_memory().unwrap();
    let list = track("O-", "SYN-V-1", 300);
    // First batch: fresh, sorted, unique: stored as a run.
    assert_eq!(check(&mut store, "a.csv", &list[..200]), (200, 0, 0));
    // Overlapping the run: 100 duplicates from it, 100 new (stored as key rows).
    assert_eq!(check(&mut store, "b.csv", &list[100..]), (100, 100, 0));
    // Everything again: all duplicates, whichever structure holds them.
    assert_eq!(check(&mut store, "c.csv", &list), (0, 300, 0));
    // Changed content: a conflict, for both paths, that names the record but not where the
    // stored one came from (an answer must not describe another submission).
    let mut changed = vec![list[5].clone(), list[250].clone()];
    changed[0].lat += 0.001;
    changed[1].confidence = 0.5;
    assert_eq!(check(&mut store, "d.csv", &changed), (0, 0, 2));
    let q = store
        .quarantine(&rastro_store::QuarantineFilter {
            limit: 10,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(q.len(), 2);
    for r in &q {
        assert!(r.entry.reason.starts_with("conflict"), "{q:?}");
        assert!(
            !r.entry.reason.contains("a.csv") && !r.entry.reason.contains("b.csv"),
            "{q:?}"
        );
    }
    // The same id under another originator is another observation: never a collision.
    let mut other = list[5].clone();
    other.originator = "DEA".into();
    other.lat += 0.5;
    assert_eq!(check(&mut store, "f.csv", &[other]), (1, 0, 0));
    // A batch repeating an id within itself: the first line wins, the second is a conflict.
    let mut twice = track("P-", "SYN-V-2", 3);
    let mut again = twice[1].clone();
    again.lat += 1.0;
    twice.push(again);
    assert_eq!(check(&mut store, "e.csv", &twice), (3, 0, 1));
    assert_eq!(store.count_observations().unwrap(), 304);
}

#[test]
fn a_query_by_cell_returns_exactly_the_fixes_inside_it() {
    let mut store = Store::open_in_memory().unwrap();
    let mut all = Vec::new();
    for (k, subject) in ["SYN-V-1", "SYN-V-2", "SYN-V-3"].iter().enumerate() {
        let mut t = track(&format!("O{k}-"), subject, 1500);
        for o in &mut t {
            o.lon += 0.05 * k as f64;
        }
        all.extend(t);
    }
    let mut store_items = all.clone();
    // Shuffle the batch order a little so blocks interleave.
    store_items.rotate_left(700);
    for chunk in store_items.chunks(1000) {
        check(&mut store, "a.csv", chunk);
    }
    for (res, stride) in [(9u8, 97usize), (7, 211), (5, 499), (4, 1499)] {
        for probe in all.iter().step_by(stride) {
            let cell = grid::cell(probe.lat, probe.lon, res).unwrap();
            let got = store
                .observations_in_cell(cell, i64::MIN, i64::MAX, &|_| true)
                .unwrap()
                .unwrap();
            let mut want: Vec<&Observation> = all
                .iter()
                .filter(|o| grid::cell(o.lat, o.lon, res) == Some(cell))
                .collect();
            want.sort_by_key(|o| (o.time_ms, o.id.clone()));
            let mut got_ids: Vec<(i64, String)> = got
                .iter()
                .map(|o| (o.obs.time_ms, o.obs.id.clone()))
                .collect();
            got_ids.sort();
            let want_ids: Vec<(i64, String)> =
                want.iter().map(|o| (o.time_ms, o.id.clone())).collect();
            assert_eq!(
                got_ids,
                want_ids,
                "cell {} res {res}",
                grid::to_string(cell)
            );
            assert!(!got.is_empty());
        }
    }
    // Too coarse a cell is refused rather than scanning half a continent.
    let coarse = grid::cell(19.05, -104.31, 1).unwrap();
    assert!(store
        .observations_in_cell(coarse, i64::MIN, i64::MAX, &|_| true)
        .unwrap()
        .is_none());
}

#[test]
fn a_version_10_database_is_migrated_without_losing_an_observation() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    // A database as version 10 wrote it (every table of that schema), with old-style rows.
    Store::create_at_version(&path, 10).unwrap();
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch("INSERT INTO source VALUES (1, 'old.csv', 0);")
            .unwrap();
        for (i, o) in track("O-", "SYN-V-1", 100).iter().enumerate() {
            conn.execute(
                "INSERT INTO observation(id, hash, src, line, originator, tlp, rel, source, subject_kind, subject, t_ms, lat, lon, h3, accuracy_m, confidence) VALUES (?1, ?2, 1, ?3, ?4, ?5, NULL, ?6, ?7, ?8, ?9, ?10, ?11, 0, ?12, ?13)",
                rusqlite::params![o.id, o.content_hash() as i64, i as i64 + 2, o.originator, o.marking.tlp.code(), o.source.code(), o.subject_kind.code(), o.subject, o.time_ms, o.lat, o.lon, o.accuracy_m, o.confidence],
            )
            .unwrap();
        }
    }
    let store = Store::open(&path).unwrap();
    assert_eq!(store.count_observations().unwrap(), 100);
    let back = store
        .observations_of("SYN-V-1", i64::MIN, i64::MAX, &|_| true)
        .unwrap();
    assert_eq!(
        back.into_iter().map(|o| o.obs).collect::<Vec<_>>(),
        track("O-", "SYN-V-1", 100)
    );
    drop(store);
    // The keys moved with their hashes and provenance (they decide duplicates), namespaced
    // by originator since schema 12, and the version-1 table is gone.
    let conn = rusqlite::Connection::open(&path).unwrap();
    let keys: Vec<(String, i64, i64)> = conn
        .prepare("SELECT id, hash, line FROM obs_key ORDER BY id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let want: Vec<(String, i64, i64)> = track("O-", "SYN-V-1", 100)
        .iter()
        .enumerate()
        .map(|(i, o)| {
            (
                rastro_store::key_of(&o.originator, &o.id),
                o.content_hash() as i64,
                i as i64 + 2,
            )
        })
        .collect();
    assert_eq!(keys, want);
    let old: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM sqlite_master WHERE name = 'observation'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(old, 0);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    /// Any batch, in any id order, with repeats: every row is inserted, a duplicate or a
    /// conflict exactly as a plain map of id to content says, and the stored rows are the
    /// first of each id.
    #[test]
    fn keying_matches_a_plain_map(
        batches in prop::collection::vec(
            prop::collection::vec((0u32..400, 0u8..3), 1..300), 1..5)
    ) {
        let mut store = Store::open_in_memory().unwrap();
        let mut seen: std::collections::HashMap<String, u64> = Default::default();
        for (b, batch) in batches.iter().enumerate() {
            let list: Vec<Observation> = batch
                .iter()
                .map(|&(id, v)| obs(&format!("O-{id:05}"), "SYN-V-1", i64::from(id) * 60 + 1_767_225_600, 19.0 + f64::from(v) * 0.01, -104.0))
                .collect();
            let mut want = (0, 0, 0);
            for o in &list {
                let h = o.content_hash();
                match seen.get(&o.id) {
                    None => { seen.insert(o.id.clone(), h); want.0 += 1; }
                    Some(&s) if s == h => want.1 += 1,
                    Some(_) => want.2 += 1,
                }
            }
            prop_assert_eq!(check(&mut store, &format!("{b}.csv"), &list), want);
        }
        prop_assert_eq!(store.count_observations().unwrap(), seen.len() as u64);
        for o in store.observations_of("SYN-V-1", i64::MIN, i64::MAX, &|_| true).unwrap().into_iter().map(|o| o.obs) {
            prop_assert_eq!(seen.get(&o.id), Some(&o.content_hash()));
        }
    }
}
