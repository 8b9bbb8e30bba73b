//! Rastro's embedded store: one SQLite file in WAL mode with versioned migrations.
//!
//! This is the only crate that contains SQL. Writes are keyed: a record whose `(kind, id)` is
//! already stored with the same content is a duplicate and changes nothing; with different
//! content it is a conflict and goes to the quarantine, never over the stored record. That is
//! what makes ingest idempotent and a killed run resumable by simply running it again.
//!
//! Keys are `(kind, originator, id)`: the same id from two originators names two records, so
//! a submitter can never learn from a collision that another agency holds a record.
//!
//! Every write takes the [`Actor`] it is done for, explicitly; there is no ambient "current
//! user". Derived data (alerts, states, leads, the learned normal) is stored per view: a view
//! is one set of marking classes, the inputs one audience may see (see `views.rs`).
//!
//! Who may call this crate is decided by the dependency graph: only `rastro-pipeline` (the
//! system actor) and `rastro-app` (which owns the guard) depend on it, and the tidy test keeps
//! it so. The public API speaks domain types only, so a PostgreSQL backend can implement the
//! same surface later without the analytics noticing.

mod access;
mod analysis;
mod audit;
mod collection;
mod leads;
mod obs;
mod ops;
mod pg;
mod query;
mod records;
mod schema;
mod stix;
mod taxii;
mod views;

pub use audit::{AuditEvent, AuditFilter, AuditRow, MAX_RECORDS_PER_ENTRY};

pub use access::{MarkingCount, OrgRow, QuotaUse, UserRow};
pub use analysis::{AlertFilter, AlertScope, Triage};
pub use collection::{CollectionRow, MAX_COLLECTION_ROWS};
pub use leads::{LeadDecision, LeadStatusChange, ReleaseRow};
pub use obs::{key_of, BLOCK_ROWS, CELL_RESOLUTION, MIN_QUERY_RESOLUTION};
pub use ops::{DocKind, DocRow};
pub use pg::{PgStore, PG_SCHEMA_VERSION, PG_WRITER_ROLE};
pub use records::{
    ClassRow, GpsPoint, QuarantineFilter, QuarantineRow, StoredObs, StoredRecord, Submitter,
    TrackObs,
};
pub use stix::{StixRow, MAX_STIX_ROWS};
pub use taxii::{stamp_ms, EntryQuery, EntryRow, NewEntry, VersionSel, MAX_ENTRY_PAGE};
pub use views::ViewRow;

use rastro_core::{Marking, Record};
use rusqlite::Connection;
use serde::Serialize;
use std::path::Path;

