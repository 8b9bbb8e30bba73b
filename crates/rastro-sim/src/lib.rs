//! Rastro's national scenario simulator.
//!
//! It writes exactly what a real deployment would ingest (the exchange formats of
//! `docs/formats.md`) plus, under `truth/`, what really happened: which consignments were
//! diverted and how, where the clandestine labs were, which party records are one entity,
//! which seizures came from which lab and batch. Analytics never see `truth/` (ingest refuses
//! it; no analysis crate depends on this one). Same seed and configuration, same bytes.

pub mod config;
pub mod names;
mod scenario;
mod world;
mod writer;

pub use config::{Config, Difficulty, Scale, DEFAULT_CONFIG};
pub use world::{run, SimError, Summary, PARTNER_REQUEST_DAYS, PARTNER_REQUEST_PREFIX};
