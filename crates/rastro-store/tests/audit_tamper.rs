//! Tamper tests: flipping any byte of a stored entry, deleting, reordering or inserting
//! entries, or truncating the log is caught by verification, which names the first bad entry.
//! The tampering goes around the store's API and its append-only triggers, as someone editing
//! the database file would.

use rastro_audit::{verify_log, Entry, Signer, Tree};
use rastro_store::{Actor, AuditEvent, Store};
use rusqlite::{params, Connection};

const N: u64 = 40;

fn build(dir: &std::path::Path) -> (std::path::PathBuf, Signer) {
    let path = dir.join("a.db");
    let mut s = Store::open(&path).unwrap();
    let actor = Actor::new("analyst-1");
    let signer = Signer::from_seed([7; 32]);
    for i in 0..N {
        let mut ev = AuditEvent::new(if i % 3 == 0 { "read" } else { "ingest" });
        ev.records = vec![format!("C-{i}")];
        ev.detail = serde_json::json!({ "i": i });
        s.audit(&actor, ev).unwrap();
        if i % 10 == 9 {
            let t = Tree::from_leaves(s.audit_leaf_hashes().unwrap());
            s.audit_put_head(&signer.sign(t.len(), 1_000 + i as i64, &t.root(t.len()).unwrap()))
                .unwrap();
        }
    }
    (path, signer)
}

fn check(path: &std::path::Path) -> rastro_audit::VerifyReport {
    let s = Store::open(path).unwrap();
    verify_log(
        &s.audit_entries().unwrap(),
        &s.audit_heads().unwrap(),
        None,
        None,
    )
}

fn raw(path: &std::path::Path) -> Connection {
    let c = Connection::open(path).unwrap();
    c.execute_batch("DROP TRIGGER audit_entry_no_update; DROP TRIGGER audit_entry_no_delete;")
        .unwrap();
    c
}

#[test]
fn an_untouched_log_verifies_and_the_store_refuses_edits() {
    let dir = tempfile::tempdir().unwrap();
    let (path, _) = build(dir.path());
    let r = check(&path);
    assert!(r.ok, "{:?}", r.problems);
    assert_eq!((r.entries, r.heads_checked), (N, 4));
    let c = Connection::open(&path).unwrap();
    assert!(c
        .execute("DELETE FROM audit_entry WHERE seq = 3", [])
        .is_err());
    assert!(c
        .execute("UPDATE audit_entry SET actor = 'x' WHERE seq = 3", [])
        .is_err());
}

#[test]
fn flipping_any_byte_of_any_entry_is_caught_at_that_entry() {
    let dir = tempfile::tempdir().unwrap();
    let (path, _) = build(dir.path());
    let pristine = std::fs::read(&path).unwrap();
    for seq in [0u64, 1, 17, 39] {
        let leaf: Vec<u8> = Connection::open(&path)
            .unwrap()
            .query_row(
                "SELECT leaf FROM audit_entry WHERE seq = ?1",
                [seq as i64],
                |r| r.get(0),
            )
            .unwrap();
        for pos in [0, leaf.len() / 3, leaf.len() / 2, leaf.len() - 1] {
            std::fs::write(&path, &pristine).unwrap();
            let c = raw(&path);
            let mut bad = leaf.clone();
            bad[pos] ^= 0x01;
            c.execute(
                "UPDATE audit_entry SET leaf = ?1 WHERE seq = ?2",
                params![bad, seq as i64],
            )
            .unwrap();
            drop(c);
            let r = check(&path);
            assert!(!r.ok);
            assert_eq!(
                r.first_bad_entry,
                Some(seq),
                "byte {pos} of entry {seq}: {:?}",
                r.problems
            );
        }
    }
}

