//! Operations and partner requests as a viewer makes and sees them.
//!
//! Every change goes through `rastro_ops` (the law and the state machine) with the acting
//! user resolved from the store, and is written with its audit entry in one transaction; a
//! write made on an older version is refused as a conflict. What a viewer reads of an
//! operation is what `rastro_ops::sight` allows, and its links (leads, packages) are those the
//! viewer may itself see; an operation or request the viewer may not see answers exactly like
//! a missing one.

use crate::guard::Guard;
use crate::ops_views::*;
use crate::AppError;
use rastro_core::{Kind, LeadStatus};
use rastro_ops::law::Law;
use rastro_ops::operation::{self, Command, Edit, OpError, OpRole, OpState, Operation};
use rastro_ops::request::{self, Request, RequestError, RequestKind};
use rastro_ops::sight::{sight, Sight};
use rastro_ops::{Outcome, Person, Schedule, Site};
use rastro_store::{AuditEvent, DocKind, DocRow};

/// The setting that holds the law file's text; unset means the embedded default.
pub const LAW_SETTING: &str = "ops.law";

/// A change to an operation, naming people by user name (the guard resolves them).
#[derive(Debug, Clone, PartialEq)]
pub enum OpsCommand {
    Edit {
        objective: Option<String>,
        commander: Option<String>,
        sites: Option<Vec<Site>>,
        schedule: Option<Schedule>,
        add_leads: Vec<String>,
        add_packages: Vec<String>,
        why: String,
    },
    Join {
        user: String,
        role: OpRole,
    },
    Leave {
        user: String,
    },
    AddTask {
        name: String,
    },
    Task {
        name: String,
        note: String,
    },
    Propose {
        why: String,
    },
    Withdraw {
        why: String,
    },
    Approve {
        reason: String,
    },
    Execute {
        why: String,
    },
    Close {
        outcome: Outcome,
        why: String,
    },
    Cancel {
        why: String,
    },
}

fn encode<T: serde::Serialize>(body: &T) -> String {
    rastro_ops::codec::encode(body)
}

fn decode<T: serde::de::DeserializeOwned>(kind: DocKind, row: &DocRow) -> Result<T, AppError> {
    rastro_ops::codec::decode(&row.body)
        .map_err(|e| rastro_store::Store::doc_error(kind, &row.id, e).into())
}

impl From<OpError> for AppError {
    fn from(e: OpError) -> AppError {
        match e {
            OpError::Refused(r) => AppError::Forbidden(r.to_string()),
            OpError::Invalid(m) => AppError::Invalid(m),
            c @ OpError::Conflict { .. } => AppError::Conflict(c.to_string()),
        }
    }
}

impl From<RequestError> for AppError {
    fn from(e: RequestError) -> AppError {
        match e {
            RequestError::Refused(m) if m.starts_with("conflict") => AppError::Conflict(m),
            RequestError::Refused(m) => AppError::Forbidden(m),
            RequestError::Invalid(m) => AppError::Invalid(m),
        }
    }
}

/// The law in force and its text: the stored file, or the embedded default. The one place
/// that reads it, for the guard and the operator alike.
pub(crate) fn stored_law(store: &rastro_store::Store) -> Result<(Law, String), AppError> {
    match store.setting(LAW_SETTING)? {
        Some(text) => Ok((
            Law::parse("stored law (setting ops.law)", &text)
                .map_err(|e| AppError::Invalid(e.to_string()))?,
            text,
        )),
        None => Ok((Law::default_law(), rastro_ops::law::DEFAULT_LAW.to_string())),
    }
}

