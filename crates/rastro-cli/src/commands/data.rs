//! `rastro ingest`, `rastro quarantine`, `rastro stats`.

use super::Global;
use crate::output::{print_json, Bar};
use anyhow::Context;
use clap::Args;
use rastro_core::Kind;
use rastro_pipeline::{ingest_path, FileReport, IngestOptions};
use rastro_store::Store;
use std::path::PathBuf;
use std::process::ExitCode;

fn parse_kind(s: &str) -> Result<Kind, String> {
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

pub fn open_store(g: &Global) -> anyhow::Result<Store> {
    let mut s =
        Store::open(&g.db).with_context(|| format!("opening database {}", g.db.display()))?;
    s.set_actor(&super::audit::actor());
    Ok(s)
}

pub fn ingest(g: &Global, a: IngestArgs) -> anyhow::Result<ExitCode> {
    let mut store = open_store(g)?;
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
        let r = ingest_path(&mut store, f, &opts, &bar)
            .with_context(|| format!("ingesting {}", f.display()))?;
        tracing::info!(source = %r.source, secs = t0.elapsed().as_secs_f64(), "ingested");
        if !g.quiet {
            for q in &r.examples {
                eprintln!("warning: {q}");
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
    super::audit::sign_after_write(g, &mut store)?;
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
    let mut store = open_store(g)?;
    let rows = store.quarantine(0, a.limit)?;
    // Quarantined lines are raw input of any marking: reading them is a restricted read.
    super::audit::log_read(
        &mut store,
        "quarantine",
        rows.iter()
            .map(|r| format!("quarantine:{}", r.seq))
            .collect(),
    )?;
    if a.json {
        print_json(&rows)?;
    } else {
        for r in &rows {
            println!("{}", r.entry);
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
    let mut store = open_store(g)?;
    if g.as_user.is_some() {
        // A user sees counts of what they may see only; totals would reveal the rest.
        let counts = super::access::guard(g, &mut store)?.counts()?;
        if a.json {
            print_json(&serde_json::json!({ "visible": counts }))?;
        } else {
            for (k, n) in &counts {
                println!("{k:<14} {n}");
            }
        }
        return Ok(ExitCode::SUCCESS);
    }
    let s = store.stats()?;
    if a.json {
        #[derive(serde::Serialize)]
        struct Out {
            #[serde(flatten)]
            stats: rastro_store::Stats,
            digest: String,
        }
        print_json(&Out {
            stats: s,
            digest: store.content_digest()?,
        })?;
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