#[test]
fn deleting_reordering_or_truncating_is_caught_where_it_happens() {
    let dir = tempfile::tempdir().unwrap();
    let (path, _) = build(dir.path());
    let pristine = std::fs::read(&path).unwrap();

    // Delete entry 12: position 12 now holds entry 13.
    raw(&path)
        .execute("DELETE FROM audit_entry WHERE seq = 12", [])
        .unwrap();
    let r = check(&path);
    assert_eq!(r.first_bad_entry, Some(12), "{:?}", r.problems);

    // Reorder entries 20 and 21 (swap their contents).
    std::fs::write(&path, &pristine).unwrap();
    let c = raw(&path);
    let get = |s: i64| -> (Vec<u8>, Vec<u8>) {
        c.query_row(
            "SELECT leaf, leaf_hash FROM audit_entry WHERE seq = ?1",
            [s],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap()
    };
    let (a, b) = (get(20), get(21));
    c.execute(
        "UPDATE audit_entry SET leaf = ?1, leaf_hash = ?2 WHERE seq = 20",
        params![b.0, b.1],
    )
    .unwrap();
    c.execute(
        "UPDATE audit_entry SET leaf = ?1, leaf_hash = ?2 WHERE seq = 21",
        params![a.0, a.1],
    )
    .unwrap();
    drop(c);
    let r = check(&path);
    assert_eq!(r.first_bad_entry, Some(20), "{:?}", r.problems);

    // Truncate: drop the last five entries; the head at 40 no longer fits.
    std::fs::write(&path, &pristine).unwrap();
    raw(&path)
        .execute("DELETE FROM audit_entry WHERE seq >= 35", [])
        .unwrap();
    let r = check(&path);
    assert!(!r.ok);
    assert_eq!(r.first_bad_entry, Some(35), "{:?}", r.problems);
    assert!(
        r.problems.iter().any(|p| p.contains("truncated")),
        "{:?}",
        r.problems
    );
}

#[test]
fn an_inserted_entry_is_caught_even_when_the_attacker_rechains_everything_after_it() {
    let dir = tempfile::tempdir().unwrap();
    let (path, _) = build(dir.path());
    let pristine = std::fs::read(&path).unwrap();
    let s = Store::open(&path).unwrap();
    let entries: Vec<Entry> = s
        .audit_entries()
        .unwrap()
        .iter()
        .map(|e| Entry::from_bytes(&e.bytes).unwrap())
        .collect();
    drop(s);

    // Naive insertion: a forged entry slipped in after entry 25 without fixing the chain.
    let c = raw(&path);
    let mut forged = entries[25].clone();
    forged.actor = "nobody".into();
    forged.seq = 26;
    let fb = forged.to_bytes();
    c.execute("UPDATE audit_entry SET seq = seq + 1000 WHERE seq > 25", [])
        .unwrap();
    c.execute("INSERT INTO audit_entry(seq, t_ms, actor, action, leaf, leaf_hash) VALUES (26, 0, 'nobody', 'read', ?1, ?2)", params![fb, rastro_audit::leaf_hash(&fb).to_vec()]).unwrap();
    c.execute(
        "UPDATE audit_entry SET seq = seq - 1000 + 1 WHERE seq > 1000",
        [],
    )
    .unwrap();
    drop(c);
    let r = check(&path);
    assert_eq!(r.first_bad_entry, Some(26), "{:?}", r.problems);

    // A careful attacker re-chains and re-hashes everything after the insertion, so every entry
    // looks right: only the signed heads, which cannot be forged, catch it. Entries up to the
    // last head below the insertion (size 20) are vouched for; the first bad one is reported
    // as the first entry no valid head covers.
    std::fs::write(&path, &pristine).unwrap();
    let c = raw(&path);
    c.execute("DELETE FROM audit_entry WHERE seq > 25", [])
        .unwrap();
    let mut prev = c
        .query_row(
            "SELECT leaf_hash FROM audit_entry WHERE seq = 25",
            [],
            |r| r.get::<_, Vec<u8>>(0),
        )
        .unwrap();
    let mut rest = vec![forged.clone()];
    rest.extend(entries[26..].iter().cloned());
    for (k, mut e) in rest.into_iter().enumerate() {
        e.seq = 26 + k as u64;
        e.prev = hex::encode(&prev);
        let b = e.to_bytes();
        let h = rastro_audit::leaf_hash(&b);
        c.execute("INSERT INTO audit_entry(seq, t_ms, actor, action, leaf, leaf_hash) VALUES (?1, 0, ?2, ?3, ?4, ?5)", params![e.seq as i64, e.actor, e.action, b, h.to_vec()]).unwrap();
        prev = h.to_vec();
    }
    drop(c);
    let r = check(&path);
    assert!(!r.ok);
    assert_eq!(r.first_bad_entry, Some(20), "{:?}", r.problems);
}

#[test]
fn concurrent_appenders_on_separate_connections_keep_one_chain() {
    // Four connections append at once, singly and in batches, as a server's pool and a CLI
    // running beside it do: every append reads the chain tip and extends it under the write
    // lock, so the chain stays whole.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.db");
    drop(Store::open(&path).unwrap());
    std::thread::scope(|s| {
        for t in 0..4 {
            let path = path.clone();
            s.spawn(move || {
                let mut st = Store::open(&path).unwrap();
                let actor = Actor::new(format!("u{t}"));
                for i in 0..50 {
                    let mut ev = AuditEvent::new("read");
                    ev.records = vec![format!("R-{t}-{i}")];
                    if i % 2 == 0 {
                        st.audit(&actor, ev).unwrap();
                    } else {
                        st.audit_batch(vec![(actor.clone(), ev)]).unwrap();
                    }
                }
            });
        }
    });
    let r = check(&path);
    assert!(r.ok && r.first_bad_entry.is_none(), "{r:?}");
    assert_eq!(Store::open(&path).unwrap().audit_len().unwrap(), 200);
}

#[test]
fn entries_naming_many_records_are_found_by_any_of_them() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Store::open(&dir.path().join("s.db")).unwrap();
    let actor = Actor::new("auditor-1");
    let page: Vec<String> = (0..50).map(|i| format!("A-{i}")).collect();
    for _ in 0..3 {
        let mut ev = AuditEvent::new("read");
        ev.records = page.clone();
        s.audit(&actor, ev).unwrap();
    }
    let mut ev = AuditEvent::new("read");
    ev.records = vec!["A-7".into()];
    s.audit(&actor, ev).unwrap();
    let by = |r: &str| {
        s.audit_log(&rastro_store::AuditFilter {
            record: Some(r.into()),
            ..Default::default()
        })
        .unwrap()
        .len()
    };
    assert_eq!(by("A-7"), 4);
    assert_eq!(by("A-49"), 3);
    assert_eq!(by("A-50"), 0);
}

