//! `rastro leads`, `rastro lead show|status|release`, `rastro releases`, `rastro release
//! show|revoke`: ranked candidate sites, decisions on them, and frozen releases.

use super::ctx;
use super::Global;
use crate::output::print_json;
use clap::{Args, Subcommand};
use rastro_app::views::{LeadV1, ReleaseV1};
use rastro_core::LeadStatus;
use std::process::ExitCode;

#[derive(Args)]
pub struct LeadsArgs {
    #[arg(long, default_value_t = 50)]
    pub limit: u32,
    #[arg(long, conflicts_with = "geojson")]
    pub json: bool,
    /// Print your leads and the releases reaching you as a GeoJSON (RFC 7946)
    /// FeatureCollection of their H3 cells.
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
    /// Record your organisation's decision: new, under_review, released, actioned, closed
    /// (with --note saying the outcome). Kept across recomputation and audited.
    Status {
        id: String,
        #[arg(value_parser = parse_status)]
        status: LeadStatus,
        #[arg(long)]
        note: Option<String>,
    },
    /// Release a lead, as you see it now, to named recipients (host-nation commanders only):
    /// a frozen snapshot bound to its SHA-256. A TLP:RED lead goes to organisations only.
    Release {
        id: String,
        /// Organisation code (or, below RED, ISO 3166 nation); repeat for several.
        #[arg(long = "to", required = true)]
        to: Vec<String>,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Args)]
pub struct ReleasesArgs {
    #[arg(long)]
    pub json: bool,
}

#[derive(Subcommand)]
pub enum ReleaseCmd {
    /// One release: the lead as it was released.
    Show {
        id: i64,
        #[arg(long)]
        json: bool,
    },
    /// Revoke a release of your organisation: its recipients no longer see it.
    Revoke { id: i64 },
}

fn print_lead_line(l: &LeadV1) {
    println!(
        "{:>3} {:>7.2} {:<24} {:>9.5} {:>10.5} {:<13} {} {}{}",
        l.rank,
        l.score,
        l.id,
        l.lat,
        l.lon,
        l.status,
        l.marking.text,
        l.summary,
        if l.releases
            .iter()
            .any(|r| r.changed_since_release && !r.revoked)
        {
            " [changed since release]"
        } else {
            ""
        }
    );
}

fn print_release_line(r: &ReleaseV1) {
    println!(
        "release {:<4} {} by {} to {} sha256 {}{} : {} ({})",
        r.release,
        r.time,
        r.released_by,
        r.recipients.join(";"),
        &r.sha256[..16.min(r.sha256.len())],
        if r.revoked { " REVOKED" } else { "" },
        r.lead.id,
        r.lead.summary
    );
}

