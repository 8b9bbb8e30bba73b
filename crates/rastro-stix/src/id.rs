//! STIX identifiers: `<type>--<UUID>`, checked on the way in, and made deterministically on
//! the way out (UUIDv5 of what the object is), so that one record gives one STIX id on every
//! node and a re-export or re-import changes nothing.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Rastro's namespace for the UUIDv5 of objects it exports (a fixed random UUID).
pub const RASTRO_NAMESPACE: uuid::Uuid = uuid::uuid!("6f1c2a9e-3d54-4b7a-9c1e-58f0a2d4b7c3");
/// The namespace STIX 2.1 (section 2.9) fixes for deterministic ids of cyber-observables.
pub const SCO_NAMESPACE: uuid::Uuid = uuid::uuid!("00abedb4-aa42-466c-9c01-fed23315a9b7");

/// A STIX identifier whose type part is a valid STIX type name and whose UUID part parses.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct StixId(String);

/// A STIX type name: 3 to 250 characters of lowercase ASCII letters, digits and single
/// hyphens, starting with a letter and not ending with a hyphen (STIX 2.1 section 3.1).
pub fn valid_type(t: &str) -> bool {
    let b = t.as_bytes();
    (3..=250).contains(&b.len())
        && b[0].is_ascii_lowercase()
        && b[b.len() - 1] != b'-'
        && !t.contains("--")
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
}

impl StixId {
    /// Parses `<type>--<uuid>`; the message says what is wrong.
    pub fn parse(s: &str) -> Result<StixId, String> {
        let shown: String = s.chars().take(80).collect();
        let (t, u) = s
            .split_once("--")
            .ok_or_else(|| format!("{shown:?} is not a STIX id (<type>--<uuid>)"))?;
        if !valid_type(t) {
            return Err(format!("{shown:?} has an invalid type part {t:?}"));
        }
        if u.len() != 36 || uuid::Uuid::parse_str(u).is_err() {
            return Err(format!("{shown:?} has an invalid UUID part"));
        }
        Ok(StixId(s.to_ascii_lowercase()))
    }

    /// The deterministic id of the `type` object for `name` (UUIDv5 under `namespace`).
    pub fn derive(ty: &str, namespace: &uuid::Uuid, name: &str) -> StixId {
        debug_assert!(valid_type(ty), "{ty}");
        StixId(format!(
            "{ty}--{}",
            uuid::Uuid::new_v5(namespace, name.as_bytes())
        ))
    }

    /// The type part.
    pub fn ty(&self) -> &str {
        self.0.split_once("--").map(|(t, _)| t).unwrap_or("")
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for StixId {
    type Error = String;
    fn try_from(s: String) -> Result<StixId, String> {
        StixId::parse(&s)
    }
}

impl From<StixId> for String {
    fn from(id: StixId) -> String {
        id.0
    }
}

impl fmt::Display for StixId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
