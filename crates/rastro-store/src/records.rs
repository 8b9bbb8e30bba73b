//! Records: keyed batch writes (insert, duplicate or conflict), marking classes, sources and
//! who posted them, the quarantine, and the reads of records and observations.
//!
//! A record's key is `(kind, originator, id)`. A conflict (same key, other content) is
//! quarantined with a reason that names the record but never where the stored one came from:
//! the answer to one submission must not describe another.

use crate::audit::{self, AuditEvent};
use crate::obs;
use crate::{rel_text, Actor, BatchStats, Prepared, Result, Stats, Store, StoreError};
use rastro_core::{Kind, Marking, Observation, ObservationSource, Quarantine, Record};
use rusqlite::{params, OptionalExtension};
use serde::Serialize;

/// One marking class: every record with this originator, TLP level and releasable-to list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClassRow {
    pub id: i64,
    pub originator: String,
    pub marking: Marking,
}

/// A stored record with its provenance and marking class.
#[derive(Debug, Clone, Serialize)]
pub struct StoredRecord {
    pub seq: i64,
    #[serde(skip)]
    pub class: i64,
    pub source: String,
    pub line: u64,
    pub record: Record,
}

/// A stored observation with its sequence number and marking class.
#[derive(Debug, Clone)]
pub struct StoredObs {
    pub seq: i64,
    pub class: i64,
    pub obs: Observation,
}

/// The blocks of one subject (`?1`) that overlap a time window (`?2` to `?3`): what both
/// [`Store::observations_of`] and [`Store::track_of`] read.
fn subject_window_sql() -> String {
    format!(
        "SELECT {} FROM obs_block WHERE subject = ?1 AND t_min <= ?3 AND t_max >= ?2",
        obs::BLOCK_COLS
    )
}

/// A fix as a track needs it ([`Store::track_of`]): the originator and marking are shared by
/// every fix of one block.
#[derive(Debug, Clone, PartialEq)]
pub struct TrackObs {
    pub seq: i64,
    pub class: i64,
    pub id: std::sync::Arc<str>,
    /// Originator and marking.
    pub origin: std::sync::Arc<(String, Marking)>,
    pub t_ms: i64,
    pub lat: f64,
    pub lon: f64,
    pub source: ObservationSource,
    pub accuracy_m: Option<f64>,
}

/// Who posted a source (an API body): the user and their organisation. Files ingested at the
/// console have none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submitter {
    pub user: String,
    pub org: String,
}

/// A stored quarantine entry.
#[derive(Debug, Clone, Serialize)]
pub struct QuarantineRow {
    pub seq: i64,
    #[serde(flatten)]
    pub entry: Quarantine,
}

/// Which quarantine entries to list.
#[derive(Debug, Clone, Default)]
pub struct QuarantineFilter {
    /// Only entries of sources posted by this organisation (`None`: every entry, the
    /// operator's view).
    pub org: Option<String>,
    pub after_seq: i64,
    pub limit: u32,
}

const REC_SELECT: &str =
    "SELECT r.seq, s.name, r.line, r.body, r.id, r.class FROM record r JOIN source s ON s.id = r.src";

fn decode(
    kind: Kind,
    id: &str,
    seq: i64,
    class: i64,
    source: String,
    line: i64,
    body: &str,
) -> Result<StoredRecord> {
    let record: Record = serde_json::from_str(body).map_err(|e| StoreError::Decode {
        kind: kind.to_string(),
        id: id.to_string(),
        err: e.to_string(),
    })?;
    Ok(StoredRecord {
        seq,
        class,
        source,
        line: line as u64,
        record,
    })
}

impl Store {
    /// The id of a named source (file path or feed), registering it on first use with who
    /// posted it.
    pub fn source_id(
        &mut self,
        name: &str,
        submitter: Option<&Submitter>,
        now_ms: i64,
    ) -> Result<i64> {
        self.conn.execute(
            "INSERT INTO source(name, first_seen_ms, poster, org) VALUES (?1, ?2, ?3, ?4) ON CONFLICT(name) DO NOTHING",
            params![
                name,
                now_ms,
                submitter.map(|s| s.user.as_str()),
                submitter.map(|s| s.org.as_str())
            ],
        )?;
        Ok(self
            .conn
            .query_row("SELECT id FROM source WHERE name = ?1", [name], |r| {
                r.get(0)
            })?)
    }

