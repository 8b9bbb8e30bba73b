//! What each party may see of an operation.
//!
//! The owning organisation, the host nation's approvers and every host-nation organisation with
//! a participant see the whole operation (which leads and packages of it they may themselves see is the guard's
//! business). A foreign participant, or the partner whose request the operation answers, sees
//! the facets the law lists for partners, before or after execution. Anyone else does not see
//! it at all, exactly as if it did not exist. The answer depends only on the operation and
//! the person, never on other records.

use crate::law::{Facet, Law};
use crate::operation::{OpState, Operation};
use crate::Person;
use std::collections::BTreeSet;

/// How much of an operation a person sees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sight {
    /// Everything, including who decided what and why.
    Full,
    /// Only these facets (a partner's view).
    Partner(BTreeSet<Facet>),
}

/// Whether the operation has reached execution (the point where the partner view widens).
pub fn executed(op: &Operation) -> bool {
    matches!(op.state, OpState::Executed | OpState::Closed)
        || op.history.iter().any(|t| t.to == OpState::Executed)
}

/// What `who` sees of `op`; `None` for someone who may not know it exists. `requester_org`
/// is the organisation that made the request the operation answers, if any.
pub fn sight(
    op: &Operation,
    law: &Law,
    who: &Person,
    requester_org: Option<&str>,
) -> Option<Sight> {
    let participant = op
        .participants
        .iter()
        .any(|p| p.user == who.user || p.org == who.org);
    if law.is_host(&who.nation) {
        let approver = law.approver_roles.contains(&who.role);
        if who.org == op.owner_org || approver || participant {
            return Some(Sight::Full);
        }
        return None;
    }
    let partner = participant || requester_org == Some(who.org.as_str());
    if !partner {
        return None;
    }
    let facets = if executed(op) {
        law.partner_after.clone()
    } else {
        law.partner_before.clone()
    };
    if facets.is_empty() {
        return None;
    }
    Some(Sight::Partner(facets))
}
