//! Quarantine entries: records that could not be accepted, kept with where they came from
//! and why, so bad input is never silently dropped.

use crate::record::Kind;
use serde::{Deserialize, Serialize};

/// A record that could not be accepted, with its source, line, field and reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Quarantine {
    pub source: String,
    pub line: u64,
    pub kind: Option<Kind>,
    pub field: Option<String>,
    pub reason: String,
    /// The start of the offending line, lossily decoded.
    pub raw: String,
}

impl std::fmt::Display for Quarantine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.source, self.line)?;
        if let Some(field) = &self.field {
            write!(f, ": field {field}")?;
        }
        write!(f, ": {}", self.reason)
    }
}
