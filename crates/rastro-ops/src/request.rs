//! Partner requests: what a foreign agency may ask of the host nation (an operation on a lead,
//! surveillance of a consignment, vehicle or area, information), decided by the host nation
//! with a reason, bounded in time, and the only basis on which a partner's collection over
//! national territory is accepted without a flag.

use crate::law::Law;
use crate::{check_text, Person};
use serde::{Deserialize, Serialize};

/// What surveillance is asked of.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "target", rename_all = "snake_case")]
pub enum Target {
    Consignment {
        id: String,
    },
    Vehicle {
        id: String,
    },
    /// A WGS84 box.
    Area {
        min_lat: f64,
        min_lon: f64,
        max_lat: f64,
        max_lon: f64,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RequestKind {
    Operation { lead: String },
    Surveillance { of: Target },
    Information { question: String },
}

impl RequestKind {
    pub fn as_str(&self) -> &'static str {
        match self {
            RequestKind::Operation { .. } => "operation",
            RequestKind::Surveillance { .. } => "surveillance",
            RequestKind::Information { .. } => "information",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestState {
    Pending,
    Approved,
    Refused,
    /// Computed, never stored: a pending or approved request past its expiry.
    Expired,
}

impl RequestState {
    pub fn as_str(self) -> &'static str {
        match self {
            RequestState::Pending => "pending",
            RequestState::Approved => "approved",
            RequestState::Refused => "refused",
            RequestState::Expired => "expired",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Request {
    pub id: String,
    pub version: u64,
    pub kind: RequestKind,
    pub purpose: String,
    pub legal_basis: String,
    pub requester: String,
    pub org: String,
    pub nation: String,
    pub created_ms: i64,
    /// The period the request covers (collection or the operation's window).
    pub start_ms: i64,
    pub end_ms: i64,
    pub expires_ms: i64,
    /// As decided: pending, approved or refused (expiry is computed by [`Request::state_at`]).
    pub state: RequestState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decided_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decided_ms: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Why a request could not be made or decided (the rule quoted where the law says so).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    #[error("refused: {0}")]
    Refused(String),
    #[error("invalid: {0}")]
    Invalid(String),
}

impl Request {
    /// The state at `now_ms`, with expiry applied.
    pub fn state_at(&self, now_ms: i64) -> RequestState {
        match self.state {
            RequestState::Pending | RequestState::Approved if now_ms >= self.expires_ms => {
                RequestState::Expired
            }
            s => s,
        }
    }

    /// Whether this request, approved and unexpired at `t_ms`, covers a collection at
    /// (`lat`, `lon`, `t_ms`): a surveillance of an area containing the point, within the
    /// request's period.
    /// Why this request does not cover a sighting by `org` of `subject` at a point and time,
    /// or `None` when it does: the request is `org`'s, a surveillance request approved before
    /// the sighting and not expired at it, the sighting falls in its window, and its target
    /// is the area around the point or the subject itself.
    pub fn why_not_covering(
        &self,
        org: &str,
        subject: &str,
        lat: f64,
        lon: f64,
        t_ms: i64,
    ) -> Option<String> {
        let when = rastro_core::format_time_ms(t_ms);
        if self.org != org {
            return Some(format!(
                "request {} is {}'s, not {org}'s",
                self.id, self.org
            ));
        }
        let RequestKind::Surveillance { of } = &self.kind else {
            return Some(format!(
                "request {} asks for {}, not for surveillance",
                self.id,
                self.kind.as_str()
            ));
        };
        match (self.state_at(t_ms), self.decided_ms) {
            (RequestState::Approved, Some(d)) if d <= t_ms => {}
            (RequestState::Approved, _) => {
                return Some(format!(
                    "request {} was approved after the sighting at {when}",
                    self.id
                ))
            }
            (s, _) => {
                return Some(format!(
                    "request {} was {} at {when}",
                    self.id,
                    match s {
                        RequestState::Pending => "not yet decided",
                        RequestState::Refused => "refused",
                        _ => "expired",
                    }
                ))
            }
        }
        if t_ms < self.start_ms || t_ms > self.end_ms {
            return Some(format!(
                "the sighting at {when} is outside request {}'s window {} to {}",
                self.id,
                rastro_core::format_time_ms(self.start_ms),
                rastro_core::format_time_ms(self.end_ms)
            ));
        }
        match of {
            Target::Area {
                min_lat,
                min_lon,
                max_lat,
                max_lon,
            } => (!((*min_lat..=*max_lat).contains(&lat) && (*min_lon..=*max_lon).contains(&lon)))
                .then(|| {
                    format!(
                        "the sighting at {lat:.4},{lon:.4} is outside request {}'s area",
                        self.id
                    )
                }),
            Target::Consignment { id } | Target::Vehicle { id } => (id != subject).then(|| {
                format!(
                    "request {} is for {id}, not for the sighting's subject {subject}",
                    self.id
                )
            }),
        }
    }
}

fn ident_ok(s: &str) -> bool {
    !s.is_empty() && s.len() <= 200 && !s.chars().any(char::is_control)
}

/// Makes a request on behalf of a partner. A host-nation unit acts directly and does not ask.
#[allow(clippy::too_many_arguments)]
pub fn create(
    law: &Law,
    who: &Person,
    id: &str,
    kind: RequestKind,
    purpose: &str,
    legal_basis: &str,
    (start_ms, end_ms): (i64, i64),
    expires_ms: i64,
    now_ms: i64,
) -> Result<Request, RequestError> {
    let inv = |m: String| RequestError::Invalid(m);
    if !ident_ok(id) {
        return Err(inv(format!(
            "request id {id:?} must be 1-200 printable characters"
        )));
    }
    if law.is_host(&who.nation) {
        return Err(RequestError::Refused(format!(
            "{} is of the host nation {}; requests are how partners ask, host-nation units act directly [rule {}]",
            who.user,
            law.host_nation,
            law.rule("territory.host_nation")
        )));
    }
    check_text("purpose", purpose, true).map_err(inv)?;
    check_text("legal basis", legal_basis, true).map_err(inv)?;
    match &kind {
        RequestKind::Operation { lead } if !ident_ok(lead) => {
            return Err(inv("the lead id is empty or malformed".into()))
        }
        RequestKind::Information { question } => {
            check_text("question", question, true).map_err(inv)?
        }
        RequestKind::Surveillance {
            of:
                Target::Area {
                    min_lat,
                    min_lon,
                    max_lat,
                    max_lon,
                },
        } => {
            let ok = (-90.0..=90.0).contains(min_lat)
                && (-90.0..=90.0).contains(max_lat)
                && (-180.0..=180.0).contains(min_lon)
                && (-180.0..=180.0).contains(max_lon)
                && min_lat < max_lat
                && min_lon < max_lon;
            if !ok {
                return Err(inv(format!(
                    "area {min_lat},{min_lon},{max_lat},{max_lon} is not a WGS84 box min_lat,min_lon,max_lat,max_lon with min < max"
                )));
            }
        }
        RequestKind::Surveillance {
            of: Target::Consignment { id } | Target::Vehicle { id },
        } if !ident_ok(id) => return Err(inv("the subject id is empty or malformed".into())),
        _ => {}
    }
    if end_ms <= start_ms {
        return Err(inv(format!(
            "the period ends ({}) before it starts ({}); give the start first",
            rastro_core::format_time_ms(end_ms),
            rastro_core::format_time_ms(start_ms)
        )));
    }
    let max_ms = now_ms + i64::from(law.request_max_validity_days) * 86_400_000;
    if expires_ms <= now_ms || expires_ms > max_ms {
        return Err(RequestError::Refused(format!(
            "the request must expire after now and at most {} days from now [rule {}]",
            law.request_max_validity_days,
            law.rule("requests.max_validity_days")
        )));
    }
    Ok(Request {
        id: id.to_string(),
        version: 1,
        kind,
        purpose: purpose.to_string(),
        legal_basis: legal_basis.to_string(),
        requester: who.user.clone(),
        org: who.org.clone(),
        nation: who.nation.clone(),
        created_ms: now_ms,
        start_ms,
        end_ms,
        expires_ms,
        state: RequestState::Pending,
        decided_by: None,
        decided_ms: None,
        reason: None,
    })
}

/// Approves or refuses a pending, unexpired request, with a reason: host-nation deciders only.
pub fn decide(
    req: &Request,
    law: &Law,
    who: &Person,
    expected_version: u64,
    approve: bool,
    reason: &str,
    now_ms: i64,
) -> Result<Request, RequestError> {
    if expected_version != req.version {
        return Err(RequestError::Refused(format!(
            "conflict: the decision was made on version {expected_version} but request {} is at version {}; read it again",
            req.id, req.version
        )));
    }
    check_text("reason", reason, true).map_err(RequestError::Invalid)?;
    if !law.is_host(&who.nation) || !law.request_decider_roles.contains(&who.role) {
        return Err(RequestError::Refused(format!(
            "{} ({} of {}) may not decide requests: host-nation deciders only [rule {}]",
            who.user,
            who.role.as_str(),
            who.nation,
            law.rule("requests.decider_roles")
        )));
    }
    match req.state_at(now_ms) {
        RequestState::Pending => {}
        RequestState::Expired => {
            return Err(RequestError::Refused(format!(
                "request {} expired at {}; the partner must ask again",
                req.id,
                rastro_core::format_time_ms(req.expires_ms)
            )))
        }
        s => {
            return Err(RequestError::Refused(format!(
                "request {} is already {}",
                req.id,
                s.as_str()
            )))
        }
    }
    let mut next = req.clone();
    next.version += 1;
    next.state = if approve {
        RequestState::Approved
    } else {
        RequestState::Refused
    };
    next.decided_by = Some(who.user.clone());
    next.decided_ms = Some(now_ms);
    next.reason = Some(reason.to_string());
    Ok(next)
}
