//! The host nation's law for operations on its territory, as a documented TOML file.
//!
//! The file says which organisations may own and command operations, who may approve and how
//! many distinct approvers are needed, which tasks are mandatory before approval or closure,
//! which roles foreign personnel may hold, what partners see of an operation before and after
//! it is executed, and how partner requests are decided. It is read once at start; a file that
//! is malformed, names an unknown role, kind or facet, or contradicts itself is refused with
//! its line. Each rule keeps the line it came from, so a refusal can quote it.
//!
//! Two rules are not in the file because no law may change them here: the proposer of an
//! operation never approves it and never counts among its approvers, and command stays with
//! the host nation (a file letting foreign personnel command is refused as contradictory).

use crate::operation::OpRole;
use rastro_policy::{OrgKind, Role};
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use toml::Spanned;

/// The motivating case (host MX, partner US), embedded so that a node starts without a file.
pub const DEFAULT_LAW: &str = include_str!("../law/mx.toml");
/// A second, illustrative country's rules (see docs/operations.md).
pub const EXAMPLE_LAW_CO: &str = include_str!("../law/co.toml");

/// A malformed or contradictory law file: where, and what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}: {message}")]
pub struct LawError {
    pub file: String,
    pub line: usize,
    pub message: String,
}

/// One rule of the file as written: its key, its line, and the line's text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub key: &'static str,
    pub line: usize,
    pub text: String,
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (line {}: `{}`)", self.key, self.line, self.text)
    }
}

/// What a partner may see of an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Facet {
    /// That the operation exists, its id and owning organisation.
    Existence,
    Objective,
    /// The current state and when each transition happened (not who made it or why).
    State,
    Outcome,
    Site,
    Schedule,
    Participants,
    Tasks,
    /// The linked leads and packages the partner may itself see.
    Leads,
}

impl Facet {
    pub const ALL: [Facet; 9] = [
        Facet::Existence,
        Facet::Objective,
        Facet::State,
        Facet::Outcome,
        Facet::Site,
        Facet::Schedule,
        Facet::Participants,
        Facet::Tasks,
        Facet::Leads,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Facet::Existence => "existence",
            Facet::Objective => "objective",
            Facet::State => "state",
            Facet::Outcome => "outcome",
            Facet::Site => "site",
            Facet::Schedule => "schedule",
            Facet::Participants => "participants",
            Facet::Tasks => "tasks",
            Facet::Leads => "leads",
        }
    }

    pub fn parse(s: &str) -> Option<Facet> {
        Facet::ALL.into_iter().find(|f| f.as_str() == s.trim())
    }
}

/// When a mandatory task must be done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    Approval,
    Closure,
}

/// A task the law knows: whether it is mandatory, before which step, and which participant
/// role completes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskRule {
    pub mandatory: bool,
    pub before: Stage,
    pub done_by: OpRole,
    pub rule: Rule,
}

