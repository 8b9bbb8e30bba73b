//! STIX 2.1 exchange for Rastro: deterministic ids ([`id`]), the official TLP 2.0 marking
//! definitions and Rastro's extension definitions ([`marking`]), the object with its common
//! properties typed ([`object`]), export of records, alerts and leads ([`export`]) and a
//! checked import of bundles from any tool ([`import`]). No well-kept Rust crate covers
//! STIX 2.1, so this is the subset Rastro speaks, written against the specification.

pub mod export;
pub mod id;
pub mod import;
pub mod marking;
pub mod object;

pub use export::{organisation_id, record_id, Entry, Exporter, Meta};
pub use id::StixId;
pub use import::{marking_of, parse_bundle, record_of, ImportError};
pub use object::Object;