#[test]
fn the_log_filters_by_action_and_pages_backwards_without_gaps_or_repeats() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Store::open(&dir.path().join("s.db")).unwrap();
    let actor = Actor::new("auditor-1");
    for i in 0..25 {
        let ev = AuditEvent::new(if i % 5 == 0 { "lead.release" } else { "read" });
        s.audit(&actor, ev).unwrap();
    }
    let log = |f: rastro_store::AuditFilter| s.audit_log(&f).unwrap();
    let releases = log(rastro_store::AuditFilter {
        action: Some("lead.release".into()),
        ..Default::default()
    });
    assert_eq!(releases.len(), 5);
    assert!(releases.iter().all(|r| r.entry.action == "lead.release"));
    // Newest first, 7 at a time, each page starting below the last one's lowest seq.
    let mut seen = Vec::new();
    let mut before = None;
    loop {
        let page = log(rastro_store::AuditFilter {
            before_seq: before,
            limit: Some(7),
            newest_first: true,
            ..Default::default()
        });
        if page.is_empty() {
            break;
        }
        before = page.last().map(|r| r.entry.seq);
        seen.extend(page.iter().map(|r| r.entry.seq));
    }
    let mut all: Vec<u64> = log(Default::default())
        .iter()
        .map(|r| r.entry.seq)
        .collect();
    all.reverse();
    assert_eq!(seen, all, "pages cover the log once each, newest first");
}
