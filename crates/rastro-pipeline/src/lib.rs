//! The pipeline: wires readers, the store and the analysis stages together.
//!
//! Ingest runs as two stages joined by a bounded channel: a reader thread parses, validates,
//! hashes and places records in H3 cells; the calling thread writes batches to the store, one
//! transaction per batch. Memory is bounded by `batch_rows * CHANNEL_BATCHES` records whatever
//! the file size.

pub mod analyze;
pub mod audit;
pub mod ingest;
pub mod leads;

pub use analyze::{analyze, AnalyzeOptions, AnalyzeReport};
pub use ingest::{ingest_path, ingest_stream, FileReport, IngestOptions, PipelineError, Progress};
pub use leads::{compute_leads, LeadsError, LeadsReport};
pub use rastro_detect::Config as DetectConfig;
