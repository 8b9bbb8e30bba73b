//! The pipeline: wires readers, the store and the analysis stages together, as the system
//! actor. It is one of the two crates that may hold a store (the other is `rastro-app`, which
//! owns the guard); front-ends reach it only through `rastro-app`.
//!
//! Ingest runs as three stages joined by bounded channels: a thread reads raw lines in runs of
//! `batch_rows`; one parser per core (at most `MAX_PARSERS`) validates, hashes and places them
//! on the H3 grid; the calling thread takes the runs back in file order and writes each to the
//! store in one transaction. Memory is bounded by a few runs per parser whatever the file size.
//!
//! Analysis runs per view (the records one audience may see), in the named steps of
//! [`analyze`].

pub mod analyze;
pub mod audit;
pub mod collection;
pub mod entities;
pub mod feedback;
pub mod ingest;
pub mod inputs;
pub mod leads;
pub mod policy;
pub mod settings;
pub mod views;

pub use analyze::{analyze, AnalyzeError, AnalyzeOptions, AnalyzeReport, ViewReport};
pub use ingest::{
    ingest_items, ingest_path, ingest_prepared_pg, ingest_stream, prepare_all, FileReport,
    IngestOptions, PipelineError, Progress,
};
pub use leads::{LeadsError, LeadsReport};
pub use policy::{load_policy, DEFAULT_HOST_NATION, HOST_NATION_SETTING};
pub use rastro_detect::Config as DetectConfig;
pub use settings::{AnalysisSettings, SettingsError};
pub use views::PlannedView;
