//! The operation state machine, requests and law files on the bad inputs the issue lists:
//! each refused with a clear reason (the rule quoted) and the state unchanged.

use rastro_ops::law::{Law, DEFAULT_LAW, EXAMPLE_LAW_CO};
use rastro_ops::operation::{apply, create, Command, Edit, OpError, OpRole, OpState, Operation};
use rastro_ops::request::{self, Request, RequestKind, RequestState, Target};
use rastro_ops::sight::{sight, Sight};
use rastro_ops::{Facet, LabFinding, Outcome, Person, Schedule, Site};
use rastro_policy::{OrgKind, Role};

fn person(user: &str, org: &str, nation: &str, kind: OrgKind, role: Role) -> Person {
    Person {
        user: user.into(),
        org: org.into(),
        nation: nation.into(),
        org_kind: kind,
        role,
    }
}

struct World {
    law: Law,
    cmdr: Person,
    cmdr2: Person,
    cmdr3: Person,
    analyst: Person,
    legal: Person,
    customs: Person,
    liaison: Person,
    foreign_cmdr: Person,
}

fn world() -> World {
    World {
        law: Law::default_law(),
        cmdr: person("almirante", "SEMAR", "MX", OrgKind::Navy, Role::Commander),
        cmdr2: person("general", "SEDENA", "MX", OrgKind::Army, Role::Commander),
        cmdr3: person("fiscal", "FGR", "MX", OrgKind::Prosecutor, Role::Commander),
        analyst: person("analista", "SEMAR", "MX", OrgKind::Navy, Role::Analyst),
        legal: person("juridico", "FGR", "MX", OrgKind::Prosecutor, Role::Analyst),
        customs: person("aduana", "ANAM", "MX", OrgKind::Customs, Role::Analyst),
        liaison: person(
            "enlace",
            "DEA",
            "US",
            OrgKind::ForeignLiaison,
            Role::Liaison,
        ),
        foreign_cmdr: person(
            "colonel",
            "DEA",
            "US",
            OrgKind::ForeignLiaison,
            Role::Commander,
        ),
    }
}

const T0: i64 = 1_760_000_000_000;

/// One step: applies `cmd` as `who` and, when it is refused, checks that the message holds
/// `needle` and that nothing changed.
fn check(w: &World, op: &Operation, who: &Person, cmd: Command, needle: &str) -> Operation {
    let before = op.clone();
    match apply(
        op,
        &w.law,
        who,
        op.version,
        cmd,
        T0 + op.version as i64 * 1000,
    ) {
        Ok(next) => {
            assert!(
                needle.is_empty(),
                "expected a refusal containing {needle:?}, got accepted"
            );
            assert_eq!(next.version, op.version + 1);
            next
        }
        Err(e) => {
            let msg = e.to_string();
            assert!(!needle.is_empty(), "unexpected refusal: {msg}");
            assert!(msg.contains(needle), "refusal {msg:?} lacks {needle:?}");
            assert_eq!(op, &before, "a refusal changed the operation");
            before
        }
    }
}

/// A draft ready to propose: commander, a site, a schedule, a legal reviewer.
fn ready(w: &World) -> Operation {
    let op = create(
        &w.law,
        &w.analyst,
        "op-1",
        "Verify a suspected laboratory",
        T0,
    )
    .unwrap();
    let op = check(
        w,
        &op,
        &w.analyst,
        Command::Edit(Edit {
            commander: Some(w.cmdr.clone()),
            sites: Some(vec![Site {
                label: "Nave 3".into(),
                lat: 24.8,
                lon: -107.4,
                radius_m: 250.0,
            }]),
            schedule: Some(Schedule {
                start_ms: T0 + 86_400_000,
                end_ms: T0 + 2 * 86_400_000,
            }),
            why: "plan".into(),
            ..Default::default()
        }),
        "",
    );
    check(
        w,
        &op,
        &w.analyst,
        Command::AddParticipant {
            person: w.legal.clone(),
            role: OpRole::LegalReview,
        },
        "",
    )
}

