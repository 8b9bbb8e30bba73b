//! Persistence of the audit log: entries (exact leaf bytes and leaf hash), the records each
//! names, and signed tree heads. Entries carry no secondary index besides the records they name:
//! filtering by actor or time scans the log, which keeps appends cheap. Appends happen inside the caller's transaction, so an action
//! and its entry commit together or not at all. Triggers refuse UPDATE and DELETE on entries.

use crate::{Actor, Result, Store, StoreError};
use rastro_audit::{leaf_hash, Entry, SignedTreeHead, StoredEntry};
use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;
use sha2::{Digest, Sha256};

/// What to log; the store adds sequence number, time, actor and chain link.
#[derive(Debug, Clone, Default)]
pub struct AuditEvent {
    pub action: String,
    pub records: Vec<String>,
    pub from: Option<String>,
    pub purpose: Option<String>,
    pub detail: serde_json::Value,
}

impl AuditEvent {
    pub fn new(action: &str) -> AuditEvent {
        AuditEvent {
            action: action.to_string(),
            ..Default::default()
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub actor: Option<String>,
    pub since_ms: Option<i64>,
    pub record: Option<String>,
    /// Only entries of this action (`lead.release`, `read`, ...).
    pub action: Option<String>,
    /// Only entries before this sequence number: the next page when reading newest first.
    pub before_seq: Option<u64>,
    /// Only entries by users of this organisation (in SQL, before the limit, so a page is full
    /// whenever older matching entries exist).
    pub actor_org: Option<String>,
    pub limit: Option<u32>,
    /// Newest entries first (with a limit: the latest ones).
    pub newest_first: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct AuditRow {
    pub leaf_hash: String,
    #[serde(flatten)]
    pub entry: Entry,
}

pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Records at most this many ids in one entry; the count goes in `detail`.
pub const MAX_RECORDS_PER_ENTRY: usize = 1000;

/// Entries naming more records than this are indexed through their record set.
const SET_MIN_RECORDS: usize = 16;

pub(crate) fn append(conn: &Connection, actor: &str, ev: AuditEvent) -> Result<u64> {
    append_many(conn, actor, std::iter::once(ev))
}

/// Appends events in order; returns the sequence number of the last. The chain tip is read
/// once per call, so a batch costs one insert per entry (plus one per named record).
pub(crate) fn append_many(
    conn: &Connection,
    actor: &str,
    evs: impl IntoIterator<Item = AuditEvent>,
) -> Result<u64> {
    append_by(conn, evs.into_iter().map(|ev| (actor, ev)))
}

/// Appends events of any actors in order, reading the chain tip once: a server's group
/// commit of many requests' reads costs one insert per entry, not a query per entry.
pub(crate) fn append_by<'a>(
    conn: &Connection,
    evs: impl IntoIterator<Item = (&'a str, AuditEvent)>,
) -> Result<u64> {
    let last: Option<(i64, Vec<u8>)> = conn
        .query_row(
            "SELECT seq, leaf_hash FROM audit_entry ORDER BY seq DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let first = last.as_ref().map_or(0, |l| l.0 as u64 + 1);
    let mut prev = last.map(|l| hex::encode(l.1)).unwrap_or_default();
    let mut ins = conn.prepare_cached("INSERT INTO audit_entry(seq, t_ms, actor, action, leaf, leaf_hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")?;
    let mut ins_rec =
        conn.prepare_cached("INSERT OR IGNORE INTO audit_record(record, seq) VALUES (?1, ?2)")?;
    let mut ins_set = conn.prepare_cached("INSERT OR IGNORE INTO audit_set(hash) VALUES (?1)")?;
    let mut ins_set_rec = conn
        .prepare_cached("INSERT OR IGNORE INTO audit_set_record(record, hash) VALUES (?1, ?2)")?;
    let mut ins_set_entry =
        conn.prepare_cached("INSERT OR IGNORE INTO audit_set_entry(hash, seq) VALUES (?1, ?2)")?;
    let t = now_ms();
    let time = rastro_core::format_time_ms(t);
    let mut last_seq = first;
    for (seq, (actor, ev)) in (first..).zip(evs) {
        let mut records = ev.records;
        let mut detail = ev.detail;
        if records.len() > MAX_RECORDS_PER_ENTRY {
            if let serde_json::Value::Object(m) = &mut detail {
                m.insert("records_total".into(), records.len().into());
            } else {
                detail = serde_json::json!({ "records_total": records.len() });
            }
            records.truncate(MAX_RECORDS_PER_ENTRY);
        }
        let entry = Entry {
            seq,
            time: time.clone(),
            actor: actor.to_string(),
            action: ev.action,
            records,
            from: ev.from,
            purpose: ev.purpose,
            detail,
            prev,
        };
        let bytes = entry.to_bytes();
        let h = leaf_hash(&bytes);
        ins.execute(params![
            seq as i64,
            t,
            entry.actor,
            entry.action,
            bytes,
            h.as_slice()
        ])?;
        if entry.records.len() > SET_MIN_RECORDS {
            let mut hasher = Sha256::new();
            for r in &entry.records {
                hasher.update(r.as_bytes());
                hasher.update(b"\n");
            }
            let set: [u8; 32] = hasher.finalize().into();
            if ins_set.execute(params![set.as_slice()])? == 1 {
                for r in &entry.records {
                    ins_set_rec.execute(params![r, set.as_slice()])?;
                }
            }
            ins_set_entry.execute(params![set.as_slice(), seq as i64])?;
        } else {
            for r in &entry.records {
                ins_rec.execute(params![r, seq as i64])?;
            }
        }
        prev = hex::encode(h);
        last_seq = seq;
    }
    Ok(last_seq)
}

impl Store {
    /// Appends one entry (inside the current transaction, if one is open; otherwise in its
    /// own IMMEDIATE transaction, so that reading the chain tip and appending to it cannot be
    /// interleaved with another connection's append).
    pub fn audit(&mut self, actor: &Actor, ev: AuditEvent) -> Result<u64> {
        if !self.conn.is_autocommit() {
            return append(&self.conn, actor.as_str(), ev);
        }
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let last = append(&tx, actor.as_str(), ev)?;
        tx.commit()?;
        Ok(last)
    }

    /// Appends entries by several actors in one IMMEDIATE transaction: how a server writes
    /// the reads of many requests with one commit.
    pub fn audit_batch(&mut self, evs: Vec<(Actor, AuditEvent)>) -> Result<u64> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let (actors, events): (Vec<Actor>, Vec<AuditEvent>) = evs.into_iter().unzip();
        let last = append_by(&tx, actors.iter().map(Actor::as_str).zip(events))?;
        tx.commit()?;
        Ok(last)
    }

    /// Appends many entries in one transaction (batched commits for bulk logging).
    pub fn audit_many(
        &mut self,
        actor: &Actor,
        evs: impl IntoIterator<Item = AuditEvent>,
    ) -> Result<u64> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let last = append_many(&tx, actor.as_str(), evs)?;
        tx.commit()?;
        Ok(last)
    }

    pub fn audit_len(&self) -> Result<u64> {
        Ok(self
            .conn
            .query_row("SELECT COUNT(*) FROM audit_entry", [], |r| {
                r.get::<_, i64>(0)
            })? as u64)
    }

    /// Every entry's exact bytes and stored leaf hash, in storage order.
    pub fn audit_entries(&self) -> Result<Vec<StoredEntry>> {
        let mut st = self
            .conn
            .prepare("SELECT seq, leaf, leaf_hash FROM audit_entry ORDER BY rowid")?;
        let rows = st.query_map([], |r| {
            Ok(StoredEntry {
                seq: r.get::<_, i64>(0)? as u64,
                bytes: r.get(1)?,
                leaf_hash: r.get(2)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// Stored leaf hashes in sequence order (for building proofs).
    pub fn audit_leaf_hashes(&self) -> Result<Vec<[u8; 32]>> {
        let mut st = self
            .conn
            .prepare("SELECT leaf_hash FROM audit_entry ORDER BY seq")?;
        let rows = st.query_map([], |r| r.get::<_, Vec<u8>>(0))?;
        let mut out = Vec::new();
        for r in rows {
            let v = r?;
            out.push(v.try_into().map_err(|_| StoreError::Decode {
                kind: "audit_entry".into(),
                id: "leaf_hash".into(),
                err: "not 32 bytes".into(),
            })?);
        }
        Ok(out)
    }

    pub fn audit_put_head(&mut self, sth: &SignedTreeHead) -> Result<()> {
        let body = serde_json::to_string(sth).map_err(|e| StoreError::Decode {
            kind: "audit_head".into(),
            id: sth.tree_size.to_string(),
            err: e.to_string(),
        })?;
        self.conn.execute(
            "INSERT OR IGNORE INTO audit_head(tree_size, t_ms, body) VALUES (?1, ?2, ?3)",
            params![sth.tree_size as i64, sth.timestamp_ms, body],
        )?;
        Ok(())
    }

    pub fn audit_heads(&self) -> Result<Vec<SignedTreeHead>> {
        let mut st = self
            .conn
            .prepare("SELECT body FROM audit_head ORDER BY tree_size, t_ms")?;
        let rows = st
            .query_map([], |r| r.get::<_, String>(0))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        rows.into_iter()
            .map(|b| {
                serde_json::from_str(&b).map_err(|e| StoreError::Decode {
                    kind: "audit_head".into(),
                    id: String::new(),
                    err: e.to_string(),
                })
            })
            .collect()
    }

    /// Entries matching the filter, oldest first.
    pub fn audit_log(&self, f: &AuditFilter) -> Result<Vec<AuditRow>> {
        let (sql, args) =
            crate::query::Filtered::new("SELECT e.leaf, e.leaf_hash FROM audit_entry e")
                .and("e.actor = ?", f.actor.clone())
                .and("e.t_ms >= ?", f.since_ms)
                .and("e.action = ?", f.action.clone())
                .and(
                    "e.actor IN (SELECT name FROM app_user WHERE org = ?)",
                    f.actor_org.clone(),
                )
                .and("e.seq < ?", f.before_seq.map(|s| s.min(i64::MAX as u64) as i64))
                .and_twice(
                    "e.seq IN (SELECT seq FROM audit_record WHERE record = ? UNION SELECT se.seq FROM audit_set_record sr JOIN audit_set_entry se ON se.hash = sr.hash WHERE sr.record = ?)",
                    f.record.clone(),
                )
                .finish(if f.newest_first { "e.seq DESC" } else { "e.seq" }, f.limit);
        let mut st = self.conn.prepare(&sql)?;
        let rows = st
            .query_map(rusqlite::params_from_iter(args), |r| {
                Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, Vec<u8>>(1)?))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        rows.into_iter()
            .map(|(b, h)| {
                let entry = Entry::from_bytes(&b).map_err(|e| StoreError::Decode {
                    kind: "audit_entry".into(),
                    id: String::new(),
                    err: e.to_string(),
                })?;
                Ok(AuditRow {
                    leaf_hash: hex::encode(h),
                    entry,
                })
            })
            .collect()
    }
}
