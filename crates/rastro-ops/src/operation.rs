//! An operation and its state machine: draft → proposed → approved → executed → closed, or
//! cancelled, with four-eyes approval and tasks that block approval or closure.
//!
//! [`apply`] is the only way an operation changes. It takes the operation as last read (its
//! `version`), the law, the person acting and one [`Command`], and returns the next operation
//! or a refusal that quotes the rule it applies; the input is never modified, so a refusal
//! leaves the state unchanged. A command made on an older version is refused as a conflict,
//! never merged.

use crate::law::{Law, Rule, Stage};
use crate::{check_text, Person, MAX_HISTORY, MAX_LINKS, MAX_PARTICIPANTS, MAX_SITES, MAX_TASKS};
use serde::{Deserialize, Serialize};
use std::fmt;

/// A participant's role in one operation (distinct from a user's role in Rastro).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OpRole {
    Command,
    Ground,
    IntelligenceSupport,
    Advisory,
    LegalReview,
}

impl OpRole {
    pub const ALL: [OpRole; 5] = [
        OpRole::Command,
        OpRole::Ground,
        OpRole::IntelligenceSupport,
        OpRole::Advisory,
        OpRole::LegalReview,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OpRole::Command => "command",
            OpRole::Ground => "ground",
            OpRole::IntelligenceSupport => "intelligence_support",
            OpRole::Advisory => "advisory",
            OpRole::LegalReview => "legal_review",
        }
    }

    pub fn parse(s: &str) -> Option<OpRole> {
        let t = s.trim().to_ascii_lowercase().replace(['-', ' '], "_");
        OpRole::ALL.into_iter().find(|r| r.as_str() == t)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OpState {
    Draft,
    Proposed,
    Approved,
    Executed,
    Closed,
    Cancelled,
}

impl OpState {
    pub const ALL: [OpState; 6] = [
        OpState::Draft,
        OpState::Proposed,
        OpState::Approved,
        OpState::Executed,
        OpState::Closed,
        OpState::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OpState::Draft => "draft",
            OpState::Proposed => "proposed",
            OpState::Approved => "approved",
            OpState::Executed => "executed",
            OpState::Closed => "closed",
            OpState::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<OpState> {
        OpState::ALL.into_iter().find(|x| x.as_str() == s.trim())
    }

    pub fn is_terminal(self) -> bool {
        matches!(self, OpState::Closed | OpState::Cancelled)
    }
}

/// A place the operation concerns: a label, a WGS84 point and a radius.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Site {
    pub label: String,
    pub lat: f64,
    pub lon: f64,
    pub radius_m: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Schedule {
    pub start_ms: i64,
    pub end_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Participant {
    pub user: String,
    pub org: String,
    pub nation: String,
    pub role: OpRole,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Task {
    pub name: String,
    pub mandatory: bool,
    pub done_by_role: OpRole,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub done_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub done_ms: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Approval {
    pub user: String,
    pub org: String,
    pub t_ms: i64,
    pub reason: String,
}

/// One recorded change: who, when, why, and the state before and after.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transition {
    pub action: String,
    pub from: OpState,
    pub to: OpState,
    pub actor: String,
    pub t_ms: i64,
    pub why: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LabFinding {
    Confirmed,
    NotFound,
}

impl LabFinding {
    pub fn as_str(self) -> &'static str {
        match self {
            LabFinding::Confirmed => "confirmed",
            LabFinding::NotFound => "not_found",
        }
    }

    pub fn parse(s: &str) -> Option<LabFinding> {
        match s.trim().replace(['-', ' '], "_").as_str() {
            "confirmed" => Some(LabFinding::Confirmed),
            "not_found" => Some(LabFinding::NotFound),
            _ => None,
        }
    }
}

/// A chemical seized: its CAS number, as validated by `rastro_core::Cas`, and the quantity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Seized {
    pub cas: String,
    pub quantity: f64,
    pub unit: String,
}

/// What the operation found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    pub laboratory: LabFinding,
    #[serde(default)]
    pub seized: Vec<Seized>,
    #[serde(default)]
    pub equipment: Vec<String>,
    #[serde(default)]
    pub arrests: u32,
    #[serde(default)]
    pub notes: String,
}

/// An operation, as stored (behind a versioned codec in the store) and as the state machine
/// sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Operation {
    pub id: String,
    /// Incremented by every accepted command; a command names the version it was made on.
    pub version: u64,
    pub objective: String,
    pub owner_org: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commander: Option<String>,
    pub participants: Vec<Participant>,
    pub sites: Vec<Site>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule: Option<Schedule>,
    pub leads: Vec<String>,
    /// Evidence kinds of the linked leads when they were linked (what outcomes teach).
    #[serde(default)]
    pub evidence_kinds: Vec<String>,
    pub packages: Vec<String>,
    /// The partner request this operation answers, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<String>,
    pub tasks: Vec<Task>,
    pub state: OpState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proposer: Option<String>,
    pub approvals: Vec<Approval>,
    pub history: Vec<Transition>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<Outcome>,
    pub created_by: String,
    pub created_ms: i64,
}

/// Why a command was refused: what was wrong and, where the law says so, the rule quoted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub message: String,
    pub rule: Option<Rule>,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.rule {
            Some(r) if r.line > 0 => write!(f, "{} [rule {r}]", self.message),
            Some(r) => write!(f, "{} [rule {}: {}]", self.message, r.key, r.text),
            None => f.write_str(&self.message),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OpError {
    #[error("refused: {0}")]
    Refused(Refusal),
    /// The command was made on an older version: read the operation again and retry.
    #[error("conflict: the command was made on version {expected} but the operation is at version {current}; read it again and retry")]
    Conflict { expected: u64, current: u64 },
    /// The command itself is malformed (empty reason, bad coordinates, ...).
    #[error("invalid: {0}")]
    Invalid(String),
}

fn refuse<T>(message: impl Into<String>, rule: Option<Rule>) -> Result<T, OpError> {
    Err(OpError::Refused(Refusal {
        message: message.into(),
        rule,
    }))
}

fn invalid<T>(message: impl Into<String>) -> Result<T, OpError> {
    Err(OpError::Invalid(message.into()))
}

/// Changes to a draft's plan; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Edit {
    pub objective: Option<String>,
    /// The commander, resolved to a person by the caller.
    pub commander: Option<Person>,
    pub sites: Option<Vec<Site>>,
    pub schedule: Option<Schedule>,
    pub add_leads: Vec<String>,
    /// Evidence kinds of the added leads, as the caller read them.
    pub add_kinds: Vec<String>,
    pub add_packages: Vec<String>,
    /// The partner request this operation answers.
    pub request: Option<String>,
    pub why: String,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    Edit(Edit),
    AddParticipant { person: Person, role: OpRole },
    RemoveParticipant { user: String },
    AddTask { name: String },
    CompleteTask { name: String, note: String },
    Propose { why: String },
    Withdraw { why: String },
    Approve { reason: String },
    Execute { why: String },
    Close { outcome: Outcome, why: String },
    Cancel { why: String },
}

impl Command {
    /// The audit action of this command.
    pub fn action(&self) -> &'static str {
        match self {
            Command::Edit(_) => "ops.edit",
            Command::AddParticipant { .. } => "ops.participant.add",
            Command::RemoveParticipant { .. } => "ops.participant.remove",
            Command::AddTask { .. } => "ops.task.add",
            Command::CompleteTask { .. } => "ops.task.done",
            Command::Propose { .. } => "ops.propose",
            Command::Withdraw { .. } => "ops.withdraw",
            Command::Approve { .. } => "ops.approve",
            Command::Execute { .. } => "ops.execute",
            Command::Close { .. } => "ops.close",
            Command::Cancel { .. } => "ops.cancel",
        }
    }
}