fn done(w: &World, op: &Operation, task: &str, who: &Person) -> Operation {
    check(
        w,
        op,
        who,
        Command::CompleteTask {
            name: task.into(),
            note: "done".into(),
        },
        "",
    )
}

#[test]
fn both_law_files_load_and_differ() {
    let mx = Law::parse("mx.toml", DEFAULT_LAW).unwrap();
    let co = Law::parse("co.toml", EXAMPLE_LAW_CO).unwrap();
    assert_eq!(mx.host_nation, "MX");
    assert_eq!(co.host_nation, "CO");
    assert_eq!(mx.approvers_required, 2);
    assert_eq!(co.approvers_required, 1);
    assert!(!mx.foreign_roles.contains(&OpRole::Ground));
    assert!(!mx.foreign_roles.contains(&OpRole::Command));
    assert!(co.foreign_roles.contains(&OpRole::LegalReview));
    assert!(co.partner_before.contains(&Facet::Schedule));
    assert!(!mx.partner_before.contains(&Facet::Schedule));
    assert!(co.tasks.contains_key("human_rights_review"));
    // A rule quotes its own line.
    let r = mx.rule("approval.approvers_required");
    assert_eq!(r.text, "approvers_required = 2");
    assert_eq!(DEFAULT_LAW.lines().nth(r.line - 1).unwrap().trim(), r.text);
}

#[test]
fn bad_law_files_are_refused_with_their_line() {
    let cases: [(&str, &str, usize, &str); 8] = [
        ("malformed", "approvers_required = = 2", 0, ""),
        ("unknown role", "approver_roles = [\"commander\"]|approver_roles = [\"general\"]", 0, "unknown role \"general\""),
        ("unknown kind", "owner_kinds = [\"navy\", \"army\", \"police\", \"prosecutor\"]|owner_kinds = [\"navy\", \"marines\"]", 0, "unknown organisation kind \"marines\""),
        ("unknown facet", "before_execution = [\"existence\", \"objective\", \"state\"]|before_execution = [\"existence\", \"gossip\"]", 0, "unknown facet \"gossip\""),
        ("foreign command", "allowed_roles = [\"intelligence_support\", \"advisory\"]|allowed_roles = [\"advisory\", \"command\"]", 0, "contradicts [command]"),
        ("partner loses sight", "after_execution = [\"existence\", \"objective\", \"state\", \"outcome\", \"site\", \"schedule\"]|after_execution = [\"existence\", \"outcome\"]", 0, "never loses sight"),
        ("no approvers", "approvers_required = 2|approvers_required = 0", 0, "must be 1 to 9"),
        ("unknown key", "approvers_required = 2|approvers_required = 2\nquorum = 3", 0, "unknown field"),
    ];
    for (name, edit, _, needle) in cases {
        let text = match edit.split_once('|') {
            Some((from, to)) => {
                assert!(DEFAULT_LAW.contains(from), "{name}: fixture out of date");
                DEFAULT_LAW.replacen(from, to, 1)
            }
            None => DEFAULT_LAW.replacen("approvers_required = 2", edit, 1),
        };
        let e = Law::parse("bad.toml", &text).expect_err(name);
        let line = text
            .lines()
            .position(|l| {
                let k = edit.split('|').next_back().unwrap();
                k.lines().last().is_some_and(|kl| l.trim() == kl.trim())
            })
            .map(|i| i + 1);
        assert!(e.to_string().starts_with("bad.toml:"), "{name}: {e}");
        assert!(e.message.contains(needle), "{name}: {e}");
        assert_eq!(Some(e.line), line, "{name}: {e}");
    }
}

