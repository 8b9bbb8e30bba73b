//! Versioned schema migrations, applied in order inside one transaction each and recorded in
//! SQLite's `user_version`.

use crate::{Result, StoreError};
use rusqlite::Connection;

const MIGRATIONS: &[&str] = &[
    // 1: sources, records, observations, quarantine, ingest runs.
    r#"
    CREATE TABLE source (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        first_seen_ms INTEGER NOT NULL
    );
    CREATE TABLE record (
        seq INTEGER PRIMARY KEY,
        kind TEXT NOT NULL,
        id TEXT NOT NULL,
        hash INTEGER NOT NULL,
        src INTEGER NOT NULL,
        line INTEGER NOT NULL,
        originator TEXT NOT NULL,
        tlp INTEGER NOT NULL,
        rel TEXT,
        ref TEXT,
        t_ms INTEGER,
        lat REAL,
        lon REAL,
        h3 INTEGER,
        body TEXT NOT NULL,
        UNIQUE (kind, id)
    );
    CREATE INDEX record_ref ON record(kind, ref);
    CREATE INDEX record_time ON record(kind, t_ms);
    CREATE INDEX record_h3 ON record(h3) WHERE h3 IS NOT NULL;
    CREATE TABLE observation (
        seq INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        hash INTEGER NOT NULL,
        src INTEGER NOT NULL,
        line INTEGER NOT NULL,
        originator TEXT NOT NULL,
        tlp INTEGER NOT NULL,
        rel TEXT,
        source INTEGER NOT NULL,
        subject_kind INTEGER NOT NULL,
        subject TEXT NOT NULL,
        t_ms INTEGER NOT NULL,
        lat REAL NOT NULL,
        lon REAL NOT NULL,
        h3 INTEGER NOT NULL,
        accuracy_m REAL,
        confidence REAL NOT NULL
    );
    CREATE INDEX observation_subject_time ON observation(subject, t_ms);
    CREATE INDEX observation_h3 ON observation(h3);
    CREATE TABLE quarantine (
        seq INTEGER PRIMARY KEY,
        source TEXT NOT NULL,
        line INTEGER NOT NULL,
        kind TEXT,
        field TEXT,
        reason TEXT NOT NULL,
        raw TEXT NOT NULL,
        UNIQUE (source, line)
    );
    CREATE TABLE ingest_run (
        id INTEGER PRIMARY KEY,
        started_ms INTEGER NOT NULL,
        finished_ms INTEGER NOT NULL,
        source TEXT NOT NULL,
        inserted INTEGER NOT NULL,
        duplicates INTEGER NOT NULL,
        conflicts INTEGER NOT NULL,
        quarantined INTEGER NOT NULL,
        status TEXT NOT NULL
    );
    "#,
    // 2: analysis results: alerts, per-consignment state, cursors.
    r#"
    CREATE TABLE alert (
        id TEXT PRIMARY KEY,
        typology TEXT NOT NULL,
        subject TEXT NOT NULL,
        scope TEXT NOT NULL,
        t_ms INTEGER NOT NULL,
        lat REAL,
        lon REAL,
        score REAL NOT NULL,
        tlp INTEGER NOT NULL,
        rel TEXT,
        body TEXT NOT NULL
    );
    CREATE INDEX alert_subject ON alert(subject);
    CREATE INDEX alert_typology_time ON alert(typology, t_ms);
    CREATE INDEX alert_time ON alert(t_ms);
    CREATE TABLE consignment_state (
        id TEXT PRIMARY KEY,
        status TEXT NOT NULL,
        eta_ms INTEGER,
        body TEXT NOT NULL
    );
    CREATE TABLE analysis_cursor (
        name TEXT PRIMARY KEY,
        value INTEGER NOT NULL
    );
    "#,
    // 3: custody-by-consignment reads filter on ref and order by time; one index serves both
    // (with only (kind, ref) the planner preferred (kind, t_ms) and scanned every event).
    r#"
    DROP INDEX record_ref;
    CREATE INDEX record_ref ON record(kind, ref, t_ms);
    "#,
    // 4: the audit log. Entries are append-only: triggers refuse UPDATE and DELETE, so only
    // someone editing the file by hand can change them, and verification catches that.
    r#"
    CREATE TABLE audit_entry (
        seq INTEGER PRIMARY KEY,
        t_ms INTEGER NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        leaf BLOB NOT NULL,
        leaf_hash BLOB NOT NULL
    );
    CREATE TABLE audit_record (
        record TEXT NOT NULL,
        seq INTEGER NOT NULL,
        PRIMARY KEY (record, seq)
    ) WITHOUT ROWID;
    CREATE TABLE audit_head (
        tree_size INTEGER NOT NULL,
        t_ms INTEGER NOT NULL,
        body TEXT NOT NULL,
        PRIMARY KEY (tree_size, t_ms)
    );
    CREATE TRIGGER audit_entry_no_update BEFORE UPDATE ON audit_entry BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
    CREATE TRIGGER audit_entry_no_delete BEFORE DELETE ON audit_entry BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
    "#,
    // 5: leads (recomputed wholesale by each analysis) and the analyst decisions about them,
    // which outlive any one computation and carry the cells they were made on.
    r#"
    CREATE TABLE lead (
        id TEXT PRIMARY KEY,
        rank INTEGER NOT NULL,
        score REAL NOT NULL,
        lat REAL NOT NULL,
        lon REAL NOT NULL,
        tlp INTEGER NOT NULL,
        rel TEXT,
        body TEXT NOT NULL
    );
    CREATE INDEX lead_rank ON lead(rank);
    CREATE TABLE lead_decision (
        id TEXT PRIMARY KEY,
        status TEXT NOT NULL,
        note TEXT,
        actor TEXT NOT NULL,
        t_ms INTEGER NOT NULL,
        cells TEXT NOT NULL
    );
    "#,
    // 6: organisations, users (API tokens stored only as argon2id hashes), deployment
    // settings such as the host nation.
    r#"
    CREATE TABLE org (
        code TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        nation TEXT NOT NULL,
        kind TEXT NOT NULL,
        created_ms INTEGER NOT NULL
    );
    CREATE TABLE app_user (
        name TEXT PRIMARY KEY,
        org TEXT NOT NULL REFERENCES org(code),
        role TEXT NOT NULL,
        token_id TEXT NOT NULL UNIQUE,
        token_hash TEXT NOT NULL,
        created_ms INTEGER NOT NULL,
        revoked_ms INTEGER
    );
    CREATE TABLE setting (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    "#,
    // 7: explicit releases of leads to partners, kept with the decision so that they survive
    // recomputation.
    r#"
    ALTER TABLE lead_decision ADD COLUMN released_to TEXT;
    "#,
    // 8: a counter that every change to the alerts moves, so that caches of alert replies
    // know when they are stale (rowids can be reused after a delete, so they cannot tell).
    r#"
    CREATE TABLE alert_generation (n INTEGER NOT NULL);
    INSERT INTO alert_generation VALUES (0);
    CREATE TRIGGER alert_gen_insert AFTER INSERT ON alert BEGIN UPDATE alert_generation SET n = n + 1; END;
    CREATE TRIGGER alert_gen_delete AFTER DELETE ON alert BEGIN UPDATE alert_generation SET n = n + 1; END;
    CREATE TRIGGER alert_gen_update AFTER UPDATE ON alert BEGIN UPDATE alert_generation SET n = n + 1; END;
    "#,
    // 9: entries naming many records (a page of alerts read again and again) are indexed by
    // their record set: the set's records once, then one row per entry, instead of one row
    // per record per entry.
    r#"
    CREATE TABLE audit_set (hash BLOB PRIMARY KEY) WITHOUT ROWID;
    CREATE TABLE audit_set_record (
        record TEXT NOT NULL,
        hash BLOB NOT NULL,
        PRIMARY KEY (record, hash)
    ) WITHOUT ROWID;
    CREATE TABLE audit_set_entry (
        hash BLOB NOT NULL,
        seq INTEGER NOT NULL,
        PRIMARY KEY (hash, seq)
    ) WITHOUT ROWID;
    "#,
    // 10: analysts' triage of alerts (acknowledged, dismissed with a reason, escalated); kept
    // by alert id, so it survives re-analysis that rewrites the alert.
    r#"
    CREATE TABLE alert_triage (
        id TEXT PRIMARY KEY,
        state TEXT NOT NULL,
        reason TEXT,
        actor TEXT NOT NULL,
        t_ms INTEGER NOT NULL
    );
    "#,
    // 11: observations in blocks (see `obs.rs`): runs of keys (or a key per fix), a row per run of a subject's
    // fixes, a sparse cell index. The rows of the version-1 table are moved by
    // `obs::migrate_rows`, then the table is dropped (`OBS_BLOCKS`).
    r#"
    CREATE TABLE obs_run (
        id_min TEXT PRIMARY KEY,
        id_max TEXT NOT NULL,
        seq_lo INTEGER NOT NULL,
        seq_hi INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE obs_key (
        id TEXT PRIMARY KEY,
        hash INTEGER NOT NULL,
        src INTEGER NOT NULL,
        line INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE obs_block (
        seq INTEGER PRIMARY KEY,
        n INTEGER NOT NULL,
        src INTEGER NOT NULL,
        originator TEXT NOT NULL,
        tlp INTEGER NOT NULL,
        rel TEXT,
        subject_kind INTEGER NOT NULL,
        subject TEXT NOT NULL,
        t_min INTEGER NOT NULL,
        t_max INTEGER NOT NULL,
        data BLOB NOT NULL
    );
    CREATE INDEX obs_block_subject_time ON obs_block(subject, t_min);
    CREATE TABLE obs_zone (
        seq INTEGER PRIMARY KEY,
        t_min INTEGER NOT NULL,
        t_max INTEGER NOT NULL,
        lat_min REAL NOT NULL,
        lat_max REAL NOT NULL,
        lon_min REAL NOT NULL,
        lon_max REAL NOT NULL,
        cells BLOB NOT NULL
    );
    "#,
    // 12: markings that follow every input (issue 13).
    // - Record keys are namespaced by originator: (kind, originator, id), so a partner's record
    //   never collides with (and so never reveals) a record of another originator.
    // - Every distinct (originator, TLP, releasable-to) is a marking class; records and
    //   observation blocks carry their class, and a view is the set of classes an audience
    //   may see.
    // - Derived data (alerts, consignment states, leads, the learned normal) is stored per
    //   view; it is recomputed from scratch, so the old tables are dropped.
    // - Decisions (triage, lead status) belong to the deciding organisation; releases are
    //   frozen, hashed snapshots; sources remember who posted them; rejected API ingest is
    //   bounded per user and hour.
    r#"
    CREATE TABLE mclass (
        id INTEGER PRIMARY KEY,
        originator TEXT NOT NULL,
        tlp INTEGER NOT NULL,
        rel TEXT NOT NULL DEFAULT '',
        UNIQUE (originator, tlp, rel)
    );
    INSERT OR IGNORE INTO mclass(originator, tlp, rel)
        SELECT DISTINCT originator, tlp, COALESCE(rel, '') FROM record ORDER BY 1, 2, 3;
    INSERT OR IGNORE INTO mclass(originator, tlp, rel)
        SELECT DISTINCT originator, tlp, COALESCE(rel, '') FROM obs_block ORDER BY 1, 2, 3;
    CREATE TABLE record_v12 (
        seq INTEGER PRIMARY KEY,
        kind TEXT NOT NULL,
        originator TEXT NOT NULL,
        id TEXT NOT NULL,
        class INTEGER NOT NULL,
        hash INTEGER NOT NULL,
        src INTEGER NOT NULL,
        line INTEGER NOT NULL,
        tlp INTEGER NOT NULL,
        rel TEXT,
        ref TEXT,
        t_ms INTEGER,
        lat REAL,
        lon REAL,
        h3 INTEGER,
        body TEXT NOT NULL,
        UNIQUE (kind, originator, id)
    );
    INSERT INTO record_v12
        SELECT r.seq, r.kind, r.originator, r.id, c.id, r.hash, r.src, r.line, r.tlp, r.rel,
               r.ref, r.t_ms, r.lat, r.lon, r.h3, r.body
        FROM record r JOIN mclass c
          ON c.originator = r.originator AND c.tlp = r.tlp AND c.rel = COALESCE(r.rel, '');
    DROP TABLE record;
    ALTER TABLE record_v12 RENAME TO record;
    CREATE INDEX record_ref ON record(kind, ref, t_ms);
    CREATE INDEX record_time ON record(kind, t_ms);
    CREATE INDEX record_h3 ON record(h3) WHERE h3 IS NOT NULL;
    CREATE INDEX record_id ON record(kind, id);
    ALTER TABLE obs_block ADD COLUMN class INTEGER NOT NULL DEFAULT 0;
    UPDATE obs_block SET class = (SELECT c.id FROM mclass c WHERE c.originator = obs_block.originator
        AND c.tlp = obs_block.tlp AND c.rel = COALESCE(obs_block.rel, ''));
    DROP TABLE obs_run;
    DROP TABLE obs_key;
    CREATE TABLE obs_run (
        id_min TEXT PRIMARY KEY,
        id_max TEXT NOT NULL,
        seq_lo INTEGER NOT NULL,
        seq_hi INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE obs_key (
        id TEXT PRIMARY KEY,
        hash INTEGER NOT NULL,
        src INTEGER NOT NULL,
        line INTEGER NOT NULL
    ) WITHOUT ROWID;
    ALTER TABLE source ADD COLUMN poster TEXT;
    ALTER TABLE source ADD COLUMN org TEXT;
    DROP TABLE alert;
    DROP TABLE consignment_state;
    DROP TABLE lead;
    DROP TABLE analysis_cursor;
    CREATE TABLE derived_view (
        vid INTEGER PRIMARY KEY,
        key TEXT NOT NULL UNIQUE,
        classes TEXT NOT NULL,
        obs_cursor INTEGER NOT NULL DEFAULT 0,
        rec_cursor INTEGER NOT NULL DEFAULT 0,
        analysed_ms INTEGER,
        model BLOB
    );
    CREATE TABLE audience_view (
        audience TEXT PRIMARY KEY,
        vid INTEGER NOT NULL
    );
    CREATE TABLE alert (
        vid INTEGER NOT NULL,
        id TEXT NOT NULL,
        typology TEXT NOT NULL,
        subject TEXT NOT NULL,
        scope TEXT NOT NULL,
        t_ms INTEGER NOT NULL,
        lat REAL,
        lon REAL,
        score REAL NOT NULL,
        tlp INTEGER NOT NULL,
        rel TEXT,
        body TEXT NOT NULL,
        PRIMARY KEY (vid, id)
    );
    CREATE INDEX alert_subject ON alert(vid, subject);
    CREATE INDEX alert_typology_time ON alert(vid, typology, t_ms);
    CREATE INDEX alert_score ON alert(vid, score DESC, t_ms, id);
    CREATE TRIGGER alert_gen_insert AFTER INSERT ON alert BEGIN UPDATE alert_generation SET n = n + 1; END;
    CREATE TRIGGER alert_gen_delete AFTER DELETE ON alert BEGIN UPDATE alert_generation SET n = n + 1; END;
    CREATE TRIGGER alert_gen_update AFTER UPDATE ON alert BEGIN UPDATE alert_generation SET n = n + 1; END;
    CREATE TABLE consignment_state (
        vid INTEGER NOT NULL,
        id TEXT NOT NULL,
        status TEXT NOT NULL,
        eta_ms INTEGER,
        body TEXT NOT NULL,
        PRIMARY KEY (vid, id)
    ) WITHOUT ROWID;
    CREATE TABLE lead (
        vid INTEGER NOT NULL,
        id TEXT NOT NULL,
        rank INTEGER NOT NULL,
        score REAL NOT NULL,
        lat REAL NOT NULL,
        lon REAL NOT NULL,
        tlp INTEGER NOT NULL,
        rel TEXT,
        body TEXT NOT NULL,
        PRIMARY KEY (vid, id)
    );
    CREATE INDEX lead_rank ON lead(vid, rank);
    CREATE TABLE lead_decision_v12 (
        org TEXT NOT NULL,
        id TEXT NOT NULL,
        status TEXT NOT NULL,
        note TEXT,
        actor TEXT NOT NULL,
        t_ms INTEGER NOT NULL,
        cells TEXT NOT NULL,
        PRIMARY KEY (org, id)
    );
    INSERT INTO lead_decision_v12
        SELECT COALESCE((SELECT u.org FROM app_user u WHERE u.name = d.actor), ''), d.id, d.status,
               d.note, d.actor, d.t_ms, d.cells
        FROM lead_decision d;
    DROP TABLE lead_decision;
    ALTER TABLE lead_decision_v12 RENAME TO lead_decision;
    CREATE TABLE alert_triage_v12 (
        org TEXT NOT NULL,
        id TEXT NOT NULL,
        state TEXT NOT NULL,
        reason TEXT,
        actor TEXT NOT NULL,
        t_ms INTEGER NOT NULL,
        PRIMARY KEY (org, id)
    );
    INSERT INTO alert_triage_v12
        SELECT COALESCE((SELECT u.org FROM app_user u WHERE u.name = t.actor), ''), t.id, t.state,
               t.reason, t.actor, t.t_ms
        FROM alert_triage t;
    DROP TABLE alert_triage;
    ALTER TABLE alert_triage_v12 RENAME TO alert_triage;
    CREATE TABLE lead_release (
        rid INTEGER PRIMARY KEY,
        lead TEXT NOT NULL,
        org TEXT NOT NULL,
        actor TEXT NOT NULL,
        t_ms INTEGER NOT NULL,
        recipients TEXT NOT NULL,
        body TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        revoked_ms INTEGER,
        revoked_by TEXT
    );
    CREATE INDEX lead_release_lead ON lead_release(org, lead);
    CREATE TABLE ingest_quota (
        user TEXT NOT NULL,
        hour INTEGER NOT NULL,
        attempts INTEGER NOT NULL,
        rejected_lines INTEGER NOT NULL,
        rejected_bytes INTEGER NOT NULL,
        PRIMARY KEY (user, hour)
    ) WITHOUT ROWID;
    "#,
    // 13: a counter that every change to what decides a viewer's window moves (settings such
    // as the host nation, organisations, marking classes, views and which audience has which
    // view), so that a server can keep the policy and each audience's classes between requests
    // and know exactly when they are stale. Triggers move it, so no write path can forget.
    r#"
    CREATE TABLE policy_generation (n INTEGER NOT NULL);
    INSERT INTO policy_generation VALUES (0);
    CREATE TRIGGER policy_gen_setting_insert AFTER INSERT ON setting BEGIN UPDATE policy_generation SET n = n + 1; END;
    CREATE TRIGGER policy_gen_setting_update AFTER UPDATE ON setting BEGIN UPDATE policy_generation SET n = n + 1; END;
    CREATE TRIGGER policy_gen_setting_delete AFTER DELETE ON setting BEGIN UPDATE policy_generation SET n = n + 1; END;
    CREATE TRIGGER policy_gen_org_insert AFTER INSERT ON org BEGIN UPDATE policy_generation SET n = n + 1; END;
    CREATE TRIGGER policy_gen_org_update AFTER UPDATE ON org BEGIN UPDATE policy_generation SET n = n + 1; END;
    CREATE TRIGGER policy_gen_org_delete AFTER DELETE ON org BEGIN UPDATE policy_generation SET n = n + 1; END;
    CREATE TRIGGER policy_gen_mclass_insert AFTER INSERT ON mclass BEGIN UPDATE policy_generation SET n = n + 1; END;
    CREATE TRIGGER policy_gen_mclass_update AFTER UPDATE ON mclass BEGIN UPDATE policy_generation SET n = n + 1; END;
    CREATE TRIGGER policy_gen_mclass_delete AFTER DELETE ON mclass BEGIN UPDATE policy_generation SET n = n + 1; END;
    CREATE TRIGGER policy_gen_derived_view_insert AFTER INSERT ON derived_view BEGIN UPDATE policy_generation SET n = n + 1; END;
    CREATE TRIGGER policy_gen_derived_view_update AFTER UPDATE ON derived_view BEGIN UPDATE policy_generation SET n = n + 1; END;
    CREATE TRIGGER policy_gen_derived_view_delete AFTER DELETE ON derived_view BEGIN UPDATE policy_generation SET n = n + 1; END;
    CREATE TRIGGER policy_gen_audience_view_insert AFTER INSERT ON audience_view BEGIN UPDATE policy_generation SET n = n + 1; END;
    CREATE TRIGGER policy_gen_audience_view_update AFTER UPDATE ON audience_view BEGIN UPDATE policy_generation SET n = n + 1; END;
    CREATE TRIGGER policy_gen_audience_view_delete AFTER DELETE ON audience_view BEGIN UPDATE policy_generation SET n = n + 1; END;
    "#,
    // 13: operations, partner requests and lead packages (versioned bodies, compare-and-swap).
    r#"
    CREATE TABLE operation (
        id TEXT PRIMARY KEY,
        org TEXT NOT NULL,
        version INTEGER NOT NULL,
        body TEXT NOT NULL,
        t_ms INTEGER NOT NULL
    );
    CREATE TABLE partner_request (
        id TEXT PRIMARY KEY,
        org TEXT NOT NULL,
        version INTEGER NOT NULL,
        body TEXT NOT NULL,
        t_ms INTEGER NOT NULL
    );
    CREATE TABLE lead_package (
        id TEXT PRIMARY KEY,
        org TEXT NOT NULL,
        version INTEGER NOT NULL,
        body TEXT NOT NULL,
        t_ms INTEGER NOT NULL
    );
    "#,
    // 14: the provenance of partner collection: each partner observation, or one naming a
    // request, with the approved request it was collected under or the reason it is flagged.
    r#"
    CREATE TABLE collection (
        originator TEXT NOT NULL,
        obs_id TEXT NOT NULL,
        tlp INTEGER NOT NULL,
        rel TEXT,
        subject TEXT NOT NULL,
        time_ms INTEGER NOT NULL,
        lat REAL NOT NULL,
        lon REAL NOT NULL,
        request TEXT,
        flag TEXT,
        PRIMARY KEY (originator, obs_id)
    );
    CREATE INDEX collection_flagged ON collection(originator, time_ms) WHERE flag IS NOT NULL;
    "#,
    // 15: each view's leads as ranked without what closed operations taught, so an
    // evaluation can compare the two rankings.
    r#"
    CREATE TABLE lead_baseline (
        vid INTEGER NOT NULL,
        rank INTEGER NOT NULL,
        id TEXT NOT NULL,
        score REAL NOT NULL,
        lat REAL NOT NULL,
        lon REAL NOT NULL,
        PRIMARY KEY (vid, rank)
    );
    "#,
    // 16: STIX objects imported that map to no Rastro record, every version kept by
    // (id, modified), with the originator and marking they came under.
    r#"
    CREATE TABLE stix_object (
        id TEXT NOT NULL,
        modified TEXT NOT NULL,
        type TEXT NOT NULL,
        originator TEXT NOT NULL,
        tlp INTEGER NOT NULL,
        rel TEXT,
        body TEXT NOT NULL,
        added_ms INTEGER NOT NULL,
        PRIMARY KEY (id, modified)
    );
    "#,
    // 17: TAXII 2.1 collections' contents (every version of an object, with the time it was
    // added, monotonic in `seq`, and whose it is), the status of each POST, and where a pull
    // from a peer's collection has got to.
    r#"
    CREATE TABLE taxii_entry (
        seq INTEGER PRIMARY KEY,
        collection TEXT NOT NULL,
        stix_id TEXT NOT NULL,
        type TEXT NOT NULL,
        version TEXT NOT NULL,
        version_ms INTEGER NOT NULL,
        added_ms INTEGER NOT NULL,
        originator TEXT,
        tlp INTEGER NOT NULL,
        rel TEXT,
        derived INTEGER NOT NULL,
        body TEXT NOT NULL,
        UNIQUE (collection, stix_id, version)
    );
    CREATE INDEX taxii_entry_added ON taxii_entry(collection, added_ms);
    CREATE TABLE taxii_status (
        id TEXT PRIMARY KEY,
        collection TEXT NOT NULL,
        org TEXT NOT NULL,
        requested_ms INTEGER NOT NULL,
        body TEXT NOT NULL
    );
    CREATE TABLE federation_cursor (
        url TEXT NOT NULL,
        collection TEXT NOT NULL,
        added_after TEXT,
        pulled INTEGER NOT NULL,
        updated_ms INTEGER NOT NULL,
        PRIMARY KEY (url, collection)
    );
    "#,
];

/// The migration that moves observations into blocks; its data step runs in Rust.
const OBS_BLOCKS: usize = 11;
/// The migration that namespaces keys by originator; it re-keys observations in Rust.
const NAMESPACED_KEYS: usize = 12;

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

pub(crate) fn migrate(conn: &mut Connection, name: &str) -> Result<()> {
    migrate_to(conn, name, SCHEMA_VERSION)
}

/// Applies the migrations up to `version` (tests build databases of older versions with it).
pub(crate) fn migrate_to(conn: &mut Connection, name: &str, version: i64) -> Result<()> {
    let found: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if found > SCHEMA_VERSION {
        return Err(StoreError::TooNew {
            path: name.to_string(),
            found,
            supported: SCHEMA_VERSION,
        });
    }
    for (i, sql) in MIGRATIONS
        .iter()
        .enumerate()
        .skip(found as usize)
        .take((version - found).max(0) as usize)
    {
        // IMMEDIATE, and the version read again under the lock: two processes opening a new
        // database at once (bus workers) then take turns, and the second skips what the first
        // applied instead of failing on a stale snapshot.
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let now: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if now > i as i64 {
            continue;
        }
        tx.execute_batch(sql)?;
        if i + 1 == OBS_BLOCKS {
            crate::obs::migrate_rows(&tx)?;
            tx.execute_batch("DROP TABLE observation;")?;
        }
        if i + 1 == NAMESPACED_KEYS {
            crate::obs::rekey_all(&tx)?;
        }
        tx.pragma_update(None, "user_version", i as i64 + 1)?;
        tx.commit()?;
    }
    Ok(())
}