impl Guard<'_> {
    /// The law in force, refused if it is not for this node's host nation.
    pub fn law(&mut self) -> Result<Law, AppError> {
        let (law, _) = stored_law(self.store())?;
        if law.host_nation != self.policy().host_nation {
            return Err(AppError::Invalid(format!(
                "the law in force is for host nation {} but this node's host nation is {}; the operator puts the right one in force with `rastro law set FILE`",
                law.host_nation,
                self.policy().host_nation
            )));
        }
        Ok(law)
    }

    /// The caller as the rules see them; the operator is not a person and does not act.
    fn me_person(&self) -> Result<Person, AppError> {
        let v = self.viewer().ok_or_else(|| {
            AppError::Invalid(
                "operations and requests are acted on by named users: give --as USER".into(),
            )
        })?;
        let kind = self
            .policy()
            .org(&v.org)
            .map(|o| o.kind)
            .unwrap_or(rastro_policy::OrgKind::Other);
        Ok(Person {
            user: v.user.clone(),
            org: v.org.clone(),
            nation: v.nation.clone(),
            org_kind: kind,
            role: v.role,
        })
    }

    /// A registered, unrevoked user as the rules see them.
    fn person_named(&mut self, user: &str) -> Result<Person, AppError> {
        let u = self
            .store()
            .user(user)?
            .filter(|u| !u.revoked)
            .ok_or_else(|| AppError::Invalid(format!("no active user named {user:?}")))?;
        let role = rastro_policy::Role::parse(&u.role)
            .ok_or_else(|| AppError::Invalid(format!("user {user} has an unknown role")))?;
        let org =
            self.policy().org(&u.org).cloned().ok_or_else(|| {
                AppError::Invalid(format!("user {user}'s organisation is unknown"))
            })?;
        Ok(Person {
            user: u.name,
            org: org.code,
            nation: org.nation,
            org_kind: org.kind,
            role,
        })
    }

    fn load_op(&mut self, id: &str) -> Result<Option<Operation>, AppError> {
        match self.store().doc(DocKind::Operation, id)? {
            Some(row) => Ok(Some(decode(DocKind::Operation, &row)?)),
            None => Ok(None),
        }
    }

    fn load_request(&mut self, id: &str) -> Result<Option<Request>, AppError> {
        match self.store().doc(DocKind::Request, id)? {
            Some(row) => Ok(Some(decode(DocKind::Request, &row)?)),
            None => Ok(None),
        }
    }

    /// The organisation of the request an operation answers.
    fn requester_of(&mut self, op: &Operation) -> Result<Option<(String, String)>, AppError> {
        match &op.request {
            Some(r) => Ok(self.load_request(r)?.map(|r| (r.org, r.nation))),
            None => Ok(None),
        }
    }

    /// What the caller sees of `op`: everything for the operator.
    fn sight_of(&mut self, op: &Operation, law: &Law) -> Result<Option<Sight>, AppError> {
        if self.viewer().is_none() {
            return Ok(Some(Sight::Full));
        }
        let me = self.me_person()?;
        let req = self.requester_of(op)?;
        Ok(sight(op, law, &me, req.as_ref().map(|(o, _)| o.as_str())))
    }

    /// Evidence kinds of one of the caller's leads, or `None` when the caller cannot see it.
    fn visible_lead_kinds(&mut self, id: &str) -> Result<Option<Vec<String>>, AppError> {
        let Some(vid) = self.vid() else {
            return Ok(None);
        };
        Ok(self
            .store()
            .lead(vid, id)?
            .map(|l| rastro_ops::evidence_kinds(&l)))
    }

    fn sees_package(&mut self, id: &str) -> Result<bool, AppError> {
        let org = self.org();
        Ok(self
            .store()
            .doc(DocKind::Package, id)?
            .is_some_and(|p| self.viewer().is_none() || p.org == org))
    }

    fn op_view(&mut self, op: &Operation, law: &Law) -> Result<Option<OperationV1>, AppError> {
        let Some(s) = self.sight_of(op, law)? else {
            return Ok(None);
        };
        let mut leads = Vec::new();
        for l in &op.leads {
            if self.visible_lead_kinds(l)?.is_some() {
                leads.push(l.clone());
            }
        }
        let mut packages = Vec::new();
        for p in &op.packages {
            if self.sees_package(p)? {
                packages.push(p.clone());
            }
        }
        Ok(Some(OperationV1::new(
            op,
            &s,
            law.approvers_required,
            leads,
            packages,
        )))
    }

    /// Operations the caller may see, by id.
    pub fn operations(&mut self) -> Result<Vec<OperationV1>, AppError> {
        let law = self.law()?;
        let rows = self.store().docs(DocKind::Operation)?;
        let mut out = Vec::new();
        for row in rows {
            let op: Operation = decode(DocKind::Operation, &row)?;
            if let Some(v) = self.op_view(&op, &law)? {
                out.push(v);
            }
        }
        self.log_read(
            "operations",
            out.iter().map(|o| format!("op:{}", o.id)).collect(),
        )?;
        Ok(out)
    }

    /// One operation, if the caller may see it.
    pub fn operation(&mut self, id: &str) -> Result<Option<OperationV1>, AppError> {
        let law = self.law()?;
        let Some(op) = self.load_op(id)? else {
            return Ok(None);
        };
        let v = self.op_view(&op, &law)?;
        if v.is_some() {
            self.log_read("operation", vec![format!("op:{id}")])?;
        }
        Ok(v)
    }

    fn write_op(
        &mut self,
        prev: Option<&Operation>,
        op: &Operation,
        action: &str,
        t_ms: i64,
    ) -> Result<(), AppError> {
        // Executing and closing set the status of the operation's leads for its owner, in
        // the same transaction as the change.
        let statuses = match prev {
            Some(p)
                if p.state != op.state
                    && matches!(op.state, OpState::Executed | OpState::Closed) =>
            {
                self.lead_statuses(op, t_ms)?
            }
            _ => Vec::new(),
        };
        let row = DocRow {
            id: op.id.clone(),
            org: op.owner_org.clone(),
            version: op.version as i64,
            body: encode(op),
            t_ms,
        };
        let mut ev = AuditEvent::new(action);
        ev.records = std::iter::once(format!("op:{}", op.id))
            .chain(op.leads.iter().cloned())
            .collect();
        let last = op.history.last();
        ev.detail = serde_json::json!({
            "from": last.map(|t| t.from.as_str()),
            "to": op.state.as_str(),
            "version": op.version,
            "why": last.map(|t| t.why.as_str()),
        });
        let actor = self.actor().clone();
        let ok = self.store().put_doc(
            &actor,
            DocKind::Operation,
            prev.map(|p| p.version as i64),
            &row,
            ev,
            &statuses,
        )?;
        if !ok {
            return Err(AppError::Conflict(match prev {
                None => format!("an operation with id {} already exists; choose another id", op.id),
                Some(p) => format!(
                    "operation {} moved past version {} while this change was made; read it again and retry",
                    op.id, p.version
                ),
            }));
        }
        Ok(())
    }

    /// Creates a draft owned by the caller's organisation, linking leads the caller can see
    /// and, optionally, the approved partner request it answers.
    pub fn create_operation(
        &mut self,
        id: &str,
        objective: &str,
        leads: &[String],
        request: Option<&str>,
        t_ms: i64,
    ) -> Result<OperationV1, AppError> {
        let law = self.law()?;
        let me = self.me_person()?;
        let op = operation::create(&law, &me, id, objective, t_ms)?;
        let mut kinds = Vec::new();
        for l in leads {
            match self.visible_lead_kinds(l)? {
                Some(k) => kinds.extend(k),
                None => return Err(AppError::Invalid(format!("no lead {l:?} in your view"))),
            }
        }
        if let Some(r) = request {
            let req = self
                .load_request(r)?
                .filter(|q| self.may_see_request(q))
                .ok_or_else(|| AppError::Invalid(format!("no request {r:?}")))?;
            if req.state_at(t_ms) != request::RequestState::Approved
                || !matches!(req.kind, RequestKind::Operation { .. })
            {
                return Err(AppError::Forbidden(format!(
                    "request {r} is {} ({}); an operation answers an approved operation request",
                    req.state_at(t_ms).as_str(),
                    req.kind.as_str()
                )));
            }
        }
        let op = if leads.is_empty() && request.is_none() {
            op
        } else {
            operation::apply(
                &op,
                &law,
                &me,
                op.version,
                Command::Edit(Edit {
                    add_leads: leads.to_vec(),
                    add_kinds: kinds,
                    request: request.map(str::to_string),
                    why: "linked at creation".into(),
                    ..Default::default()
                }),
                t_ms,
            )?
        };
        self.write_op(None, &op, "ops.create", t_ms)?;
        self.op_view(&op, &law)?.ok_or_else(|| {
            AppError::Invalid("the new operation is not visible to its creator".into())
        })
    }

    /// Applies one change made on `version` (`None`: the current one, for a console user who
    /// acts on what they see now). `None` for an operation the caller cannot see.
    pub fn act_on_operation(
        &mut self,
        id: &str,
        version: Option<u64>,
        cmd: OpsCommand,
        t_ms: i64,
    ) -> Result<Option<OperationV1>, AppError> {
        let law = self.law()?;
        let me = self.me_person()?;
        let Some(op) = self.load_op(id)? else {
            return Ok(None);
        };
        if self.sight_of(&op, &law)?.is_none() {
            return Ok(None);
        }
        let cmd = match cmd {
            OpsCommand::Edit {
                objective,
                commander,
                sites,
                schedule,
                add_leads,
                add_packages,
                why,
            } => {
                let commander = match commander {
                    Some(c) => Some(self.person_named(&c)?),
                    None => None,
                };
                let mut kinds = Vec::new();
                for l in &add_leads {
                    match self.visible_lead_kinds(l)? {
                        Some(k) => kinds.extend(k),
                        None => {
                            return Err(AppError::Invalid(format!("no lead {l:?} in your view")))
                        }
                    }
                }
                for p in &add_packages {
                    if !self.sees_package(p)? {
                        return Err(AppError::Invalid(format!("no package {p:?}")));
                    }
                }
                Command::Edit(Edit {
                    objective,
                    commander,
                    sites,
                    schedule,
                    add_leads,
                    add_kinds: kinds,
                    add_packages,
                    request: None,
                    why,
                })
            }
            OpsCommand::Join { user, role } => Command::AddParticipant {
                person: self.person_named(&user)?,
                role,
            },
            OpsCommand::Leave { user } => Command::RemoveParticipant { user },
            OpsCommand::AddTask { name } => Command::AddTask { name },
            OpsCommand::Task { name, note } => Command::CompleteTask { name, note },
            OpsCommand::Propose { why } => Command::Propose { why },
            OpsCommand::Withdraw { why } => Command::Withdraw { why },
            OpsCommand::Approve { reason } => Command::Approve { reason },
            OpsCommand::Execute { why } => Command::Execute { why },
            OpsCommand::Close { outcome, why } => Command::Close { outcome, why },
            OpsCommand::Cancel { why } => Command::Cancel { why },
        };
        let action = cmd.action();
        let next = operation::apply(&op, &law, &me, version.unwrap_or(op.version), cmd, t_ms)?;
        self.write_op(Some(&op), &next, action, t_ms)?;
        self.op_view(&next, &law)
    }

    /// The outcome sets the status of the leads behind the operation, for the owning
    /// organisation (whose view the commander reads).
    fn lead_statuses(
        &mut self,
        op: &Operation,
        t_ms: i64,
    ) -> Result<Vec<rastro_store::LeadStatusChange>, AppError> {
        let Some(vid) = self.vid() else {
            return Ok(Vec::new());
        };
        let (status, note) = match (&op.state, &op.outcome) {
            (OpState::Closed, Some(o)) => (
                LeadStatus::Closed,
                format!(
                    "operation {}: laboratory {}",
                    op.id,
                    o.laboratory.as_str().replace('_', " ")
                ),
            ),
            _ => (
                LeadStatus::Actioned,
                format!("operation {} executed", op.id),
            ),
        };
        let mut out = Vec::new();
        for id in &op.leads {
            if let Some(l) = self.store().lead(vid, id)? {
                out.push(rastro_store::LeadStatusChange {
                    org: op.owner_org.clone(),
                    id: id.clone(),
                    cells: l.cells,
                    status,
                    note: Some(note.clone()),
                    t_ms,
                });
            }
        }
        Ok(out)
    }

    /// Hit rates per evidence kind over the closed operations the caller's organisation owns
    /// (all of them for the operator). Only the owner's: the kinds were read from the
    /// owner's view, and another organisation may not see the records behind them.
    pub fn hit_rates(&mut self) -> Result<Vec<KindRateV1>, AppError> {
        // The same trials and rule as the scoring's calibration (`rastro_pipeline::feedback`).
        let audience = match self.viewer() {
            None => rastro_policy::Audience::Operator,
            Some(v) => rastro_policy::Audience::Org(v.org.clone()),
        };
        let trials = rastro_pipeline::feedback::trials(self.store())?;
        let (rates, _) = rastro_pipeline::feedback::rates_for(&[audience], &trials);
        Ok(rates
            .into_iter()
            .map(|r| KindRateV1 {
                kind: r.kind,
                hits: r.hits,
                trials: r.trials,
                rate: r.rate,
            })
            .collect())
    }

    fn may_see_request(&self, r: &Request) -> bool {
        match self.viewer() {
            None => true,
            Some(v) => {
                v.org == r.org
                    || (v.nation == self.policy().host_nation
                        && matches!(
                            v.role,
                            rastro_policy::Role::Commander | rastro_policy::Role::Analyst
                        ))
            }
        }
    }

    /// Requests the caller may see: its organisation's own; all of them for host-nation
    /// commanders and analysts.
    pub fn requests(&mut self, now_ms: i64) -> Result<Vec<RequestV1>, AppError> {
        let rows = self.store().docs(DocKind::Request)?;
        let mut out = Vec::new();
        for row in rows {
            let r: Request = decode(DocKind::Request, &row)?;
            if self.may_see_request(&r) {
                out.push(RequestV1::new(&r, now_ms));
            }
        }
        self.log_read(
            "requests",
            out.iter().map(|r| format!("request:{}", r.id)).collect(),
        )?;
        Ok(out)
    }

    /// One request, if the caller may see it.
    pub fn request(&mut self, id: &str, now_ms: i64) -> Result<Option<RequestV1>, AppError> {
        let r = self.load_request(id)?.filter(|r| self.may_see_request(r));
        if r.is_some() {
            self.log_read("request", vec![format!("request:{id}")])?;
        }
        Ok(r.map(|r| RequestV1::new(&r, now_ms)))
    }

    fn write_request(
        &mut self,
        prev: Option<&Request>,
        r: &Request,
        action: &str,
        t_ms: i64,
    ) -> Result<(), AppError> {
        let row = DocRow {
            id: r.id.clone(),
            org: r.org.clone(),
            version: r.version as i64,
            body: encode(r),
            t_ms,
        };
        let mut ev = AuditEvent::new(action);
        ev.records = vec![format!("request:{}", r.id)];
        ev.purpose = Some(r.purpose.clone());
        ev.detail = serde_json::json!({
            "kind": r.kind.as_str(), "state": r.state.as_str(), "org": r.org,
            "legal_basis": r.legal_basis, "reason": r.reason, "expires": rastro_core::format_time_ms(r.expires_ms),
        });
        let actor = self.actor().clone();
        if !self.store().put_doc(
            &actor,
            DocKind::Request,
            prev.map(|p| p.version as i64),
            &row,
            ev,
            &[],
        )? {
            return Err(AppError::Conflict(match prev {
                None => format!(
                    "a request with id {} already exists; choose another id",
                    r.id
                ),
                Some(_) => format!(
                    "request {} changed while this decision was made; read it again",
                    r.id
                ),
            }));
        }
        Ok(())
    }

    /// A partner's request to the host nation.
    #[allow(clippy::too_many_arguments)]
    pub fn create_request(
        &mut self,
        id: &str,
        kind: RequestKind,
        purpose: &str,
        legal_basis: &str,
        period: (i64, i64),
        expires_ms: i64,
        now_ms: i64,
    ) -> Result<RequestV1, AppError> {
        let law = self.law()?;
        let me = self.me_person()?;
        if let RequestKind::Operation { lead } = &kind {
            if self.visible_lead_kinds(lead)?.is_none() {
                return Err(AppError::Invalid(format!("no lead {lead:?} in your view")));
            }
        }
        if let RequestKind::Surveillance {
            of: rastro_ops::Target::Consignment { id: c },
        } = &kind
        {
            if self.record(Kind::Consignment, c)?.is_none() {
                return Err(AppError::Invalid(format!("no consignment {c:?}")));
            }
        }
        let r = request::create(
            &law,
            &me,
            id,
            kind,
            purpose,
            legal_basis,
            period,
            expires_ms,
            now_ms,
        )?;
        self.write_request(None, &r, "request.create", now_ms)?;
        Ok(RequestV1::new(&r, now_ms))
    }

    /// The host nation's decision on a request, made on `version`. `None` when the caller
    /// cannot see it.
    pub fn decide_request(
        &mut self,
        id: &str,
        version: u64,
        approve: bool,
        reason: &str,
        now_ms: i64,
    ) -> Result<Option<RequestV1>, AppError> {
        let law = self.law()?;
        let me = self.me_person()?;
        let Some(r) = self.load_request(id)?.filter(|r| self.may_see_request(r)) else {
            return Ok(None);
        };
        let next = request::decide(&r, &law, &me, version, approve, reason, now_ms)?;
        let action = if approve {
            "request.approve"
        } else {
            "request.refuse"
        };
        self.write_request(Some(&r), &next, action, now_ms)?;
        Ok(Some(RequestV1::new(&next, now_ms)))
    }

    /// Collection verdicts on partner observations the caller may see, oldest first: the
    /// request each was collected under, or why it is flagged.
    pub fn collection(
        &mut self,
        flagged_only: bool,
        limit: u32,
    ) -> Result<Vec<CollectionV1>, AppError> {
        let (policy, viewer) = (self.policy().clone(), self.viewer().cloned());
        let out: Vec<CollectionV1> = self
            .store()
            .collection(flagged_only, limit, |r| {
                may_see_collection(&policy, viewer.as_ref(), r)
            })?
            .iter()
            .map(CollectionV1::new)
            .collect();
        self.log_read(
            "collection",
            out.iter()
                .map(|c| format!("observation:{}/{}", c.originator, c.observation))
                .collect(),
        )?;
        Ok(out)
    }
}

/// Whether a viewer (`None`: the operator) may see the collection verdict on a partner's
/// observation: it may read the observation, and it is of the contributing organisation or a
/// host-nation commander or analyst (who decide requests; a verdict tells of the
/// contributor's requests, which no one else may see).
fn may_see_collection(
    policy: &rastro_policy::Policy,
    viewer: Option<&rastro_policy::Viewer>,
    row: &rastro_store::CollectionRow,
) -> bool {
    match viewer {
        None => true,
        Some(v) => {
            policy.may_read(v, &row.originator, &row.marking)
                && (v.org == row.originator
                    || (v.nation == policy.host_nation
                        && matches!(
                            v.role,
                            rastro_policy::Role::Commander | rastro_policy::Role::Analyst
                        )))
        }
    }
}
