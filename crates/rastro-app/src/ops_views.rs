//! Versioned wire types of operations, partner requests and lead packages, separate from the
//! stored bodies (`rastro_ops` types behind their own codec). A partner's view of an operation
//! leaves out, as absent fields, every facet the law does not show it.

use rastro_ops::law::Facet;
use rastro_ops::sight::Sight;
use rastro_ops::{Operation, Request};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

fn t(ms: i64) -> String {
    rastro_core::format_time_ms(ms)
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SiteV1 {
    pub label: String,
    pub lat: f64,
    pub lon: f64,
    pub radius_m: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ParticipantV1 {
    pub user: String,
    pub org: String,
    pub nation: String,
    /// `command`, `ground`, `intelligence_support`, `advisory` or `legal_review`.
    pub role: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TaskV1 {
    pub name: String,
    pub mandatory: bool,
    /// The participant role that completes it.
    pub done_by_role: String,
    pub done_by: Option<String>,
    pub done_time: Option<String>,
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ApprovalV1 {
    pub user: String,
    pub org: String,
    pub time: String,
    pub reason: String,
}

/// One change of the operation. A partner sees only the state reached and when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TransitionV1 {
    pub time: String,
    pub to: String,
    pub action: Option<String>,
    pub from: Option<String>,
    pub actor: Option<String>,
    pub why: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SeizedV1 {
    pub cas: String,
    pub quantity: f64,
    pub unit: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct OutcomeV1 {
    /// `confirmed` or `not_found`.
    pub laboratory: String,
    pub seized: Vec<SeizedV1>,
    pub equipment: Vec<String>,
    pub arrests: u32,
    pub notes: String,
}

/// An operation as the caller may see it: `view` is `full` or `partner`; absent fields are
/// facets the caller is not shown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct OperationV1 {
    pub id: String,
    pub owner_org: String,
    /// `full` or `partner`.
    pub view: String,
    /// Present in the full view: what a command names to change it.
    pub version: Option<u64>,
    /// `draft`, `proposed`, `approved`, `executed`, `closed` or `cancelled`.
    pub state: Option<String>,
    pub objective: Option<String>,
    pub commander: Option<String>,
    pub sites: Option<Vec<SiteV1>>,
    pub start: Option<String>,
    pub end: Option<String>,
    pub participants: Option<Vec<ParticipantV1>>,
    pub tasks: Option<Vec<TaskV1>>,
    /// Linked leads and packages the caller may itself see.
    pub leads: Vec<String>,
    pub packages: Vec<String>,
    pub request: Option<String>,
    pub proposer: Option<String>,
    pub approvals: Option<Vec<ApprovalV1>>,
    pub approvals_required: Option<u32>,
    pub history: Vec<TransitionV1>,
    pub outcome: Option<OutcomeV1>,
}

impl OperationV1 {
    /// The caller's view of `op`; `leads` and `packages` are those of its links the caller
    /// may see.
    pub fn new(
        op: &Operation,
        sight: &Sight,
        approvals_required: u32,
        leads: Vec<String>,
        packages: Vec<String>,
    ) -> OperationV1 {
        let full = matches!(sight, Sight::Full);
        let has = |f: Facet| match sight {
            Sight::Full => true,
            Sight::Partner(s) => s.contains(&f),
        };
        let history = if full {
            op.history
                .iter()
                .map(|h| TransitionV1 {
                    time: t(h.t_ms),
                    to: h.to.as_str().into(),
                    action: Some(h.action.clone()),
                    from: Some(h.from.as_str().into()),
                    actor: Some(h.actor.clone()),
                    why: Some(h.why.clone()),
                })
                .collect()
        } else if has(Facet::State) {
            // State changes only: edits and tasks are the host's planning.
            op.history
                .iter()
                .filter(|h| h.from != h.to || h.action == "ops.create")
                .map(|h| TransitionV1 {
                    time: t(h.t_ms),
                    to: h.to.as_str().into(),
                    action: None,
                    from: None,
                    actor: None,
                    why: None,
                })
                .collect()
        } else {
            Vec::new()
        };
        OperationV1 {
            id: op.id.clone(),
            owner_org: op.owner_org.clone(),
            view: if full { "full" } else { "partner" }.into(),
            version: full.then_some(op.version),
            state: has(Facet::State).then(|| op.state.as_str().into()),
            objective: has(Facet::Objective).then(|| op.objective.clone()),
            commander: if has(Facet::Participants) {
                op.commander.clone()
            } else {
                None
            },
            sites: has(Facet::Site).then(|| {
                op.sites
                    .iter()
                    .map(|s| SiteV1 {
                        label: s.label.clone(),
                        lat: s.lat,
                        lon: s.lon,
                        radius_m: s.radius_m,
                    })
                    .collect()
            }),
            start: if has(Facet::Schedule) {
                op.schedule.map(|s| t(s.start_ms))
            } else {
                None
            },
            end: if has(Facet::Schedule) {
                op.schedule.map(|s| t(s.end_ms))
            } else {
                None
            },
            participants: has(Facet::Participants).then(|| {
                op.participants
                    .iter()
                    .map(|p| ParticipantV1 {
                        user: p.user.clone(),
                        org: p.org.clone(),
                        nation: p.nation.clone(),
                        role: p.role.as_str().into(),
                    })
                    .collect()
            }),
            tasks: has(Facet::Tasks).then(|| {
                op.tasks
                    .iter()
                    .map(|k| TaskV1 {
                        name: k.name.clone(),
                        mandatory: k.mandatory,
                        done_by_role: k.done_by_role.as_str().into(),
                        done_by: k.done_by.clone(),
                        done_time: k.done_ms.map(t),
                        note: k.note.clone(),
                    })
                    .collect()
            }),
            leads: if has(Facet::Leads) { leads } else { Vec::new() },
            packages: if has(Facet::Leads) {
                packages
            } else {
                Vec::new()
            },
            request: if full { op.request.clone() } else { None },
            proposer: if full { op.proposer.clone() } else { None },
            approvals: full.then(|| {
                op.approvals
                    .iter()
                    .map(|a| ApprovalV1 {
                        user: a.user.clone(),
                        org: a.org.clone(),
                        time: t(a.t_ms),
                        reason: a.reason.clone(),
                    })
                    .collect()
            }),
            approvals_required: full.then_some(approvals_required),
            history,
            outcome: if has(Facet::Outcome) {
                op.outcome.as_ref().map(|o| OutcomeV1 {
                    laboratory: o.laboratory.as_str().into(),
                    seized: o
                        .seized
                        .iter()
                        .map(|s| SeizedV1 {
                            cas: s.cas.clone(),
                            quantity: s.quantity,
                            unit: s.unit.clone(),
                        })
                        .collect(),
                    equipment: o.equipment.clone(),
                    arrests: o.arrests,
                    notes: o.notes.clone(),
                })
            } else {
                None
            },
        }
    }
}

/// A partner request as its requester and the host nation see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RequestV1 {
    pub id: String,
    pub version: u64,
    /// `operation`, `surveillance` or `information`.
    pub kind: String,
    /// What is asked: the lead, the subject or area, or the question, as JSON.
    #[schema(value_type = Object)]
    pub about: serde_json::Value,
    pub purpose: String,
    pub legal_basis: String,
    pub requester: String,
    pub org: String,
    pub created: String,
    pub start: String,
    pub end: String,
    pub expires: String,
    /// `pending`, `approved`, `refused` or `expired` (now).
    pub state: String,
    pub decided_by: Option<String>,
    pub decided_time: Option<String>,
    pub reason: Option<String>,
}

impl RequestV1 {
    pub fn new(r: &Request, now_ms: i64) -> RequestV1 {
        RequestV1 {
            id: r.id.clone(),
            version: r.version,
            kind: r.kind.as_str().into(),
            about: serde_json::to_value(&r.kind).unwrap_or_default(),
            purpose: r.purpose.clone(),
            legal_basis: r.legal_basis.clone(),
            requester: r.requester.clone(),
            org: r.org.clone(),
            created: t(r.created_ms),
            start: t(r.start_ms),
            end: t(r.end_ms),
            expires: t(r.expires_ms),
            state: r.state_at(now_ms).as_str().into(),
            decided_by: r.decided_by.clone(),
            decided_time: r.decided_ms.map(t),
            reason: r.reason.clone(),
        }
    }
}

/// The hit rate of an evidence kind among the leads operations acted on (Laplace-smoothed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct KindRateV1 {
    pub kind: String,
    pub hits: u32,
    pub trials: u32,
    pub rate: f64,
}

/// The collection verdict on one partner observation: the approved request it was collected
/// under, or the reason it is flagged (kept, not dropped).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CollectionV1 {
    pub originator: String,
    pub observation: String,
    pub subject: String,
    pub time: String,
    pub lat: f64,
    pub lon: f64,
    pub request: Option<String>,
    pub flag: Option<String>,
}

impl CollectionV1 {
    pub fn new(r: &rastro_store::CollectionRow) -> CollectionV1 {
        CollectionV1 {
            originator: r.originator.clone(),
            observation: r.obs_id.clone(),
            subject: r.subject.clone(),
            time: t(r.time_ms),
            lat: r.lat,
            lon: r.lon,
            request: r.request.clone(),
            flag: r.flag.clone(),
        }
    }
}
