//! Rastro's embedded store: one SQLite file in WAL mode with versioned migrations.
//!
//! This is the only crate that contains SQL. Writes are keyed: a record whose `(kind, id)` is
//! already stored with the same content is a duplicate and changes nothing; with different
//! content it is a conflict and goes to the quarantine, never over the stored record. That is
//! what makes ingest idempotent and a killed run resumable by simply running it again.
//!
//! The public API speaks domain types only, so a PostgreSQL backend can implement the same
//! surface later without the analytics noticing.

mod access;
mod analysis;
mod audit;
mod leads;
mod obs;
mod query;
mod schema;

pub use audit::{AuditEvent, AuditFilter, AuditRow, MAX_RECORDS_PER_ENTRY};

pub use access::{MarkingCount, OrgRow, UserRow};
pub use analysis::{AlertFilter, AlertScope, Triage};
pub use leads::LeadDecision;
pub use obs::{BLOCK_ROWS, CELL_RESOLUTION, MIN_QUERY_RESOLUTION};

use rastro_core::{Kind, Marking, Observation, Quarantine, Record};
use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;
use std::path::Path;

pub use schema::SCHEMA_VERSION;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("database {path} has schema version {found}, newer than this rastro ({supported}); upgrade rastro")]
    TooNew {
        path: String,
        found: i64,
        supported: i64,
    },
    #[error("stored record {kind}/{id} cannot be decoded: {err}")]
    Decode {
        kind: String,
        id: String,
        err: String,
    },
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// A record ready to be written: validated, hashed and (when it has a position) placed in its
/// H3 cell. Hashing and cell lookup happen before the writer so they can run on another core.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub line: u64,
    pub record: Record,
    pub hash: u64,
    /// The record's cell at [`rastro_core::grid::INDEX_RESOLUTION`]; for an observation, a
    /// cell at [`CELL_RESOLUTION`] (the resolution of the observation blocks' sparse index)
    /// that holds it or is next to the cell that does.
    pub h3: Option<u64>,
}

impl Prepared {
    /// As [`Prepared::new`], placing an observation with `anchor` (see
    /// [`rastro_core::grid::Anchor`]): its `h3` is then a cell whose disk holds it, found
    /// without an H3 lookup for most fixes of a track. Ingest keeps one anchor per thread.
    pub fn with_anchor(line: u64, record: Record, anchor: &mut rastro_core::grid::Anchor) -> Self {
        match &record {
            Record::Observation(o) => {
                let h3 = anchor.cover(o.lat, o.lon);
                Prepared {
                    line,
                    hash: record.content_hash(),
                    record,
                    h3,
                }
            }
            _ => {
                let h3 = record.position().and_then(|p| {
                    rastro_core::grid::cell(p.lat, p.lon, rastro_core::grid::INDEX_RESOLUTION)
                });
                Prepared {
                    line,
                    hash: record.content_hash(),
                    record,
                    h3,
                }
            }
        }
    }

    /// Hashes the record and places it: a record in its cell at
    /// [`rastro_core::grid::INDEX_RESOLUTION`], an observation as [`Prepared::with_anchor`]
    /// does with a fresh anchor (so in its own cell).
    pub fn new(line: u64, record: Record) -> Self {
        Prepared::with_anchor(
            line,
            record,
            &mut rastro_core::grid::Anchor::new(CELL_RESOLUTION),
        )
    }
}

/// What one batch did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct BatchStats {
    pub inserted: u64,
    pub duplicates: u64,
    pub conflicts: u64,
    pub quarantined: u64,
}

impl BatchStats {
    pub fn add(&mut self, o: BatchStats) {
        self.inserted += o.inserted;
        self.duplicates += o.duplicates;
        self.conflicts += o.conflicts;
        self.quarantined += o.quarantined;
    }
}

/// Counts of what the store holds.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Stats {
    pub schema_version: i64,
    pub records: Vec<(String, u64)>,
    pub observations: u64,
    pub quarantined: u64,
    pub sources: u64,
    pub first_observation: Option<String>,
    pub last_observation: Option<String>,
}

/// A stored quarantine entry.
#[derive(Debug, Clone, Serialize)]
pub struct QuarantineRow {
    pub seq: i64,
    #[serde(flatten)]
    pub entry: Quarantine,
}

/// A stored record with its provenance.
#[derive(Debug, Clone, Serialize)]
pub struct StoredRecord {
    pub seq: i64,
    pub source: String,
    pub line: u64,
    pub record: Record,
}

pub struct Store {
    conn: Connection,
    actor: String,
}

fn rel_text(m: &Marking) -> Option<String> {
    (!m.releasable_to.is_empty()).then(|| m.releasable_text())
}

impl Store {
    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    pub fn open(path: &Path) -> Result<Store> {
        let conn = Connection::open(path)?;
        Self::init(conn, &path.display().to_string())
    }

    pub fn open_in_memory() -> Result<Store> {
        Self::init(Connection::open_in_memory()?, ":memory:")
    }

