//! The PostgreSQL backend of the ingest write path: the same keys, idempotency, conflict
//! quarantine and batch audit entries as the SQLite store, for any number of concurrent
//! writers (bus workers), with the audit log's append-only rule enforced by the database.
//!
//! Scope, for now: sources, records of every kind (observations one row each, with their
//! subject, time, position and cell indexed), quarantine, ingest runs and the hash-chained
//! audit log. Analysis, the guard's reads and the rest of the schema still run on SQLite only;
//! see ARCHITECTURE.md.

use crate::records::conflict_entry;
use crate::{Actor, BatchStats, Prepared, Result, StoreError};
use postgres::{Client, NoTls};
use rastro_audit::{leaf_hash, Entry, StoredEntry};
use rastro_core::{Quarantine, Record};
use std::collections::{HashMap, HashSet};

/// The schema version this build writes in PostgreSQL.
pub const PG_SCHEMA_VERSION: i32 = 1;

/// The role writers act as: it may insert into the audit log but never change or remove an
/// entry, whatever the triggers say.
pub const PG_WRITER_ROLE: &str = "rastro_writer";

/// Key of the advisory lock that serialises migrations and audit appends (the audit chain
/// has one tip, so appends take turns; record writes do not).
const LOCK_MIGRATE: i64 = 0x7261_7374_726f_0001;
const LOCK_AUDIT: i64 = 0x7261_7374_726f_0002;

