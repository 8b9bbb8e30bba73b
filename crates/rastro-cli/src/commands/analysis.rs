//! `rastro analyze`, `rastro alerts`, `rastro alert triage`, `rastro consignment list|show`.

use super::ctx;
use super::Global;
use crate::output::print_json;
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rastro_app::{AlertFilter, AnalyzeReport};
use rastro_core::{ConsignmentStatus, Record, Typology};
use std::io::IsTerminal;
use std::process::ExitCode;

#[derive(Args)]
pub struct AnalyzeArgs {
    /// Re-analyse everything instead of only what changed since the last run.
    #[arg(long)]
    pub full: bool,
    /// Analysis clock (RFC 3339) for status and ETA; defaults to now.
    #[arg(long)]
    pub now: Option<String>,
    /// Machine-readable report on stdout.
    #[arg(long)]
    pub json: bool,
}

pub fn now_ms() -> i64 {
    ctx::now_ms()
}

/// Runs analysis as the system actor with the settings stored in the database.
pub fn run_analyze(g: &Global, a: &AnalyzeArgs) -> anyhow::Result<AnalyzeReport> {
    let mut node = ctx::node(g)?;
    let now = match &a.now {
        Some(t) => rastro_core::parse_time_ms(t).map_err(|e| anyhow::anyhow!("--now: {e}"))?,
        None => now_ms(),
    };
    let bar = ProgressBar::with_draw_target(
        None,
        if g.quiet || !std::io::stderr().is_terminal() {
            ProgressDrawTarget::hidden()
        } else {
            ProgressDrawTarget::stderr()
        },
    );
    bar.set_style(
        ProgressStyle::with_template("analysing [{bar:30}] {pos}/{len} consignments eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    let report = node
        .system("analysis")
        .analyze(now, a.full, &|done, total| {
            bar.set_length(total as u64);
            bar.set_position(done as u64);
        })?;
    bar.finish_and_clear();
    ctx::sign_after_write(&mut node)?;
    Ok(report)
}

pub fn analyze_cmd(g: &Global, a: AnalyzeArgs) -> anyhow::Result<ExitCode> {
    ctx::operator_only(g, "analyze")?;
    let t0 = std::time::Instant::now();
    let report = run_analyze(g, &a)?;
    if a.json {
        print_json(&report)?;
    } else {
        println!(
            "analysed {} of {} consignments in {:.1} s ({} fixes used, {} rejected; {} consignments without observations; {} unlinked subjects; {} undeclared consignment ids in custody)",
            report.consignments_analysed,
            report.consignments_total,
            t0.elapsed().as_secs_f64(),
            report.fixes_used,
            report.fixes_rejected,
            report.consignments_without_observations,
            report.unlinked_subjects,
            report.undeclared_consignment_ids
        );
        for (t, n) in &report.alerts {
            println!("  {t:<24} {n} alerts");
        }
        let l = &report.leads;
        println!(
            "leads: {} from {} evidence items over {} cells ({} with evidence, {} significant); {} routine deliveries as background",
            l.leads,
            l.evidence.values().sum::<usize>(),
            l.cells_analysed,
            l.cells_with_evidence,
            l.significant_cells,
            l.routine_deliveries
        );
        println!("views (one per set of audiences that see the same data):");
        for v in &report.views {
            println!(
                "  {:<40} {} consignments visible, {} analysed ({} shared with another view), {} alerts, {} leads{}",
                v.audiences.join(" "),
                v.consignments_visible,
                v.consignments_analysed,
                v.consignments_shared,
                v.alerts.values().sum::<u64>(),
                v.leads.leads,
                if v.full { ", from scratch" } else { "" }
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn parse_typology(s: &str) -> Result<Typology, String> {
    Typology::parse(s).ok_or_else(|| {
        format!(
            "unknown typology {s:?}; one of: {}",
            Typology::ALL.map(|t| t.as_str()).join(", ")
        )
    })
}

#[derive(Args)]
pub struct AlertsArgs {
    #[arg(long, value_parser = parse_typology)]
    pub typology: Option<Typology>,
    /// Only alerts at or after this time (RFC 3339).
    #[arg(long)]
    pub since: Option<String>,
    #[arg(long, default_value_t = 1000)]
    pub limit: u32,
    #[arg(long)]
    pub json: bool,
}

pub fn alerts(g: &Global, a: AlertsArgs) -> anyhow::Result<ExitCode> {
    let mut node = ctx::node(g)?;
    let since_ms = a
        .since
        .as_deref()
        .map(rastro_core::parse_time_ms)
        .transpose()
        .map_err(|e| anyhow::anyhow!("--since: {e}"))?;
    let list = ctx::guard(g, &mut node)?.alerts(&AlertFilter {
        typology: a.typology,
        since_ms,
        subject: None,
        limit: Some(a.limit),
    })?;
    if a.json {
        print_json(&list)?;
    } else {
        for al in &list {
            println!(
                "{:.2} {:<22} {:<16} {} {} [{}] {}",
                al.score,
                al.typology,
                al.subject,
                al.time,
                al.marking.text,
                al.evidence.len(),
                al.summary
            );
        }
        if list.is_empty() {
            eprintln!("no alerts; run `rastro analyze` after ingesting");
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Subcommand)]
pub enum AlertCmd {
    /// Record your organisation's triage of an alert: acknowledged, escalated, or dismissed
    /// (with --reason). Host-nation analysts and commanders; audited.
    Triage {
        id: String,
        #[arg(value_parser = ["acknowledged", "dismissed", "escalated"])]
        state: String,
        #[arg(long)]
        reason: Option<String>,
    },
}

pub fn alert(g: &Global, cmd: AlertCmd) -> anyhow::Result<ExitCode> {
    let AlertCmd::Triage { id, state, reason } = cmd;
    let mut node = ctx::node(g)?;
    let outcome = ctx::guard(g, &mut node)?.triage_alert(&id, &state, reason.as_deref(), now_ms());
    match outcome {
        Ok(true) => {
            ctx::sign_after_write(&mut node)?;
            println!("{id}: {state}");
            Ok(ExitCode::SUCCESS)
        }
        Ok(false) => Ok(ctx::missing("alert", &id, "`rastro alerts` lists them")),
        Err(e) => ctx::refused(e),
    }
}

fn parse_status(s: &str) -> Result<ConsignmentStatus, String> {
    ConsignmentStatus::parse(s).ok_or_else(|| {
        format!(
            "unknown status {s:?}; one of: {}",
            ConsignmentStatus::choices()
        )
    })
}

#[derive(Subcommand)]
pub enum ConsignmentCmd {
    /// Consignments you may see, with their status.
    List {
        #[arg(long, value_parser = parse_status)]
        status: Option<ConsignmentStatus>,
        #[arg(long, default_value_t = 100)]
        limit: usize,
        #[arg(long)]
        json: bool,
    },
    /// Custody, track (GeoJSON), status and alerts with evidence for one consignment.
    Show {
        id: String,
        #[arg(long)]
        json: bool,
    },
}

pub fn consignment(g: &Global, cmd: ConsignmentCmd) -> anyhow::Result<ExitCode> {
    let mut node = ctx::node(g)?;
    let mut guard = ctx::guard(g, &mut node)?;
    match cmd {
        ConsignmentCmd::List {
            status,
            limit,
            json,
        } => {
            let list = guard.consignments(status, limit)?;
            if json {
                print_json(&list)?;
            } else {
                for c in &list {
                    if let Record::Consignment(x) = &c.consignment {
                        println!(
                            "{:<16} {:<12} {} {} {} {} -> {}",
                            x.id,
                            c.status
                                .and_then(|s| serde_json::to_value(s).ok())
                                .and_then(|v| v.as_str().map(str::to_string))
                                .unwrap_or_else(|| "-".into()),
                            x.marking,
                            x.cas,
                            x.quantity,
                            x.unit,
                            x.destination
                        );
                    }
                }
            }
        }
        ConsignmentCmd::Show { id, json } => {
            let Some(c) = guard.consignment(&id)? else {
                return Ok(ctx::missing(
                    "consignment",
                    &id,
                    "`rastro consignment list` lists them",
                ));
            };
            if json {
                print_json(&c)?;
            } else {
                if let Record::Consignment(x) = &c.consignment {
                    println!(
                        "{} {} {} {} {} -> {} via {} ({})",
                        x.id,
                        x.marking,
                        x.cas,
                        x.description,
                        format_args!("{} {}", x.quantity, x.unit),
                        x.destination,
                        x.port,
                        x.declaration
                    );
                }
                println!(
                    "status {}, eta {}",
                    c.status
                        .and_then(|s| serde_json::to_value(s).ok())
                        .and_then(|v| v.as_str().map(str::to_string))
                        .unwrap_or_else(|| "-".into()),
                    c.eta.as_deref().unwrap_or("-")
                );
                for e in &c.custody {
                    if let Record::Custody(e) = e {
                        println!(
                            "  {} {:<9} {} {}",
                            rastro_core::format_time_ms(e.time_ms),
                            e.event,
                            e.place.as_deref().unwrap_or("-"),
                            e.id
                        );
                    }
                }
                println!(
                    "track: {} points (use --json for GeoJSON)",
                    c.track.properties["fixes"].as_u64().unwrap_or(0)
                );
                for a in &c.alerts {
                    println!(
                        "  ALERT {:.2} {} {}: {} evidence: {}",
                        a.score,
                        a.typology,
                        a.marking.text,
                        a.summary,
                        a.evidence.join(", ")
                    );
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
