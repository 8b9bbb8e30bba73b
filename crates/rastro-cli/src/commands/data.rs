//! `rastro ingest`, `rastro quarantine`, `rastro stats`, `rastro observations`.

use super::ctx;
use super::Global;
use crate::output::{print_json, Bar};
use anyhow::Context;
use clap::Args;
use rastro_app::{FileReport, IngestOptions};
use rastro_core::{Kind, Record};
use std::path::PathBuf;
use std::process::ExitCode;

pub(super) fn parse_kind(s: &str) -> Result<Kind, String> {
    Kind::parse(s).ok_or_else(|| {
        format!(
            "unknown kind {s:?}; one of: {}",
            Kind::ALL.map(|k| k.as_str()).join(", ")
        )
    })
}

#[derive(Args)]
pub struct IngestArgs {
    /// Files to ingest (CSV with a header row, or JSON Lines).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Record kind of every file; checked against each header.
    #[arg(long, value_parser = parse_kind)]
    pub kind: Option<Kind>,
    /// Exit with status 1 if any record was quarantined.
    #[arg(long)]
    pub strict: bool,
    /// Records per transaction.
    #[arg(long, default_value_t = 8192)]
    pub batch_rows: usize,
    /// Machine-readable report on stdout.
    #[arg(long)]
    pub json: bool,
}