fn id_ok(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Whether `p` may plan for an owning organisation under `law` (host nation, an owner kind,
/// a planner role).
fn check_planner(law: &Law, p: &Person) -> Result<(), OpError> {
    if !law.is_host(&p.nation) {
        return refuse(
            format!(
                "{} is of {}; only organisations of the host nation {} plan operations on its territory",
                p.user, p.nation, law.host_nation
            ),
            Some(law.rule("territory.host_nation")),
        );
    }
    if !law.owner_kinds.contains(&p.org_kind) {
        return refuse(
            format!(
                "{} ({}) is a {} organisation, which may not own operations",
                p.org,
                p.user,
                p.org_kind.as_str()
            ),
            Some(law.rule("command.owner_kinds")),
        );
    }
    if !law.planner_roles.contains(&p.role) {
        return refuse(
            format!(
                "{} has the role {}, which may not plan operations",
                p.user,
                p.role.as_str()
            ),
            Some(law.rule("command.planner_roles")),
        );
    }
    Ok(())
}

/// Creates a draft owned by the creator's organisation.
pub fn create(
    law: &Law,
    creator: &Person,
    id: &str,
    objective: &str,
    t_ms: i64,
) -> Result<Operation, OpError> {
    if !id_ok(id) {
        return invalid(format!(
            "operation id {id:?} must be 1-64 letters, digits, '-' or '_'"
        ));
    }
    check_text("objective", objective, true).or_else(invalid)?;
    check_planner(law, creator)?;
    let tasks = law
        .tasks
        .iter()
        .filter(|(_, t)| t.mandatory)
        .map(|(name, t)| Task {
            name: name.clone(),
            mandatory: true,
            done_by_role: t.done_by,
            done_by: None,
            done_ms: None,
            note: None,
        })
        .collect();
    Ok(Operation {
        id: id.to_string(),
        version: 1,
        objective: objective.to_string(),
        owner_org: creator.org.clone(),
        commander: None,
        participants: Vec::new(),
        sites: Vec::new(),
        schedule: None,
        leads: Vec::new(),
        evidence_kinds: Vec::new(),
        packages: Vec::new(),
        request: None,
        tasks,
        state: OpState::Draft,
        proposer: None,
        approvals: Vec::new(),
        history: vec![Transition {
            action: "ops.create".into(),
            from: OpState::Draft,
            to: OpState::Draft,
            actor: creator.user.clone(),
            t_ms,
            why: objective.to_string(),
        }],
        outcome: None,
        created_by: creator.user.clone(),
        created_ms: t_ms,
    })
}

fn check_site(s: &Site) -> Result<(), OpError> {
    check_text("site label", &s.label, true).or_else(invalid)?;
    if !(-90.0..=90.0).contains(&s.lat) || !(-180.0..=180.0).contains(&s.lon) {
        return invalid(format!(
            "site {:?}: ({}, {}) is not a WGS84 position",
            s.label, s.lat, s.lon
        ));
    }
    if !(s.radius_m.is_finite() && s.radius_m > 0.0 && s.radius_m <= 50_000.0) {
        return invalid(format!(
            "site {:?}: radius_m {} must be above 0 and at most 50000",
            s.label, s.radius_m
        ));
    }
    Ok(())
}

/// Whether a role may be held by `p` under `law`: foreign personnel only in the roles the law
/// allows, command only by a host-nation commander of the owning organisation.
fn check_role(law: &Law, op: &Operation, p: &Person, role: OpRole) -> Result<(), OpError> {
    if !law.is_host(&p.nation) && !law.foreign_roles.contains(&role) {
        return refuse(
            format!(
                "{} is of {} (foreign personnel) and may not take the {} role",
                p.user,
                p.nation,
                role.as_str()
            ),
            Some(law.rule("foreign.allowed_roles")),
        );
    }
    if role == OpRole::Command {
        check_commander(law, op, p)?;
    }
    Ok(())
}

fn check_commander(law: &Law, op: &Operation, p: &Person) -> Result<(), OpError> {
    if !law.is_host(&p.nation) {
        return refuse(
            format!(
                "{} is of {}; an operation on {} territory is commanded by the host nation",
                p.user, p.nation, law.host_nation
            ),
            Some(law.rule("territory.host_nation")),
        );
    }
    if p.org != op.owner_org {
        return refuse(
            format!(
                "{} is of {}; the commander must belong to the owning organisation {}",
                p.user, p.org, op.owner_org
            ),
            Some(law.rule("command.owner_kinds")),
        );
    }
    if !law.commander_roles.contains(&p.role) {
        return refuse(
            format!(
                "{} has the role {}, which may not command",
                p.user,
                p.role.as_str()
            ),
            Some(law.rule("command.commander_roles")),
        );
    }
    Ok(())
}

fn require_state(op: &Operation, states: &[OpState], what: &str) -> Result<(), OpError> {
    if states.contains(&op.state) {
        return Ok(());
    }
    let names: Vec<&str> = states.iter().map(|s| s.as_str()).collect();
    refuse(
        format!(
            "cannot {what} operation {} in state {}; it must be {}",
            op.id,
            op.state.as_str(),
            names.join(" or ")
        ),
        None,
    )
}

fn require_owner_planner(law: &Law, op: &Operation, p: &Person) -> Result<(), OpError> {
    check_planner(law, p)?;
    if p.org != op.owner_org {
        return refuse(
            format!(
                "{} is of {}; only the owning organisation {} edits this operation",
                p.user, p.org, op.owner_org
            ),
            Some(law.rule("command.owner_kinds")),
        );
    }
    Ok(())
}

fn require_commander(op: &Operation, p: &Person, what: &str) -> Result<(), OpError> {
    if op.commander.as_deref() == Some(p.user.as_str()) {
        return Ok(());
    }
    refuse(
        format!(
            "only the operation's commander ({}) may {what}; {} is not",
            op.commander.as_deref().unwrap_or("none named"),
            p.user
        ),
        None,
    )
}

/// Mandatory tasks of a stage not yet done.
pub fn pending_tasks(op: &Operation, law: &Law, stage: Stage) -> Vec<String> {
    op.tasks
        .iter()
        .filter(|t| t.mandatory && t.done_ms.is_none())
        .filter(|t| law.tasks.get(&t.name).map(|r| r.before) == Some(stage))
        .map(|t| t.name.clone())
        .collect()
}

fn require_tasks(op: &Operation, law: &Law, stage: Stage, what: &str) -> Result<(), OpError> {
    let pending = pending_tasks(op, law, stage);
    if let Some(first) = pending.first() {
        let rule = law.tasks.get(first).map(|t| t.rule.clone());
        return refuse(
            format!(
                "cannot {what} operation {}: mandatory task(s) not done: {}",
                op.id,
                pending.join(", ")
            ),
            rule,
        );
    }
    Ok(())
}

/// Applies one command made on `expected_version` by `actor` at `t_ms`.
pub fn apply(
    op: &Operation,
    law: &Law,
    actor: &Person,
    expected_version: u64,
    cmd: Command,
    t_ms: i64,
) -> Result<Operation, OpError> {
    if expected_version != op.version {
        return Err(OpError::Conflict {
            expected: expected_version,
            current: op.version,
        });
    }
    if op.history.len() >= MAX_HISTORY {
        return invalid(format!(
            "operation {} has {MAX_HISTORY} recorded changes, the most one may hold",
            op.id
        ));
    }
    let mut next = op.clone();
    let action = cmd.action();
    let why: String = match cmd {
        Command::Edit(e) => {
            require_state(op, &[OpState::Draft], "edit")?;
            require_owner_planner(law, op, actor)?;
            check_text("why", &e.why, false).or_else(invalid)?;
            if let Some(o) = e.objective {
                check_text("objective", &o, true).or_else(invalid)?;
                next.objective = o;
            }
            if let Some(sites) = e.sites {
                if sites.len() > MAX_SITES {
                    return invalid(format!("{} sites; at most {MAX_SITES}", sites.len()));
                }
                for s in &sites {
                    check_site(s)?;
                }
                next.sites = sites;
            }
            if let Some(s) = e.schedule {
                if s.end_ms <= s.start_ms {
                    return invalid(format!(
                        "the schedule ends ({}) before it starts ({}); give the start first",
                        rastro_core::format_time_ms(s.end_ms),
                        rastro_core::format_time_ms(s.start_ms)
                    ));
                }
                next.schedule = Some(s);
            }
            if let Some(c) = e.commander {
                check_commander(law, op, &c)?;
                next.participants.retain(|p| p.role != OpRole::Command);
                next.participants.push(Participant {
                    user: c.user.clone(),
                    org: c.org.clone(),
                    nation: c.nation.clone(),
                    role: OpRole::Command,
                });
                next.commander = Some(c.user);
            }
            for l in e.add_leads {
                if !next.leads.contains(&l) {
                    next.leads.push(l);
                }
            }
            for k in e.add_kinds {
                if !next.evidence_kinds.contains(&k) {
                    next.evidence_kinds.push(k);
                }
            }
            next.evidence_kinds.sort();
            if let Some(r) = e.request {
                next.request = Some(r);
            }
            for p in e.add_packages {
                if !next.packages.contains(&p) {
                    next.packages.push(p);
                }
            }
            if next.leads.len() > MAX_LINKS || next.packages.len() > MAX_LINKS {
                return invalid(format!("at most {MAX_LINKS} linked leads and packages"));
            }
            e.why
        }
        Command::AddParticipant { person, role } => {
            require_state(op, &[OpState::Draft], "change the participants of")?;
            require_owner_planner(law, op, actor)?;
            if role == OpRole::Command {
                return refuse(
                    "the command role is given by naming the commander (ops edit --commander)",
                    None,
                );
            }
            check_role(law, op, &person, role)?;
            if next
                .participants
                .iter()
                .any(|p| p.user == person.user && p.role == role)
            {
                return invalid(format!(
                    "{} already holds the {} role",
                    person.user,
                    role.as_str()
                ));
            }
            if next.participants.len() >= MAX_PARTICIPANTS {
                return invalid(format!("at most {MAX_PARTICIPANTS} participants"));
            }
            next.participants.push(Participant {
                user: person.user.clone(),
                org: person.org,
                nation: person.nation,
                role,
            });
            format!("{} as {}", person.user, role.as_str())
        }
        Command::RemoveParticipant { user } => {
            require_state(op, &[OpState::Draft], "change the participants of")?;
            require_owner_planner(law, op, actor)?;
            if op.commander.as_deref() == Some(user.as_str()) {
                return refuse("name another commander before removing this one", None);
            }
            let before = next.participants.len();
            next.participants.retain(|p| p.user != user);
            if next.participants.len() == before {
                return invalid(format!("{user} is not a participant"));
            }
            user
        }
        Command::AddTask { name } => {
            require_state(op, &[OpState::Draft], "add tasks to")?;
            require_owner_planner(law, op, actor)?;
            let Some(rule) = law.tasks.get(&name) else {
                let known: Vec<&str> = law.tasks.keys().map(String::as_str).collect();
                return invalid(format!(
                    "unknown task {name:?}; the law knows: {}",
                    known.join(", ")
                ));
            };
            if next.tasks.iter().any(|t| t.name == name) {
                return invalid(format!("task {name} is already planned"));
            }
            if next.tasks.len() >= MAX_TASKS {
                return invalid(format!("at most {MAX_TASKS} tasks"));
            }
            next.tasks.push(Task {
                name: name.clone(),
                mandatory: rule.mandatory,
                done_by_role: rule.done_by,
                done_by: None,
                done_ms: None,
                note: None,
            });
            name
        }
        Command::CompleteTask { name, note } => {
            require_state(
                op,
                &[
                    OpState::Draft,
                    OpState::Proposed,
                    OpState::Approved,
                    OpState::Executed,
                ],
                "complete tasks of",
            )?;
            check_text("note", &note, true).or_else(invalid)?;
            let Some(i) = next.tasks.iter().position(|t| t.name == name) else {
                return invalid(format!("operation {} has no task {name:?}", op.id));
            };
            let role = next.tasks[i].done_by_role;
            let holds = op
                .participants
                .iter()
                .any(|p| p.user == actor.user && p.role == role);
            if !holds {
                return refuse(
                    format!(
                        "task {name} is done by a participant in the {} role; {} holds no such role in operation {}",
                        role.as_str(),
                        actor.user,
                        op.id
                    ),
                    law.tasks.get(&name).map(|t| t.rule.clone()),
                );
            }
            if next.tasks[i].done_ms.is_some() {
                return invalid(format!("task {name} is already done"));
            }
            next.tasks[i].done_by = Some(actor.user.clone());
            next.tasks[i].done_ms = Some(t_ms);
            next.tasks[i].note = Some(note.clone());
            format!("{name}: {note}")
        }
        Command::Propose { why } => {
            require_state(op, &[OpState::Draft], "propose")?;
            require_owner_planner(law, op, actor)?;
            check_text("why", &why, false).or_else(invalid)?;
            if op.commander.is_none() {
                return invalid("name a commander before proposing");
            }
            if op.sites.is_empty() {
                return invalid("give at least one site before proposing");
            }
            if op.schedule.is_none() {
                return invalid("give a schedule before proposing");
            }
            next.state = OpState::Proposed;
            next.proposer = Some(actor.user.clone());
            next.approvals.clear();
            why
        }
        Command::Withdraw { why } => {
            require_state(op, &[OpState::Proposed], "withdraw")?;
            require_owner_planner(law, op, actor)?;
            check_text("why", &why, true).or_else(invalid)?;
            next.state = OpState::Draft;
            next.approvals.clear();
            next.proposer = None;
            why
        }
        Command::Approve { reason } => {
            require_state(op, &[OpState::Proposed], "approve")?;
            check_text("reason", &reason, true).or_else(invalid)?;
            if !law.is_host(&actor.nation) {
                return refuse(
                    format!(
                        "{} is of {}; only the host nation {} approves operations on its territory",
                        actor.user, actor.nation, law.host_nation
                    ),
                    Some(law.rule("territory.host_nation")),
                );
            }
            if !law.approver_roles.contains(&actor.role) {
                return refuse(
                    format!(
                        "{} has the role {}, which may not approve",
                        actor.user,
                        actor.role.as_str()
                    ),
                    Some(law.rule("approval.approver_roles")),
                );
            }
            if op.proposer.as_deref() == Some(actor.user.as_str()) {
                return refuse(
                    format!(
                        "{} proposed operation {} and may not approve it",
                        actor.user, op.id
                    ),
                    Some(law.rule("approval.proposer")),
                );
            }
            if op.approvals.iter().any(|a| a.user == actor.user) {
                return refuse(
                    format!(
                        "{} already approved operation {}; approvers must be distinct",
                        actor.user, op.id
                    ),
                    Some(law.rule("approval.approvers_required")),
                );
            }
            require_tasks(op, law, Stage::Approval, "approve")?;
            next.approvals.push(Approval {
                user: actor.user.clone(),
                org: actor.org.clone(),
                t_ms,
                reason: reason.clone(),
            });
            if next.approvals.len() as u32 >= law.approvers_required {
                next.state = OpState::Approved;
            }
            reason
        }
        Command::Execute { why } => {
            require_state(op, &[OpState::Approved], "execute")?;
            require_commander(op, actor, "record the execution")?;
            check_text("why", &why, false).or_else(invalid)?;
            next.state = OpState::Executed;
            why
        }
        Command::Close { outcome, why } => {
            require_state(op, &[OpState::Executed], "close")?;
            require_commander(op, actor, "close the operation")?;
            check_text("why", &why, false).or_else(invalid)?;
            check_text("notes", &outcome.notes, false).or_else(invalid)?;
            for s in &outcome.seized {
                if rastro_core::Cas::parse(&s.cas).is_err() {
                    return invalid(format!(
                        "seized chemical {:?} is not a valid CAS number",
                        s.cas
                    ));
                }
                if !(s.quantity.is_finite() && s.quantity > 0.0) {
                    return invalid(format!(
                        "seized {}: quantity {} must be above 0",
                        s.cas, s.quantity
                    ));
                }
                if rastro_core::Unit::parse(&s.unit).is_none() {
                    return invalid(format!("seized {}: unknown unit {:?}", s.cas, s.unit));
                }
            }
            if outcome.equipment.len() > MAX_LINKS || outcome.seized.len() > MAX_LINKS {
                return invalid(format!(
                    "at most {MAX_LINKS} seized chemicals and equipment items"
                ));
            }
            require_tasks(op, law, Stage::Closure, "close")?;
            next.state = OpState::Closed;
            next.outcome = Some(outcome);
            why
        }
        Command::Cancel { why } => {
            if op.state.is_terminal() {
                return refuse(
                    format!("operation {} is already {}", op.id, op.state.as_str()),
                    None,
                );
            }
            check_text("why", &why, true).or_else(invalid)?;
            let commander = op.commander.as_deref() == Some(actor.user.as_str());
            let owner_commander = actor.org == op.owner_org
                && law.is_host(&actor.nation)
                && law.commander_roles.contains(&actor.role);
            if !commander && !owner_commander {
                return refuse(
                    format!(
                        "only the commander or a commander of {} may cancel; {} is neither",
                        op.owner_org, actor.user
                    ),
                    Some(law.rule("command.commander_roles")),
                );
            }
            next.state = OpState::Cancelled;
            why
        }
    };
    next.version += 1;
    next.history.push(Transition {
        action: action.to_string(),
        from: op.state,
        to: next.state,
        actor: actor.user.clone(),
        t_ms,
        why,
    });
    Ok(next)
}
