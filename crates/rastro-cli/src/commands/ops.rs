//! `rastro ops …` (operations under host-nation command) and `rastro law …` (the law file
//! for them). Every change is made as `--as USER` on the version last read (the current one
//! when `--version` is not given), checked against the law and audited.

use super::ctx;
use super::ctx::parse_time;
use super::Global;
use crate::output::print_json;
use anyhow::Context;
use clap::{Args, Subcommand};
use rastro_app::ops::OpsCommand;
use rastro_app::ops_views::OperationV1;
use rastro_ops::{LabFinding, OpRole, Outcome, Schedule, Seized, Site};
use std::path::PathBuf;
use std::process::ExitCode;

fn parse_role(s: &str) -> Result<OpRole, String> {
    OpRole::parse(s).ok_or_else(|| {
        format!(
            "unknown operation role {s:?}; one of: {}",
            OpRole::ALL.map(|r| r.as_str()).join(", ")
        )
    })
}

/// `label,lat,lon[,radius_m]` (the label may hold commas; the radius defaults to 250 m).
fn parse_site(s: &str) -> Result<Site, String> {
    let fields: Vec<&str> = s.split(',').map(str::trim).collect();
    let numeric = fields
        .iter()
        .rev()
        .take_while(|f| f.parse::<f64>().is_ok())
        .count();
    let n = match numeric.min(fields.len().saturating_sub(1)) {
        n @ (2 | 3) => n,
        _ => {
            return Err(format!(
                "site {s:?}: give label,lat,lon or label,lat,lon,radius_m"
            ))
        }
    };
    let (label, nums) = fields.split_at(fields.len() - n);
    let v: Vec<f64> = nums.iter().filter_map(|x| x.parse().ok()).collect();
    Ok(Site {
        label: label.join(","),
        lat: v[0],
        lon: v[1],
        radius_m: v.get(2).copied().unwrap_or(250.0),
    })
}

/// `CAS:QUANTITY:UNIT`, such as `79-03-8:120:kg`.
fn parse_seized(s: &str) -> Result<Seized, String> {
    let p: Vec<&str> = s.split(':').collect();
    match p.as_slice() {
        [cas, q, unit] => Ok(Seized {
            cas: cas.trim().into(),
            quantity: q
                .trim()
                .parse()
                .map_err(|_| format!("seized {s:?}: quantity {q:?} is not a number"))?,
            unit: unit.trim().into(),
        }),
        _ => Err(format!(
            "seized {s:?}: give CAS:QUANTITY:UNIT, such as 79-03-8:120:kg"
        )),
    }
}

#[derive(Args)]
pub struct Target {
    /// Operation id.
    pub id: String,
    /// The version the change is made on (from `ops show`); the current one if omitted.
    #[arg(long)]
    pub version: Option<u64>,
    #[arg(long)]
    pub json: bool,
}