const MIGRATIONS: [&str; 1] = [r#"
CREATE TABLE source (
    id bigserial PRIMARY KEY,
    name text NOT NULL UNIQUE,
    first_seen_ms bigint NOT NULL
);
CREATE TABLE record (
    kind text NOT NULL,
    originator text NOT NULL,
    id text NOT NULL,
    hash bigint NOT NULL,
    src bigint NOT NULL REFERENCES source(id),
    line bigint NOT NULL,
    tlp smallint NOT NULL,
    subject text,
    t_ms bigint,
    lat double precision,
    lon double precision,
    h3 bigint,
    body text NOT NULL,
    PRIMARY KEY (kind, originator, id)
);
CREATE INDEX record_subject_t ON record (subject, t_ms) WHERE subject IS NOT NULL;
CREATE INDEX record_h3 ON record (h3) WHERE h3 IS NOT NULL;
CREATE TABLE quarantine (
    source text NOT NULL,
    line bigint NOT NULL,
    kind text,
    field text,
    reason text NOT NULL,
    raw text NOT NULL,
    PRIMARY KEY (source, line)
);
CREATE TABLE ingest_run (
    id bigserial PRIMARY KEY,
    started_ms bigint NOT NULL,
    finished_ms bigint NOT NULL,
    source text NOT NULL,
    inserted bigint NOT NULL,
    duplicates bigint NOT NULL,
    conflicts bigint NOT NULL,
    quarantined bigint NOT NULL,
    status text NOT NULL
);
CREATE TABLE audit_entry (
    seq bigint PRIMARY KEY,
    t_ms bigint NOT NULL,
    actor text NOT NULL,
    action text NOT NULL,
    leaf bytea NOT NULL,
    leaf_hash bytea NOT NULL
);
CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $f$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only';
END
$f$;
CREATE TRIGGER audit_entry_no_change BEFORE UPDATE OR DELETE ON audit_entry
    FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_entry_no_truncate BEFORE TRUNCATE ON audit_entry
    FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
"#];

/// A connection to a Rastro schema in PostgreSQL, acting as [`PG_WRITER_ROLE`].
pub struct PgStore {
    client: Client,
    schema: String,
}

fn valid_schema(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        && !s.as_bytes()[0].is_ascii_digit()
}

impl PgStore {
    /// Connects to `url` (a `postgres://` address), creates or migrates the Rastro tables in
    /// `schema`, and drops to the writer role for everything after.
    pub fn connect(url: &str, schema: &str) -> Result<PgStore> {
        if !valid_schema(schema) {
            return Err(StoreError::Invalid(format!(
                "PostgreSQL schema {schema:?}: use lower-case letters, digits and _, starting with a letter"
            )));
        }
        let client = Client::connect(url, NoTls).map_err(|e| {
            StoreError::Invalid(format!(
                "cannot connect to PostgreSQL at {}: {e}; check the address, user and password, and that the server is running",
                redact(url)
            ))
        })?;
        let mut s = PgStore {
            client,
            schema: schema.to_string(),
        };
        s.migrate()?;
        s.client.batch_execute(&format!(
            "SET search_path TO {schema}; SET ROLE {PG_WRITER_ROLE}"
        ))?;
        Ok(s)
    }

    fn migrate(&mut self) -> Result<()> {
        let schema = self.schema.clone();
        let mut tx = self.client.transaction()?;
        // Workers starting together take turns; the second finds the work done.
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&LOCK_MIGRATE])?;
        tx.batch_execute(&format!(
            "CREATE SCHEMA IF NOT EXISTS {schema}; SET LOCAL search_path TO {schema};
             CREATE TABLE IF NOT EXISTS rastro_schema (version integer NOT NULL);"
        ))?;
        let found: i32 = tx
            .query_opt("SELECT max(version) FROM rastro_schema", &[])?
            .and_then(|r| r.get::<_, Option<i32>>(0))
            .unwrap_or(0);
        if found > PG_SCHEMA_VERSION {
            return Err(StoreError::TooNew {
                path: format!("PostgreSQL schema {schema}"),
                found: i64::from(found),
                supported: i64::from(PG_SCHEMA_VERSION),
            });
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
            tx.batch_execute(sql)?;
            tx.execute(
                "INSERT INTO rastro_schema(version) VALUES ($1)",
                &[&(i as i32 + 1)],
            )?;
        }
        // The writer role: rows in, never an audit entry changed or removed. Roles are
        // cluster-wide, so it may exist already (another schema, another node).
        tx.batch_execute(&format!(
            "DO $r$ BEGIN
                 IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{PG_WRITER_ROLE}') THEN
                     CREATE ROLE {PG_WRITER_ROLE} NOLOGIN;
                 END IF;
             END $r$;
             GRANT {PG_WRITER_ROLE} TO CURRENT_USER;
             GRANT USAGE ON SCHEMA {schema} TO {PG_WRITER_ROLE};
             GRANT SELECT, INSERT ON ALL TABLES IN SCHEMA {schema} TO {PG_WRITER_ROLE};
             GRANT USAGE ON ALL SEQUENCES IN SCHEMA {schema} TO {PG_WRITER_ROLE};
             REVOKE UPDATE, DELETE, TRUNCATE ON audit_entry FROM {PG_WRITER_ROLE}, PUBLIC;"
        ))?;
        tx.commit()?;
        Ok(())
    }

    /// The schema this store lives in.
    pub fn schema(&self) -> &str {
        &self.schema
    }

    /// Whether the connection has broken (the server restarted or went away): the caller
    /// reconnects and retries the batch, which is harmless because writes are keyed.
    pub fn is_closed(&self) -> bool {
        self.client.is_closed()
    }

    /// The id of a named source, registering it on first use.
    pub fn source_id(&mut self, name: &str, now_ms: i64) -> Result<i64> {
        self.client.execute(
            "INSERT INTO source(name, first_seen_ms) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
            &[&name, &now_ms],
        )?;
        Ok(self
            .client
            .query_one("SELECT id FROM source WHERE name = $1", &[&name])?
            .get(0))
    }

    /// Writes one batch in one transaction, as [`crate::Store::write_batch_with`] does: each
    /// record inserted, recognised as a duplicate, or quarantined as a conflict; quarantine
    /// entries once per (source, line); the batch's audit entry commits with it.
    pub fn write_batch_with(
        &mut self,
        actor: &Actor,
        src: i64,
        items: &[Prepared],
        quarantine: &[Quarantine],
        mut after_row: impl FnMut(u64),
    ) -> Result<BatchStats> {
        let mut tx = self.client.transaction()?;
        let mut stats = BatchStats::default();
        let n = items.len();
        let (mut kinds, mut origs, mut ids) = (
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
        );
        let (mut hashes, mut lines, mut tlps, mut subjects) = (
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
        );
        let (mut times, mut lats, mut lons, mut cells, mut bodies) = (
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
        );
        // Only each key's first occurrence goes into the insert, so which of a batch's repeats
        // is stored never depends on the order PostgreSQL reads the arrays in; the rest are
        // judged against it below, as SQLite does.
        let keys: Vec<(&str, &str, &str)> = items
            .iter()
            .map(|p| {
                (
                    p.record.kind().as_str(),
                    p.record.originator(),
                    p.record.id(),
                )
            })
            .collect();
        let mut seen: HashSet<(&str, &str, &str)> = HashSet::with_capacity(n);
        for (p, key) in items.iter().zip(&keys) {
            if !seen.insert(*key) {
                continue;
            }
            let r = &p.record;
            kinds.push(r.kind().as_str());
            origs.push(r.originator());
            ids.push(r.id());
            hashes.push(p.hash as i64);
            lines.push(p.line as i64);
            tlps.push(i16::from(r.marking().tlp.code()));
            let pos = r.position();
            let (subject, t) = match r {
                Record::Observation(o) => (Some(o.subject.as_str()), Some(o.time_ms)),
                _ => (None, r.time_ms()),
            };
            subjects.push(subject);
            times.push(t);
            lats.push(pos.map(|x| x.lat));
            lons.push(pos.map(|x| x.lon));
            cells.push(p.h3.map(|h| h as i64));
            bodies.push(r.canonical_json());
        }
        let inserted_rows = tx.query(
            "INSERT INTO record(kind, originator, id, hash, src, line, tlp, subject, t_ms, lat, lon, h3, body)
             SELECT k, o, i, h, $5, l, t, s, tm, la, lo, c, b
             FROM unnest($1::text[], $2::text[], $3::text[], $4::int8[], $6::int8[], $7::int2[],
                         $8::text[], $9::int8[], $10::float8[], $11::float8[], $12::int8[], $13::text[])
                  AS u(k, o, i, h, l, t, s, tm, la, lo, c, b)
             ON CONFLICT (kind, originator, id) DO NOTHING
             RETURNING kind, originator, id",
            &[
                &kinds, &origs, &ids, &hashes, &src, &lines, &tlps, &subjects, &times, &lats,
                &lons, &cells, &bodies,
            ],
        )?;
        for i in 1..=n as u64 {
            after_row(i);
        }
        let mut fresh: HashSet<(String, String, String)> = inserted_rows
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2)))
            .collect();
        // What is stored under the keys this statement did not insert, to tell a duplicate
        // from a conflict.
        let owned = |k: &(&str, &str, &str)| (k.0.to_string(), k.1.to_string(), k.2.to_string());
        let others: Vec<usize> = (0..n)
            .filter(|&i| !fresh.contains(&owned(&keys[i])))
            .collect();
        let mut stored: HashMap<(String, String, String), i64> = HashMap::new();
        if !others.is_empty() {
            let k: Vec<&str> = others.iter().map(|&i| keys[i].0).collect();
            let o: Vec<&str> = others.iter().map(|&i| keys[i].1).collect();
            let d: Vec<&str> = others.iter().map(|&i| keys[i].2).collect();
            for r in tx.query(
                "SELECT r.kind, r.originator, r.id, r.hash FROM record r
                 JOIN unnest($1::text[], $2::text[], $3::text[]) AS u(k, o, i)
                   ON r.kind = u.k AND r.originator = u.o AND r.id = u.i",
                &[&k, &o, &d],
            )? {
                stored.insert((r.get(0), r.get(1), r.get(2)), r.get(3));
            }
        }
        let mut added = <sha2::Sha256 as sha2::Digest>::new();
        let mut conflicts = Vec::new();
        for (i, p) in items.iter().enumerate() {
            let key = owned(&keys[i]);
            // The first item of a key this statement inserted is the new one; a later item of
            // the same key in the batch is judged against it.
            if fresh.remove(&key) {
                stats.inserted += 1;
                stored.insert(key, p.hash as i64);
                sha2::Digest::update(&mut added, keys[i].0.as_bytes());
                sha2::Digest::update(&mut added, keys[i].1.as_bytes());
                sha2::Digest::update(&mut added, keys[i].2.as_bytes());
                sha2::Digest::update(&mut added, p.hash.to_le_bytes());
            } else if stored.get(&key) == Some(&(p.hash as i64)) {
                stats.duplicates += 1;
            } else {
                stats.conflicts += 1;
                conflicts.push(conflict_entry(p));
            }
        }
        let src_name: String = tx
            .query_one("SELECT name FROM source WHERE id = $1", &[&src])?
            .get(0);
        for q in quarantine.iter().chain(conflicts.iter()) {
            let source = if q.source.is_empty() {
                &src_name
            } else {
                &q.source
            };
            stats.quarantined += tx.execute(
                "INSERT INTO quarantine(source, line, kind, field, reason, raw) VALUES ($1, $2, $3, $4, $5, $6)
                 ON CONFLICT (source, line) DO NOTHING",
                &[source, &(q.line as i64), &q.kind.map(|k| k.as_str()), &q.field, &q.reason, &q.raw],
            )?;
        }
        let all_lines: Vec<u64> = items
            .iter()
            .map(|p| p.line)
            .chain(quarantine.iter().map(|q| q.line))
            .collect();
        let detail = serde_json::json!({
            "first_line": all_lines.iter().min(),
            "last_line": all_lines.iter().max(),
            "inserted": stats.inserted,
            "duplicates": stats.duplicates,
            "conflicts": stats.conflicts,
            "quarantined": stats.quarantined,
            "records_sha256": hex::encode(sha2::Digest::finalize(added)),
        });
        append_audit(&mut tx, actor.as_str(), "ingest", Some(src_name), detail)?;
        tx.commit()?;
        Ok(stats)
    }

    /// Records one ingest run for operators; not part of the data.
    pub fn log_run(
        &mut self,
        started_ms: i64,
        finished_ms: i64,
        source: &str,
        stats: &BatchStats,
        status: &str,
    ) -> Result<()> {
        self.client.execute(
            "INSERT INTO ingest_run(started_ms, finished_ms, source, inserted, duplicates, conflicts, quarantined, status)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            &[
                &started_ms,
                &finished_ms,
                &source,
                &(stats.inserted as i64),
                &(stats.duplicates as i64),
                &(stats.conflicts as i64),
                &(stats.quarantined as i64),
                &status,
            ],
        )?;
        Ok(())
    }

    /// A digest of the stored data that does not depend on the backend's layout: every
    /// record's kind, key, content hash, source and line, and every quarantine entry. The
    /// SQLite store computes the same ([`crate::Store::keyed_digest`]), which is how the
    /// conformance tests compare the two.
    pub fn keyed_digest(&mut self) -> Result<String> {
        let mut d = KeyedDigest::default();
        for r in self.client.query(
            "SELECT r.kind, r.originator, r.id, r.hash, s.name, r.line FROM record r JOIN source s ON s.id = r.src",
            &[],
        )? {
            d.record(r.get(0), r.get(1), r.get(2), r.get::<_, i64>(3) as u64, r.get(4), r.get::<_, i64>(5) as u64);
        }
        for r in self
            .client
            .query("SELECT source, line, reason FROM quarantine", &[])?
        {
            d.quarantine(r.get(0), r.get::<_, i64>(1) as u64, r.get(2));
        }
        Ok(d.finish())
    }

    /// Every audit entry's bytes and stored leaf hash, in sequence order.
    pub fn audit_entries(&mut self) -> Result<Vec<StoredEntry>> {
        Ok(self
            .client
            .query(
                "SELECT seq, leaf, leaf_hash FROM audit_entry ORDER BY seq",
                &[],
            )?
            .into_iter()
            .map(|r| StoredEntry {
                seq: r.get::<_, i64>(0) as u64,
                bytes: r.get(1),
                leaf_hash: r.get(2),
            })
            .collect())
    }

    /// Runs one statement as the writer role and returns PostgreSQL's refusal, if any: the
    /// audit-tamper tests try to change the log with it.
    #[doc(hidden)]
    pub fn try_execute(&mut self, sql: &str) -> std::result::Result<u64, String> {
        self.client.execute(sql, &[]).map_err(|e| {
            e.as_db_error()
                .map(|d| d.message().to_string())
                .unwrap_or_else(|| e.to_string())
        })
    }
}

