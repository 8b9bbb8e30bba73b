//! `rastro leads` and `rastro lead show|status`: ranked candidate sites with their evidence.

use super::data::open_store;
use super::Global;
use crate::output::print_json;
use clap::{Args, Subcommand};
use rastro_core::{Lead, LeadStatus};
use std::process::ExitCode;

#[derive(Args)]
pub struct LeadsArgs {
    #[arg(long, default_value_t = 50)]
    pub limit: u32,
    #[arg(long, conflicts_with = "geojson")]
    pub json: bool,
    /// Print the leads as a GeoJSON (RFC 7946) FeatureCollection of their H3 cells.
    #[arg(long)]
    pub geojson: bool,
}

fn parse_status(s: &str) -> Result<LeadStatus, String> {
    LeadStatus::parse(s).ok_or_else(|| {
        format!(
            "unknown status {s:?}; one of: {}",
            LeadStatus::ALL.map(|t| t.as_str()).join(", ")
        )
    })
}

#[derive(Subcommand)]
pub enum LeadCmd {
    /// One lead with every piece of evidence and what it contributes.
    Show {
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// Record a decision: new, under_review, released, actioned, closed (with --note saying
    /// the outcome). The decision is kept across recomputation and written to the audit log.
    Status {
        id: String,
        #[arg(value_parser = parse_status)]
        status: LeadStatus,
        #[arg(long)]
        note: Option<String>,
    },
    /// Release a lead to partner organisations or nations (host-nation commanders only): an
    /// explicit, audited widening of its marking. Its evidence stays under its own markings.
    Release {
        id: String,
        /// Organisation code or ISO 3166 nation; repeat for several.
        #[arg(long = "to", required = true)]
        to: Vec<String>,
    },
}

/// Prints the outcome of a decision made through the guard; the exit code says whether it
/// was made.
fn decided(
    g: &Global,
    store: &mut rastro_store::Store,
    id: &str,
    outcome: Result<Option<Lead>, rastro_policy::GuardError>,
    show: impl Fn(&Lead) -> String,
) -> anyhow::Result<ExitCode> {
    match outcome {
        Ok(Some(l)) => {
            super::audit::sign_after_write(g, store)?;
            println!("{}", show(&l));
            Ok(ExitCode::SUCCESS)
        }
        Ok(None) => {
            eprintln!("error: no lead {id:?}; `rastro leads` lists them");
            Ok(ExitCode::from(1))
        }
        Err(rastro_policy::GuardError::Forbidden(m) | rastro_policy::GuardError::Invalid(m)) => {
            eprintln!("error: {m}");
            Ok(ExitCode::from(1))
        }
        Err(e) => Err(e.into()),
    }
}

pub fn leads(g: &Global, a: LeadsArgs) -> anyhow::Result<ExitCode> {
    let mut store = open_store(g)?;
    let list = super::access::guard(g, &mut store)?.leads(a.limit)?;
    if a.geojson {
        print_json(&rastro_core::lead::geojson(&list))?;
    } else if a.json {
        print_json(&list)?;
    } else {
        for l in &list {
            println!(
                "{:>3} {:>7.2} {:<24} {:>9.5} {:>10.5} {:<13} {} {}",
                l.rank,
                l.score,
                l.id,
                l.lat,
                l.lon,
                l.status.as_str(),
                l.marking,
                l.summary
            );
        }
        if list.is_empty() {
            eprintln!("no leads; run `rastro analyze` after ingesting");
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn lead(g: &Global, cmd: LeadCmd) -> anyhow::Result<ExitCode> {
    let mut store = open_store(g)?;
    match cmd {
        LeadCmd::Show { id, json } => {
            let Some(l) = super::access::guard(g, &mut store)?.lead(&id)? else {
                eprintln!("error: no lead {id:?}; `rastro leads` lists them");
                return Ok(ExitCode::from(1));
            };
            if json {
                print_json(&l)?;
            } else {
                println!(
                    "{} rank {} score {:.2} at {:.5}, {:.5} ({} cells at H3 resolution {}) {}",
                    l.id,
                    l.rank,
                    l.score,
                    l.lat,
                    l.lon,
                    l.cells.len(),
                    l.resolution,
                    l.marking
                );
                println!(
                    "status {}{}",
                    l.status,
                    l.status_note
                        .as_deref()
                        .map(|n| format!(": {n}"))
                        .unwrap_or_default()
                );
                println!(
                    "evidence mass {:.3} less background {:.3}, {} kinds, Gi* z {:.2} (p {:.2e}); last evidence {}",
                    l.evidence_mass,
                    l.background,
                    l.kinds,
                    l.z_max,
                    l.p_min,
                    rastro_core::format_time_ms(l.last_seen_ms)
                );
                println!(
                    "{:>8} {:<18} {:<22} {:<25} {:<10} origin",
                    "contrib", "kind", "detail", "time", "marking"
                );
                for c in &l.evidence {
                    let e = &c.evidence;
                    println!(
                        "{:>8.3} {:<18} {:<22} {:<25} {:<10} {}",
                        c.contribution,
                        e.kind.as_str(),
                        e.detail,
                        rastro_core::format_time_ms(e.time_ms),
                        e.marking.tlp.to_string(),
                        e.origin
                    );
                }
            }
        }
        LeadCmd::Status { id, status, note } => {
            let now = super::analysis::now_ms();
            let outcome = super::access::guard(g, &mut store)?.set_lead_status(
                &id,
                status,
                note.as_deref(),
                now,
            );
            return decided(g, &mut store, &id, outcome, |l| {
                format!("{} is now {}", l.id, l.status)
            });
        }
        LeadCmd::Release { id, to } => {
            let now = super::analysis::now_ms();
            let outcome = super::access::guard(g, &mut store)?.release_lead(&id, &to, now);
            return decided(g, &mut store, &id, outcome, |l| {
                format!("{} is now {}", l.id, l.marking)
            });
        }
    }
    Ok(ExitCode::SUCCESS)
}