pub fn leads(g: &Global, a: LeadsArgs) -> anyhow::Result<ExitCode> {
    let mut node = ctx::node(g)?;
    let mut guard = ctx::guard(g, &mut node)?;
    if a.geojson {
        print_json(&guard.leads_geojson(a.limit)?)?;
        return Ok(ExitCode::SUCCESS);
    }
    let list = guard.leads(a.limit)?;
    if a.json {
        print_json(&list)?;
    } else {
        for l in &list {
            print_lead_line(l);
        }
        if list.is_empty() {
            eprintln!("no leads; run `rastro analyze` after ingesting (`rastro releases` lists leads released to you)");
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn lead(g: &Global, cmd: LeadCmd) -> anyhow::Result<ExitCode> {
    let mut node = ctx::node(g)?;
    match cmd {
        LeadCmd::Show { id, json } => {
            let Some(l) = ctx::guard(g, &mut node)?.lead(&id)? else {
                return Ok(ctx::missing("lead", &id, "`rastro leads` lists them"));
            };
            if json {
                print_json(&l)?;
                return Ok(ExitCode::SUCCESS);
            }
            println!(
                "{} rank {} score {:.2} at {:.5}, {:.5} ({} cells at H3 resolution {}) {}",
                l.id,
                l.rank,
                l.score,
                l.lat,
                l.lon,
                l.cells.len(),
                l.resolution,
                l.marking.text
            );
            println!(
                "status {}{}",
                l.status,
                l.status_note
                    .as_deref()
                    .map(|n| format!(": {n}"))
                    .unwrap_or_default()
            );
            for r in &l.releases {
                println!(
                    "released (release {}) {} to {}{}{}",
                    r.release,
                    r.time,
                    r.recipients.join(";"),
                    if r.revoked { ", revoked" } else { "" },
                    if r.changed_since_release {
                        "; the lead has changed since: decide again"
                    } else {
                        ""
                    }
                );
            }
            println!(
                "evidence mass {:.3} less background {:.3}, {} kinds, Gi* z {:.2} (p {:.2e}); last evidence {}",
                l.evidence_mass, l.background, l.kinds, l.z_max, l.p_min, l.last_seen
            );
            println!(
                "{:>8} {:<18} {:<22} {:<25} {:<10} origin",
                "contrib", "kind", "detail", "time", "marking"
            );
            for c in &l.evidence {
                println!(
                    "{:>8.3} {:<18} {:<22} {:<25} {:<10} {}",
                    c.contribution, c.kind, c.detail, c.time, c.marking.tlp, c.origin
                );
            }
            if l.hit_rates.is_empty() {
                println!("no closed operation of your organisation has acted on these evidence kinds yet");
            }
            for r in &l.hit_rates {
                println!(
                    "operations taught: {} found a laboratory {} of {} times (rate {:.2}, Laplace-smoothed)",
                    r.kind, r.hits, r.trials, r.rate
                );
            }
        }
        LeadCmd::Status { id, status, note } => {
            let outcome = ctx::guard(g, &mut node)?.set_lead_status(
                &id,
                status,
                note.as_deref(),
                ctx::now_ms(),
            );
            match outcome {
                Ok(Some(l)) => {
                    ctx::sign_after_write(&mut node)?;
                    println!("{} is now {}", l.id, l.status);
                }
                Ok(None) => return Ok(ctx::missing("lead", &id, "`rastro leads` lists them")),
                Err(e) => return ctx::refused(e),
            }
        }
        LeadCmd::Release { id, to, json } => {
            let outcome = ctx::guard(g, &mut node)?.release_lead(&id, &to, ctx::now_ms());
            match outcome {
                Ok(Some(r)) => {
                    ctx::sign_after_write(&mut node)?;
                    if json {
                        print_json(&r)?;
                    } else {
                        print_release_line(&r);
                    }
                }
                Ok(None) => return Ok(ctx::missing("lead", &id, "`rastro leads` lists them")),
                Err(e) => return ctx::refused(e),
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn releases(g: &Global, a: ReleasesArgs) -> anyhow::Result<ExitCode> {
    let mut node = ctx::node(g)?;
    let list = ctx::guard(g, &mut node)?.releases()?;
    if a.json {
        print_json(&list)?;
    } else {
        for r in &list {
            print_release_line(r);
        }
        if list.is_empty() {
            eprintln!("no releases reach you");
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn release(g: &Global, cmd: ReleaseCmd) -> anyhow::Result<ExitCode> {
    let mut node = ctx::node(g)?;
    match cmd {
        ReleaseCmd::Show { id, json } => {
            let Some(r) = ctx::guard(g, &mut node)?.release(id)? else {
                return Ok(ctx::missing(
                    "release",
                    &id.to_string(),
                    "`rastro releases` lists them",
                ));
            };
            if json {
                print_json(&r)?;
            } else {
                print_release_line(&r);
                for c in &r.lead.evidence {
                    println!(
                        "  {:>8.3} {:<18} {:<22} {}",
                        c.contribution, c.kind, c.detail, c.origin
                    );
                }
            }
        }
        ReleaseCmd::Revoke { id } => {
            let outcome = ctx::guard(g, &mut node)?.revoke_release(id, ctx::now_ms());
            match outcome {
                Ok(true) => {
                    ctx::sign_after_write(&mut node)?;
                    println!("release {id} revoked");
                }
                Ok(false) => {
                    return Ok(ctx::missing(
                        "release",
                        &id.to_string(),
                        "`rastro releases` lists yours",
                    ))
                }
                Err(e) => return ctx::refused(e),
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
