//! The state machine checked against a reference model of the policy, over generated law
//! files, people and call sequences: every call is accepted exactly when the model says the
//! law allows it, and no sequence reaches an approved, executed or closed state the law
//! forbids.

use proptest::prelude::*;
use rastro_ops::law::Law;
use rastro_ops::operation::{apply, create, Command, Edit, OpRole, OpState, Operation};
use rastro_ops::{LabFinding, Outcome, Person, Schedule, Site};
use rastro_policy::{OrgKind, Role};
use std::collections::BTreeSet;

const ORGS: [(&str, &str, OrgKind); 5] = [
    ("SEMAR", "MX", OrgKind::Navy),
    ("SEDENA", "MX", OrgKind::Army),
    ("ANAM", "MX", OrgKind::Customs),
    ("DEA", "US", OrgKind::ForeignLiaison),
    ("NCA", "GB", OrgKind::Police),
];
const ROLES: [Role; 4] = [Role::Commander, Role::Analyst, Role::Liaison, Role::Auditor];
const TASKS: [&str; 3] = ["legal_review", "deconfliction", "after_action_report"];

/// A generated law: the variable parts of the policy.
#[derive(Debug, Clone)]
struct LawParams {
    approvers: u32,
    /// Per task: mandatory, before closure (else approval), done by.
    tasks: Vec<(bool, bool, OpRole)>,
    foreign: Vec<OpRole>,
}