    fn init(conn: Connection, name: &str) -> Result<Store> {
        // 16 KiB pages make index maintenance during bulk ingest about 30% cheaper than the
        // default 4 KiB (fewer, shallower pages). It only takes effect on a new database, and
        // must precede the switch to WAL.
        conn.pragma_update(None, "page_size", 16384)?;
        // WAL lets readers (the server, `rastro stats`) run beside a long ingest; NORMAL sync
        // is durable across process crashes, which is what resumable ingest needs.
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        // 96 MiB of page cache keeps index inserts fast while bounding memory.
        conn.pragma_update(None, "cache_size", -98304)?;
        // Checkpoint the WAL every ~256 MiB instead of every 4 MiB: each checkpoint copies
        // pages back and fsyncs, and doing that often dominated bulk ingest.
        conn.pragma_update(None, "wal_autocheckpoint", 65536)?;
        conn.pragma_update(None, "temp_store", "MEMORY")?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        let mut store = Store {
            conn,
            actor: "local".to_string(),
        };
        schema::migrate(&mut store.conn, name)?;
        Ok(store)
    }

    /// The id of a named source (file path or feed), registering it on first use.
    pub fn source_id(&mut self, name: &str, now_ms: i64) -> Result<i64> {
        self.conn.execute(
            "INSERT INTO source(name, first_seen_ms) VALUES (?1, ?2) ON CONFLICT(name) DO NOTHING",
            params![name, now_ms],
        )?;
        Ok(self
            .conn
            .query_row("SELECT id FROM source WHERE name = ?1", [name], |r| {
                r.get(0)
            })?)
    }

    /// Writes one batch in one transaction: every record is inserted, recognised as a duplicate,
    /// or quarantined as a conflict; `quarantine` entries are stored once per (source, line).
    pub fn write_batch(
        &mut self,
        src: i64,
        items: &[Prepared],
        quarantine: &[Quarantine],
    ) -> Result<BatchStats> {
        self.write_batch_with(src, items, quarantine, |_| {})
    }