/// Appends one entry to the hash chain; appends take turns under an advisory lock held to the
/// end of the caller's transaction.
fn append_audit(
    tx: &mut postgres::Transaction<'_>,
    actor: &str,
    action: &str,
    from: Option<String>,
    detail: serde_json::Value,
) -> Result<u64> {
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&LOCK_AUDIT])?;
    let last = tx.query_opt(
        "SELECT seq, leaf_hash FROM audit_entry ORDER BY seq DESC LIMIT 1",
        &[],
    )?;
    let seq = last.as_ref().map_or(0, |r| r.get::<_, i64>(0) as u64 + 1);
    let prev = last
        .map(|r| hex::encode(r.get::<_, Vec<u8>>(1)))
        .unwrap_or_default();
    let t = crate::audit::now_ms();
    let entry = Entry {
        seq,
        time: rastro_core::format_time_ms(t),
        actor: actor.to_string(),
        action: action.to_string(),
        records: Vec::new(),
        from,
        purpose: None,
        detail,
        prev,
    };
    let bytes = entry.to_bytes();
    let h = leaf_hash(&bytes);
    tx.execute(
        "INSERT INTO audit_entry(seq, t_ms, actor, action, leaf, leaf_hash) VALUES ($1, $2, $3, $4, $5, $6)",
        &[&(seq as i64), &t, &entry.actor, &entry.action, &bytes, &h.as_slice()],
    )?;
    Ok(seq)
}

