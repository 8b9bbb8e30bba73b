//! Who may read and do what, as pure functions. The enforcement point that applies these rules
//! to every read is `rastro-app`'s guard; this crate holds no store and does no I/O, so every
//! rule is tested with plain values.
//!
//! - [`rules`]: organisations, roles, viewers, and who may read a record.
//! - [`views`]: audiences, the marking classes each may see, and the key of that view.
//! - [`release`]: who may release a lead to whom (TLP:RED to named organisations only).
//! - [`token`]: API tokens: generated from the OS's randomness, stored as argon2id hashes,
//!   verified at the same cost whether or not the token id exists.

pub mod release;
pub mod rules;
pub mod token;
pub mod views;

pub use rules::{Org, OrgKind, Policy, Role, Viewer};
pub use views::{Audience, Class, ViewSpec};
