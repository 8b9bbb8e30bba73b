//! The durable ingest bus: validated batches on NATS JetStream, applied by any number of
//! workers.
//!
//! A publisher parses and validates a file exactly as `rastro ingest` does, then publishes
//! its records in bounded batches ([`Envelope`]) to one subject per record kind and
//! partition, `rastro.ingest.<kind>.p<NN>`. Each partition has one durable work-queue
//! consumer; a worker owns a fixed share of the partitions, so one consignment's (or one
//! vehicle's) records always go to one worker. A batch is acknowledged only after the store
//! has committed it, so a worker killed mid-batch loses nothing: the batch is redelivered and,
//! because every record is keyed, applying it again finds only duplicates.
//!
//! Rejected lines travel on the bus too (as quarantine entries with the file and line), so a
//! bad line is quarantined by the worker, never dropped.

pub mod envelope;
pub mod partition;
pub mod publish;
pub mod transport;
pub mod worker;

pub use envelope::{Envelope, ENVELOPE_VERSION, MAX_ENVELOPE_BYTES, MAX_ENVELOPE_RECORDS};
pub use partition::{partition_key, partition_of, PARTITIONS};
pub use publish::{publish_file, PublishOptions, PublishReport};
pub use transport::{Bus, BusConfig, STREAM};
pub use worker::{run_worker, Applied, Delivery, Sink, WorkerOptions, WorkerReport, WorkerShare};

/// What can go wrong on the bus.
#[derive(Debug, thiserror::Error)]
pub enum BusError {
    #[error("cannot connect to the bus at {url}: {err}; is nats-server (2.10 or later, with -js) running there?")]
    Connect { url: String, err: String },
    #[error("the bus refused {what}: {err}")]
    JetStream { what: String, err: String },
    #[error("publishing to {subject} failed after {attempts} attempts: {err}; the batch was not acknowledged, so publishing the file again is safe")]
    Publish {
        subject: String,
        attempts: u32,
        err: String,
    },
    #[error("cannot read {path}: {err}; check the path and permissions")]
    Io { path: String, err: std::io::Error },
    #[error("{0}")]
    Apply(String),
    #[error("bad worker share {0:?}: write I/N with 0 <= I < N <= {PARTITIONS}, e.g. 0/2")]
    Share(String),
}