#[test]
fn the_lawful_path_runs_end_to_end() {
    let w = world();
    let op = ready(&w);
    let op = done(&w, &op, "legal_review", &w.legal);
    let op = done(&w, &op, "deconfliction", &w.cmdr);
    let op = check(
        &w,
        &op,
        &w.analyst,
        Command::Propose {
            why: "lead 1".into(),
        },
        "",
    );
    let op = check(
        &w,
        &op,
        &w.cmdr,
        Command::Approve {
            reason: "sound".into(),
        },
        "",
    );
    assert_eq!(op.state, OpState::Proposed, "one approval of two");
    let op = check(
        &w,
        &op,
        &w.cmdr2,
        Command::Approve {
            reason: "sound".into(),
        },
        "",
    );
    assert_eq!(op.state, OpState::Approved);
    let op = check(
        &w,
        &op,
        &w.cmdr,
        Command::Execute {
            why: "on schedule".into(),
        },
        "",
    );
    let outcome = Outcome {
        laboratory: LabFinding::Confirmed,
        seized: vec![rastro_ops::Seized {
            cas: "79-03-8".into(),
            quantity: 120.0,
            unit: "kg".into(),
        }],
        equipment: vec!["reactor".into()],
        arrests: 2,
        notes: String::new(),
    };
    let op = check(
        &w,
        &op,
        &w.cmdr,
        Command::Close {
            outcome: outcome.clone(),
            why: "found".into(),
        },
        "mandatory task(s) not done: after_action_report",
    );
    let op = done(&w, &op, "after_action_report", &w.cmdr);
    let op = check(
        &w,
        &op,
        &w.cmdr,
        Command::Close {
            outcome,
            why: "found".into(),
        },
        "",
    );
    assert_eq!(op.state, OpState::Closed);
    let states: Vec<&str> = op.history.iter().map(|t| t.to.as_str()).collect();
    assert!(
        states.ends_with(&["proposed", "proposed", "approved", "executed", "executed", "closed"]),
        "{states:?}"
    );
    assert!(op.history.iter().all(|t| !t.actor.is_empty()));
}

