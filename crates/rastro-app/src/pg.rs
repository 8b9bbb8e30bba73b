//! The PostgreSQL store as a front-end sees it: a system actor's ingest of bus batches, the
//! backend-neutral digest, and verification of its audit log. Reads for users stay on the
//! embedded store, behind the guard, until the rest of the schema moves.

use crate::AppError;
use rastro_pipeline::{FileReport, IngestOptions};
use rastro_store::{Actor, PgStore};

/// A connection to a Rastro schema in PostgreSQL, writing as `system:<name>`.
pub struct PgIngest {
    store: PgStore,
    actor: Actor,
}

impl PgIngest {
    pub fn connect(url: &str, schema: &str, actor: &str) -> Result<PgIngest, AppError> {
        Ok(PgIngest {
            store: PgStore::connect(url, schema)?,
            actor: Actor::new(format!("system:{actor}")),
        })
    }

    /// Writes a batch parsed and validated elsewhere; see [`rastro_pipeline::ingest_items_pg`].
    pub fn ingest_items(
        &mut self,
        source: &str,
        records: Vec<(u64, rastro_core::Record)>,
        quarantine: &[rastro_core::Quarantine],
        opts: &IngestOptions,
    ) -> Result<FileReport, AppError> {
        Ok(rastro_pipeline::ingest_items_pg(
            &mut self.store,
            &self.actor,
            source,
            records,
            quarantine,
            opts,
        )?)
    }

    /// The digest of the stored data that the SQLite store computes alike
    /// ([`crate::Node::keyed_digest`]).
    pub fn keyed_digest(&mut self) -> Result<String, AppError> {
        Ok(self.store.keyed_digest()?)
    }

    /// Recomputes the audit chain from the stored bytes.
    pub fn verify_audit(&mut self) -> Result<rastro_audit::VerifyReport, AppError> {
        let entries = self.store.audit_entries()?;
        Ok(rastro_audit::verify_log(&entries, &[], None, None))
    }

    /// Runs one statement as the writer role, returning PostgreSQL's refusal (audit-tamper
    /// tests only).
    #[doc(hidden)]
    pub fn try_execute(&mut self, sql: &str) -> Result<u64, String> {
        self.store.try_execute(sql)
    }
}