    /// The class id of an originator and marking, registering it on first use (inside the
    /// caller's transaction, when there is one).
    fn class_of(
        conn: &rusqlite::Connection,
        cache: &mut std::collections::HashMap<(String, u8, String), i64>,
        originator: &str,
        m: &Marking,
    ) -> Result<i64> {
        let key = (
            originator.to_string(),
            m.tlp.code(),
            rel_text(m).unwrap_or_default(),
        );
        if let Some(&id) = cache.get(&key) {
            return Ok(id);
        }
        conn.execute(
            "INSERT OR IGNORE INTO mclass(originator, tlp, rel) VALUES (?1, ?2, ?3)",
            params![key.0, key.1, key.2],
        )?;
        let id: i64 = conn.query_row(
            "SELECT id FROM mclass WHERE originator = ?1 AND tlp = ?2 AND rel = ?3",
            params![key.0, key.1, key.2],
            |r| r.get(0),
        )?;
        cache.insert(key, id);
        Ok(id)
    }

    /// Every marking class that holds at least one record or observation, by id.
    pub fn classes(&self) -> Result<Vec<ClassRow>> {
        let mut st = self
            .conn
            .prepare_cached("SELECT id, originator, tlp, rel FROM mclass ORDER BY id")?;
        let rows = st.query_map([], |r| {
            let rel: String = r.get(3)?;
            Ok(ClassRow {
                id: r.get(0)?,
                originator: r.get(1)?,
                marking: Marking::from_stored(r.get(2)?, (!rel.is_empty()).then_some(rel.as_str())),
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// Writes one batch in one transaction: every record is inserted, recognised as a duplicate,
    /// or quarantined as a conflict; `quarantine` entries are stored once per (source, line).
    /// The batch's audit entry, under `actor`, commits with it.
    pub fn write_batch(
        &mut self,
        actor: &Actor,
        src: i64,
        items: &[Prepared],
        quarantine: &[Quarantine],
    ) -> Result<BatchStats> {
        self.write_batch_with(actor, src, items, quarantine, |_| {})
    }

    /// As [`Store::write_batch`], calling `after_row` with the number of rows written so far in
    /// this batch; the fault-injection tests use it to kill the process mid-transaction.
    pub fn write_batch_with(
        &mut self,
        actor: &Actor,
        src: i64,
        items: &[Prepared],
        quarantine: &[Quarantine],
        mut after_row: impl FnMut(u64),
    ) -> Result<BatchStats> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let mut stats = BatchStats::default();
        let mut conflicts: Vec<Quarantine> = Vec::new();
        // Classes registered in a transaction that rolls back must not stay in the cache.
        let mut classes = self.classes.clone();
        // The batch's audit entry carries a hash of what it added, so an auditor can tie the
        // entry to the exact records without the log holding every id.
        let mut added = <sha2::Sha256 as sha2::Digest>::new();
        {
            // Observations' keys are decided for the whole batch at once (see `obs.rs`); the
            // new ones go into blocks after the loop.
            let obs_items: Vec<&Prepared> = items
                .iter()
                .filter(|p| matches!(p.record, Record::Observation(_)))
                .collect();
            let mut done = 0u64;
            let obs_outcomes = obs::key_batch(&tx, src, &obs_items, &mut || {
                done += 1;
                after_row(done);
            })?;
            let mut obs_outcomes = obs_outcomes.into_iter();
            let mut new_obs: Vec<obs::NewObs<'_>> = Vec::with_capacity(obs_items.len());
            let mut ins_rec = tx.prepare_cached(
                "INSERT INTO record(kind, originator, id, class, hash, src, line, tlp, rel, ref, t_ms, lat, lon, h3, body)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15) ON CONFLICT(kind, originator, id) DO NOTHING",
            )?;
            let mut get_rec = tx.prepare_cached(
                "SELECT hash FROM record WHERE kind = ?1 AND originator = ?2 AND id = ?3",
            )?;
            for p in items {
                let m = p.record.marking();
                let class = Self::class_of(&tx, &mut classes, p.record.originator(), m)?;
                let outcome = match &p.record {
                    Record::Observation(o) => {
                        // One outcome per observation, in item order: `key_batch` promises it.
                        let outcome = obs_outcomes.next().unwrap_or(obs::Outcome::New);
                        if outcome == obs::Outcome::New {
                            new_obs.push(obs::NewObs {
                                src,
                                class: Some(class),
                                line: p.line,
                                obs: o,
                                cell: p.h3,
                            });
                        }
                        outcome
                    }
                    r => {
                        let pos = r.position();
                        let changed = ins_rec.execute(params![
                            r.kind().as_str(),
                            r.originator(),
                            r.id(),
                            class,
                            p.hash as i64,
                            src,
                            p.line as i64,
                            m.tlp.code(),
                            rel_text(m),
                            r.reference(),
                            r.time_ms(),
                            pos.map(|x| x.lat),
                            pos.map(|x| x.lon),
                            p.h3.map(|h| h as i64),
                            r.canonical_json(),
                        ])?;
                        done += 1;
                        after_row(done);
                        if changed == 1 {
                            obs::Outcome::New
                        } else {
                            let hash: i64 = get_rec.query_row(
                                params![r.kind().as_str(), r.originator(), r.id()],
                                |x| x.get(0),
                            )?;
                            if hash as u64 == p.hash {
                                obs::Outcome::Duplicate
                            } else {
                                obs::Outcome::Conflict
                            }
                        }
                    }
                };
                match outcome {
                    obs::Outcome::New => {
                        stats.inserted += 1;
                        sha2::Digest::update(&mut added, p.record.kind().as_str().as_bytes());
                        sha2::Digest::update(&mut added, p.record.originator().as_bytes());
                        sha2::Digest::update(&mut added, p.record.id().as_bytes());
                        sha2::Digest::update(&mut added, p.hash.to_le_bytes());
                    }
                    obs::Outcome::Duplicate => stats.duplicates += 1,
                    obs::Outcome::Conflict => {
                        stats.conflicts += 1;
                        conflicts.push(conflict_entry(p));
                    }
                }
            }
            obs::write_blocks(&tx, &new_obs)?;
            let src_name: String =
                tx.query_row("SELECT name FROM source WHERE id = ?1", [src], |r| r.get(0))?;
            let mut ins_q = tx.prepare_cached(
                "INSERT INTO quarantine(source, line, kind, field, reason, raw) VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(source, line) DO NOTHING",
            )?;
            for q in quarantine.iter().chain(conflicts.iter()) {
                let source = if q.source.is_empty() {
                    &src_name
                } else {
                    &q.source
                };
                stats.quarantined += ins_q.execute(params![
                    source,
                    q.line as i64,
                    q.kind.map(|k| k.as_str()),
                    q.field,
                    q.reason,
                    q.raw
                ])? as u64;
            }
            let lines: Vec<u64> = items
                .iter()
                .map(|p| p.line)
                .chain(quarantine.iter().map(|q| q.line))
                .collect();
            let mut ev = AuditEvent::new("ingest");
            ev.from = Some(src_name.clone());
            ev.detail = serde_json::json!({
                "first_line": lines.iter().min(),
                "last_line": lines.iter().max(),
                "inserted": stats.inserted,
                "duplicates": stats.duplicates,
                "conflicts": stats.conflicts,
                "quarantined": stats.quarantined,
                "records_sha256": hex::encode(sha2::Digest::finalize(added)),
            });
            audit::append(&tx, actor.as_str(), ev)?;
        }
        tx.commit()?;
        self.classes = classes;
        Ok(stats)
    }

    /// Stores one quarantine entry outside a batch (a whole file rejected at open).
    pub fn quarantine_one(&mut self, q: &Quarantine) -> Result<bool> {
        let n = self.conn.execute(
            "INSERT INTO quarantine(source, line, kind, field, reason, raw) VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(source, line) DO NOTHING",
            params![q.source, q.line as i64, q.kind.map(|k| k.as_str()), q.field, q.reason, q.raw],
        )?;
        Ok(n == 1)
    }

    /// Records one ingest run (start, end, counts) for operators; not part of the data.
    pub fn log_run(
        &mut self,
        started_ms: i64,
        finished_ms: i64,
        source: &str,
        stats: &BatchStats,
        status: &str,
    ) -> Result<()> {
        self.conn.execute(
            "INSERT INTO ingest_run(started_ms, finished_ms, source, inserted, duplicates, conflicts, quarantined, status) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![started_ms, finished_ms, source, stats.inserted as i64, stats.duplicates as i64, stats.conflicts as i64, stats.quarantined as i64, status],
        )?;
        Ok(())
    }

    /// Quarantine entries in the order they were stored, as the filter says.
    pub fn quarantine(&self, f: &QuarantineFilter) -> Result<Vec<QuarantineRow>> {
        let (sql, args) = crate::query::Filtered::new(
            "SELECT q.seq, q.source, q.line, q.kind, q.field, q.reason, q.raw FROM quarantine q LEFT JOIN source s ON s.name = q.source",
        )
        .and("q.seq > ?", Some(f.after_seq))
        .and("s.org = ?", f.org.clone())
        .finish("q.seq", Some(f.limit));
        let mut st = self.conn.prepare_cached(&sql)?;
        let rows = st.query_map(rusqlite::params_from_iter(args), |r| {
            let kind: Option<String> = r.get(3)?;
            Ok(QuarantineRow {
                seq: r.get(0)?,
                entry: Quarantine {
                    source: r.get(1)?,
                    line: r.get::<_, i64>(2)? as u64,
                    kind: kind.as_deref().and_then(Kind::parse),
                    field: r.get(4)?,
                    reason: r.get(5)?,
                    raw: r.get(6)?,
                },
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    pub fn stats(&self) -> Result<Stats> {
        let mut st = self
            .conn
            .prepare("SELECT kind, COUNT(*) FROM record GROUP BY kind ORDER BY kind")?;
        let records = st
            .query_map([], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let count = |sql: &str| -> Result<u64> {
            Ok(self.conn.query_row(sql, [], |r| r.get::<_, i64>(0))? as u64)
        };
        let (first, last): (Option<i64>, Option<i64>) =
            self.conn
                .query_row("SELECT MIN(t_min), MAX(t_max) FROM obs_block", [], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })?;
        Ok(Stats {
            schema_version: crate::SCHEMA_VERSION,
            records,
            observations: self.count_observations()?,
            quarantined: count("SELECT COUNT(*) FROM quarantine")?,
            sources: count("SELECT COUNT(*) FROM source")?,
            first_observation: first.map(rastro_core::format_time_ms),
            last_observation: last.map(rastro_core::format_time_ms),
        })
    }

    /// A digest of everything the store holds as data (records with provenance, observations,
    /// quarantine), independent of insertion order and of run logs. Two databases with the
    /// same digest hold the same data; the kill-and-resume tests compare these.
    pub fn content_digest(&self) -> Result<String> {
        let mut h = xxhash_rust::xxh3::Xxh3::new();
        let mut feed = |sql: &str| -> Result<u64> {
            let mut st = self.conn.prepare(sql)?;
            let mut rows = st.query([])?;
            let mut n = 0u64;
            while let Some(r) = rows.next()? {
                for i in 0..r.as_ref().column_count() {
                    match r.get_ref(i)? {
                        rusqlite::types::ValueRef::Null => h.update(b"\0N"),
                        rusqlite::types::ValueRef::Integer(v) => h.update(&v.to_le_bytes()),
                        rusqlite::types::ValueRef::Real(v) => h.update(&v.to_bits().to_le_bytes()),
                        rusqlite::types::ValueRef::Text(t) | rusqlite::types::ValueRef::Blob(t) => {
                            h.update(t);
                            h.update(b"\0");
                        }
                    }
                }
                n += 1;
            }
            Ok(n)
        };
        let a = feed("SELECT r.kind, r.originator, r.id, r.hash, s.name, r.line, r.body FROM record r JOIN source s ON s.id = r.src ORDER BY r.kind, r.originator, r.id")?;
        let c = feed(
            "SELECT source, line, kind, field, reason, raw FROM quarantine ORDER BY source, line",
        )?;
        // Blocks are a storage layout, not data: what they hold is digested row by row and
        // summed, so the digest does not depend on how rows were grouped.
        let (mut sum, mut rows) = (0u64, 0u64);
        obs::for_each_key(
            &self.conn,
            i64::MIN,
            i64::MAX,
            |key, hash, _, source, line| {
                let mut row = xxhash_rust::xxh3::Xxh3::new();
                row.update(key.as_bytes());
                row.update(&[0]);
                row.update(source.as_bytes());
                row.update(&[0]);
                row.update(&hash.to_le_bytes());
                row.update(&line.to_le_bytes());
                sum = sum.wrapping_add(row.digest());
                rows += 1;
            },
        )?;
        Ok(format!("{:016x}-{a}-{rows}-{c}-{sum:016x}", h.digest()))
    }

    /// The backend-neutral digest of the stored data (records of every kind with key, content
    /// hash, source and line; quarantine), equal to [`crate::PgStore::keyed_digest`] for the
    /// same data: what the backend conformance tests compare.
    pub fn keyed_digest(&self) -> Result<String> {
        let mut d = crate::pg::KeyedDigest::default();
        let mut st = self.conn.prepare(
            "SELECT r.kind, r.originator, r.id, r.hash, s.name, r.line FROM record r JOIN source s ON s.id = r.src",
        )?;
        let mut rows = st.query([])?;
        while let Some(r) = rows.next()? {
            d.record(
                &r.get::<_, String>(0)?,
                &r.get::<_, String>(1)?,
                &r.get::<_, String>(2)?,
                r.get::<_, i64>(3)? as u64,
                &r.get::<_, String>(4)?,
                r.get::<_, i64>(5)? as u64,
            );
        }
        obs::for_each_key(
            &self.conn,
            i64::MIN,
            i64::MAX,
            |key, hash, _, source, line| {
                let (originator, id) = key.split_once('\u{1f}').unwrap_or(("", &key));
                d.record("observation", originator, id, hash, source, line);
            },
        )?;
        let mut st = self
            .conn
            .prepare("SELECT source, line, reason FROM quarantine")?;
        let mut rows = st.query([])?;
        while let Some(r) = rows.next()? {
            d.quarantine(
                &r.get::<_, String>(0)?,
                r.get::<_, i64>(1)? as u64,
                &r.get::<_, String>(2)?,
            );
        }
        Ok(d.finish())
    }

    /// One stored record by its key.
    pub fn record(&self, kind: Kind, originator: &str, id: &str) -> Result<Option<StoredRecord>> {
        let mut st = self.conn.prepare_cached(&format!(
            "{REC_SELECT} WHERE r.kind = ?1 AND r.originator = ?2 AND r.id = ?3"
        ))?;
        let row = st
            .query_row(params![kind.as_str(), originator, id], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, i64>(5)?,
                ))
            })
            .optional()?;
        row.map(|(seq, source, line, body, class)| {
            decode(kind, id, seq, class, source, line, &body)
        })
        .transpose()
    }

    /// Every stored record of a kind with this id, whatever its originator, by originator.
    pub fn records_with_id(&self, kind: Kind, id: &str) -> Result<Vec<StoredRecord>> {
        self.query_records(
            kind,
            &format!("{REC_SELECT} WHERE r.kind = ?1 AND r.id = ?2 ORDER BY r.originator"),
            params![kind.as_str(), id],
        )
    }

    /// Every record of a kind, in storage order, after `after_seq` (a cursor), at most `limit`.
    pub fn records(&self, kind: Kind, after_seq: i64, limit: u32) -> Result<Vec<StoredRecord>> {
        self.query_records(
            kind,
            &format!("{REC_SELECT} WHERE r.kind = ?1 AND r.seq > ?2 ORDER BY r.seq LIMIT ?3"),
            params![kind.as_str(), after_seq, limit],
        )
    }

    /// Records of a kind whose reference column (a custody event's consignment, a vehicle's
    /// plate...) equals `reference`.
    pub fn records_by_ref(&self, kind: Kind, reference: &str) -> Result<Vec<StoredRecord>> {
        self.query_records(
            kind,
            &format!("{REC_SELECT} WHERE r.kind = ?1 AND r.ref = ?2 ORDER BY r.t_ms, r.seq"),
            params![kind.as_str(), reference],
        )
    }

    fn query_records(
        &self,
        kind: Kind,
        sql: &str,
        p: impl rusqlite::Params,
    ) -> Result<Vec<StoredRecord>> {
        let mut st = self.conn.prepare_cached(sql)?;
        let rows = st
            .query_map(p, |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, i64>(5)?,
                ))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        rows.into_iter()
            .map(|(seq, source, line, body, id, class)| {
                decode(kind, &id, seq, class, source, line, &body)
            })
            .collect()
    }

    /// Observations of one subject between two times (inclusive), in time order, from blocks
    /// whose class `visible` accepts (the others are not even decoded).
    pub fn observations_of(
        &self,
        subject: &str,
        from_ms: i64,
        to_ms: i64,
        visible: &dyn Fn(i64) -> bool,
    ) -> Result<Vec<StoredObs>> {
        self.observations_in_window(&subject_window_sql(), subject, from_ms, to_ms, visible)
    }

    /// Observations of one originator between two times (inclusive), in time order, from
    /// blocks whose class `visible` accepts: what an organisation contributed (an export of
    /// its own sightings). Scans the blocks' headers, not their fixes.
    pub fn observations_by(
        &self,
        originator: &str,
        from_ms: i64,
        to_ms: i64,
        visible: &dyn Fn(i64) -> bool,
    ) -> Result<Vec<StoredObs>> {
        let sql = format!(
            "SELECT {} FROM obs_block WHERE originator = ?1 AND t_min <= ?3 AND t_max >= ?2",
            obs::BLOCK_COLS
        );
        self.observations_in_window(&sql, originator, from_ms, to_ms, visible)
    }

    /// The fixes in `[from_ms, to_ms]` of the blocks `sql` selects (`?1` the key, `?2`/`?3`
    /// the window), in time order.
    fn observations_in_window(
        &self,
        sql: &str,
        key: &str,
        from_ms: i64,
        to_ms: i64,
        visible: &dyn Fn(i64) -> bool,
    ) -> Result<Vec<StoredObs>> {
        let mut out = obs::decode_query(
            &self.conn,
            sql,
            params![key, from_ms, to_ms],
            visible,
            |t, _, _| (from_ms..=to_ms).contains(&t),
        )?;
        out.sort_by_key(|(seq, _, o)| (o.time_ms, *seq));
        Ok(out
            .into_iter()
            .map(|(seq, class, obs)| StoredObs { seq, class, obs })
            .collect())
    }

    /// One subject's fixes in `[from_ms, to_ms]` from classes `visible` accepts, in time order,
    /// as a track needs them: what a consignment's analysis reads, without building a whole
    /// record per fix (it reads the fixes of every consignment, so the saving is most of the
    /// step's allocations).
    pub fn track_of(
        &self,
        subject: &str,
        from_ms: i64,
        to_ms: i64,
        visible: &dyn Fn(i64) -> bool,
    ) -> Result<Vec<TrackObs>> {
        let mut st = self.conn.prepare_cached(&subject_window_sql())?;
        let mut rows = st.query(params![subject, from_ms, to_ms])?;
        let mut out = Vec::new();
        let mut origins: Vec<(i64, std::sync::Arc<(String, Marking)>)> = Vec::new();
        while let Some(r) = rows.next()? {
            let b = obs::block_row(r)?;
            if !visible(b.class) {
                continue;
            }
            let origin = match origins.iter().find(|(c, _)| *c == b.class) {
                Some((_, o)) => o.clone(),
                None => {
                    let o = std::sync::Arc::new(b.origin()?);
                    origins.push((b.class, o.clone()));
                    o
                }
            };
            b.track_where(&origin, |t| (from_ms..=to_ms).contains(&t), &mut out)?;
        }
        out.sort_by_key(|o| (o.t_ms, o.seq));
        Ok(out)
    }

    /// The GPS fixes of one subject as positions only (time, lat, lon) with their class, in
    /// time order, from classes `visible` accepts: what learning a fleet's normal behaviour
    /// reads, without building a record per fix.
    pub fn gps_points_of(
        &self,
        subject: &str,
        visible: &dyn Fn(i64) -> bool,
    ) -> Result<Vec<GpsPoint>> {
        let mut st = self.conn.prepare_cached(&format!(
            "SELECT {} FROM obs_block WHERE subject = ?1",
            obs::BLOCK_COLS
        ))?;
        let mut rows = st.query(params![subject])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            let b = obs::block_row(r)?;
            if !visible(b.class) {
                continue;
            }
            for (seq, t_ms, source, lat, lon) in b.points()? {
                if source == rastro_core::ObservationSource::Gps {
                    out.push(GpsPoint {
                        seq,
                        class: b.class,
                        t_ms,
                        lat,
                        lon,
                    });
                }
            }
        }
        out.sort_by_key(|p| (p.t_ms, p.seq));
        Ok(out)
    }

    /// Every subject that has observations of a source kind (GPS trackers, say), in subject
    /// order: what learning the normal behaviour of a fleet walks over.
    pub fn subjects(&self) -> Result<Vec<String>> {
        let mut st = self
            .conn
            .prepare_cached("SELECT DISTINCT subject FROM obs_block ORDER BY subject")?;
        let rows = st.query_map([], |r| r.get::<_, String>(0))?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// Observations inside one H3 cell (resolution [`crate::MIN_QUERY_RESOLUTION`] or finer)
    /// between two times (inclusive), in time order, from classes `visible` accepts: the
    /// blocks the sparse cell index names, keeping the fixes that fall in the cell. `None`
    /// for an invalid or too coarse cell.
    pub fn observations_in_cell(
        &self,
        cell: u64,
        from_ms: i64,
        to_ms: i64,
        visible: &dyn Fn(i64) -> bool,
    ) -> Result<Option<Vec<StoredObs>>> {
        use rastro_core::grid;
        let (Some(index), Some(res)) = (obs::index_cells(cell), grid::resolution(cell)) else {
            return Ok(None);
        };
        // A box around the cell rejects most fixes of a block before the exact (and dearer)
        // cell test; 1e-6 degrees is about 0.1 m.
        let bbox = grid::bbox(cell, 1e-6);
        let inside = |lat: f64, lon: f64| {
            bbox.is_none_or(|(a, z, w, e)| (a..=z).contains(&lat) && (w..=e).contains(&lon))
                && grid::cell(lat, lon, res) == Some(cell)
        };
        let mut seqs = Vec::new();
        {
            // Without a box (a cell across the antimeridian) every block's box passes.
            let (a, z, w, e) = bbox.unwrap_or((-90.0, 90.0, -180.0, 180.0));
            let mut st = self.conn.prepare_cached(
                "SELECT seq, cells FROM obs_zone WHERE t_min <= ?2 AND t_max >= ?1
                 AND lat_max >= ?3 AND lat_min <= ?4 AND lon_max >= ?5 AND lon_min <= ?6",
            )?;
            let mut rows = st.query(params![from_ms, to_ms, a, z, w, e])?;
            while let Some(r) = rows.next()? {
                let blob = r.get_ref(1)?.as_blob().map_err(rusqlite::Error::from)?;
                if obs::cells_meet(blob, &index) {
                    seqs.push(r.get::<_, i64>(0)?);
                }
            }
        }
        let sql = format!("SELECT {} FROM obs_block WHERE seq = ?1", obs::BLOCK_COLS);
        let mut out = Vec::new();
        for seq in seqs {
            out.extend(obs::decode_query(
                &self.conn,
                &sql,
                [seq],
                visible,
                |t, lat, lon| (from_ms..=to_ms).contains(&t) && inside(lat, lon),
            )?);
        }
        out.sort_by_key(|(seq, _, o)| (o.time_ms, *seq));
        Ok(Some(
            out.into_iter()
                .map(|(seq, class, obs)| StoredObs { seq, class, obs })
                .collect(),
        ))
    }

    /// Number of observations stored.
    pub fn count_observations(&self) -> Result<u64> {
        Ok(self
            .conn
            .query_row("SELECT COALESCE(SUM(n), 0) FROM obs_block", [], |r| {
                r.get::<_, i64>(0)
            })? as u64)
    }

    /// The highest observation sequence number stored (0 when none).
    pub fn max_observation_seq(&self) -> Result<i64> {
        Ok(obs::next_seq(&self.conn)? - 1)
    }

    /// The highest record sequence number stored (0 when none).
    pub fn max_record_seq(&self) -> Result<i64> {
        Ok(self
            .conn
            .query_row("SELECT COALESCE(MAX(seq), 0) FROM record", [], |r| r.get(0))?)
    }

    /// Consignment ids whose consignment or custody records arrived after `after_seq`.
    pub fn consignments_touched_since(&self, after_seq: i64) -> Result<Vec<String>> {
        let mut st = self.conn.prepare(
            "SELECT DISTINCT CASE kind WHEN 'consignment' THEN id ELSE ref END FROM record WHERE seq > ?1 AND kind IN ('consignment', 'custody') ORDER BY 1",
        )?;
        let rows = st.query_map([after_seq], |r| r.get::<_, String>(0))?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// Distinct observation subjects seen after `after_seq`.
    pub fn subjects_since(&self, after_seq: i64) -> Result<Vec<String>> {
        // A block holds observations seq..seq+n-1; one holding any after `after_seq` starts at
        // most BLOCK_ROWS - 1 before it.
        let mut st = self.conn.prepare(
            "SELECT DISTINCT subject FROM obs_block WHERE seq > ?1 AND seq + n - 1 > ?2 ORDER BY 1",
        )?;
        let rows = st.query_map(
            params![after_seq - crate::BLOCK_ROWS as i64, after_seq],
            |r| r.get::<_, String>(0),
        )?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// Number of records of a kind.
    pub fn count(&self, kind: Kind) -> Result<u64> {
        Ok(self.conn.query_row(
            "SELECT COUNT(*) FROM record WHERE kind = ?1",
            [kind.as_str()],
            |r| r.get::<_, i64>(0),
        )? as u64)
    }
}

/// One GPS fix as a position: see [`Store::gps_points_of`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GpsPoint {
    pub seq: i64,
    pub class: i64,
    pub t_ms: i64,
    pub lat: f64,
    pub lon: f64,
}

/// The quarantine entry of a record whose key is stored with other content (its source is
/// filled in by the writer): one wording for every backend.
pub(crate) fn conflict_entry(p: &Prepared) -> Quarantine {
    Quarantine {
        source: String::new(),
        line: p.line,
        kind: Some(p.record.kind()),
        field: Some("id".into()),
        reason: format!(
            "conflict: {} {:?} of {} is already stored with different content; the stored record was kept (give a changed record a new id)",
            p.record.kind(),
            p.record.id(),
            p.record.originator(),
        ),
        raw: String::new(),
    }
}
