//! The one enforcement point. Every read path (the CLI with `--as USER`, and the HTTP API,
//! exports and UI as they arrive) asks [`Guard`] for data; `Guard` asks [`Policy`] about
//! every item before it leaves, and a denied item is indistinguishable from a missing one.
//!
//! - [`rules`]: who may read what: pure functions over organisations, viewers and markings.
//! - [`token`]: API tokens: generated from the OS's randomness, stored as argon2id hashes.
//! - [`guard`]: the guarded reads over the store.

pub mod guard;
pub mod rules;
pub mod token;

pub use guard::{Guard, GuardError, ObservationQuery};
pub use rules::{Org, OrgKind, Policy, Role, Viewer};