fn law_text(p: &LawParams) -> String {
    let roles = |v: &[OpRole]| {
        v.iter()
            .map(|r| format!("\"{}\"", r.as_str()))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut s = format!(
        "version = 1\n[territory]\nhost_nation = \"MX\"\n[command]\nowner_kinds = [\"navy\", \"army\"]\ncommander_roles = [\"commander\"]\nplanner_roles = [\"commander\", \"analyst\"]\n[approval]\napprover_roles = [\"commander\"]\napprovers_required = {}\n",
        p.approvers
    );
    for (i, (m, closure, by)) in p.tasks.iter().enumerate() {
        s += &format!(
            "[tasks.{}]\nmandatory = {m}\nbefore = \"{}\"\ndone_by = \"{}\"\n",
            TASKS[i],
            if *closure { "closure" } else { "approval" },
            by.as_str()
        );
    }
    s += &format!(
        "[foreign]\nallowed_roles = [{}]\n[partner_view]\nbefore_execution = [\"existence\"]\nafter_execution = [\"existence\", \"outcome\"]\n[requests]\ndecider_roles = [\"commander\"]\nmax_validity_days = 30\n",
        roles(&p.foreign)
    );
    s
}

fn op_role() -> impl Strategy<Value = OpRole> {
    prop::sample::select(OpRole::ALL.to_vec())
}

fn law_params() -> impl Strategy<Value = LawParams> {
    (
        1u32..=3,
        prop::collection::vec((any::<bool>(), any::<bool>(), op_role()), 0..=3),
        prop::collection::btree_set(
            prop::sample::select(vec![
                OpRole::Ground,
                OpRole::IntelligenceSupport,
                OpRole::Advisory,
                OpRole::LegalReview,
            ]),
            0..=3,
        ),
    )
        .prop_map(|(approvers, tasks, foreign)| LawParams {
            approvers,
            tasks,
            foreign: foreign.into_iter().collect(),
        })
}

fn people() -> impl Strategy<Value = Vec<Person>> {
    prop::collection::vec((0..ORGS.len(), 0..ROLES.len()), 6..=9).prop_map(|v| {
        let mut out: Vec<Person> = v
            .into_iter()
            .enumerate()
            .map(|(i, (o, r))| Person {
                user: format!("u{i}"),
                org: ORGS[o].0.into(),
                nation: ORGS[o].1.into(),
                org_kind: ORGS[o].2,
                role: ROLES[r],
            })
            .collect();
        // Always lawful planners and approvers of two organisations, so sequences get
        // somewhere (random people alone rarely reach approval).
        let fixed = [
            ("SEMAR", OrgKind::Navy),
            ("SEDENA", OrgKind::Army),
            ("SEMAR", OrgKind::Navy),
        ];
        for (i, (org, kind)) in fixed.into_iter().enumerate() {
            out[i] = Person {
                user: format!("u{i}"),
                org: org.into(),
                nation: "MX".into(),
                org_kind: kind,
                role: Role::Commander,
            };
        }
        out
    })
}

#[derive(Debug, Clone)]
enum Step {
    Commander(usize),
    Site,
    Schedule,
    Join(usize, OpRole),
    Task(usize),
    Propose,
    Withdraw,
    Approve,
    Execute,
    Close(bool),
    Cancel,
}

fn step() -> impl Strategy<Value = (usize, Step)> {
    let s = prop_oneof![
        prop_oneof![(0..3usize), (0..9usize)].prop_map(Step::Commander),
        Just(Step::Site),
        Just(Step::Schedule),
        ((0..9usize), op_role()).prop_map(|(p, r)| Step::Join(p, r)),
        (0..3usize).prop_map(Step::Task),
        (0..3usize).prop_map(Step::Task),
        Just(Step::Propose),
        Just(Step::Withdraw),
        Just(Step::Approve),
        Just(Step::Approve),
        Just(Step::Execute),
        any::<bool>().prop_map(Step::Close),
        Just(Step::Cancel),
    ];
    // Most calls come from the three lawful commanders.
    (prop_oneof![3 => 0..3usize, 1 => 0..9usize], s)
}

/// A plan most sequences start from: commander, site, schedule, the task holders.
fn plan(lp: &LawParams) -> Vec<(usize, Step)> {
    let mut v = vec![
        (0, Step::Commander(0)),
        (0, Step::Site),
        (0, Step::Schedule),
    ];
    for (i, (_, _, by)) in lp.tasks.iter().enumerate() {
        if *by != OpRole::Command {
            v.push((0, Step::Join(2 + i, *by)));
        }
    }
    v
}

/// The reference model: the policy written out naively, independently of the machine.
#[derive(Debug, Clone, Default)]
struct Model {
    state: &'static str,
    commander: Option<String>,
    roles: Vec<(String, OpRole)>,
    sites: bool,
    schedule: bool,
    proposer: Option<String>,
    approvers: Vec<String>,
    done: BTreeSet<usize>,
}

fn host(p: &Person) -> bool {
    p.nation == "MX"
}

fn planner(p: &Person) -> bool {
    host(p) && p.org == "SEMAR" && matches!(p.role, Role::Commander | Role::Analyst)
}

impl Model {
    fn open_tasks(&self, lp: &LawParams, closure: bool) -> bool {
        lp.tasks
            .iter()
            .enumerate()
            .any(|(i, (m, c, _))| *m && *c == closure && !self.done.contains(&i))
    }

    /// Whether the law allows `who` to make `step` now; applies it if so.
    fn step(&mut self, lp: &LawParams, who: &Person, people: &[Person], step: &Step) -> bool {
        let terminal = matches!(self.state, "closed" | "cancelled");
        let ok = match step {
            Step::Commander(i) => {
                let c = &people[*i % people.len()];
                self.state == "draft"
                    && planner(who)
                    && host(c)
                    && c.org == "SEMAR"
                    && c.role == Role::Commander
            }
            Step::Site | Step::Schedule => self.state == "draft" && planner(who),
            Step::Join(i, r) => {
                let p = &people[*i % people.len()];
                self.state == "draft"
                    && planner(who)
                    && *r != OpRole::Command
                    && (host(p) || lp.foreign.contains(r))
                    && !self.roles.contains(&(p.user.clone(), *r))
            }
            Step::Task(t) => {
                *t < lp.tasks.len()
                    && lp.tasks[*t].0
                    && !matches!(self.state, "closed" | "cancelled")
                    && !self.done.contains(t)
                    && self.roles.contains(&(who.user.clone(), lp.tasks[*t].2))
            }
            Step::Propose => {
                self.state == "draft"
                    && planner(who)
                    && self.commander.is_some()
                    && self.sites
                    && self.schedule
            }
            Step::Withdraw => self.state == "proposed" && planner(who),
            Step::Approve => {
                self.state == "proposed"
                    && host(who)
                    && who.role == Role::Commander
                    && self.proposer.as_ref() != Some(&who.user)
                    && !self.approvers.contains(&who.user)
                    && !self.open_tasks(lp, false)
            }
            Step::Execute => self.state == "approved" && self.commander.as_ref() == Some(&who.user),
            Step::Close(_) => {
                self.state == "executed"
                    && self.commander.as_ref() == Some(&who.user)
                    && !self.open_tasks(lp, true)
            }
            Step::Cancel => {
                !terminal
                    && (self.commander.as_ref() == Some(&who.user)
                        || (host(who) && who.org == "SEMAR" && who.role == Role::Commander))
            }
        };
        if !ok {
            return false;
        }
        match step {
            Step::Commander(i) => {
                let c = &people[*i % people.len()];
                self.roles.retain(|(_, r)| *r != OpRole::Command);
                self.roles.push((c.user.clone(), OpRole::Command));
                self.commander = Some(c.user.clone());
            }
            Step::Site => self.sites = true,
            Step::Schedule => self.schedule = true,
            Step::Join(i, r) => self
                .roles
                .push((people[*i % people.len()].user.clone(), *r)),
            Step::Task(t) => {
                self.done.insert(*t);
            }
            Step::Propose => {
                self.state = "proposed";
                self.proposer = Some(who.user.clone());
                self.approvers.clear();
            }
            Step::Withdraw => {
                self.state = "draft";
                self.proposer = None;
                self.approvers.clear();
            }
            Step::Approve => {
                self.approvers.push(who.user.clone());
                if self.approvers.len() as u32 >= lp.approvers {
                    self.state = "approved";
                }
            }
            Step::Execute => self.state = "executed",
            Step::Close(_) => self.state = "closed",
            Step::Cancel => self.state = "cancelled",
        }
        true
    }
}

fn command(step: &Step, people: &[Person]) -> Command {
    match step {
        Step::Commander(i) => Command::Edit(Edit {
            commander: Some(people[*i % people.len()].clone()),
            why: "c".into(),
            ..Default::default()
        }),
        Step::Site => Command::Edit(Edit {
            sites: Some(vec![Site {
                label: "s".into(),
                lat: 20.0,
                lon: -100.0,
                radius_m: 250.0,
            }]),
            why: "s".into(),
            ..Default::default()
        }),
        Step::Schedule => Command::Edit(Edit {
            schedule: Some(Schedule {
                start_ms: 1,
                end_ms: 2,
            }),
            why: "t".into(),
            ..Default::default()
        }),
        Step::Join(i, r) => Command::AddParticipant {
            person: people[*i % people.len()].clone(),
            role: *r,
        },
        Step::Task(t) => Command::CompleteTask {
            name: TASKS[*t].into(),
            note: "n".into(),
        },
        Step::Propose => Command::Propose { why: "p".into() },
        Step::Withdraw => Command::Withdraw { why: "w".into() },
        Step::Approve => Command::Approve { reason: "a".into() },
        Step::Execute => Command::Execute { why: "e".into() },
        Step::Close(found) => Command::Close {
            outcome: Outcome {
                laboratory: if *found {
                    LabFinding::Confirmed
                } else {
                    LabFinding::NotFound
                },
                seized: vec![],
                equipment: vec![],
                arrests: 0,
                notes: String::new(),
            },
            why: "c".into(),
        },
        Step::Cancel => Command::Cancel { why: "x".into() },
    }
}

/// What the law requires of any operation at or past approval, checked from scratch.
fn lawful(op: &Operation, law: &Law, people: &[Person]) -> Result<(), String> {
    let find = |u: &str| people.iter().find(|p| p.user == u).cloned();
    for p in &op.participants {
        if p.nation != "MX" && !law.foreign_roles.contains(&p.role) {
            return Err(format!("foreign {} holds {}", p.user, p.role.as_str()));
        }
    }
    if let Some(c) = &op.commander {
        let c = find(c).ok_or("unknown commander")?;
        if c.nation != "MX" || c.org != op.owner_org || c.role != Role::Commander {
            return Err(format!("unlawful commander {c:?}"));
        }
    }
    if !matches!(
        op.state,
        OpState::Approved | OpState::Executed | OpState::Closed
    ) {
        return Ok(());
    }
    let users: BTreeSet<&str> = op.approvals.iter().map(|a| a.user.as_str()).collect();
    if users.len() != op.approvals.len() || (users.len() as u32) < law.approvers_required {
        return Err(format!(
            "approvals {:?} are not {} distinct",
            op.approvals, law.approvers_required
        ));
    }
    for a in &op.approvals {
        let p = find(&a.user).ok_or("unknown approver")?;
        if p.nation != "MX" || p.role != Role::Commander || op.proposer.as_deref() == Some(&a.user)
        {
            return Err(format!("unlawful approver {p:?}"));
        }
    }
    let approved_at = op.approvals.iter().map(|a| a.t_ms).min().unwrap_or(0);
    for t in op.tasks.iter().filter(|t| t.mandatory) {
        let rule = &law.tasks[&t.name];
        if rule.before == rastro_ops::law::Stage::Approval
            && t.done_ms.is_none_or(|d| d > approved_at)
        {
            return Err(format!("approved before {} was done", t.name));
        }
    }
    if op.state == OpState::Closed && op.tasks.iter().any(|t| t.mandatory && t.done_ms.is_none()) {
        return Err("closed with a mandatory task open".into());
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn machine_agrees_with_the_reference_model(
        lp in law_params(),
        people in people(),
        planned in any::<bool>(),
        steps in prop::collection::vec(step(), 1..60),
    ) {
        let steps: Vec<(usize, Step)> = if planned { plan(&lp).into_iter().chain(steps).collect() } else { steps };
        let law = Law::parse("generated.toml", &law_text(&lp)).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let mut op = create(&law, &people[0], "op", "objective", 0).unwrap();
        let mut model = Model { state: "draft", ..Default::default() };
        for (t, (who, step)) in steps.iter().enumerate() {
            let who = &people[*who % people.len()];
            let expect = model.step(&lp, who, &people, step);
            match apply(&op, &law, who, op.version, command(step, &people), t as i64 + 1) {
                Ok(next) => {
                    prop_assert!(expect, "machine accepted {step:?} by {who:?}; the model refuses (state {})", op.state.as_str());
                    op = next;
                }
                Err(e) => prop_assert!(!expect, "machine refused {step:?} by {who:?} ({e}); the model accepts"),
            }
            prop_assert_eq!(op.state.as_str(), model.state);
            if let Err(e) = lawful(&op, &law, &people) {
                prop_assert!(false, "reached an unlawful operation: {}", e);
            }
        }
    }
}