    /// As [`Store::write_batch`], calling `after_row` with the number of rows written so far in
    /// this batch; the fault-injection tests use it to kill the process mid-transaction.
    pub fn write_batch_with(
        &mut self,
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
                "INSERT INTO record(kind, id, hash, src, line, originator, tlp, rel, ref, t_ms, lat, lon, h3, body)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14) ON CONFLICT(kind, id) DO NOTHING",
            )?;
            let mut get_rec = tx.prepare_cached("SELECT r.hash, s.name, r.line FROM record r JOIN source s ON s.id = r.src WHERE r.kind = ?1 AND r.id = ?2")?;
            for p in items {
                let m = p.record.marking();
                let outcome = match &p.record {
                    Record::Observation(o) => {
                        // One outcome per observation, in item order: `key_batch` promises it.
                        let outcome = obs_outcomes.next().unwrap_or(obs::Outcome::New);
                        if outcome == obs::Outcome::New {
                            new_obs.push(obs::NewObs {
                                src,
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
                            r.id(),
                            p.hash as i64,
                            src,
                            p.line as i64,
                            r.originator(),
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
                            let (hash, source, line): (i64, String, i64) = get_rec
                                .query_row([r.kind().as_str(), r.id()], |x| {
                                    Ok((x.get(0)?, x.get(1)?, x.get(2)?))
                                })?;
                            if hash as u64 == p.hash {
                                obs::Outcome::Duplicate
                            } else {
                                obs::Outcome::Conflict {
                                    source,
                                    line: line as u64,
                                }
                            }
                        }
                    }
                };
                match outcome {
                    obs::Outcome::New => {
                        stats.inserted += 1;
                        sha2::Digest::update(&mut added, p.record.kind().as_str().as_bytes());
                        sha2::Digest::update(&mut added, p.record.id().as_bytes());
                        sha2::Digest::update(&mut added, p.hash.to_le_bytes());
                    }
                    obs::Outcome::Duplicate => stats.duplicates += 1,
                    obs::Outcome::Conflict { source, line } => {
                        stats.conflicts += 1;
                        conflicts.push(Quarantine {
                            source: String::new(),
                            line: p.line,
                            kind: Some(p.record.kind()),
                            field: Some("id".into()),
                            reason: format!(
                                "conflict: {} {:?} is already stored from {source}:{line} with different content; the stored record was kept",
                                p.record.kind(),
                                p.record.id(),
                            ),
                            raw: String::new(),
                        });
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
            let mut ev = audit::AuditEvent::new("ingest");
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
            audit::append(&tx, &self.actor, ev)?;
        }
        tx.commit()?;
        Ok(stats)
    }

    /// Folds the write-ahead log back into the database file and truncates it; called at the
    /// end of a bulk ingest so readers do not pay for a long WAL.
    /// Checkpoints the WAL whenever it exceeds `pages` pages. Bulk ingest wants a large
    /// value (fewer, longer checkpoints); a server wants a small one, so that no request
    /// waits behind a checkpoint of a gigabyte.
    pub fn set_wal_autocheckpoint(&mut self, pages: u32) -> Result<()> {
        self.conn.pragma_update(None, "wal_autocheckpoint", pages)?;
        Ok(())
    }

    pub fn checkpoint(&mut self) -> Result<()> {
        self.conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        Ok(())
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

    /// Quarantine entries in the order they were stored, after `after_seq`, at most `limit`.
    pub fn quarantine(&self, after_seq: i64, limit: u32) -> Result<Vec<QuarantineRow>> {
        let mut st = self.conn.prepare_cached("SELECT seq, source, line, kind, field, reason, raw FROM quarantine WHERE seq > ?1 ORDER BY seq LIMIT ?2")?;
        let rows = st.query_map(params![after_seq, limit], |r| {
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
            schema_version: SCHEMA_VERSION,
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
        let a = feed("SELECT r.kind, r.id, r.hash, s.name, r.line, r.body FROM record r JOIN source s ON s.id = r.src ORDER BY r.kind, r.id")?;
        let c = feed(
            "SELECT source, line, kind, field, reason, raw FROM quarantine ORDER BY source, line",
        )?;
        // Blocks are a storage layout, not data: what they hold is digested row by row and
        // summed, so the digest does not depend on how rows were grouped.
        let (mut sum, mut rows) = (0u64, 0u64);
        obs::for_each_key(&self.conn, i64::MIN, i64::MAX, |id, hash, source, line| {
            let mut row = xxhash_rust::xxh3::Xxh3::new();
            row.update(id.as_bytes());
            row.update(&[0]);
            row.update(source.as_bytes());
            row.update(&[0]);
            row.update(&hash.to_le_bytes());
            row.update(&line.to_le_bytes());
            sum = sum.wrapping_add(row.digest());
            rows += 1;
        })?;
        Ok(format!("{:016x}-{a}-{rows}-{c}-{sum:016x}", h.digest()))
    }

    /// One stored record by kind and id.
    pub fn record(&self, kind: Kind, id: &str) -> Result<Option<StoredRecord>> {
        let mut st = self.conn.prepare_cached("SELECT r.seq, s.name, r.line, r.body FROM record r JOIN source s ON s.id = r.src WHERE r.kind = ?1 AND r.id = ?2")?;
        let row = st
            .query_row(params![kind.as_str(), id], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, String>(3)?,
                ))
            })
            .optional()?;
        row.map(|(seq, source, line, body)| decode(kind, id, seq, source, line, &body))
            .transpose()
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
                ))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        rows.into_iter()
            .map(|(seq, source, line, body, id)| decode(kind, &id, seq, source, line, &body))
            .collect()
    }

    /// Observations after cursor `after_seq`, in storage order, at most `limit`; returns them
    /// with their sequence numbers so a caller can resume from the last one.
    pub fn observations_after(
        &self,
        after_seq: i64,
        limit: u32,
    ) -> Result<Vec<(i64, Observation)>> {
        // A block holding `after_seq + 1` starts at most BLOCK_ROWS - 1 before it.
        let mut st = self.conn.prepare_cached(&format!(
            "SELECT {} FROM obs_block WHERE seq > ?1 ORDER BY seq",
            obs::BLOCK_COLS
        ))?;
        let mut rows = st.query([after_seq - BLOCK_ROWS as i64])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            for (seq, _, o) in obs::block_row(r)?.decode()? {
                if out.len() >= limit as usize {
                    return Ok(out);
                }
                if seq > after_seq {
                    out.push((seq, o));
                }
            }
        }
        Ok(out)
    }

    /// Observations of one subject between two times (inclusive), in time order.
    pub fn observations_of(
        &self,
        subject: &str,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Vec<(i64, Observation)>> {
        let mut out = obs::decode_query(
            &self.conn,
            &format!(
                "SELECT {} FROM obs_block WHERE subject = ?1 AND t_min <= ?3 AND t_max >= ?2",
                obs::BLOCK_COLS
            ),
            params![subject, from_ms, to_ms],
            |t, _, _| (from_ms..=to_ms).contains(&t),
        )?;
        out.sort_by_key(|(seq, _, o)| (o.time_ms, *seq));
        Ok(out.into_iter().map(|(seq, _, o)| (seq, o)).collect())
    }

    /// Observations inside one H3 cell (resolution [`MIN_QUERY_RESOLUTION`] or finer) between
    /// two times (inclusive), in time order: the blocks the sparse cell index names, keeping
    /// the fixes that fall in the cell. `None` for an invalid or too coarse cell.
    pub fn observations_in_cell(
        &self,
        cell: u64,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Option<Vec<(i64, Observation)>>> {
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
                |t, lat, lon| (from_ms..=to_ms).contains(&t) && inside(lat, lon),
            )?);
        }
        out.sort_by_key(|(seq, _, o)| (o.time_ms, *seq));
        Ok(Some(out.into_iter().map(|(seq, _, o)| (seq, o)).collect()))
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
}

const REC_SELECT: &str =
    "SELECT r.seq, s.name, r.line, r.body, r.id FROM record r JOIN source s ON s.id = r.src";

fn decode(
    kind: Kind,
    id: &str,
    seq: i64,
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
        source,
        line: line as u64,
        record,
    })
}