pub fn ingest(g: &Global, a: IngestArgs) -> anyhow::Result<ExitCode> {
    ctx::operator_only(g, "ingest")?;
    let mut node = ctx::node(g)?;
    // Hidden fault-injection hook for the kill-and-resume tests.
    let kill_after_rows = std::env::var("RASTRO_FAULT_KILL_AFTER_ROWS")
        .ok()
        .and_then(|v| v.parse().ok());
    let opts = IngestOptions {
        kind: a.kind,
        batch_rows: a.batch_rows,
        kill_after_rows,
    };
    let bar = Bar::new(g.quiet);
    let mut reports: Vec<FileReport> = Vec::new();
    for f in &a.files {
        let t0 = std::time::Instant::now();
        let r = node
            .console()
            .ingest_path(f, &opts, &bar)
            .with_context(|| format!("ingesting {}", f.display()))?;
        tracing::info!(source = %r.source, secs = t0.elapsed().as_secs_f64(), "ingested");
        if !g.quiet {
            for q in &r.examples {
                eprintln!("warning: {q}");
            }
            for f in &r.flag_examples {
                eprintln!("warning: collected without an approved request: {f}");
            }
            if r.collection_flagged > r.flag_examples.len() as u64 {
                eprintln!(
                    "warning: … and {} more flagged in {}; see `rastro request collection --flagged`",
                    r.collection_flagged - r.flag_examples.len() as u64,
                    r.source
                );
            }
            if r.rejected > r.examples.len() as u64 {
                eprintln!(
                    "warning: … and {} more rejected in {}; see `rastro quarantine`",
                    r.rejected - r.examples.len() as u64,
                    r.source
                );
            }
        }
        if !a.json {
            println!(
                "{}: {} {} inserted, {} duplicates, {} rejected",
                r.source,
                r.kind.map(|k| k.as_str()).unwrap_or("?"),
                r.stats.inserted,
                r.stats.duplicates,
                r.rejected
            );
        }
        reports.push(r);
    }
    if a.json {
        print_json(&reports)?;
    }
    ctx::sign_after_write(&mut node)?;
    let rejected: u64 = reports.iter().map(|r| r.rejected).sum();
    Ok(if a.strict && rejected > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

#[derive(Args)]
pub struct QuarantineArgs {
    /// Machine-readable output on stdout.
    #[arg(long)]
    pub json: bool,
    /// Show at most this many entries.
    #[arg(long, default_value_t = 1000)]
    pub limit: u32,
}

pub fn quarantine(g: &Global, a: QuarantineArgs) -> anyhow::Result<ExitCode> {
    let mut node = ctx::node(g)?;
    // Quarantined lines are raw input of any marking: the guard shows a user only their
    // organisation's submissions, and logs the read.
    let rows = ctx::guard(g, &mut node)?.quarantine(a.limit)?;
    if a.json {
        print_json(&rows)?;
    } else {
        for r in &rows {
            println!(
                "{}:{}: {}{}{}",
                r.source,
                r.line,
                r.kind
                    .as_deref()
                    .map(|k| format!("{k}: "))
                    .unwrap_or_default(),
                r.field
                    .as_deref()
                    .map(|f| format!("{f}: "))
                    .unwrap_or_default(),
                r.reason
            );
        }
        if rows.is_empty() {
            eprintln!("quarantine is empty");
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Args)]
pub struct StatsArgs {
    /// Machine-readable output on stdout.
    #[arg(long)]
    pub json: bool,
}

pub fn stats(g: &Global, a: StatsArgs) -> anyhow::Result<ExitCode> {
    let mut node = ctx::node(g)?;
    if g.as_user.is_some() {
        // A user sees counts of what they may see only; totals would reveal the rest.
        let counts = ctx::guard(g, &mut node)?.counts()?;
        if a.json {
            print_json(&counts)?;
        } else {
            for (k, n) in &counts.visible {
                println!("{k:<14} {n}");
            }
        }
        return Ok(ExitCode::SUCCESS);
    }
    let (s, digest) = node.console().stats()?;
    if a.json {
        let mut v = serde_json::to_value(&s)?;
        if let Some(m) = v.as_object_mut() {
            m.insert("digest".into(), digest.into());
        }
        print_json(&v)?;
    } else {
        println!("database       {}", g.db.display());
        println!("schema version {}", s.schema_version);
        for (k, n) in &s.records {
            println!("{k:<14} {n}");
        }
        println!("observations   {}", s.observations);
        if let (Some(a), Some(b)) = (&s.first_observation, &s.last_observation) {
            println!("  from {a} to {b}");
        }
        println!("quarantined    {}", s.quarantined);
        println!("sources        {}", s.sources);
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Args)]
#[command(group(clap::ArgGroup::new("what").required(true).args(["subject", "cell"])))]
pub struct ObservationsArgs {
    /// One subject's fixes: a vehicle id, a vessel MMSI...
    #[arg(long)]
    pub subject: Option<String>,
    /// Fixes inside this H3 cell (hexadecimal, resolution 3 or finer).
    #[arg(long)]
    pub cell: Option<String>,
    /// From this time (RFC 3339); the beginning when absent.
    #[arg(long)]
    pub from: Option<String>,
    /// Up to this time (RFC 3339, inclusive); the end when absent.
    #[arg(long)]
    pub to: Option<String>,
    /// Show at most this many fixes.
    #[arg(long, default_value_t = 10_000)]
    pub limit: usize,
    /// Machine-readable output on stdout.
    #[arg(long)]
    pub json: bool,
}

pub fn observations(g: &Global, a: ObservationsArgs) -> anyhow::Result<ExitCode> {
    let time = |flag: &str, v: &Option<String>, default: i64| -> anyhow::Result<i64> {
        v.as_deref().map_or(Ok(default), |t| {
            rastro_core::parse_time_ms(t).map_err(|e| {
                anyhow::anyhow!("--{flag} {t:?}: {e}; write e.g. 2026-03-01T00:00:00Z")
            })
        })
    };
    let (from, to) = (
        time("from", &a.from, i64::MIN)?,
        time("to", &a.to, i64::MAX)?,
    );
    let query = match (&a.subject, &a.cell) {
        (Some(s), _) => rastro_app::ObservationQuery::Subject(s.clone()),
        (None, Some(c)) => {
            rastro_app::ObservationQuery::Cell(rastro_core::grid::parse(c).ok_or_else(|| {
                anyhow::anyhow!(
                    "--cell {c:?} is not an H3 cell index (hexadecimal, like 8948aa64a5bffff)"
                )
            })?)
        }
        // clap's group makes one of the two required.
        (None, None) => anyhow::bail!("give --subject or --cell"),
    };
    let mut node = ctx::node(g)?;
    let mut guard = ctx::guard(g, &mut node)?;
    let fixes = match guard.observations(&query, from, to, a.limit) {
        Ok(f) => f,
        Err(e) => return ctx::refused(e),
    };
    if a.json {
        print_json(&fixes)?;
    } else {
        for o in fixes.iter().filter_map(|o| match &o.observation {
            Record::Observation(o) => Some(o),
            _ => None,
        }) {
            println!(
                "{}  {:<14} {:>10.6} {:>11.6}  {:<10} {}  [{}]",
                rastro_core::format_time_ms(o.time_ms),
                o.subject,
                o.lat,
                o.lon,
                o.source.as_str(),
                o.id,
                o.marking
            );
        }
        if fixes.is_empty() {
            eprintln!("no observations you may see match");
        }
    }
    Ok(ExitCode::SUCCESS)
}