#[derive(Subcommand)]
pub enum OpsCmd {
    /// Draft an operation owned by your organisation, from leads you can see.
    Create {
        id: String,
        #[arg(long)]
        objective: String,
        #[arg(long = "lead")]
        leads: Vec<String>,
        /// The approved partner request it answers.
        #[arg(long)]
        request: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Change a draft's plan: objective, commander, sites, schedule, linked leads and packages.
    Edit {
        #[command(flatten)]
        t: Target,
        #[arg(long)]
        objective: Option<String>,
        #[arg(long)]
        commander: Option<String>,
        /// `label,lat,lon[,radius_m]`; repeat for several (replaces the sites).
        #[arg(long = "site", value_parser = parse_site)]
        sites: Vec<Site>,
        #[arg(long, value_parser = parse_time, requires = "end")]
        start: Option<i64>,
        #[arg(long, value_parser = parse_time, requires = "start")]
        end: Option<i64>,
        #[arg(long = "lead")]
        leads: Vec<String>,
        #[arg(long = "package")]
        packages: Vec<String>,
        #[arg(long, default_value = "")]
        why: String,
    },
    /// Add a participant in a role: command is given by --commander; foreign personnel only
    /// in the roles the law allows.
    Join {
        #[command(flatten)]
        t: Target,
        #[arg(long)]
        user: String,
        #[arg(long, value_parser = parse_role)]
        role: OpRole,
    },
    /// Remove a participant from a draft.
    Leave {
        #[command(flatten)]
        t: Target,
        #[arg(long)]
        user: String,
    },
    /// Plan a task the law knows (--add NAME), or record one done (--done NAME --note TEXT).
    Task {
        #[command(flatten)]
        t: Target,
        #[arg(long, conflicts_with = "done")]
        add: Option<String>,
        #[arg(long, requires = "note")]
        done: Option<String>,
        #[arg(long)]
        note: Option<String>,
    },
    /// Propose a complete draft for approval (you never approve your own proposal).
    Propose {
        #[command(flatten)]
        t: Target,
        #[arg(long, default_value = "")]
        why: String,
    },
    /// Return a proposal to draft (its approvals are cleared).
    Withdraw {
        #[command(flatten)]
        t: Target,
        #[arg(long)]
        why: String,
    },
    /// Approve a proposal: host-nation approvers, distinct, never the proposer.
    Approve {
        #[command(flatten)]
        t: Target,
        #[arg(long)]
        reason: String,
    },
    /// Record that the approved operation was carried out (its commander).
    Execute {
        #[command(flatten)]
        t: Target,
        #[arg(long, default_value = "")]
        why: String,
    },
    /// Close an executed operation with its outcome (its commander).
    Close {
        #[command(flatten)]
        t: Target,
        /// `confirmed` or `not_found`.
        #[arg(long, value_parser = |s: &str| LabFinding::parse(s).ok_or_else(|| format!("{s:?}: give confirmed or not_found")))]
        lab: LabFinding,
        /// `CAS:QUANTITY:UNIT`; repeat for several.
        #[arg(long = "seized", value_parser = parse_seized)]
        seized: Vec<Seized>,
        #[arg(long = "equipment")]
        equipment: Vec<String>,
        #[arg(long, default_value_t = 0)]
        arrests: u32,
        #[arg(long, default_value = "")]
        notes: String,
        #[arg(long, default_value = "")]
        why: String,
    },
    /// Cancel an operation that is not closed (its commander, or a commander of its owner).
    Cancel {
        #[command(flatten)]
        t: Target,
        #[arg(long)]
        why: String,
    },
    /// One operation, as you may see it.
    Show {
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// Operations you may see.
    List {
        #[arg(long)]
        json: bool,
    },
    /// What closed operations taught: hit rates per evidence kind.
    Rates {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
pub enum LawCmd {
    /// Check a law file: prints its rules, or the line that is wrong.
    Check { file: PathBuf },
    /// Put a law file in force on this node (the operator's; audited).
    Set { file: PathBuf },
    /// Print the law in force.
    Show,
}

pub fn print_op(o: &OperationV1) {
    println!(
        "{} ({} view) owned by {}{}",
        o.id,
        o.view,
        o.owner_org,
        o.version
            .map(|v| format!(", version {v}"))
            .unwrap_or_default()
    );
    if let Some(s) = &o.state {
        println!("state {s}");
    }
    if let Some(x) = &o.objective {
        println!("objective: {x}");
    }
    if let Some(c) = &o.commander {
        println!("commander {c}");
    }
    if let (Some(s), Some(e)) = (&o.start, &o.end) {
        println!("schedule {s} to {e}");
    }
    for s in o.sites.iter().flatten() {
        println!(
            "site {}: {:.5}, {:.5} (radius {} m)",
            s.label, s.lat, s.lon, s.radius_m
        );
    }
    for p in o.participants.iter().flatten() {
        println!(
            "participant {} ({}, {}) as {}",
            p.user, p.org, p.nation, p.role
        );
    }
    for t in o.tasks.iter().flatten() {
        println!(
            "task {}{} by {}: {}",
            t.name,
            if t.mandatory { " (mandatory)" } else { "" },
            t.done_by_role,
            match (&t.done_by, &t.done_time) {
                (Some(u), Some(at)) =>
                    format!("done by {u} at {at}: {}", t.note.as_deref().unwrap_or("")),
                _ => "open".into(),
            }
        );
    }
    if !o.leads.is_empty() {
        println!("leads {}", o.leads.join(", "));
    }
    if !o.packages.is_empty() {
        println!("packages {}", o.packages.join(", "));
    }
    if let (Some(a), Some(n)) = (&o.approvals, o.approvals_required) {
        println!(
            "approvals {}/{n}{}",
            a.len(),
            o.proposer
                .as_ref()
                .map(|p| format!(" (proposed by {p}, who does not count)"))
                .unwrap_or_default()
        );
        for x in a {
            println!(
                "  approved by {} ({}) at {}: {}",
                x.user, x.org, x.time, x.reason
            );
        }
    }
    if let Some(out) = &o.outcome {
        println!(
            "outcome: laboratory {}, {} arrests, seized {}, equipment {}{}",
            out.laboratory,
            out.arrests,
            if out.seized.is_empty() {
                "nothing".into()
            } else {
                out.seized
                    .iter()
                    .map(|s| format!("{} {} {}", s.cas, s.quantity, s.unit))
                    .collect::<Vec<_>>()
                    .join(", ")
            },
            if out.equipment.is_empty() {
                "none".into()
            } else {
                out.equipment.join(", ")
            },
            if out.notes.is_empty() {
                String::new()
            } else {
                format!("; {}", out.notes)
            }
        );
    }
    for h in &o.history {
        match (&h.action, &h.actor) {
            (Some(a), Some(u)) => println!(
                "  {} {a} by {u}: {} -> {}{}",
                h.time,
                h.from.as_deref().unwrap_or(""),
                h.to,
                h.why
                    .as_deref()
                    .filter(|w| !w.is_empty())
                    .map(|w| format!(" ({w})"))
                    .unwrap_or_default()
            ),
            _ => println!("  {} {}", h.time, h.to),
        }
    }
}

fn show(o: &OperationV1, json: bool) -> anyhow::Result<()> {
    if json {
        print_json(o)
    } else {
        print_op(o);
        Ok(())
    }
}

pub fn ops(g: &Global, cmd: OpsCmd) -> anyhow::Result<ExitCode> {
    let mut node = ctx::node(g)?;
    let now = ctx::now_ms();
    let (t, change) = match cmd {
        OpsCmd::Create {
            id,
            objective,
            leads,
            request,
            json,
        } => {
            let r = ctx::guard(g, &mut node)?.create_operation(
                &id,
                &objective,
                &leads,
                request.as_deref(),
                now,
            );
            return match r {
                Ok(o) => {
                    ctx::sign_after_write(&mut node)?;
                    show(&o, json)?;
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => ctx::refused(e),
            };
        }
        OpsCmd::Show { id, json } => {
            return match ctx::guard(g, &mut node)?.operation(&id)? {
                Some(o) => {
                    show(&o, json)?;
                    Ok(ExitCode::SUCCESS)
                }
                None => Ok(ctx::missing(
                    "operation",
                    &id,
                    "`rastro ops list` lists those you may see",
                )),
            };
        }
        OpsCmd::List { json } => {
            let list = ctx::guard(g, &mut node)?.operations()?;
            if json {
                print_json(&list)?;
            } else {
                for o in &list {
                    println!(
                        "{}\t{}\t{}\t{}",
                        o.id,
                        o.state.as_deref().unwrap_or("-"),
                        o.owner_org,
                        o.objective.as_deref().unwrap_or("-")
                    );
                }
                if list.is_empty() {
                    eprintln!("no operations you may see");
                }
            }
            return Ok(ExitCode::SUCCESS);
        }
        OpsCmd::Rates { json } => {
            let r = ctx::guard(g, &mut node)?.hit_rates()?;
            if json {
                print_json(&r)?;
            } else {
                for k in &r {
                    println!(
                        "{:<20} {:>3} hits / {:>3} trials  rate {:.3}",
                        k.kind, k.hits, k.trials, k.rate
                    );
                }
                if r.is_empty() {
                    eprintln!("no closed operation whose outcome your organisation may see");
                }
            }
            return Ok(ExitCode::SUCCESS);
        }
        OpsCmd::Edit {
            t,
            objective,
            commander,
            sites,
            start,
            end,
            leads,
            packages,
            why,
        } => {
            let schedule = start
                .zip(end)
                .map(|(start_ms, end_ms)| Schedule { start_ms, end_ms });
            let sites = (!sites.is_empty()).then_some(sites);
            (
                t,
                OpsCommand::Edit {
                    objective,
                    commander,
                    sites,
                    schedule,
                    add_leads: leads,
                    add_packages: packages,
                    why,
                },
            )
        }
        OpsCmd::Join { t, user, role } => (t, OpsCommand::Join { user, role }),
        OpsCmd::Leave { t, user } => (t, OpsCommand::Leave { user }),
        OpsCmd::Task { t, add, done, note } => match (add, done) {
            (Some(name), None) => (t, OpsCommand::AddTask { name }),
            (None, Some(name)) => (
                t,
                OpsCommand::Task {
                    name,
                    note: note.unwrap_or_default(),
                },
            ),
            _ => anyhow::bail!("give --add NAME, or --done NAME --note TEXT"),
        },
        OpsCmd::Propose { t, why } => (t, OpsCommand::Propose { why }),
        OpsCmd::Withdraw { t, why } => (t, OpsCommand::Withdraw { why }),
        OpsCmd::Approve { t, reason } => (t, OpsCommand::Approve { reason }),
        OpsCmd::Execute { t, why } => (t, OpsCommand::Execute { why }),
        OpsCmd::Close {
            t,
            lab,
            seized,
            equipment,
            arrests,
            notes,
            why,
        } => (
            t,
            OpsCommand::Close {
                outcome: Outcome {
                    laboratory: lab,
                    seized,
                    equipment,
                    arrests,
                    notes,
                },
                why,
            },
        ),
        OpsCmd::Cancel { t, why } => (t, OpsCommand::Cancel { why }),
    };
    let mut guard = ctx::guard(g, &mut node)?;
    match guard.act_on_operation(&t.id, t.version, change, now) {
        Ok(Some(o)) => {
            drop(guard);
            ctx::sign_after_write(&mut node)?;
            show(&o, t.json)?;
            Ok(ExitCode::SUCCESS)
        }
        Ok(None) => Ok(ctx::missing(
            "operation",
            &t.id,
            "`rastro ops list` lists those you may see",
        )),
        Err(e) => ctx::refused(e),
    }
}

pub fn law(g: &Global, cmd: LawCmd) -> anyhow::Result<ExitCode> {
    match cmd {
        LawCmd::Check { file } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("reading {}", file.display()))?;
            match rastro_ops::Law::parse(&file.display().to_string(), &text) {
                Ok(l) => {
                    print_law(&l);
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    Ok(ExitCode::from(ctx::REFUSED))
                }
            }
        }
        LawCmd::Set { file } => {
            ctx::operator_only(g, "law set")?;
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("reading {}", file.display()))?;
            let mut node = ctx::node(g)?;
            match node.admin().set_law(&file.display().to_string(), &text) {
                Ok(l) => {
                    ctx::sign_after_write(&mut node)?;
                    eprintln!(
                        "law {} in force for host nation {}",
                        file.display(),
                        l.host_nation
                    );
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => ctx::refused(e),
            }
        }
        LawCmd::Show => {
            let mut node = ctx::node(g)?;
            let (_, text) = node.admin().law()?;
            print!("{text}");
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn print_law(l: &rastro_ops::Law) {
    let roles =
        |v: &[rastro_app::Role]| v.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(", ");
    println!("host nation {}", l.host_nation);
    println!(
        "owner kinds {}",
        l.owner_kinds
            .iter()
            .map(|k| k.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!(
        "commanders {}; planners {}; approvers {} ({} distinct, never the proposer)",
        roles(&l.commander_roles),
        roles(&l.planner_roles),
        roles(&l.approver_roles),
        l.approvers_required
    );
    for (name, t) in &l.tasks {
        println!(
            "task {name}: {}before {:?}, done by {}",
            if t.mandatory { "mandatory " } else { "" },
            t.before,
            t.done_by.as_str()
        );
    }
    println!(
        "foreign roles {}",
        l.foreign_roles
            .iter()
            .map(|r| r.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    );
    let facets = |s: &std::collections::BTreeSet<rastro_ops::Facet>| {
        s.iter().map(|f| f.as_str()).collect::<Vec<_>>().join(", ")
    };
    println!(
        "partners see before execution: {}; after: {}",
        facets(&l.partner_before),
        facets(&l.partner_after)
    );
    println!(
        "requests decided by {}, valid at most {} days",
        roles(&l.request_decider_roles),
        l.request_max_validity_days
    );
}
