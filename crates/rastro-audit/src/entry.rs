//! Audit entries: who did what to which records, when, from where and why. The exact bytes of
//! an entry (its canonical JSON) are the Merkle leaf; each entry names the leaf hash of the one
//! before it, so removing, inserting or reordering entries breaks the chain where it happens.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// Position in the log, from 0; equal to the leaf index.
    pub seq: u64,
    /// RFC 3339 UTC time of the action.
    pub time: String,
    /// Who: a user, or `local:<os user>` for the command line before users exist.
    pub actor: String,
    /// What: `ingest`, `analyze`, `read`, `export`, `release`, `share`, `login`, `decision`...
    pub action: String,
    /// Which records (ids), when the action is about named records.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub records: Vec<String>,
    /// Where from: a host, a file, a node.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// Why, when a purpose was given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purpose: Option<String>,
    /// Action-specific facts (counts, the hash of the records an ingest batch added...).
    #[serde(default, skip_serializing_if = "serde_json::Value::is_null")]
    pub detail: serde_json::Value,
    /// Hex leaf hash of the previous entry ("" for the first).
    pub prev: String,
}

impl Entry {
    /// The canonical bytes of the entry: the Merkle leaf data. Field order is fixed by the
    /// struct, and serde_json writes object keys of `detail` in the order they were built.
    pub fn to_bytes(&self) -> Vec<u8> {
        // Serialising this struct of strings, numbers and JSON values cannot fail.
        serde_json::to_vec(self).unwrap_or_default()
    }

    pub fn from_bytes(b: &[u8]) -> Result<Entry, serde_json::Error> {
        serde_json::from_slice(b)
    }
}