/// The parsed law.
#[derive(Debug, Clone, PartialEq)]
pub struct Law {
    pub file: String,
    pub host_nation: String,
    pub owner_kinds: Vec<OrgKind>,
    pub commander_roles: Vec<Role>,
    pub planner_roles: Vec<Role>,
    pub approver_roles: Vec<Role>,
    pub approvers_required: u32,
    pub tasks: BTreeMap<String, TaskRule>,
    pub foreign_roles: Vec<OpRole>,
    pub partner_before: BTreeSet<Facet>,
    pub partner_after: BTreeSet<Facet>,
    pub request_decider_roles: Vec<Role>,
    pub request_max_validity_days: u32,
    rules: BTreeMap<&'static str, Rule>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLaw {
    version: Spanned<u32>,
    territory: RawTerritory,
    command: RawCommand,
    approval: RawApproval,
    #[serde(default)]
    tasks: BTreeMap<String, Spanned<RawTask>>,
    foreign: RawForeign,
    partner_view: RawPartnerView,
    requests: RawRequests,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTerritory {
    host_nation: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCommand {
    owner_kinds: Spanned<Vec<Spanned<String>>>,
    commander_roles: Spanned<Vec<Spanned<String>>>,
    planner_roles: Spanned<Vec<Spanned<String>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawApproval {
    approver_roles: Spanned<Vec<Spanned<String>>>,
    approvers_required: Spanned<i64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTask {
    mandatory: bool,
    before: Spanned<String>,
    done_by: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawForeign {
    allowed_roles: Spanned<Vec<Spanned<String>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPartnerView {
    before_execution: Spanned<Vec<Spanned<String>>>,
    after_execution: Spanned<Vec<Spanned<String>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRequests {
    decider_roles: Spanned<Vec<Spanned<String>>>,
    max_validity_days: Spanned<i64>,
}

/// Reads law text, keeping each rule's line.
struct Src<'a> {
    file: &'a str,
    text: &'a str,
}

impl Src<'_> {
    fn line_of(&self, offset: usize) -> usize {
        let end = offset.min(self.text.len());
        self.text.as_bytes()[..end]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1
    }

    fn err<T>(
        &self,
        span: std::ops::Range<usize>,
        message: impl Into<String>,
    ) -> Result<T, LawError> {
        Err(LawError {
            file: self.file.to_string(),
            line: self.line_of(span.start),
            message: message.into(),
        })
    }

    fn rule(&self, key: &'static str, span: std::ops::Range<usize>) -> Rule {
        let line = self.line_of(span.start);
        let text = self
            .text
            .lines()
            .nth(line - 1)
            .unwrap_or("")
            .trim()
            .to_string();
        Rule { key, line, text }
    }

    fn list<T: Copy + PartialEq>(
        &self,
        what: &str,
        items: &[Spanned<String>],
        parse: impl Fn(&str) -> Option<T>,
        known: &str,
    ) -> Result<Vec<T>, LawError> {
        let mut out = Vec::new();
        for it in items {
            match parse(it.get_ref()) {
                Some(v) if !out.contains(&v) => out.push(v),
                Some(_) => {
                    return self.err(
                        it.span(),
                        format!("{what} {:?} is listed twice", it.get_ref()),
                    )
                }
                None => {
                    return self.err(
                        it.span(),
                        format!("unknown {what} {:?}; known: {known}", it.get_ref()),
                    )
                }
            }
        }
        Ok(out)
    }
}

fn names<T>(all: &[T], f: impl Fn(&T) -> &'static str) -> String {
    all.iter().map(f).collect::<Vec<_>>().join(", ")
}

impl Law {
    /// The embedded default (host MX).
    pub fn default_law() -> Law {
        Law::parse("law/mx.toml (embedded)", DEFAULT_LAW)
            .unwrap_or_else(|e| panic!("the embedded law file is invalid: {e}"))
    }

    /// Parses and checks a law file. `file` names it in errors.
    pub fn parse(file: &str, text: &str) -> Result<Law, LawError> {
        let src = Src { file, text };
        let raw: RawLaw = toml::from_str(text).map_err(|e| LawError {
            file: file.to_string(),
            line: e.span().map(|s| src.line_of(s.start)).unwrap_or(1),
            message: e.message().to_string(),
        })?;
        if *raw.version.get_ref() != 1 {
            return src.err(
                raw.version.span(),
                "unsupported law version; this build reads version = 1",
            );
        }
        let mut rules = BTreeMap::new();
        let host = raw.territory.host_nation.get_ref().trim().to_string();
        if host.len() != 2 || !host.bytes().all(|b| b.is_ascii_uppercase()) {
            return src.err(
                raw.territory.host_nation.span(),
                format!("host_nation {host:?} is not an ISO 3166 alpha-2 code such as \"MX\""),
            );
        }
        rules.insert(
            "territory.host_nation",
            src.rule("territory.host_nation", raw.territory.host_nation.span()),
        );

        let role_names = names(&Role::ALL, |r| r.as_str());
        let kind_names = names(&OrgKind::ALL, |k| k.as_str());
        let op_role_names = names(&OpRole::ALL, |r| r.as_str());
        let facet_names = names(&Facet::ALL, |f| f.as_str());

        let c = &raw.command;
        let owner_kinds = src.list(
            "organisation kind",
            c.owner_kinds.get_ref(),
            OrgKind::parse,
            &kind_names,
        )?;
        let commander_roles = src.list(
            "role",
            c.commander_roles.get_ref(),
            Role::parse,
            &role_names,
        )?;
        let planner_roles =
            src.list("role", c.planner_roles.get_ref(), Role::parse, &role_names)?;
        for (key, v, sp) in [
            (
                "command.owner_kinds",
                owner_kinds.is_empty(),
                c.owner_kinds.span(),
            ),
            (
                "command.commander_roles",
                commander_roles.is_empty(),
                c.commander_roles.span(),
            ),
            (
                "command.planner_roles",
                planner_roles.is_empty(),
                c.planner_roles.span(),
            ),
        ] {
            if v {
                return src.err(
                    sp,
                    format!("{key} is empty: no operation could ever be planned or commanded"),
                );
            }
        }
        rules.insert(
            "command.owner_kinds",
            src.rule("command.owner_kinds", c.owner_kinds.span()),
        );
        rules.insert(
            "command.commander_roles",
            src.rule("command.commander_roles", c.commander_roles.span()),
        );
        rules.insert(
            "command.planner_roles",
            src.rule("command.planner_roles", c.planner_roles.span()),
        );

        let a = &raw.approval;
        let approver_roles =
            src.list("role", a.approver_roles.get_ref(), Role::parse, &role_names)?;
        if approver_roles.is_empty() {
            return src.err(
                a.approver_roles.span(),
                "approval.approver_roles is empty: nothing could ever be approved",
            );
        }
        let n = *a.approvers_required.get_ref();
        if !(1..=9).contains(&n) {
            return src.err(
                a.approvers_required.span(),
                format!("approvers_required = {n}; it must be 1 to 9"),
            );
        }
        rules.insert(
            "approval.approver_roles",
            src.rule("approval.approver_roles", a.approver_roles.span()),
        );
        rules.insert(
            "approval.approvers_required",
            src.rule("approval.approvers_required", a.approvers_required.span()),
        );
        rules.insert("approval.proposer", Rule {
            key: "approval.proposer",
            line: 0,
            text: "the proposer never approves their own operation and never counts among its approvers (built in)".into(),
        });

        let foreign_roles = src.list(
            "operation role",
            raw.foreign.allowed_roles.get_ref(),
            OpRole::parse,
            &op_role_names,
        )?;
        if let Some(it) = raw
            .foreign
            .allowed_roles
            .get_ref()
            .iter()
            .find(|it| OpRole::parse(it.get_ref()) == Some(OpRole::Command))
        {
            return src.err(
                it.span(),
                "foreign.allowed_roles contradicts [command]: command stays with a host-nation commander of an owning organisation",
            );
        }
        rules.insert(
            "foreign.allowed_roles",
            src.rule("foreign.allowed_roles", raw.foreign.allowed_roles.span()),
        );

        let mut tasks = BTreeMap::new();
        for (name, t) in &raw.tasks {
            if name.is_empty()
                || name.len() > 64
                || !name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
            {
                return src.err(
                    t.span(),
                    format!("task name {name:?} must be 1-64 lowercase letters or '_'"),
                );
            }
            let tr = t.get_ref();
            let before = match tr.before.get_ref().as_str() {
                "approval" => Stage::Approval,
                "closure" => Stage::Closure,
                other => {
                    return src.err(
                        tr.before.span(),
                        format!("before = {other:?}; it must be \"approval\" or \"closure\""),
                    )
                }
            };
            let Some(done_by) = OpRole::parse(tr.done_by.get_ref()) else {
                return src.err(
                    tr.done_by.span(),
                    format!(
                        "unknown operation role {:?}; known: {op_role_names}",
                        tr.done_by.get_ref()
                    ),
                );
            };
            tasks.insert(
                name.clone(),
                TaskRule {
                    mandatory: tr.mandatory,
                    before,
                    done_by,
                    rule: src.rule("tasks", t.span()),
                },
            );
        }

        let pv = &raw.partner_view;
        let before = src.list(
            "facet",
            pv.before_execution.get_ref(),
            Facet::parse,
            &facet_names,
        )?;
        let after = src.list(
            "facet",
            pv.after_execution.get_ref(),
            Facet::parse,
            &facet_names,
        )?;
        let (before, after): (BTreeSet<Facet>, BTreeSet<Facet>) =
            (before.into_iter().collect(), after.into_iter().collect());
        for (set, sp) in [
            (&before, pv.before_execution.span()),
            (&after, pv.after_execution.span()),
        ] {
            if !set.is_empty() && !set.contains(&Facet::Existence) {
                return src.err(
                    sp,
                    "a partner view that shows anything must show \"existence\"",
                );
            }
        }
        if let Some(f) = before.difference(&after).next() {
            return src.err(
                pv.after_execution.span(),
                format!("after_execution lacks {:?}, which before_execution shows: a partner never loses sight of what it saw", f.as_str()),
            );
        }
        rules.insert(
            "partner_view.before_execution",
            src.rule("partner_view.before_execution", pv.before_execution.span()),
        );
        rules.insert(
            "partner_view.after_execution",
            src.rule("partner_view.after_execution", pv.after_execution.span()),
        );

        let r = &raw.requests;
        let request_decider_roles =
            src.list("role", r.decider_roles.get_ref(), Role::parse, &role_names)?;
        if request_decider_roles.is_empty() {
            return src.err(
                r.decider_roles.span(),
                "requests.decider_roles is empty: no request could ever be decided",
            );
        }
        let days = *r.max_validity_days.get_ref();
        if !(1..=366).contains(&days) {
            return src.err(
                r.max_validity_days.span(),
                format!("max_validity_days = {days}; it must be 1 to 366"),
            );
        }
        rules.insert(
            "requests.decider_roles",
            src.rule("requests.decider_roles", r.decider_roles.span()),
        );
        rules.insert(
            "requests.max_validity_days",
            src.rule("requests.max_validity_days", r.max_validity_days.span()),
        );

        Ok(Law {
            file: file.to_string(),
            host_nation: host,
            owner_kinds,
            commander_roles,
            planner_roles,
            approver_roles,
            approvers_required: n as u32,
            tasks,
            foreign_roles,
            partner_before: before,
            partner_after: after,
            request_decider_roles,
            request_max_validity_days: days as u32,
            rules,
        })
    }

    /// The rule with this key, as written (every key the parser knows is present).
    pub fn rule(&self, key: &'static str) -> Rule {
        self.rules.get(key).cloned().unwrap_or(Rule {
            key,
            line: 0,
            text: String::new(),
        })
    }

    /// Whether a person is of the host nation.
    pub fn is_host(&self, nation: &str) -> bool {
        nation.eq_ignore_ascii_case(&self.host_nation)
    }
}
