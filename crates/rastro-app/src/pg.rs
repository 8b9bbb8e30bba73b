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
    url: String,
}

/// Most reconnection attempts after the server goes away, about 60 s in all.
const RECONNECT_ATTEMPTS: u32 = 60;

impl PgIngest {
    pub fn connect(url: &str, schema: &str, actor: &str) -> Result<PgIngest, AppError> {
        Ok(PgIngest {
            store: PgStore::connect(url, schema)?,
            actor: Actor::new(format!("system:{actor}")),
            url: url.to_string(),
        })
    }

    /// Writes a batch parsed and validated elsewhere; see [`rastro_pipeline::ingest_prepared_pg`].
    /// When the connection breaks (a server restart), reconnects with backoff and writes the
    /// batch again: whatever of it committed before the break is found as duplicates.
    pub fn ingest_items(
        &mut self,
        source: &str,
        records: Vec<(u64, rastro_core::Record)>,
        quarantine: &[rastro_core::Quarantine],
        opts: &IngestOptions,
    ) -> Result<FileReport, AppError> {
        let prepared = rastro_pipeline::prepare_all(records);
        let mut attempt = 0u32;
        loop {
            let r = rastro_pipeline::ingest_prepared_pg(
                &mut self.store,
                &self.actor,
                source,
                &prepared,
                quarantine,
                opts,
            );
            match r {
                Ok(report) => return Ok(report),
                Err(e) if self.store.is_closed() && attempt < RECONNECT_ATTEMPTS => {
                    attempt += 1;
                    tracing::warn!(err = %e, attempt, "PostgreSQL connection lost; reconnecting");
                    self.reconnect(&mut attempt)?;
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    fn reconnect(&mut self, attempt: &mut u32) -> Result<(), AppError> {
        loop {
            std::thread::sleep(std::time::Duration::from_millis(
                250 + 50 * u64::from(*attempt),
            ));
            match PgStore::connect(&self.url, self.store.schema()) {
                Ok(s) => {
                    self.store = s;
                    return Ok(());
                }
                Err(e) if *attempt < RECONNECT_ATTEMPTS => {
                    *attempt += 1;
                    tracing::warn!(err = %e, attempt = *attempt, "PostgreSQL not back yet");
                }
                Err(e) => return Err(e.into()),
            }
        }
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
}