/// The backend-neutral data digest (see [`PgStore::keyed_digest`]): a sum of per-row hashes,
/// so row order and layout do not matter.
#[derive(Default)]
pub(crate) struct KeyedDigest {
    records: u64,
    record_sum: u64,
    quarantined: u64,
    quarantine_sum: u64,
}

impl KeyedDigest {
    pub(crate) fn record(
        &mut self,
        kind: &str,
        originator: &str,
        id: &str,
        hash: u64,
        source: &str,
        line: u64,
    ) {
        let mut h = xxhash_rust::xxh3::Xxh3::new();
        for part in [kind, originator, id, source] {
            h.update(part.as_bytes());
            h.update(&[0]);
        }
        h.update(&hash.to_le_bytes());
        h.update(&line.to_le_bytes());
        self.records += 1;
        self.record_sum = self.record_sum.wrapping_add(h.digest());
    }

    pub(crate) fn quarantine(&mut self, source: &str, line: u64, reason: &str) {
        let mut h = xxhash_rust::xxh3::Xxh3::new();
        h.update(source.as_bytes());
        h.update(&[0]);
        h.update(&line.to_le_bytes());
        h.update(reason.as_bytes());
        self.quarantined += 1;
        self.quarantine_sum = self.quarantine_sum.wrapping_add(h.digest());
    }

    pub(crate) fn finish(&self) -> String {
        format!(
            "{}-{:016x}-{}-{:016x}",
            self.records, self.record_sum, self.quarantined, self.quarantine_sum
        )
    }
}

/// The address without its password, for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let cred = &url[s + 3..at];
            match cred.find(':') {
                Some(c) => format!("{}{}:***{}", &url[..s + 3], &cred[..c], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn passwords_never_reach_messages() {
        assert_eq!(
            super::redact("postgres://rastro:s3cret@db:5432/x"),
            "postgres://rastro:***@db:5432/x"
        );
        assert_eq!(super::redact("postgres://db/x"), "postgres://db/x");
        assert!(super::valid_schema("rastro_t1"));
        assert!(!super::valid_schema("x; DROP TABLE record"));
        assert!(!super::valid_schema("1abc"));
    }
}
