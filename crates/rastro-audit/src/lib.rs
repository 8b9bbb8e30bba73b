//! The tamper-evident audit log (BRIEF section 8, C10).
//!
//! Every write, restricted read, export, share and decision becomes an [`Entry`]. Entries are
//! hash-chained (each names the leaf hash of the one before) and are the leaves of an RFC 9162
//! Merkle tree ([`merkle`]); Ed25519 signed tree heads ([`sth`]) commit to the tree at a size, so
//! a partner holding an earlier head can check that the log only grew. [`verify`] recomputes
//! everything from the stored bytes and names the first bad entry.
//!
//! This crate does no I/O: the store keeps the bytes, the pipeline keeps the key file.

pub mod entry;
pub mod merkle;
pub mod sth;
pub mod verify;

pub use entry::Entry;
pub use merkle::{leaf_hash, node_hash, verify_consistency, verify_inclusion, Hash, Tree};
pub use sth::{SignedTreeHead, Signer};
pub use verify::{verify_log, StoredEntry, VerifyReport};