#[test]
fn every_unlawful_step_is_refused_and_changes_nothing() {
    let w = world();
    let draft = ready(&w);
    // Approving a draft.
    check(
        &w,
        &draft,
        &w.cmdr2,
        Command::Approve { reason: "x".into() },
        "in state draft",
    );
    // Closing before execution.
    check(
        &w,
        &draft,
        &w.cmdr,
        Command::Close {
            outcome: Outcome {
                laboratory: LabFinding::NotFound,
                seized: vec![],
                equipment: vec![],
                arrests: 0,
                notes: String::new(),
            },
            why: "x".into(),
        },
        "must be executed",
    );
    // A foreign user commanding, taking a ground role; a commander of another nation.
    check(
        &w,
        &draft,
        &w.analyst,
        Command::Edit(Edit {
            commander: Some(w.foreign_cmdr.clone()),
            why: "x".into(),
            ..Default::default()
        }),
        "commanded by the host nation",
    );
    check(
        &w,
        &draft,
        &w.analyst,
        Command::AddParticipant {
            person: w.liaison.clone(),
            role: OpRole::Ground,
        },
        "may not take the ground role [rule foreign.allowed_roles",
    );
    check(
        &w,
        &draft,
        &w.analyst,
        Command::Edit(Edit {
            commander: Some(w.cmdr2.clone()),
            why: "x".into(),
            ..Default::default()
        }),
        "must belong to the owning organisation",
    );
    // A foreign adviser is fine.
    check(
        &w,
        &draft,
        &w.analyst,
        Command::AddParticipant {
            person: w.liaison.clone(),
            role: OpRole::Advisory,
        },
        "",
    );
    // Dates in the wrong order.
    check(
        &w,
        &draft,
        &w.analyst,
        Command::Edit(Edit {
            schedule: Some(Schedule {
                start_ms: T0 + 10,
                end_ms: T0,
            }),
            why: "x".into(),
            ..Default::default()
        }),
        "before it starts",
    );
    // A non-owner kind cannot own.
    assert!(create(&w.law, &w.customs, "op-2", "x", T0)
        .unwrap_err()
        .to_string()
        .contains("may not own operations"));
    assert!(create(&w.law, &w.liaison, "op-2", "x", T0)
        .unwrap_err()
        .to_string()
        .contains("only organisations of the host nation"));

    // Approval before the mandatory legal review.
    let proposed = check(
        &w,
        &draft,
        &w.analyst,
        Command::Propose { why: "x".into() },
        "",
    );
    check(
        &w,
        &proposed,
        &w.cmdr2,
        Command::Approve { reason: "x".into() },
        "mandatory task(s) not done: deconfliction, legal_review [rule tasks",
    );
    let reviewed = done(
        &w,
        &done(&w, &proposed, "legal_review", &w.legal),
        "deconfliction",
        &w.cmdr,
    );
    // Only the legal reviewer does the legal review.
    let fresh = ready(&w);
    check(
        &w,
        &fresh,
        &w.cmdr,
        Command::CompleteTask {
            name: "legal_review".into(),
            note: "ok".into(),
        },
        "done by a participant in the legal_review role",
    );
    // A foreign user approving; the proposer approving; the same approver twice.
    check(
        &w,
        &reviewed,
        &w.foreign_cmdr,
        Command::Approve { reason: "x".into() },
        "only the host nation MX approves",
    );
    check(
        &w,
        &reviewed,
        &w.liaison,
        Command::Approve { reason: "x".into() },
        "only the host nation MX approves",
    );
    check(
        &w,
        &reviewed,
        &w.legal,
        Command::Approve { reason: "x".into() },
        "may not approve [rule approval.approver_roles",
    );
    check(
        &w,
        &reviewed,
        &w.legal,
        Command::Withdraw {
            why: "rework".into(),
        },
        "only the owning organisation SEMAR",
    );
    let own = check(
        &w,
        &done(
            &w,
            &done(&w, &ready(&w), "legal_review", &w.legal),
            "deconfliction",
            &w.cmdr,
        ),
        &w.cmdr,
        Command::Propose { why: "x".into() },
        "",
    );
    check(
        &w,
        &own,
        &w.cmdr,
        Command::Approve { reason: "x".into() },
        "proposed operation op-1 and may not approve it",
    );
    let once = check(
        &w,
        &reviewed,
        &w.cmdr3,
        Command::Approve { reason: "x".into() },
        "",
    );
    check(
        &w,
        &once,
        &w.cmdr3,
        Command::Approve {
            reason: "again".into(),
        },
        "approvers must be distinct",
    );
    // Executing by anyone but the commander, before approval.
    check(
        &w,
        &once,
        &w.cmdr,
        Command::Execute { why: "x".into() },
        "must be approved",
    );
    let approved = check(
        &w,
        &once,
        &w.cmdr2,
        Command::Approve { reason: "x".into() },
        "",
    );
    check(
        &w,
        &approved,
        &w.cmdr2,
        Command::Execute { why: "x".into() },
        "only the operation's commander",
    );
    // A stale version is a conflict, not a merge.
    let e = apply(
        &approved,
        &w.law,
        &w.cmdr,
        approved.version - 1,
        Command::Execute { why: "x".into() },
        T0,
    )
    .unwrap_err();
    assert!(matches!(e, OpError::Conflict { .. }), "{e}");
    // The proposer never counts: with the proposer as commander, two others still approve.
    assert_eq!(
        approved
            .approvals
            .iter()
            .filter(|a| Some(&a.user) == approved.proposer.as_ref())
            .count(),
        0
    );
}

#[test]
fn partners_see_only_the_facets_the_law_lists() {
    let w = world();
    let op = check(
        &w,
        &ready(&w),
        &w.analyst,
        Command::AddParticipant {
            person: w.liaison.clone(),
            role: OpRole::IntelligenceSupport,
        },
        "",
    );
    let before = match sight(&op, &w.law, &w.liaison, None) {
        Some(Sight::Partner(f)) => f,
        other => panic!("{other:?}"),
    };
    assert!(
        before.contains(&Facet::Objective)
            && !before.contains(&Facet::Site)
            && !before.contains(&Facet::Schedule)
    );
    assert_eq!(
        sight(&op, &w.law, &w.cmdr2, None),
        Some(Sight::Full),
        "host approvers see it"
    );
    assert_eq!(
        sight(&op, &w.law, &w.customs, None),
        None,
        "an uninvolved host analyst does not"
    );
    let other_partner = person("other", "NCA", "GB", OrgKind::ForeignLiaison, Role::Liaison);
    assert_eq!(sight(&op, &w.law, &other_partner, None), None);
    assert!(
        sight(&op, &w.law, &other_partner, Some("NCA")).is_some(),
        "the requester sees its answer"
    );
}