pub use schema::SCHEMA_VERSION;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("PostgreSQL error: {}", pg_message(.0))]
    Postgres(#[from] postgres::Error),
    #[error("{0}")]
    Invalid(String),
    #[error("database {path} has schema version {found}, newer than this rastro ({supported}); upgrade rastro")]
    TooNew {
        path: String,
        found: i64,
        supported: i64,
    },
    #[error("cannot create the database file {path}: {err}")]
    Io { path: String, err: String },
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

pub struct Store {
    conn: Connection,
    /// Marking classes already known to exist, so a batch looks each up once.
    classes: std::collections::HashMap<(String, u8, String), i64>,
}

/// Who a write is done for: a user's name, a system actor (`system:analysis`), or the
/// operator at the console (`local:<os user>`). Passed to every write; it is what the audit
/// log records.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Actor(String);

impl Actor {
    /// At most 200 bytes, control characters replaced: an actor is text in the audit log.
    pub fn new(name: impl Into<String>) -> Actor {
        let mut s: String = name
            .into()
            .chars()
            .map(|c| if c.is_control() { '?' } else { c })
            .collect();
        while s.len() > 200 {
            s.pop();
        }
        Actor(s)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Actor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

pub(crate) fn rel_text(m: &Marking) -> Option<String> {
    (!m.releasable_to.is_empty()).then(|| m.releasable_text())
}

/// Creates the database file readable only by its owner (0600) before SQLite opens it;
/// SQLite gives the write-ahead log and shared-memory files the mode of the database.
fn create_private(path: &Path) -> std::io::Result<()> {
    if path.exists() {
        return Ok(());
    }
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    match o.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

impl Store {
    /// Opens (creating if needed, mode 0600) the database at `path` and brings its schema up
    /// to date.
    pub fn open(path: &Path) -> Result<Store> {
        create_private(path).map_err(|e| StoreError::Io {
            path: path.display().to_string(),
            err: e.to_string(),
        })?;
        // Two processes opening a new file at once (bus workers started together) can find it
        // locked while the other switches it to WAL, a step SQLite does not wait on; a bounded
        // retry (at most ~10 s) makes the second wait its turn.
        let mut attempt = 0u32;
        loop {
            let conn = Connection::open(path)?;
            match Self::init(conn, &path.display().to_string()) {
                Err(StoreError::Sqlite(rusqlite::Error::SqliteFailure(e, _)))
                    if e.code == rusqlite::ErrorCode::DatabaseBusy && attempt < 100 =>
                {
                    attempt += 1;
                    std::thread::sleep(std::time::Duration::from_millis(
                        10 + 2 * u64::from(attempt),
                    ));
                }
                r => return r,
            }
        }
    }

    /// A second connection to the same database file, for reading beside this one (WAL
    /// readers see the last commit and never block the writer). `None` for a database with
    /// no file.
    pub fn reader(&self) -> Result<Option<Store>> {
        match self.conn.path().filter(|p| !p.is_empty()) {
            Some(p) => {
                let conn = Connection::open(p)?;
                conn.pragma_update(None, "cache_size", -32768)?;
                conn.busy_timeout(std::time::Duration::from_secs(30))?;
                Ok(Some(Store {
                    conn,
                    classes: Default::default(),
                }))
            }
            None => Ok(None),
        }
    }

    /// The tables of the current schema, by name (the tidy test checks ARCHITECTURE.md
    /// describes each).
    pub fn table_names(&self) -> Result<Vec<String>> {
        let mut st = self
            .conn
            .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")?;
        let names = st
            .query_map([], |r| r.get::<_, String>(0))?
            .collect::<std::result::Result<Vec<_>, _>>()?;
        Ok(names)
    }

    /// Creates (or migrates) the database at `path` only up to schema `version` and closes
    /// it: how the migration tests build a database an older build wrote.
    #[doc(hidden)]
    pub fn create_at_version(path: &Path, version: i64) -> Result<()> {
        let mut conn = Connection::open(path)?;
        conn.pragma_update(None, "page_size", 16384)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        schema::migrate_to(&mut conn, &path.display().to_string(), version)
    }

    pub fn open_in_memory() -> Result<Store> {
        Self::init(Connection::open_in_memory()?, ":memory:")
    }

    fn init(conn: Connection, name: &str) -> Result<Store> {
        // First, so that a second process opening the file (another bus worker, the server)
        // waits for the lock instead of failing on the pragmas below.
        conn.busy_timeout(std::time::Duration::from_secs(30))?;
        // 16 KiB pages make index maintenance during bulk ingest about 30% cheaper than the
        // default 4 KiB (fewer, shallower pages). It only takes effect on a new database, and
        // must precede the switch to WAL.
        conn.pragma_update(None, "page_size", 16384)?;
        // WAL lets readers (the server, `rastro stats`) run beside a long ingest; NORMAL sync
        // is durable across process crashes, which is what resumable ingest and the audit
        // log's fail-closed reads need.
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        // 96 MiB of page cache keeps index inserts fast while bounding memory.
        conn.pragma_update(None, "cache_size", -98304)?;
        // Checkpoint the WAL every ~1 GiB of 16 KiB pages instead of every 4 MiB: each
        // checkpoint copies pages back and fsyncs, and doing that often dominated bulk
        // ingest. Servers lower it (`set_wal_autocheckpoint`).
        conn.pragma_update(None, "wal_autocheckpoint", 65536)?;
        conn.pragma_update(None, "temp_store", "MEMORY")?;
        let mut store = Store {
            conn,
            classes: std::collections::HashMap::new(),
        };
        schema::migrate(&mut store.conn, name)?;
        Ok(store)
    }

    /// Checkpoints the WAL whenever it exceeds `pages` pages. Bulk ingest wants a large
    /// value (fewer, longer checkpoints); a server wants a small one, so that no request
    /// waits behind a checkpoint of a gigabyte.
    pub fn set_wal_autocheckpoint(&mut self, pages: u32) -> Result<()> {
        self.conn.pragma_update(None, "wal_autocheckpoint", pages)?;
        Ok(())
    }

    /// Copies what it can of the write-ahead log into the database file without waiting for
    /// readers or blocking writers (`PRAGMA wal_checkpoint(PASSIVE)`): what a server's
    /// background checkpointer runs, so no request waits behind a checkpoint.
    pub fn checkpoint_passive(&mut self) -> Result<()> {
        self.conn
            .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))?;
        Ok(())
    }

    /// Folds the write-ahead log back into the database file and truncates it; called at the
    /// end of a bulk ingest so readers do not pay for a long WAL.
    pub fn checkpoint(&mut self) -> Result<()> {
        self.conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        Ok(())
    }
}

/// PostgreSQL's own message (with its detail) rather than the driver's "db error".
fn pg_message(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(d) => match d.detail() {
            Some(detail) => format!("{} ({detail})", d.message()),
            None => d.message().to_string(),
        },
        None => e.to_string(),
    }
}
