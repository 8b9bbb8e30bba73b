//! The pipeline: wires readers, the store and the analysis stages together.
//!
//! Ingest runs as three stages joined by bounded channels: a thread reads raw lines in runs of
//! `batch_rows`; one parser per core (at most `MAX_PARSERS`) validates, hashes and places them
//! on the H3 grid; the calling thread takes the runs back in file order and writes each to the
//! store in one transaction. Memory is bounded by a few runs per parser whatever the file size.

pub mod analyze;
pub mod audit;
pub mod ingest;
pub mod leads;

pub use analyze::{analyze, AnalyzeOptions, AnalyzeReport};
pub use ingest::{ingest_path, ingest_stream, FileReport, IngestOptions, PipelineError, Progress};
pub use leads::{compute_leads, LeadsError, LeadsReport};
pub use rastro_detect::Config as DetectConfig;
