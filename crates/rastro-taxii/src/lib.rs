//! TAXII 2.1 for Rastro: the resources as serde types ([`types`]), media-type negotiation
//! ([`media`]), and a blocking client for any TAXII 2.1 server ([`client`]). No well-kept Rust
//! crate covers TAXII 2.1, so this is the subset Rastro serves and pulls, written against the
//! OASIS specification (TAXII 2.1, sections 3–5).

pub mod client;
pub mod media;
pub mod types;

pub use client::{Auth, Client, ClientError, Page, PullError, Pulled};
pub use media::{accepts_taxii, is_taxii, STIX, TAXII};
pub use types::*;
