//! Operations under host-nation command, as pure functions with no I/O.
//!
//! Intelligence becomes action only through host-nation units. This crate states the rules
//! that make the lawful path the only one: the host nation's law as a policy file ([`law`]),
//! the operation state machine with its four-eyes approval ([`operation`]), partner requests
//! ([`request`]), what each party may see of an operation ([`sight`]) and what outcomes teach
//! the lead scoring ([`feedback`]). Every refusal quotes the rule of the law file it applies.
//! Nothing here plans force: an operation is a record of human, lawful decisions.

pub mod feedback;
pub mod law;
pub mod operation;
pub mod request;
pub mod sight;

pub use law::{Facet, Law, LawError, Rule, TaskRule};
pub use operation::{
    Approval, Command, Edit, LabFinding, OpError, OpRole, OpState, Operation, Outcome, Participant,
    Refusal, Schedule, Seized, Site, Task, Transition,
};
pub use request::{Request, RequestKind, RequestState, Target};

use rastro_policy::{OrgKind, Role};
use serde::{Deserialize, Serialize};

/// A person as the rules see them: who they are, for whom they work and what they may do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    pub user: String,
    pub org: String,
    /// ISO 3166 alpha-2 of the organisation.
    pub nation: String,
    pub org_kind: OrgKind,
    pub role: Role,
}

/// Free text (objectives, reasons, notes) is at most this many bytes.
pub const MAX_TEXT_BYTES: usize = 2000;
/// Bounds on the parts of one operation, so a stored body stays small.
pub const MAX_SITES: usize = 16;
pub const MAX_PARTICIPANTS: usize = 64;
pub const MAX_TASKS: usize = 64;
pub const MAX_LINKS: usize = 64;
pub const MAX_HISTORY: usize = 512;

/// Refuses empty or oversized free text, naming the field.
pub(crate) fn check_text(field: &str, s: &str, required: bool) -> Result<(), String> {
    if required && s.trim().is_empty() {
        return Err(format!("{field} is required"));
    }
    if s.len() > MAX_TEXT_BYTES {
        return Err(format!(
            "{field} is {} bytes; at most {MAX_TEXT_BYTES}",
            s.len()
        ));
    }
    Ok(())
}

/// The stored form of operations and requests: the body behind a codec number, so a body
/// written by another version is refused on read rather than misread.
pub mod codec {
    use serde::{de::DeserializeOwned, Deserialize, Serialize};

    /// The codec this build writes and reads.
    pub const CODEC: u32 = 1;

    #[derive(Serialize, Deserialize)]
    struct Stored<T> {
        codec: u32,
        body: T,
    }

    pub fn encode<T: Serialize>(body: &T) -> String {
        serde_json::to_string(&Stored { codec: CODEC, body }).unwrap_or_default()
    }

    pub fn decode<T: DeserializeOwned>(text: &str) -> Result<T, String> {
        let s: Stored<T> = serde_json::from_str(text).map_err(|e| e.to_string())?;
        if s.codec != CODEC {
            return Err(format!("codec {} is not {CODEC}; upgrade rastro", s.codec));
        }
        Ok(s.body)
    }
}

/// The evidence kinds of a lead as outcomes are counted: an alert by its typology
/// (`alert:route_deviation`), other evidence by its kind (`tip`).
pub fn evidence_kinds(lead: &rastro_core::Lead) -> Vec<String> {
    let mut k: Vec<String> = lead
        .evidence
        .iter()
        .map(|c| match c.evidence.kind {
            rastro_core::EvidenceKind::Alert => format!("alert:{}", c.evidence.detail),
            other => other.as_str().to_string(),
        })
        .collect();
    k.sort();
    k.dedup();
    k
}