#[test]
fn requests_are_decided_by_the_host_and_expire() {
    let w = world();
    let day = 86_400_000;
    let area = RequestKind::Surveillance {
        of: Target::Area {
            min_lat: 24.0,
            min_lon: -108.0,
            max_lat: 25.0,
            max_lon: -107.0,
        },
    };
    let r = request::create(
        &w.law,
        &w.liaison,
        "req-1",
        area.clone(),
        "find the lab",
        "MLAT 2024-17",
        (T0, T0 + 5 * day),
        T0 + 7 * day,
        T0,
    )
    .unwrap();
    assert_eq!(r.state, RequestState::Pending);
    let org = w.liaison.org.clone();
    let why = |r: &Request, lat: f64, t: i64| r.why_not_covering(&org, "SYN-V-1", lat, -107.5, t);
    assert!(
        why(&r, 24.5, T0 + day).unwrap().contains("not yet decided"),
        "pending covers nothing"
    );
    // Host units do not ask; too long a validity; period reversed.
    assert!(request::create(
        &w.law,
        &w.cmdr,
        "req-2",
        area.clone(),
        "p",
        "b",
        (T0, T0 + day),
        T0 + day,
        T0
    )
    .unwrap_err()
    .to_string()
    .contains("act directly"));
    assert!(request::create(
        &w.law,
        &w.liaison,
        "req-2",
        area.clone(),
        "p",
        "b",
        (T0, T0 + day),
        T0 + 31 * day,
        T0
    )
    .unwrap_err()
    .to_string()
    .contains("max_validity_days"));
    assert!(request::create(
        &w.law,
        &w.liaison,
        "req-2",
        area.clone(),
        "p",
        "b",
        (T0 + day, T0),
        T0 + day,
        T0
    )
    .unwrap_err()
    .to_string()
    .contains("before it starts"));
    assert!(request::create(
        &w.law,
        &w.liaison,
        "req-2",
        area.clone(),
        "",
        "b",
        (T0, T0 + day),
        T0 + day,
        T0
    )
    .unwrap_err()
    .to_string()
    .contains("purpose is required"));
    // Partners and analysts do not decide; a reason is required.
    assert!(request::decide(&r, &w.law, &w.liaison, 1, true, "ok", T0)
        .unwrap_err()
        .to_string()
        .contains("host-nation deciders only"));
    assert!(request::decide(&r, &w.law, &w.analyst, 1, true, "ok", T0)
        .unwrap_err()
        .to_string()
        .contains("host-nation deciders only"));
    assert!(request::decide(&r, &w.law, &w.cmdr, 1, true, " ", T0).is_err());
    // An expired request cannot be approved.
    assert!(
        request::decide(&r, &w.law, &w.cmdr, 1, true, "ok", T0 + 8 * day)
            .unwrap_err()
            .to_string()
            .contains("expired")
    );
    let ok = request::decide(&r, &w.law, &w.cmdr, 1, true, "ok", T0 + day).unwrap();
    assert_eq!(why(&ok, 24.5, T0 + 2 * day), None);
    assert!(
        why(&ok, 26.0, T0 + 2 * day)
            .unwrap()
            .contains("outside request req-1's area"),
        "outside the area"
    );
    assert!(
        why(&ok, 24.5, T0 + 6 * day).unwrap().contains("window"),
        "outside the period"
    );
    assert!(
        why(&ok, 24.5, T0 + day / 2)
            .unwrap()
            .contains("approved after the sighting"),
        "collected before the approval"
    );
    assert!(
        ok.why_not_covering("SEMAR", "SYN-V-1", 24.5, -107.5, T0 + 2 * day)
            .unwrap()
            .contains("not SEMAR's"),
        "another organisation's request covers nothing of SEMAR's"
    );
    assert_eq!(ok.state_at(T0 + 7 * day), RequestState::Expired);
    assert!(
        request::decide(&ok, &w.law, &w.cmdr2, 2, false, "no", T0 + day)
            .unwrap_err()
            .to_string()
            .contains("already approved")
    );
}
