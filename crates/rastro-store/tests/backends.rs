//! One conformance suite for both stores: the same generated batches (new records, repeats,
//! changed records under a stored key, repeated quarantine lines, observations and other
//! kinds, two originators and two sources) written to the SQLite store and to a PostgreSQL
//! schema give the same counts batch by batch and the same data digest; and PostgreSQL's audit
//! log refuses every change, by privilege and by trigger.
//!
//! PostgreSQL is a real server: `RASTRO_TEST_PG` (default
//! `postgres://rastro:rastro@127.0.0.1/rastro_test`, which `.ci/run` creates); each case gets a
//! schema of its own, dropped afterwards.

use proptest::prelude::*;
use rastro_core::{Quarantine, Record};
use rastro_store::{Actor, BatchStats, PgStore, Prepared, Store};
use std::sync::atomic::{AtomicU32, Ordering};

fn pg_url() -> String {
    std::env::var("RASTRO_TEST_PG")
        .unwrap_or_else(|_| "postgres://rastro:rastro@127.0.0.1/rastro_test".into())
}

/// A fresh schema name per case, unique across concurrently running test binaries.
fn schema() -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    format!(
        "t_{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

fn connect(schema: &str) -> PgStore {
    PgStore::connect(&pg_url(), schema).unwrap_or_else(|e| {
        panic!("{e}\nstart PostgreSQL and create the test role and database (.ci/run does)")
    })
}

/// Drops a case's schema on the way out, also when the case fails.
struct Dropped(String);

impl Drop for Dropped {
    fn drop(&mut self) {
        if let Ok(mut c) = postgres::Client::connect(&pg_url(), postgres::NoTls) {
            let _ = c.batch_execute(&format!("DROP SCHEMA IF EXISTS {} CASCADE", self.0));
        }
    }
}

/// One generated item: an observation or a place, its key, which of two contents, its line.
#[derive(Debug, Clone)]
struct Item {
    observation: bool,
    key: u8,
    originator: u8,
    variant: u8,
    line: u64,
}

fn record(it: &Item) -> Record {
    let originator = ["ANAM", "SEMAR"][it.originator as usize];
    let j = if it.observation {
        serde_json::json!({
            "kind": "observation", "id": format!("O-{}", it.key), "originator": originator,
            "marking": {"tlp": "AMBER"}, "source": "gps", "subject_kind": "vehicle",
            "subject": format!("TRK-{}", it.key % 3),
            "time_ms": format!("2026-03-03T15:{:02}:00Z", it.key),
            "lat": 19.0 + f64::from(it.variant) * 0.01 + f64::from(it.key) * 0.001,
            "lon": -99.0, "accuracy_m": 8.0, "confidence": 1.0
        })
    } else {
        serde_json::json!({
            "kind": "place", "id": format!("PL-{}", it.key), "originator": originator,
            "marking": {"tlp": "CLEAR"}, "place_kind": "warehouse",
            "name": format!("Bodega {} v{}", it.key, it.variant),
            "position": {"lat": 19.4, "lon": -99.1}, "radius_m": 150.0,
            "locode": null, "country": "MX", "operator": null
        })
    };
    serde_json::from_value(j).expect("a valid record")
}

#[derive(Debug, Clone)]
struct Batch {
    source: u8,
    items: Vec<Item>,
    quarantine_lines: Vec<u64>,
}

fn batches() -> impl Strategy<Value = Vec<Batch>> {
    let item = (any::<bool>(), 0u8..10, 0u8..2, 0u8..2, 1u64..40).prop_map(
        |(observation, key, originator, variant, line)| Item {
            observation,
            key,
            originator,
            variant,
            line,
        },
    );
    let batch = (
        0u8..2,
        prop::collection::vec(item, 0..25),
        prop::collection::vec(1u64..6, 0..3),
    )
        .prop_map(|(source, items, quarantine_lines)| Batch {
            source,
            items,
            quarantine_lines,
        });
    prop::collection::vec(batch, 1..6)
}

fn quarantine(source: &str, line: u64) -> Quarantine {
    Quarantine {
        source: source.to_string(),
        line,
        kind: None,
        field: Some("lat".into()),
        reason: format!("bad latitude on line {line}"),
        raw: "x".into(),
    }
}

/// Writes the batches to both stores; returns each store's per-batch counts and digest.
fn check(batches: &[Batch]) -> ((Vec<BatchStats>, String), (Vec<BatchStats>, String)) {
    let actor = Actor::new("system:test");
    let sources = ["/data/a.csv", "/data/b.csv"];
    let mut lite = Store::open_in_memory().unwrap();
    let name = schema();
    let _drop = Dropped(name.clone());
    let mut pg = connect(&name);
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for batch in batches {
        let source = sources[batch.source as usize];
        let items: Vec<Prepared> = batch
            .items
            .iter()
            .map(|it| Prepared::new(it.line, record(it)))
            .collect();
        let q: Vec<Quarantine> = batch
            .quarantine_lines
            .iter()
            .map(|&l| quarantine(source, 100 + l))
            .collect();
        let sl = lite.source_id(source, None, 1).unwrap();
        a.push(lite.write_batch(&actor, sl, &items, &q).unwrap());
        let sp = pg.source_id(source, 1).unwrap();
        b.push(pg.write_batch_with(&actor, sp, &items, &q, |_| {}).unwrap());
    }
    (
        (a, lite.keyed_digest().unwrap()),
        (b, pg.keyed_digest().unwrap()),
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn both_stores_count_and_keep_the_same_data(batches in batches()) {
        let ((sa, da), (sb, db)) = check(&batches);
        prop_assert_eq!(sa, sb, "per-batch counts");
        prop_assert_eq!(da, db, "data digest");
    }
}

#[test]
fn a_changed_record_under_a_stored_key_is_quarantined_alike() {
    // The hand-written case the property must contain: new, repeat, changed.
    let it = |variant, line| Item {
        observation: false,
        key: 1,
        originator: 0,
        variant,
        line,
    };
    let b = Batch {
        source: 0,
        items: vec![it(0, 2), it(0, 3), it(1, 4)],
        quarantine_lines: vec![],
    };
    let ((sa, da), (sb, db)) = check(&[b]);
    assert_eq!(sa, sb);
    assert_eq!(
        (
            sa[0].inserted,
            sa[0].duplicates,
            sa[0].conflicts,
            sa[0].quarantined
        ),
        (1, 1, 1, 1)
    );
    assert_eq!(da, db);
}

#[test]
fn the_postgresql_audit_log_refuses_every_change() {
    let name = schema();
    let _drop = Dropped(name.clone());
    let mut pg = connect(&name);
    let src = pg.source_id("/data/a.csv", 1).unwrap();
    let items = vec![Prepared::new(
        2,
        record(&Item {
            observation: true,
            key: 1,
            originator: 0,
            variant: 0,
            line: 2,
        }),
    )];
    pg.write_batch_with(&Actor::new("system:test"), src, &items, &[], |_| {})
        .unwrap();
    assert_eq!(pg.audit_entries().unwrap().len(), 1);
    // As the writer role: no privilege to change or remove an entry.
    for sql in [
        "UPDATE audit_entry SET actor = 'someone else'",
        "DELETE FROM audit_entry",
        "TRUNCATE audit_entry",
    ] {
        let e = pg.try_execute(sql).expect_err(sql);
        assert!(e.contains("permission denied"), "{sql}: {e}");
    }
    // As the schema's owner, who holds every privilege: the triggers refuse.
    pg.try_execute("RESET ROLE").unwrap();
    for sql in [
        "UPDATE audit_entry SET actor = 'someone else'",
        "DELETE FROM audit_entry",
        "TRUNCATE audit_entry",
    ] {
        let e = pg.try_execute(sql).expect_err(sql);
        assert!(e.contains("append-only"), "{sql}: {e}");
    }
    assert_eq!(pg.audit_entries().unwrap().len(), 1);
}
